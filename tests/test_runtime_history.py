"""Tests for the report inputs: a record's history and the simulation of runs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from runtime_kit import at, contact, make

from seqdsl.runtime import StateError, record_history, run, simulate
from seqdsl.runtime.errors import RunError

RULES = """
list "Leads" active { lifecyclestage is lead }
enroll list "Leads" in sequence "S"
sequence "S" {
  sender user "u1"  follow up on every day
  limit 2 emails per day per sender
  unenroll when replied
  step "a" email "a"
  step "b" after 1 day email "b"
}
"""


def test_history_lists_a_records_decisions_newest_first(tmp_path: Path) -> None:
    """Actions and notes about one record come back newest first, with reasons."""
    contacts = [contact(c, lifecyclestage="lead") for c in ("c1", "c2", "c3")]
    events = [
        {"record_id": "c1", "type": "email_reply", "occurred_at": "2026-12-02T09:00Z"}
    ]
    ws = make(tmp_path, RULES, contacts, events=events)
    ws.run("2026-12-01T12:00")
    ws.run("2026-12-04T12:00")
    entries = record_history(ws.state, "c1")
    assert [(e.kind, e.reason) for e in entries] == [
        ("unenroll", "replied"),
        ("send_email", ""),
        ("enroll", 'requested by "Leads -> S"'),
    ]
    assert entries[0].at == at("2026-12-02T09:00")
    kinds = [e.kind for e in record_history(ws.state, "c3")]
    assert "deferred" in kinds
    assert record_history(ws.state, "nobody") == []


def test_history_without_a_state_is_a_clear_error(tmp_path: Path) -> None:
    """Asking for history before any run names the missing state."""
    with pytest.raises(StateError, match="no state"):
        record_history(tmp_path / "missing.duckdb", "c1")


def test_simulation_counts_per_day_and_leaves_the_state_alone(tmp_path: Path) -> None:
    """Simulating three days counts enrollments, steps and sends per sender against
    the limit, on a copy: the real state file does not change. Every day of the
    period has a row, a quiet one too."""
    contacts = [contact(c, lifecyclestage="lead") for c in ("c1", "c2", "c3")]
    ws = make(tmp_path, RULES, contacts)
    ws.run("2026-11-30T12:00")
    before = ws.state.read_bytes()
    found = simulate(
        ws.checked,
        ws.con,
        at("2026-12-01T12:00"),
        at("2026-12-03T12:00"),
        dt.timedelta(days=1),
    )
    assert ws.state.read_bytes() == before
    assert found.runs == 3
    days = {d.day.isoformat(): (d.steps_due, d.emails) for d in found.days}
    assert days == {"2026-12-01": (2, 2), "2026-12-02": (2, 2), "2026-12-03": (0, 0)}
    first = found.senders[0]
    assert (first.day, first.sender, first.email_limit) == (
        dt.date(2026, 12, 1),
        "u1",
        2,
    )
    assert (first.emails, first.deferred) == (2, 1)


def test_simulated_senders_count_the_days_whole_use_of_a_limit(
    tmp_path: Path,
) -> None:
    """A sender's row shows the day's use of its limit as the runs book it: the
    two emails the real run sent before the simulation started count, so the
    row reads 2 / 2 rather than 0 / 2 next to the simulation's deferrals."""
    contacts = [contact(c, lifecyclestage="lead") for c in ("c1", "c2", "c3")]
    ws = make(tmp_path, RULES, contacts)
    ws.run("2026-12-01T12:00")  # c1 and c2 get step a; c3 waits for 12-02
    found = simulate(
        ws.checked,
        ws.con,
        at("2026-12-01T13:00"),
        at("2026-12-02T12:00"),
        dt.timedelta(hours=1),
    )
    rows = {
        s.day.isoformat(): (s.emails, s.email_limit, s.deferred) for s in found.senders
    }
    # 12-02: c3's step a and the step b of c1 and c2 are three emails for two places
    assert rows == {"2026-12-01": (2, 2, 0), "2026-12-02": (2, 2, 1)}
    assert [d.emails for d in found.days] == [0, 2]


def test_simulation_may_not_start_before_the_last_run(tmp_path: Path) -> None:
    """A simulation replays forward from the state: starting before its last run
    is refused with both instants named, and the state is left alone."""
    ws = make(tmp_path, RULES, [contact("c1", lifecyclestage="lead")])
    ws.run("2026-12-01T12:00")
    before = ws.state.read_bytes()
    with pytest.raises(RunError, match=r"starts at 2026-11-30T12:00:00Z, before"):
        simulate(
            ws.checked,
            ws.con,
            at("2026-11-30T12:00"),
            at("2026-12-02T12:00"),
            dt.timedelta(days=1),
        )
    assert ws.state.read_bytes() == before


def test_simulation_and_its_runs_tell_their_progress(tmp_path: Path) -> None:
    """`simulate` tells how many of its runs are done; each run tells its stages
    in order, never past their totals, ending with writing the state."""
    contacts = [contact(c, lifecyclestage="lead") for c in ("c1", "c2", "c3")]
    ws = make(tmp_path, RULES, contacts)
    ws.run("2026-11-30T12:00")
    told: list[tuple[str, int, int | None]] = []
    run(
        ws.checked,
        ws.con,
        at("2026-12-01T12:00"),
        progress=lambda *step: told.append(step),
    )
    stages = list(dict.fromkeys(stage for stage, _, _ in told))
    assert stages[0] == "replaying the period"
    assert stages[-1] == "writing the state"
    assert "evaluating every record at now" in stages
    assert "stepping sequence enrollments" in stages
    assert all(total is None or 0 <= done <= total for _, done, total in told)
    assert told[-1] == ("writing the state", 1, 1)

    runs: list[tuple[str, int, int | None]] = []
    simulate(
        ws.checked,
        ws.con,
        at("2026-12-02T12:00"),
        at("2026-12-04T12:00"),
        dt.timedelta(days=1),
        progress=lambda *step: runs.append(step),
    )
    assert runs == [("simulating runs", n, 3) for n in range(4)]
