"""Report inputs: a record's history, and a simulation of the runs to come.

:func:`record_history` reads every decision about one record from the state file,
newest first. :func:`simulate` copies the state file, runs forward on the copy from
one instant to another at a fixed step, and counts per workspace day what the runs
decided: enrollments, steps due, emails per sender against the limits, and
unenrollments by reason. The real state is never touched. The report stage renders
both as text, CSV or HTML.
"""

from __future__ import annotations

import collections
import datetime as dt
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import attrs
import duckdb

from seqdsl import ast
from seqdsl.checked import CheckedWorkspace
from seqdsl.compile import calendar_of, compile_workspace
from seqdsl.data import load_data
from seqdsl.runtime import state as st
from seqdsl.runtime.context import Progress, no_progress
from seqdsl.runtime.errors import RunError
from seqdsl.runtime.limits import EMAILS, ENROLLMENTS, Item
from seqdsl.runtime.outbox import Action, stamp
from seqdsl.runtime.run import RunResult, run, runtime_columns

__all__ = [
    "DayCounts",
    "HistoryEntry",
    "SenderDay",
    "Simulation",
    "record_history",
    "simulate",
]

#: How many runs one simulation may make.
MAX_STEPS = 1000


@attrs.frozen
class HistoryEntry:
    """One decision about a record: an action or a note (skip, deferral...)."""

    at: dt.datetime
    source: str
    kind: str
    detail: str
    reason: str


def record_history(state_path: Path, record_id: str) -> list[HistoryEntry]:
    """Everything the runs decided about `record_id`, newest first."""
    path = Path(state_path)
    if not path.exists():
        raise st.StateError(path, "there is no state yet", "make a run first")
    con = duckdb.connect()
    try:
        st.attach(con, path, read_only=True)
        rows = con.execute(
            "SELECT happened_at, source, kind, detail, reason "
            f"FROM {st.ALIAS}.history WHERE record_id = ? "
            "ORDER BY happened_at DESC, run_id DESC, position DESC",
            [record_id],
        ).fetchall()
    finally:
        con.close()
    return [
        HistoryEntry(at.astimezone(dt.UTC), str(s), str(k), d or "", r or "")
        for at, s, k, d, r in rows
    ]


@attrs.frozen
class SenderDay:
    """One sender's use of one sequence on one workspace day, against its limits.

    Where the sequence has a limit, its count is the day's whole use of it, as
    the limits see it: what runs before the simulation booked that day included.
    Otherwise it is what the simulated runs did."""

    day: dt.date
    sequence: str
    sender: str
    emails: int
    email_limit: int | None
    enrollments: int
    enrollment_limit: int | None
    deferred: int


@attrs.frozen
class DayCounts:
    """What the simulated runs decided on one workspace day."""

    day: dt.date
    workflow_enrollments: int
    sequence_enrollments: int
    steps_due: int
    emails: int
    refusals: int
    unenrollments: Mapping[str, int]


@attrs.frozen
class Simulation:
    """Per-day counts of a simulation, and per sender and sequence."""

    start: dt.datetime
    end: dt.datetime
    runs: int
    days: tuple[DayCounts, ...]
    senders: tuple[SenderDay, ...]


def simulate(
    checked: CheckedWorkspace,
    data: duckdb.DuckDBPyConnection | None,
    start: dt.datetime,
    end: dt.datetime,
    every: dt.timedelta,
    *,
    state_path: Path | None = None,
    progress: Progress = no_progress,
) -> Simulation:
    """Run from `start` to `end` every `every` on a copy of the state, and count;
    `progress` is told each run as it starts."""
    if every <= dt.timedelta(0):
        raise RunError("the simulation step must be longer than zero")
    if end < start:
        raise RunError("the simulation ends before it starts")
    if (end - start) / every > MAX_STEPS:
        raise RunError(f"the simulation would make more than {MAX_STEPS} runs")

    source = Path(state_path or checked.settings.state_path)
    with tempfile.TemporaryDirectory(prefix="seqdsl-simulate-") as folder:
        copy = Path(folder) / "state.duckdb"
        if source.exists():
            last = _copy_state(source, copy)
            if last is not None and start < last:
                raise RunError(
                    f"the simulation starts at {stamp(start)}, before the last "
                    f"run ({stamp(last)}); start it at or after the last run"
                )
        con = data or _loaded(checked)
        results: list[RunResult] = []
        moment, total = start, (end - start) // every + 1
        try:
            while moment <= end:
                progress("simulating runs", len(results), total)
                results.append(run(checked, con, moment, state_path=copy))
                moment += every
        finally:
            if data is None:
                con.close()
        progress("simulating runs", total, total)
        usage = _usage(copy)

    tally = _Tally(checked)
    for result in results:
        if not result.replayed:
            for action in result.actions:
                tally.add(action)
            for item in result.deferred:
                tally.defer(item)
    tally.use(usage, start, end)
    days, senders = tally.day_counts(start, end), tally.sender_days()
    return Simulation(start, end, len(results), days, senders)


def _loaded(checked: CheckedWorkspace) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    needed = {k: set(v) for k, v in compile_workspace(checked).needed_columns().items()}
    for object, names in runtime_columns(checked).items():
        needed.setdefault(object, set()).update(names)
    load_data(
        con,
        checked.settings,
        checked.schema,
        {k: frozenset(v) for k, v in needed.items()},
    )
    return con


def _copy_state(source: Path, copy: Path) -> dt.datetime | None:
    """Copy the state through DuckDB, so a write-ahead log is folded in; returns
    the as-of of its last run."""
    con = duckdb.connect()
    try:
        info = st.attach(con, source, read_only=True)
        con.execute(f"ATTACH '{_quoted(copy)}' AS seqdsl_copy")
        con.execute(f"COPY FROM DATABASE {st.ALIAS} TO seqdsl_copy")
    finally:
        con.close()
    return info.last_as_of


def _usage(copy: Path) -> list[tuple[str, str, dt.date, str, int]]:
    """(sequence, sender, day, kind, used) of every limit in the state at `copy`."""
    con = duckdb.connect()
    try:
        st.attach(con, copy, read_only=True)
        rows = con.execute(
            f"SELECT sequence, sender, day, kind, used FROM {st.ALIAS}.usage"
        ).fetchall()
    finally:
        con.close()
    return [(str(q), str(s), d, str(k), int(n)) for q, s, d, k, n in rows]


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")


_Counts = collections.Counter[str]


class _Tally:
    """Counts per workspace day, and per day, sequence and sender."""

    def __init__(self, checked: CheckedWorkspace) -> None:
        self.checked = checked
        self.calendar = calendar_of(checked.settings)
        self.days: dict[dt.date, _Counts] = collections.defaultdict(collections.Counter)
        self.reasons: dict[dt.date, _Counts] = collections.defaultdict(
            collections.Counter
        )
        self.senders: dict[tuple[dt.date, str, str], _Counts] = collections.defaultdict(
            collections.Counter
        )
        # (day, sequence, sender, kind): the day's whole use of a limit
        self.used: dict[tuple[dt.date, str, str, str], int] = {}

    def add(self, action: Action) -> None:
        date = self.calendar.local_date(action.due_at)
        day = self.days[date]
        in_sequence = action.source in self.checked.sequences
        if action.kind == "enroll" and in_sequence:
            day["sequence_enrollments"] += 1
            sender = action.detail.removeprefix("sender ")
            self.senders[(date, action.source, sender)]["enrollments"] += 1
        elif action.kind == "enroll":
            day["workflow_enrollments"] += 1
        elif action.kind == "refuse":
            day["refusals"] += 1
        elif action.kind == "unenroll":
            self.reasons[date][action.reason or "unknown"] += 1
        elif in_sequence and action.step:
            day["steps"] += 1
            if action.kind == "send_email":
                day["emails"] += 1
                sender = action.detail.rpartition(" from ")[2]
                self.senders[(date, action.source, sender)]["emails"] += 1

    def defer(self, item: Item) -> None:
        """Count a deferral on the workspace day the item was first due."""
        self.senders[(item.day, item.sequence, item.sender)]["deferred"] += 1

    def use(
        self,
        usage: Sequence[tuple[str, str, dt.date, str, int]],
        start: dt.datetime,
        end: dt.datetime,
    ) -> None:
        """Take each limit's whole use on the simulated days from the ledger."""
        first, last = self.calendar.local_date(start), self.calendar.local_date(end)
        for sequence, sender, day, kind, used in usage:
            if first <= day <= last:
                self.used[(day, sequence, sender, kind)] = used

    def day_counts(self, start: dt.datetime, end: dt.datetime) -> tuple[DayCounts, ...]:
        """A row for every workspace day from `start` to `end`, quiet days too."""
        first, last = self.calendar.local_date(start), self.calendar.local_date(end)
        every = {first + dt.timedelta(days=n) for n in range((last - first).days + 1)}
        return tuple(
            DayCounts(
                day,
                self.days[day]["workflow_enrollments"],
                self.days[day]["sequence_enrollments"],
                self.days[day]["steps"],
                self.days[day]["emails"],
                self.days[day]["refusals"],
                dict(sorted(self.reasons[day].items())),
            )
            for day in sorted(every | set(self.days) | set(self.reasons))
        )

    def sender_days(self) -> tuple[SenderDay, ...]:
        keys = set(self.senders) | {key[:3] for key in self.used}
        return tuple(self._sender_day(*key) for key in sorted(keys))

    def _sender_day(self, day: dt.date, sequence: str, sender: str) -> SenderDay:
        counts = self.senders.get((day, sequence, sender), collections.Counter())
        emails = self.used.get((day, sequence, sender, EMAILS), counts["emails"])
        enrollments = self.used.get(
            (day, sequence, sender, ENROLLMENTS), counts["enrollments"]
        )
        return SenderDay(
            day,
            sequence,
            sender,
            emails,
            _limit(self.checked, sequence, ast.LimitKind.EMAILS),
            enrollments,
            _limit(self.checked, sequence, ast.LimitKind.ENROLLMENTS),
            counts["deferred"],
        )


def _limit(checked: CheckedWorkspace, sequence: str, kind: ast.LimitKind) -> int | None:
    decl = checked.sequences.get(sequence)
    if decl is None:
        return None
    found = [
        i.amount for i in decl.items if isinstance(i, ast.Limit) and i.kind is kind
    ]
    return min(found) if found else None
