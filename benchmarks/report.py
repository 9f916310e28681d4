"""Benchmark report: the measured records as Markdown tables and as JSON.

One table per size gives the median evaluation time of every case and engine with
its ratio to seqdsl, one gives the peak memory; footnotes say which rows were
extrapolated, which could not run and why. Runtime cases get a table of their own
with what the timed run left: contacts enrolled in a sequence and actions.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from benchmarks.cases import CASES
from benchmarks.engines import ENGINES

Record = dict[str, Any]

#: Fields every JSON record carries, whatever its status.
JSON_FIELDS = ("case", "engine", "contacts", "seconds", "peak_mb", "ratio", "status")


def duration(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.3g} ms"
    if seconds < 100:
        return f"{seconds:.3g} s"
    return f"{seconds:,.0f} s"


def _ratio(value: float) -> str:
    return f"{value:.2g}x" if value < 10 else f"{value:,.0f}x"


class _Notes:
    """Numbered footnotes, one per distinct text."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def mark(self, text: str) -> str:
        if text not in self.texts:
            self.texts.append(text)
        return f"[{self.texts.index(text) + 1}]"

    def lines(self) -> list[str]:
        return [f"[{i}] {text}" for i, text in enumerate(self.texts, 1)]


def _time_cell(record: Record, notes: _Notes) -> str:
    if record["status"] != "ok":
        # the first line of an error says what failed; the JSON keeps the rest
        return f"{record['status']} {notes.mark(record['reason'].splitlines()[0])}"
    cell = duration(record["seconds"])
    if record["extrapolated"]:
        evaluated = record["evaluated_contacts"]
        cell += " " + notes.mark(
            f"extrapolated linearly from the first {evaluated:,} contacts"
        )
    if record["ratio"] is not None and record["engine"] != "seqdsl":
        cell += f" ({_ratio(record['ratio'])})"
    if record.get("agrees") is False:
        cell += " " + notes.mark("WRONG MEMBERS: disagrees with the reference")
    return cell


def _memory_cell(record: Record, notes: _Notes) -> str:
    if record["status"] != "ok":
        return "-"
    cell = f"{record['peak_mb']:,.0f}"
    if record["extrapolated"]:
        evaluated = record["evaluated_contacts"]
        cell += " " + notes.mark(f"measured on the first {evaluated:,} contacts")
    return cell


def _load_cell(record: Record, notes: _Notes) -> str:
    if record["status"] != "ok":
        return "-"
    return duration(record["load_seconds"])


def _table(
    records: Sequence[Record], contacts: int, cell: Any, notes: _Notes
) -> list[str]:
    found = {(r["case"], r["engine"]): r for r in records if r["contacts"] == contacts}
    engines = [e for e in ENGINES if any(k[1] == e for k in found)]
    lines = [
        "| case | " + " | ".join(engines) + " |",
        "|---|" + "---:|" * len(engines),
    ]
    for case in CASES:
        if not any((case.name, e) in found for e in engines):
            continue
        cells = [cell(found[case.name, e], notes) for e in engines]
        lines.append(f"| {case.title} | " + " | ".join(cells) + " |")
    return lines


def _runtime_table(
    records: Sequence[Record], contacts: int, notes: _Notes
) -> list[str]:
    """seqdsl's runtime cases at one size: time, memory, and what the run did."""
    found = {
        r["case"]: r
        for r in records
        if r["contacts"] == contacts and r["engine"] == "seqdsl"
    }
    lines = [
        "| case | timed run | peak MB | load and runs before | enrolled | actions |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for case in CASES:
        record = found.get(case.name)
        if not case.runtime or record is None:
            continue
        cells = [_time_cell(record, notes), _memory_cell(record, notes)]
        cells.append(_load_cell(record, notes))
        cells += [_count(record.get(key)) for key in ("enrolled", "actions")]
        lines.append(f"| {case.title} | " + " | ".join(cells) + " |")
    return lines if len(lines) > 2 else []


def _count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def markdown(
    records: Sequence[Record],
    environment: Mapping[str, Any],
    floors: Mapping[int, Mapping[str, float]],
) -> str:
    """The whole report: environment, then time and memory tables per size."""
    notes = _Notes()
    lines = [
        f"Benchmark run ({environment['mode']} mode), {environment['started']}.",
        "",
    ]
    lines += [f"- {key}: {value}" for key, value in environment.items()]
    for contacts in sorted({r["contacts"] for r in records}):
        lines += ["", f"### {contacts:,} contacts", ""]
        lines += ["Evaluation time, median (ratio to seqdsl):", ""]
        lines += _table(records, contacts, _time_cell, notes)
        lines += ["", "Peak memory of the whole process, MB:", ""]
        lines += _table(records, contacts, _memory_cell, notes)
        lines += [
            "",
            "Load time, not part of the ratios (seqdsl: workspace, check,"
            " compile and data into DuckDB; the others: reading the data):",
            "",
        ]
        lines += _table(records, contacts, _load_cell, notes)
        runtime = _runtime_table(records, contacts, notes)
        if runtime:
            lines += [
                "",
                "Runtime runs (seqdsl): the timed run, then the contacts actively"
                " enrolled in a sequence after it and the actions it produced:",
                "",
                *runtime,
            ]
        floor = floors.get(contacts)
        if floor:
            lines += [
                "",
                f"Scan floor: testing one numeric column ({floor['megabytes']:.1f} MB)"
                f" takes {duration(floor['numpy'])} in numpy and "
                f"{duration(floor['duckdb'])} in DuckDB.",
            ]
    if notes.texts:
        lines += ["", *(f"{line}  " for line in notes.lines())]
    return "\n".join(lines) + "\n"


def write_json(records: Sequence[Record], path: Path) -> None:
    """The records as a JSON list; every record has at least `JSON_FIELDS`."""
    rows = [
        {key: record.get(key) for key in JSON_FIELDS} | record for record in records
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
