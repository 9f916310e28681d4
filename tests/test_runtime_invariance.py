"""Property test: cutting a period into more runs changes no decision and no order.

With property history given, one run over a period and several shorter runs over the
same period must decide the same actions, at the same times, in the same order; also
where time alone turns a truth (an event leaving an `in last N days` window).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from runtime_kit import Workspace, contact, make

from seqdsl.runtime import run

RULES = """
list "Pricing" active { had page_view where url contains "/pricing" }
workflow "Hot" on contact {
  enroll when in list "Pricing" and lifecyclestage is lead
  reenroll when hs_lead_status changed to OPEN
  goal lifecyclestage >= opportunity
  unenroll when hs_lead_status is IN_PROGRESS
  if hs_lead_status is NEW { set hs_lead_status = ATTEMPTED }
  else { create task "look" }
  wait 1 day
  enroll in sequence "Seq"
}
workflow "Attempted" on contact {
  enroll when hs_lead_status is ATTEMPTED
  run on weekdays 09:00 to 17:00
  create task "follow"
}
workflow "Quiet" on contact {
  enroll when lifecyclestage is lead
    and not had page_view where url contains "/home" in last 2 days
  existing: skip
  unenroll when had page_view where url contains "/pricing" in last 1 days
  wait 1 day
  create task "nudge"
}
sequence "Seq" {
  sender user "u1"
  send window 09:00 to 17:00 in workspace time zone
  follow up on every day
  limit 1 emails per day per sender
  unenroll when replied
  step "a" email "a"
  step "b" after 1 day email "b"
}
"""

START = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
HOURS = 6 * 24
CONTACTS = ("c1", "c2", "c3")
STAGES = ("lead", "opportunity")
STATUSES = ("NEW", "OPEN", "IN_PROGRESS")

minutes = st.integers(min_value=1, max_value=HOURS * 60 - 1)
events = st.lists(
    st.tuples(
        st.sampled_from(CONTACTS),
        minutes,
        st.sampled_from(("/pricing", "/pricing", "/home", "/home", "reply")),
    ),
    max_size=6,
)
changes = st.lists(
    st.tuples(
        st.sampled_from(CONTACTS),
        minutes,
        st.one_of(
            st.tuples(st.just("lifecyclestage"), st.sampled_from(STAGES)),
            st.tuples(st.just("hs_lead_status"), st.sampled_from(STATUSES)),
        ),
    ),
    max_size=4,
)
cuts = st.lists(minutes, max_size=2, unique=True)


def _instant(offset: int) -> dt.datetime:
    return START + dt.timedelta(minutes=offset)


def _stamp(at: dt.datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def _workspace(
    root: Path,
    drawn_events: list[tuple[str, int, str]],
    drawn_changes: list[tuple[str, int, tuple[str, str]]],
) -> Workspace:
    before = _stamp(START - dt.timedelta(days=30))
    current = {c: {"lifecyclestage": "lead", "hs_lead_status": "NEW"} for c in CONTACTS}
    history = [
        {
            "object_type": "contact",
            "record_id": c,
            "property": p,
            "value": v,
            "changed_at": before,
        }
        for c in CONTACTS
        for p, v in current[c].items()
    ]
    for record, offset, (prop, value) in sorted(drawn_changes, key=lambda c: c[1]):
        history.append(
            {
                "object_type": "contact",
                "record_id": record,
                "property": prop,
                "value": value,
                "changed_at": _stamp(_instant(offset)),
            }
        )
        current[record][prop] = value
    rows = [
        {
            "record_id": record,
            "occurred_at": _stamp(_instant(offset)),
            "type": "email_reply" if what == "reply" else "page_view",
            "url": None if what == "reply" else what,
        }
        for record, offset, what in drawn_events
    ]
    contacts = [contact(c, **current[c]) for c in CONTACTS]
    return make(root, RULES, contacts, events=rows, history=history)


def _decisions(
    ws: Workspace, state: Path, instants: list[dt.datetime]
) -> list[tuple[str, ...]]:
    found = []
    for instant in instants:
        result = run(ws.checked, ws.con, instant, state_path=state)
        found += [a.row()[:7] for a in result.actions]
    return found


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(events, changes, cuts)
def test_more_runs_decide_the_same(
    drawn_events: list[tuple[str, int, str]],
    drawn_changes: list[tuple[str, int, tuple[str, str]]],
    drawn_cuts: list[int],
) -> None:
    """One run over six days and runs cut at random instants decide alike."""
    end = START + dt.timedelta(hours=HOURS)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        ws = _workspace(root / "ws", drawn_events, drawn_changes)
        once = _decisions(ws, root / "once.duckdb", [START, end])
        middle = [_instant(m) for m in sorted(drawn_cuts)]
        often = _decisions(ws, root / "often.duckdb", [START, *middle, end])
        ws.con.close()
    assert often == once


def test_the_generated_periods_do_decide_things() -> None:
    """The rules and data shapes above make actions, so the property is not empty."""
    drawn = [("c1", 60, "/pricing"), ("c2", 3000, "/pricing"), ("c2", 5000, "reply")]
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        ws = _workspace(root / "ws", drawn, [("c1", 200, ("hs_lead_status", "OPEN"))])
        found = _decisions(
            ws, root / "s.duckdb", [START, START + dt.timedelta(hours=HOURS)]
        )
        ws.con.close()
    kinds = {row[4] for row in found}
    assert {"enroll", "set_property", "send_email", "unenroll"} <= kinds
    assert {row[2] for row in found} == {"c1", "c2"}


def test_the_generated_periods_do_turn_with_time() -> None:
    """A `/home` view holds "Quiet" off; two days later, at midnight, time alone
    turns it on, so the property covers truths that no data point dates."""
    drawn = [("c3", 60, "/home")]
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        ws = _workspace(root / "ws", drawn, [])
        found = _decisions(
            ws, root / "s.duckdb", [START, START + dt.timedelta(hours=HOURS)]
        )
        ws.con.close()
    quiet = [(row[1], row[4]) for row in found if row[3] == "Quiet"]
    assert quiet[0] == ("2026-12-04T00:00:00Z", "enroll")
