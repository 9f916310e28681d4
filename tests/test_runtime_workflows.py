"""Tests for workflows at run time: edges, refusals, leaving, branches, waits."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from runtime_kit import at, contact, make

from seqdsl.runtime import record_history, run
from seqdsl.runtime.program import split_point

TASK = "create_task"


def _recorder(
    told: list[tuple[str, int, int | None]],
) -> Callable[[str, int, int | None], None]:
    """A run's progress that keeps what it is told in `told`."""
    return lambda stage, done, total: told.append((stage, done, total))


def _kinds(rows: list[tuple[str, ...]], record: str) -> list[tuple[str, str, str]]:
    """(due_at, kind, detail) of one record's actions."""
    return [(r[0], r[3], r[5]) for r in rows if r[1] == record]


def test_first_run_enrolls_existing_matches_unless_skipped(tmp_path: Path) -> None:
    """On its first run a workflow enrolls records that already match, at the
    run's now; `existing: skip` enrolls none of them."""
    rules = """
    workflow "Take" on contact { enroll when lifecyclestage is lead  create task "a" }
    workflow "Skip" on contact {
      enroll when lifecyclestage is lead
      existing: skip
      create task "b"
    }
    """
    ws = make(tmp_path, rules, [contact("c1", lifecyclestage="lead")])
    rows = ws.actions("2026-12-01T12:00")
    assert [(r[2], r[3]) for r in rows] == [("Take", "enroll"), ("Take", TASK)]
    assert rows[0][0] == "2026-12-01T12:00:00Z"


def test_enrollment_is_dated_by_the_event_and_happens_once(tmp_path: Path) -> None:
    """The edge is timed at the event that made the trigger true; staying true or
    becoming true again does not enroll again without `reenroll when`."""
    rules = """
    workflow "Pricing" on contact {
      enroll when had page_view where url contains "/pricing" in last 1 days
      create task "Follow up"
    }
    """
    events = [
        {"record_id": "c1", "type": "page_view", "occurred_at": t, "url": "/pricing"}
        for t in (
            "2026-12-02T10:00:00Z",
            "2026-12-02T15:00:00Z",
            "2026-12-09T10:00:00Z",
        )
    ]
    ws = make(tmp_path, rules, [contact("c1")], events=events)
    assert ws.actions("2026-12-01T12:00") == []
    rows = ws.actions("2026-12-03T12:00")
    assert _kinds(rows, "c1") == [
        ("2026-12-02T10:00:00Z", "enroll", ""),
        ("2026-12-02T10:00:00Z", TASK, 'task "Follow up"'),
    ]
    assert ws.actions("2026-12-10T12:00") == []


def test_reenroll_trigger_edges_enroll_again(tmp_path: Path) -> None:
    """`reenroll when` going false to true while `enroll when` holds enrolls again,
    at the time the history dates the change; `p is known` there means p changed."""
    rules = """
    workflow "Again" on contact {
      enroll when lifecyclestage is lead
      reenroll when hs_lead_status changed to OPEN
      create task "Call"
    }
    workflow "Known" on contact {
      enroll when lifecyclestage is lead
      reenroll when hs_lead_status is known
      create task "Look"
    }
    """
    history = [
        {
            "object_type": "contact",
            "record_id": "c1",
            "property": "hs_lead_status",
            "value": value,
            "changed_at": when,
        }
        for value, when in (
            ("NEW", "2026-11-01T00:00:00Z"),
            ("OPEN", "2026-12-02T09:00:00Z"),
            ("NEW", "2026-12-03T09:00:00Z"),
            ("OPEN", "2026-12-04T09:00:00Z"),
        )
    ]
    ws = make(
        tmp_path,
        rules,
        [contact("c1", lifecyclestage="lead", hs_lead_status="OPEN")],
        history=history,
    )
    assert [r[3] for r in ws.actions("2026-12-01T12:00")] == ["enroll"] * 2 + [TASK] * 2
    rows = ws.actions("2026-12-05T12:00")
    enrolled = [(r[0], r[2]) for r in rows if r[3] == "enroll"]
    assert enrolled == [
        ("2026-12-02T09:00:00Z", "Again"),
        ("2026-12-02T09:00:00Z", "Known"),
        ("2026-12-03T09:00:00Z", "Known"),
        ("2026-12-04T09:00:00Z", "Again"),
        ("2026-12-04T09:00:00Z", "Known"),
    ]


def test_suppression_goal_and_unenroll_are_checked_before_enrolling(
    tmp_path: Path,
) -> None:
    """A suppressed record, one already meeting the goal and one meeting `unenroll
    when` are refused, with the reason, checked in that order."""
    rules = """
    list "Do not contact" manual
    workflow "Sell" on contact {
      enroll when lifecyclestage is lead
      suppress when in list "Do not contact"
      goal score > 50
      unenroll when country is "FR"
      create task "Call"
    }
    """
    contacts = [
        contact("c1", lifecyclestage="lead", score=60, country="FR"),
        contact("c2", lifecyclestage="lead", score=60, country="FR"),
        contact("c3", lifecyclestage="lead", score=1, country="FR"),
        contact("c4", lifecyclestage="lead", score=1),
    ]
    memberships = [{"list": "Do not contact", "record_id": "c1"}]
    ws = make(tmp_path, rules, contacts, memberships=memberships)
    result = ws.run("2026-12-01T12:00")
    decided = [(a.record_id, a.kind, a.reason) for a in result.actions]
    assert decided == [
        ("c1", "refuse", "suppressed"),
        ("c2", "refuse", "already meets the goal"),
        ("c3", "refuse", "meets `unenroll when`"),
        ("c4", "enroll", "`enroll when` became true"),
        ("c4", TASK, ""),
    ]


def test_meeting_the_goal_leaves_before_the_next_action(tmp_path: Path) -> None:
    """An enrolled record that meets the goal during a wait leaves at that moment
    and its next action never runs; the others go on."""
    rules = """
    workflow "Convert" on contact {
      enroll when lifecyclestage is lead
      goal lifecyclestage >= opportunity
      wait 2 days
      create task "Call"
    }
    """
    history = [
        {
            "object_type": "contact",
            "record_id": "c1",
            "property": "lifecyclestage",
            "value": v,
            "changed_at": t,
        }
        for v, t in (
            ("lead", "2026-11-01T00:00:00Z"),
            ("opportunity", "2026-12-02T10:00:00Z"),
        )
    ]
    contacts = [
        contact("c1", lifecyclestage="opportunity"),
        contact("c2", lifecyclestage="lead"),
    ]
    ws = make(tmp_path, rules, contacts, history=history)
    assert len(ws.actions("2026-12-01T12:00")) == 2
    rows = ws.actions("2026-12-05T12:00")
    assert _kinds(rows, "c1") == [("2026-12-02T10:00:00Z", "unenroll", "")]
    assert _kinds(rows, "c2") == [("2026-12-03T12:00:00Z", TASK, 'task "Call"')]
    assert rows[0][0] <= rows[1][0]


def test_branches_pick_one_arm(tmp_path: Path) -> None:
    """`if` takes the first arm that holds or `else`; `branch on` matches values;
    `split` puts each record in the arm its hash falls in."""
    rules = """
    workflow "Route" on contact {
      enroll when lifecyclestage is lead
      if country is "US" { create task "us" }
      else if score > 10 { create task "big" }
      else { create task "other" }
      branch on hs_lead_status {
        NEW -> { create task "new" }
        [OPEN, ATTEMPTED] -> { create task "open" }
        else -> { create task "rest" }
      }
      split 50% { create task "A" } 50% { create task "B" }
    }
    """
    contacts = [
        contact(
            "c1", lifecyclestage="lead", country="US", score=99, hs_lead_status="NEW"
        ),
        contact("c2", lifecyclestage="lead", score=20, hs_lead_status="ATTEMPTED"),
        contact("c3", lifecyclestage="lead"),
    ]
    ws = make(tmp_path, rules, contacts)
    rows = ws.actions("2026-12-01T12:00")
    tasks = {
        c: [r[2] for r in _kinds(rows, c) if r[1] == TASK] for c in ("c1", "c2", "c3")
    }
    halves = {
        c: 'task "A"' if split_point("Route", c) < 50 else 'task "B"' for c in tasks
    }
    assert tasks["c1"] == ['task "us"', 'task "new"', halves["c1"]]
    assert tasks["c2"] == ['task "big"', 'task "open"', halves["c2"]]
    assert tasks["c3"] == ['task "other"', 'task "rest"', halves["c3"]]


def test_waits_end_when_their_calendar_says(tmp_path: Path) -> None:
    """Durations, business days, a date property with an offset and a time, and a
    weekday at a time each end at the instant the calendar gives."""
    rules = """
    workflow "Days" on contact {
      enroll when lifecyclestage is lead
      wait 3 days
      create task "days"
      wait 2 business days
      create task "business"
      wait until renewal_date minus 2 days at 09:00
      create task "renewal"
      wait until monday at 10:00
      create task "monday"
    }
    """
    holidays = ["2026-12-08"]
    ws = make(
        tmp_path,
        rules,
        [contact("c1", lifecyclestage="lead", renewal_date="2026-12-20")],
        timezone="America/New_York",
        holidays=holidays,
    )
    ws.run("2026-12-01T17:00Z")  # a Tuesday, 12:00 in New York
    rows = ws.actions("2026-12-31T00:00Z")
    assert [(r[0], r[5]) for r in rows] == [
        ("2026-12-04T17:00:00Z", 'task "days"'),  # Friday
        ("2026-12-09T17:00:00Z", 'task "business"'),  # Mon 7, Tue 8 is a holiday
        ("2026-12-18T14:00:00Z", 'task "renewal"'),  # Dec 18 09:00 New York
        ("2026-12-21T15:00:00Z", 'task "monday"'),
    ]


def test_waiting_for_an_event_ends_at_it_or_times_out(tmp_path: Path) -> None:
    """`wait until had E for at most D` continues when a matching event happens, or
    when the time-out ends, whichever is first."""
    rules = """
    workflow "Nudge" on contact {
      enroll when lifecyclestage is lead
      wait until had form_submission where form is "demo" for at most 5 days
      create task "next"
    }
    """
    events = [
        {"record_id": "c1", "type": "form_submission", "occurred_at": t, "form": f}
        for t, f in (
            ("2026-12-02T08:00:00Z", "other"),
            ("2026-12-03T08:00:00Z", "demo"),
        )
    ]
    contacts = [
        contact("c1", lifecyclestage="lead"),
        contact("c2", lifecyclestage="lead"),
    ]
    ws = make(tmp_path, rules, contacts, events=events)
    ws.run("2026-12-01T12:00")
    rows = ws.actions("2026-12-10T12:00")
    assert [(r[0], r[1]) for r in rows] == [
        ("2026-12-03T08:00:00Z", "c1"),
        ("2026-12-06T12:00:00Z", "c2"),
    ]


def test_run_window_moves_actions_to_the_next_opening(tmp_path: Path) -> None:
    """Outside `run on weekdays 09:00 to 17:00` an action waits for the opening; the
    enrollment itself is not moved."""
    rules = """
    workflow "Office" on contact {
      enroll when lifecyclestage is lead
      run on weekdays 09:00 to 17:00
      create task "Call"
    }
    """
    ws = make(tmp_path, rules, [contact("c1", lifecyclestage="lead")])
    assert [r[0] for r in ws.actions("2026-12-05T20:00")] == ["2026-12-05T20:00:00Z"]
    assert [r[0] for r in ws.actions("2026-12-07T12:00")] == ["2026-12-07T09:00:00Z"]


def test_property_changes_are_seen_by_later_rules_in_the_same_run(
    tmp_path: Path,
) -> None:
    """A `set` makes another workflow's trigger true at once, and makes its own
    workflow's goal true before its next action."""
    rules = """
    workflow "Qualify" on contact {
      enroll when lifecyclestage is lead
      goal hs_lead_status is OPEN
      set hs_lead_status = OPEN
      create task "never"
    }
    workflow "Open" on contact {
      enroll when hs_lead_status is OPEN
      create task "call"
    }
    """
    ws = make(
        tmp_path, rules, [contact("c1", lifecyclestage="lead", hs_lead_status="NEW")]
    )
    rows = ws.actions("2026-12-01T12:00")
    assert [(r[2], r[3], r[5]) for r in rows] == [
        ("Qualify", "enroll", ""),
        ("Qualify", "set_property", "hs_lead_status = OPEN"),
        ("Qualify", "unenroll", ""),
        ("Open", "enroll", ""),
        ("Open", TASK, 'task "call"'),
    ]


def test_loops_are_skipped_and_recorded(tmp_path: Path) -> None:
    """An action re-triggering its own workflow is skipped; workflows enrolling each
    other stop at the cascade bound; both are in the record's history."""
    rules = """
    workflow "Self" on contact {
      enroll when lifecyclestage is lead
      reenroll when hs_lead_status changed to NEW
      set hs_lead_status = NEW
    }
    workflow "Ping" on contact {
      enroll when lifecyclestage is customer
      enroll in workflow "Pong"
    }
    workflow "Pong" on contact { enroll in workflow "Ping" }
    """
    contacts = [
        contact("c1", lifecyclestage="lead", hs_lead_status="OPEN"),
        contact("c2", lifecyclestage="customer"),
    ]
    ws = make(tmp_path, rules, contacts)
    rows = ws.actions("2026-12-01T12:00")
    assert "set_property" not in [r[3] for r in rows if r[1] == "c1"]
    notes = {(h.source, h.kind) for h in record_history(ws.state, "c1")}
    assert ("Self", "skip") in notes
    pings = [r for r in rows if r[1] == "c2" and r[3] == "enroll"]
    assert 2 <= len(pings) <= 10
    skips = [h for h in record_history(ws.state, "c2") if h.kind == "skip"]
    assert skips and "re-triggered rules" in skips[0].reason


def test_memberships_and_stored_truths_after_actions_at_now(tmp_path: Path) -> None:
    """When an action at the run's now changes what rules read, the run's list
    memberships are the records' ids as they stand after it, and the records it
    did not touch keep their stored truths (no second enrollment next run)."""
    rules = """
    list "Leads" active { lifecyclestage is lead }
    list "Open" active { hs_lead_status is OPEN }
    workflow "Qualify" on contact {
      enroll when in list "Leads"
      set hs_lead_status = OPEN
    }
    """
    rows = [
        contact("c1", lifecyclestage="lead", hs_lead_status="NEW"),
        contact("c2", lifecyclestage="customer", hs_lead_status="NEW"),
        contact("c3", lifecyclestage="lead", hs_lead_status="OPEN"),
    ]
    ws = make(tmp_path, rules, rows)
    ws.run("2026-12-01T12:00")
    ws.con.execute("UPDATE obj_contact SET lifecyclestage = 'lead' WHERE id = 'c2'")
    second = ws.run("2026-12-02T12:00")
    assert sorted(second.memberships) == [
        ("Leads", "c1"),
        ("Leads", "c2"),
        ("Leads", "c3"),
        ("Open", "c1"),
        ("Open", "c2"),
        ("Open", "c3"),
    ]
    third = ws.run("2026-12-03T12:00")
    assert [(a.record_id, a.kind) for a in third.actions] == []


def test_a_change_of_the_primary_company_enrolls_at_its_instant(
    tmp_path: Path,
) -> None:
    """A trigger reading the primary company's property turns on when the
    company's history says it changed, and the enrollment carries that instant;
    a contact of another company is untouched."""
    rules = """
    workflow "Big accounts" on contact {
      enroll when company.numberofemployees >= 500
      create task "Call"
    }
    """
    history = [
        {
            "object_type": "company",
            "record_id": "co1",
            "property": "numberofemployees",
            "value": "50",
            "changed_at": "2026-11-01T00:00:00Z",
        },
        {
            "object_type": "company",
            "record_id": "co1",
            "property": "numberofemployees",
            "value": "800",
            "changed_at": "2026-12-02T09:30:00Z",
        },
    ]
    links = [
        {"from_type": "contact", "from_id": c, "to_type": "company", "to_id": co}
        | {"primary": "true"}
        for c, co in (("c1", "co1"), ("c2", "co2"))
    ]
    ws = make(
        tmp_path,
        rules,
        [contact("c1"), contact("c2")],
        history=history,
        companies=[
            {"id": "co1", "name": "Acme", "numberofemployees": 800},
            {"id": "co2", "name": "Tiny", "numberofemployees": 20},
        ],
        associations=links,
    )
    assert ws.actions("2026-12-01T12:00") == []
    rows = ws.actions("2026-12-03T12:00")
    assert _kinds(rows, "c1") == [
        ("2026-12-02T09:30:00Z", "enroll", ""),
        ("2026-12-02T09:30:00Z", TASK, 'task "Call"'),
    ]
    assert _kinds(rows, "c2") == []


def test_names_with_quotes_run_like_any_other(tmp_path: Path) -> None:
    """List and workflow names are data: quotes and apostrophes in them reach the
    state and the SQL of a run unchanged, across runs."""
    rules = """
    list "Bob's \\"VIP\\" leads" active { lifecyclestage is lead }
    workflow "Route \\"VIP\\" leads' calls" on contact {
      enroll when in list "Bob's \\"VIP\\" leads"
      goal lifecyclestage is customer
      wait 1 day
      create task "Call"
    }
    """
    ws = make(tmp_path, rules, [contact("c1", lifecyclestage="lead")])
    first = ws.run("2026-12-01T12:00")
    assert first.memberships == (('Bob\'s "VIP" leads', "c1"),)
    assert [(a.source, a.kind) for a in first.actions] == [
        ('Route "VIP" leads\' calls', "enroll")
    ]
    rows = ws.actions("2026-12-03T12:00")
    assert _kinds(rows, "c1") == [("2026-12-02T12:00:00Z", TASK, 'task "Call"')]


def test_a_trigger_time_turns_true_enrolls_at_that_midnight(tmp_path: Path) -> None:
    """When an event leaves an `in last N days` window, the trigger it held false
    turns true at the workspace midnight (New York here) the window moves past
    it; one run over the days and two shorter runs both enroll then."""
    rules = """
    workflow "Quiet" on contact {
      enroll when lifecyclestage is lead
        and not had page_view where url contains "/home" in last 2 days
      existing: skip
      create task "Nudge"
    }
    """
    events = [
        {
            "record_id": "c1",
            "type": "page_view",
            "occurred_at": "2026-12-01T15:00:00Z",
            "url": "/home",
        }
    ]
    contacts = [contact("c1", lifecyclestage="lead")]
    expected = [
        ("2026-12-04T05:00:00Z", "enroll", ""),
        ("2026-12-04T05:00:00Z", TASK, 'task "Nudge"'),
    ]
    for name, cuts in (("once", []), ("often", ["2026-12-03T12:00"])):
        ws = make(
            tmp_path / name,
            rules,
            contacts,
            events=events,
            timezone="America/New_York",
        )
        assert ws.actions("2026-12-01T12:00") == []
        rows = [row for when in cuts for row in ws.actions(when)]
        told: list[tuple[str, int, int | None]] = []
        last = run(ws.checked, ws.con, at("2026-12-06T12:00"), progress=_recorder(told))
        rows += [a.row()[1:7] for a in last.actions]
        assert _kinds(rows, "c1") == expected, name
        # the record the midnight turns is counted once in the replay's progress
        replay = [(d, t) for stage, d, t in told if stage == "replaying the period"]
        assert replay[-1] == (1, 1)
        assert all(t is not None and d <= t for d, t in replay)


def test_workflows_whose_names_differ_only_in_case_both_run(tmp_path: Path) -> None:
    """DuckDB matches column names without case, so the truth columns of `Hot`
    and `hot` differ by a suffix; the runtime reads each workflow's own."""
    rules = """
    workflow "Hot" on contact {
      enroll when lifecyclestage is lead
      create task "upper"
    }
    workflow "hot" on contact {
      enroll when lifecyclestage is opportunity
      create task "lower"
    }
    """
    contacts = [
        contact("c1", lifecyclestage="lead"),
        contact("c2", lifecyclestage="opportunity"),
    ]
    history = [
        {
            "object_type": "contact",
            "record_id": "c3",
            "property": "lifecyclestage",
            "value": "opportunity",
            "changed_at": "2026-12-02T09:00:00Z",
        }
    ]
    ws = make(
        tmp_path,
        rules,
        [*contacts, contact("c3", lifecyclestage="opportunity")],
        history=history,
    )
    first = ws.actions("2026-12-01T12:00")
    assert [(r[1], r[2], r[5]) for r in first if r[3] == TASK] == [
        ("c1", "Hot", 'task "upper"'),
        ("c2", "hot", 'task "lower"'),
    ]
    later = ws.actions("2026-12-03T12:00")
    assert [(r[0], r[1], r[2]) for r in later if r[3] == TASK] == [
        ("2026-12-02T09:00:00Z", "c3", "hot")
    ]
