"""Report stage, runs: summaries of a run, a record's history, and simulations.

Text goes to the terminal as rich tables; the simulation also renders as CSV and as
a self-contained HTML page whose charts are inline SVG, so the report opens in any
browser with no network and no script.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from rich.console import Group
from rich.table import Table

from seqdsl.runtime.history import HistoryEntry, SenderDay, Simulation
from seqdsl.runtime.run import RunResult

_STEP = re.compile(r"^\s*(\d+)\s*(m|min|h|d|w)\s*$")
_UNITS = {"m": "minutes", "min": "minutes", "h": "hours", "d": "days", "w": "weeks"}
#: sender rows the text report shows; the CSV and HTML have them all
SENDER_ROWS = 30


def parse_step(text: str) -> dt.timedelta:
    """A simulation step such as `1h`, `30m`, `1d` or `1w`."""
    match = _STEP.match(text)
    if match is None or int(match.group(1)) == 0:
        raise ValueError(f"`{text}` is not a step; write 1h, 30m, 1d or 1w")
    return dt.timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def run_summary(result: RunResult, out: Path) -> Table:
    """The table every run ends with: what it decided, by kind, and where it wrote."""
    previous = result.previous.isoformat() if result.previous else "none (first run)"
    title = f"run {result.run_id} as of {result.as_of.isoformat()}"
    if result.replayed:
        title += " (already run: nothing new)"
    table = Table(title=title, title_justify="left")
    table.add_column("what")
    table.add_column("count", justify="right")
    kinds = Counter(action.kind for action in result.actions)
    for kind, count in sorted(kinds.items()):
        table.add_row(f"actions: {kind}", f"{count:,}")
    lists = Counter(name for name, _ in result.memberships)
    for name, count in sorted(lists.items()):
        table.add_row(f"members: {name}", f"{count:,}")
    table.add_row("previous run", previous)
    table.add_row("seconds", f"{result.stats.seconds:.2f}")
    table.add_row("written", f"{out / 'memberships.csv'}, {out / 'actions.csv'}")
    return table


def history_text(record_id: str, entries: Sequence[HistoryEntry]) -> str:
    if not entries:
        return f"no history for record {record_id}\n"
    lines = [f"history of record {record_id}, newest first"]
    for entry in entries:
        what = f"{entry.kind} {entry.detail}".strip()
        reason = f"  ({entry.reason})" if entry.reason else ""
        lines.append(f"{entry.at:%Y-%m-%d %H:%M}Z  {entry.source}: {what}{reason}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- simulations

_DAY_COLUMNS = (
    "day",
    "workflow_enrollments",
    "sequence_enrollments",
    "steps_due",
    "emails",
    "refusals",
)


def simulation_text(simulation: Simulation) -> Group:
    """The days, then the senders' use of their limits (the fullest first)."""
    return Group(_days_table(simulation), _senders_table(simulation.senders))


def _days_table(simulation: Simulation) -> Table:
    table = Table(
        title=f"simulation: {simulation.runs} runs "
        f"from {simulation.start:%Y-%m-%d %H:%M}Z to {simulation.end:%Y-%m-%d %H:%M}Z",
        title_justify="left",
    )
    table.add_column("day", no_wrap=True)
    for header in ("wf enroll", "seq enroll", "steps", "emails", "refused", "left"):
        table.add_column(header, justify="right")
    for day in simulation.days:
        left = ", ".join(f"{k} {v}" for k, v in sorted(day.unenrollments.items()))
        table.add_row(
            day.day.isoformat(),
            *(f"{getattr(day, c):,}" for c in _DAY_COLUMNS[1:]),
            left or "-",
        )
    return table


def _senders_table(senders: Sequence[SenderDay]) -> Table:
    """Per day, sequence and sender: emails and enrollments against the limits,
    and the items moved to a later day; the rows nearest a limit first."""
    ranked = _nearest_first(senders)
    shown = ranked[:SENDER_ROWS]
    table = Table(title="sends per sender against their limits", title_justify="left")
    if len(ranked) > len(shown):
        more = len(ranked) - len(shown)
        table.caption = f"{more:,} more rows in simulation.csv (--out)"
        table.caption_justify = "left"
    for header in _SENDER_HEADERS[:3]:
        table.add_column(header, no_wrap=True)
    for header in _SENDER_HEADERS[3:]:
        table.add_column(header, justify="right")
    for send in sorted(shown, key=lambda s: (s.day, s.sequence, s.sender)):
        table.add_row(*_sender_cells(send))
    return table


_SENDER_HEADERS = ("day", "sequence", "sender", "emails", "enrollments", "deferred")


def _nearest_first(senders: Sequence[SenderDay]) -> list[SenderDay]:
    return sorted(senders, key=lambda s: (-_fullness(s), s.day, s.sequence, s.sender))


def _sender_cells(send: SenderDay) -> tuple[str, ...]:
    return (
        send.day.isoformat(),
        send.sequence,
        send.sender,
        _against(send.emails, send.email_limit),
        _against(send.enrollments, send.enrollment_limit),
        f"{send.deferred:,}",
    )


def _fullness(send: SenderDay) -> float:
    """How near the sender came to its closer limit (1 is at the limit); deferrals
    count as past it."""
    shares = [
        used / limit
        for used, limit in (
            (send.emails, send.email_limit),
            (send.enrollments, send.enrollment_limit),
        )
        if limit
    ]
    return max(shares, default=0.0) + (1.0 if send.deferred else 0.0)


def _against(used: int, limit: int | None) -> str:
    return f"{used:,}" if limit is None else f"{used:,} / {limit:,}"


def simulation_csv(simulation: Simulation) -> str:
    """One row per day and sender: the day's totals, and that sender's sends."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        [
            "section",
            *_DAY_COLUMNS,
            "reason",
            "count",
            "sequence",
            "sender",
            "email_limit",
            "enrollment_limit",
            "deferred",
        ]
    )
    for day in simulation.days:
        totals = [getattr(day, c) for c in _DAY_COLUMNS[1:]]
        writer.writerow(
            ["day", day.day.isoformat(), *totals, "", "", "", "", "", "", ""]
        )
        for reason, count in sorted(day.unenrollments.items()):
            row = ["unenrolled", day.day.isoformat(), "", "", "", "", "", reason, count]
            writer.writerow([*row, "", "", "", "", ""])
    for send in simulation.senders:
        writer.writerow(
            [
                "sender",
                send.day.isoformat(),
                "",
                send.enrollments,
                "",
                send.emails,
                "",
                "",
                "",
                send.sequence,
                send.sender,
                "" if send.email_limit is None else send.email_limit,
                "" if send.enrollment_limit is None else send.enrollment_limit,
                send.deferred,
            ]
        )
    return buffer.getvalue()


def simulation_html(simulation: Simulation) -> str:
    """A standalone page: per-day charts, then the numbers behind them."""
    days = [d.day.isoformat() for d in simulation.days]
    charts = [
        _bars(
            "Enrollments per day",
            days,
            {
                "workflows": [d.workflow_enrollments for d in simulation.days],
                "sequences": [d.sequence_enrollments for d in simulation.days],
            },
        ),
        _bars(
            "Sequence steps due and emails sent",
            days,
            {
                "steps due": [d.steps_due for d in simulation.days],
                "emails": [d.emails for d in simulation.days],
            },
        ),
        _bars("Unenrollments by reason", days, _reasons(simulation))
        if any(day.unenrollments for day in simulation.days)
        else "<h2>Unenrollments by reason</h2><p>No unenrollments.</p>",
        *_sender_charts(simulation),
    ]
    title = (
        f"seqdsl simulation {simulation.start:%Y-%m-%d} to {simulation.end:%Y-%m-%d}"
    )
    return _PAGE.format(
        title=html.escape(title),
        runs=simulation.runs,
        charts="\n".join(charts),
        table=_html_table(simulation),
        senders=_senders_html(simulation.senders),
    )


def _reasons(simulation: Simulation) -> dict[str, list[int]]:
    reasons = sorted({r for d in simulation.days for r in d.unenrollments})
    return {r: [d.unenrollments.get(r, 0) for d in simulation.days] for r in reasons}


def _sender_charts(simulation: Simulation) -> list[str]:
    """Per sequence, each sender's emails per day against the daily email limit."""
    charts = []
    days = [day.day for day in simulation.days]
    for sequence in sorted({s.sequence for s in simulation.senders}):
        rows = [s for s in simulation.senders if s.sequence == sequence]
        series: dict[str, list[int]] = {}
        for sender in sorted({s.sender for s in rows}):
            sent = {s.day: s.emails for s in rows if s.sender == sender}
            series[sender] = [sent.get(day, 0) for day in days]
        limits = {s.email_limit for s in rows if s.email_limit is not None}
        limit = min(limits) if limits else None
        title = f"Emails per sender: {sequence}"
        labels = [day.isoformat() for day in days]
        charts.append(_bars(title, labels, series, limit=limit))
    return charts


# twelve hues far enough apart to tell a dozen senders apart; they repeat after
_PALETTE = (
    "#2b6cb0",
    "#dd6b20",
    "#38a169",
    "#805ad5",
    "#d53f8c",
    "#718096",
    "#0987a0",
    "#b7791f",
    "#718a00",
    "#c53030",
    "#1a365d",
    "#7b341e",
)


def _bars(
    title: str,
    labels: Sequence[str],
    series: dict[str, list[int]],
    *,
    limit: int | None = None,
) -> str:
    """A grouped bar chart as inline SVG, with a dashed line at `limit`."""
    width, height, left, bottom = 760, 240, 48, 40
    plot_w, plot_h = width - left - 16, height - bottom - 28
    top = max([1, limit or 0, *(v for values in series.values() for v in values)])
    slot = plot_w / max(1, len(labels))
    bar = max(1.0, slot * 0.8 / max(1, len(series)))
    parts = [f"<h2>{html.escape(title)}</h2>"]
    parts.append(f'<svg viewBox="0 0 {width} {height}" role="img">')
    parts.append(_axis(left, plot_w, plot_h, top))
    for index, (name, values) in enumerate(series.items()):
        color = _PALETTE[index % len(_PALETTE)]
        for slot_index, value in enumerate(values):
            x = left + slot_index * slot + slot * 0.1 + index * bar
            h = plot_h * value / top
            parts.append(
                f'<rect x="{x:.1f}" y="{28 + plot_h - h:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}" fill="{color}"><title>{html.escape(name)} '
                f"{html.escape(labels[slot_index])}: {value}</title></rect>"
            )
    if limit is not None:
        y = 28 + plot_h - plot_h * limit / top
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" '
            'stroke="#c53030" stroke-dasharray="6 4"/>'
            f'<text x="{left + plot_w}" y="{y - 4:.1f}" text-anchor="end" '
            f'fill="#c53030">limit {limit}</text>'
        )
    parts.append(_labels(labels, left, slot, plot_h))
    parts.append("</svg>")
    parts.append(_legend(series))
    return "\n".join(parts)


def _axis(left: int, plot_w: int, plot_h: int, top: int) -> str:
    lines = [
        f'<line x1="{left}" x2="{left}" y1="28" y2="{28 + plot_h}" stroke="#444"/>',
        f'<line x1="{left}" x2="{left + plot_w}" y1="{28 + plot_h}" '
        f'y2="{28 + plot_h}" stroke="#444"/>',
    ]
    for value in sorted({0, top // 2, top}):
        y = 28 + plot_h - plot_h * value / top
        lines.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{value}</text>'
        )
    return "\n".join(lines)


def _labels(labels: Sequence[str], left: int, slot: float, plot_h: int) -> str:
    every = max(1, len(labels) // 10)
    texts = []
    for index, label in enumerate(labels):
        if index % every:
            continue
        x = left + index * slot + slot / 2
        texts.append(
            f'<text x="{x:.1f}" y="{28 + plot_h + 16}" text-anchor="middle">'
            f"{html.escape(label[5:])}</text>"
        )
    return "\n".join(texts)


def _legend(series: dict[str, list[int]]) -> str:
    items = [
        f'<span><i style="background:{_PALETTE[i % len(_PALETTE)]}"></i>'
        f"{html.escape(name)}</span>"
        for i, name in enumerate(series)
    ]
    return f'<p class="legend">{" ".join(items)}</p>'


def _html_table(simulation: Simulation) -> str:
    head = "".join(f"<th>{c.replace('_', ' ')}</th>" for c in _DAY_COLUMNS)
    rows = []
    for day in simulation.days:
        cells = [
            day.day.isoformat(),
            *(f"{getattr(day, c):,}" for c in _DAY_COLUMNS[1:]),
        ]
        left = ", ".join(f"{k} {v}" for k, v in sorted(day.unenrollments.items()))
        cells.append(left or "-")
        rows.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells))
    return (
        f"<h2>Per day</h2><table><tr>{head}<th>unenrollments</th></tr>"
        + "\n".join(rows)
        + "</table>"
    )


def _senders_html(senders: Sequence[SenderDay]) -> str:
    """Every sender's day against its limits, the rows nearest a limit first."""
    if not senders:
        return ""
    head = "".join(f"<th>{c}</th>" for c in _SENDER_HEADERS)
    rows = [
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in _sender_cells(send))
        for send in _nearest_first(senders)
    ]
    return (
        "<h2>Senders against their limits, nearest first</h2>"
        f"<table><tr>{head}</tr>" + "\n".join(rows) + "</table>"
    )


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font: 14px system-ui, sans-serif; margin: 2em auto; max-width: 820px;
       color: #1a202c; }}
svg {{ width: 100%; height: auto; font-size: 11px; }}
h2 {{ font-size: 16px; margin-top: 2em; }}
.legend span {{ margin-right: 1.2em; white-space: nowrap; }}
.legend i {{ display: inline-block; width: 10px; height: 10px; margin-right: 4px; }}
table {{ border-collapse: collapse; margin-top: 2em; }}
td, th {{ border-bottom: 1px solid #e2e8f0; padding: 3px 8px; text-align: right;
          white-space: nowrap; }}
</style></head><body>
<h1>{title}</h1>
<p>{runs} simulated runs on a copy of the state; the real state was not changed.</p>
{charts}
{table}
{senders}
</body></html>
"""
