"""Tests for sequences at run time: timing, refusals, queues, exits, tasks, limits."""

from __future__ import annotations

import hashlib
from pathlib import Path

from runtime_kit import contact, make

from seqdsl.runtime import record_history

SEND = "send_email"


def _sends(rows: list[tuple[str, ...]]) -> list[tuple[str, str, str]]:
    """(due_at, record, step) of the emails among a run's actions."""
    return [(r[0], r[1], r[4]) for r in rows if r[3] == SEND]


def test_steps_follow_delays_windows_zones_and_business_days(tmp_path: Path) -> None:
    """Each step is due its delay after the previous one, then moved into the send
    window in the contact's zone (workspace zone when unknown) on a business day."""
    rules = """
    list "Leads" active { lifecyclestage is lead }
    enroll list "Leads" in sequence "Follow"
    sequence "Follow" {
      sender owner
      send window 08:00 to 18:00 in contact time zone
      follow up on business days
      step "a" email "t-a"
      step "b" after 2 days email "t-b" in thread
      step "c" after 1 business day email "t-c"
    }
    """
    contacts = [
        contact("c1", lifecyclestage="lead", hs_timezone="Europe/Berlin"),
        contact("c2", lifecyclestage="lead"),
    ]
    ws = make(
        tmp_path, rules, contacts, timezone="America/New_York", holidays=["2026-12-08"]
    )
    first = ws.actions("2026-12-04T20:00Z")  # Friday, 21:00 Berlin, 15:00 New York
    assert _sends(first) == [("2026-12-04T20:00:00Z", "c2", "a")]
    assert _sends(ws.actions("2026-12-11T00:00Z")) == [
        ("2026-12-07T07:00:00Z", "c1", "a"),  # Monday 08:00 Berlin
        ("2026-12-07T13:00:00Z", "c2", "b"),  # Sunday moved to Monday 08:00 NY
        ("2026-12-09T07:00:00Z", "c1", "b"),
        ("2026-12-09T13:00:00Z", "c2", "c"),  # Tuesday 8th is a holiday
        ("2026-12-10T07:00:00Z", "c1", "c"),
    ]


def test_one_sequence_at_a_time_refuses_or_queues(tmp_path: Path) -> None:
    """A second sequence is refused with ALREADY_ENROLLED, unless it queues; a
    queued one starts when the current one ends."""
    rules = """
    workflow "Three" on contact {
      enroll when lifecyclestage is lead
      enroll in sequence "First"
      enroll in sequence "Second"
      enroll in sequence "Third"
    }
    sequence "First" {
      sender owner  follow up on every day
      step "x" email "x"
      step "y" after 1 day email "y"
    }
    sequence "Second" { sender owner  step "x" email "x" }
    sequence "Third" {
      sender owner  follow up on every day  queue if already enrolled
      step "z" email "z"
    }
    """
    ws = make(tmp_path, rules, [contact("c1", lifecyclestage="lead")])
    first = ws.run("2026-12-01T12:00")
    refused = [a for a in first.actions if a.kind == "refuse"]
    assert [(a.source, a.reason.split(":")[0]) for a in refused] == [
        ("Second", "ALREADY_ENROLLED")
    ]
    rows = ws.actions("2026-12-03T12:00")
    assert [(r[0], r[2], r[3]) for r in rows] == [
        ("2026-12-02T12:00:00Z", "First", SEND),
        ("2026-12-02T12:00:00Z", "Third", "enroll"),
        ("2026-12-02T12:00:00Z", "Third", SEND),
    ]


def test_contacts_without_a_working_email_or_sender_are_refused(
    tmp_path: Path,
) -> None:
    """No email, a bounce, an opt-out and no owner each refuse, with a reason."""
    rules = """
    list "Leads" active { lifecyclestage is lead }
    enroll list "Leads" in sequence "S"
    sequence "S" { sender owner  step "x" email "x" }
    """
    contacts = [
        contact("c1", lifecyclestage="lead", email=None),
        contact("c2", lifecyclestage="lead"),
        contact("c3", lifecyclestage="lead", hs_email_optout="true"),
        contact("c4", lifecyclestage="lead", hubspot_owner_id=None),
        contact("c5", lifecyclestage="lead"),
    ]
    events = [
        {"record_id": "c2", "type": "email_bounce", "occurred_at": "2026-11-01T00:00Z"}
    ]
    ws = make(tmp_path, rules, contacts, events=events)
    result = ws.run("2026-12-01T12:00")
    reasons = {
        a.record_id: a.reason.split(":")[0]
        for a in result.actions
        if a.kind == "refuse"
    }
    assert reasons == {
        "c1": "MISSING_EMAIL",
        "c2": "BOUNCED",
        "c3": "UNSUBSCRIBED",
        "c4": "NO_SENDER",
    }
    assert [a.record_id for a in result.actions if a.kind == SEND] == ["c5"]


def test_replies_unenroll_before_the_next_step(tmp_path: Path) -> None:
    """A reply ends the enrollment at the reply; with `company replied`, so does a
    reply from someone at the same company."""
    rules = """
    list "Leads" active { lifecyclestage is lead }
    enroll list "Leads" in sequence "S"
    sequence "S" {
      sender owner  follow up on every day
      unenroll when replied
      unenroll when company replied
      step "a" email "a"
      step "b" after 2 days email "b"
    }
    """
    contacts = [contact(c, lifecyclestage="lead") for c in ("c1", "c2", "c3")]
    companies = [{"id": "co1", "name": "Acme"}]
    associations = [
        {
            "from_type": "contact",
            "from_id": c,
            "to_type": "company",
            "to_id": "co1",
            "primary": "true",
        }
        for c in ("c1", "c2")
    ]
    events = [
        {"record_id": "c1", "type": "email_reply", "occurred_at": "2026-12-02T10:00Z"}
    ]
    ws = make(
        tmp_path,
        rules,
        contacts,
        events=events,
        companies=companies,
        associations=associations,
    )
    ws.run("2026-12-01T12:00")
    rows = ws.actions("2026-12-05T12:00")
    assert [(r[0], r[1], r[3], r[4]) for r in rows] == [
        ("2026-12-02T10:00:00Z", "c1", "unenroll", ""),
        ("2026-12-02T10:00:00Z", "c2", "unenroll", ""),
        ("2026-12-03T12:00:00Z", "c3", SEND, "b"),
    ]
    reasons = [h.reason for h in record_history(ws.state, "c2") if h.kind == "unenroll"]
    assert reasons == ["company replied"]


def test_a_task_until_completed_pauses_the_sequence(tmp_path: Path) -> None:
    """The step after an `until completed` task is due its delay after the
    `task_completed` event that names the step."""
    rules = """
    list "Leads" active { lifecyclestage is lead }
    enroll list "Leads" in sequence "T"
    sequence "T" {
      sender owner  follow up on every day
      step "call" call "Ring them" until completed
      step "thanks" after 1 day email "thanks"
    }
    """
    contacts = [
        contact("c1", lifecyclestage="lead"),
        contact("c2", lifecyclestage="lead"),
    ]
    events = [
        {
            "record_id": "c1",
            "type": "task_completed",
            "occurred_at": "2026-12-05T09:00Z",
            "task": "call",
        }
    ]
    ws = make(tmp_path, rules, contacts, events=events)
    calls = [r for r in ws.actions("2026-12-01T12:00") if r[3] == "create_task"]
    assert [r[5] for r in calls] == ['call "Ring them" for owner-1'] * 2
    assert _sends(ws.actions("2026-12-10T00:00")) == [
        ("2026-12-06T09:00:00Z", "c1", "thanks")
    ]


def test_limits_defer_in_due_then_record_order(tmp_path: Path) -> None:
    """Over a daily limit the rest wait for the next day, served by due time then
    record id; the deferral is in the history."""
    rules = """
    list "Leads" active { lifecyclestage is lead }
    enroll list "Leads" in sequence "L"
    sequence "L" {
      sender user "u1"  follow up on every day
      limit 2 emails per day per sender
      limit 3 enrollments per day per sender
      step "a" email "a"
    }
    """
    contacts = [contact(f"c{n}", lifecyclestage="lead") for n in range(1, 6)]
    ws = make(tmp_path, rules, contacts)
    first = ws.run("2026-12-01T12:00")
    assert [a.record_id for a in first.actions if a.kind == "enroll"] == [
        "c1",
        "c2",
        "c3",
    ]
    assert [a.record_id for a in first.actions if a.kind == SEND] == ["c1", "c2"]
    rows = ws.actions("2026-12-03T12:00")
    assert [(r[0], r[1], r[3]) for r in rows] == [
        ("2026-12-02T00:00:00Z", "c3", SEND),
        ("2026-12-02T00:00:00Z", "c4", "enroll"),
        ("2026-12-02T00:00:00Z", "c4", SEND),
        ("2026-12-02T00:00:00Z", "c5", "enroll"),
        ("2026-12-03T00:00:00Z", "c5", SEND),
    ]
    notes = [h for h in record_history(ws.state, "c5") if h.kind == "deferred"]
    assert len(notes) == 2 and "limit of 2 emails" in notes[0].reason


def test_start_at_step_resume_and_senders(tmp_path: Path) -> None:
    """`start at step` starts there; `resume` continues after the last completed
    step; a rotation picks a sender from a hash of sequence, record and occurrence."""
    rules = """
    workflow "Pause" on contact {
      enroll when lifecyclestage is lead
      enroll in sequence "S" sender rotate among ["u1", "u2"]
      wait 25 hours
      unenroll from sequence "S"
      wait 1 day
      enroll in sequence "S" resume
    }
    workflow "Late" on contact {
      enroll when lifecyclestage is customer
      enroll in sequence "S" sender user "u9" start at step "b"
    }
    sequence "S" {
      sender owner  follow up on every day
      step "a" email "a"
      step "b" after 1 day email "b"
      step "c" after 1 day email "c"
    }
    """
    contacts = [
        contact("c1", lifecyclestage="lead"),
        contact("c2", lifecyclestage="customer"),
    ]
    ws = make(tmp_path, rules, contacts)
    first = ws.actions("2026-12-01T12:00")
    assert _sends(first) == [
        ("2026-12-01T12:00:00Z", "c1", "a"),
        ("2026-12-01T12:00:00Z", "c2", "b"),
    ]
    digest = hashlib.md5(b"S\x1fc1\x1f1").hexdigest()
    sender = ["u1", "u2"][int(digest[:8], 16) % 2]
    assert first[2][5] == f"sender {sender}"
    rows = ws.actions("2026-12-05T00:00")
    assert [(r[0], r[1], r[3], r[4]) for r in rows if r[2] == "S"] == [
        ("2026-12-02T12:00:00Z", "c1", SEND, "b"),
        ("2026-12-02T12:00:00Z", "c2", SEND, "c"),
        ("2026-12-02T13:00:00Z", "c1", "unenroll", ""),
        ("2026-12-03T13:00:00Z", "c1", "enroll", ""),
        ("2026-12-03T13:00:00Z", "c1", SEND, "c"),
    ]


def test_edited_sequences_keep_contacts_at_their_named_step(tmp_path: Path) -> None:
    """Inserting a step before the one a contact waits at does not move it."""
    rules = """
    list "Leads" active { lifecyclestage is lead }
    enroll list "Leads" in sequence "S"
    sequence "S" {
      sender owner  follow up on every day
      step "a" email "a"
      STEPS
    }
    """
    later = 'step "b" after 1 day email "b"  step "c" after 1 day email "c"'
    edited = 'step "new" after 1 day email "new"  ' + later
    contacts = [contact("c1", lifecyclestage="lead")]
    ws = make(tmp_path, rules.replace("STEPS", later), contacts)
    assert [r[4] for r in ws.actions("2026-12-01T12:00") if r[3] == SEND] == ["a"]
    ws = make(tmp_path, rules.replace("STEPS", edited), contacts)
    assert _sends(ws.actions("2026-12-05T12:00")) == [
        ("2026-12-02T12:00:00Z", "c1", "b"),
        ("2026-12-03T12:00:00Z", "c1", "c"),
    ]


def test_list_enrollment_takes_each_member_once(tmp_path: Path) -> None:
    """`enroll list` enrolls every member, new members when they join, never twice;
    rules reading `currently_in_sequence` see the enrollment when it happens."""
    rules = """
    list "Leads" active { lifecyclestage is lead }
    enroll list "Leads" in sequence "S"
    sequence "S" { sender owner  follow up on every day  step "a" email "a" }
    workflow "Busy" on contact {
      enroll when currently_in_sequence is true
      create task "busy"
    }
    """
    history = [
        {
            "object_type": "contact",
            "record_id": "c2",
            "property": "lifecyclestage",
            "value": v,
            "changed_at": t,
        }
        for v, t in (("subscriber", "2026-11-01T00:00Z"), ("lead", "2026-12-02T08:00Z"))
    ]
    contacts = [
        contact("c1", lifecyclestage="lead"),
        contact("c2", lifecyclestage="lead"),
    ]
    ws = make(tmp_path, rules, contacts, history=history)
    first = ws.actions("2026-12-01T12:00")
    assert _sends(first) == [("2026-12-01T12:00:00Z", "c1", "a")]
    busy = [(r[0], r[1]) for r in first if r[2] == "Busy" and r[3] == "enroll"]
    assert busy == [("2026-12-01T12:00:00Z", "c1")]
    rows = ws.actions("2026-12-03T12:00")
    assert _sends(rows) == [("2026-12-02T08:00:00Z", "c2", "a")]
    busy = [(r[0], r[1]) for r in rows if r[2] == "Busy" and r[3] == "enroll"]
    assert busy == [("2026-12-02T08:00:00Z", "c2")]
    assert _sends(ws.actions("2026-12-09T12:00")) == []
