"""Runtime stage, sequence inputs: which contacts the sequence phase handles, and
what it reads about them.

Only contacts with something to do in the period are read into Python: a request
or an exit from the workflow phase, a step or a pending enrollment due, or an event
that touches a live enrollment (a reply, a meeting, a bounce, an unsubscribe, a
completed task, a reply from someone at the same company). Every other contact's
enrollments stay as they are, in SQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from seqdsl import ast
from seqdsl.runtime.actions import owner_property, zone_property
from seqdsl.runtime.context import RunContext, SequenceExit, SequenceRequest
from seqdsl.runtime.snapshot import Snapshots
from seqdsl.runtime.tracks import (
    COMPLETION,
    EXIT,
    LIVE,
    QUEUED,
    REQUEST,
    Input,
    Track,
    enrollment_of,
    exit_reasons,
)

__all__ = ["ContactReader"]

#: Each contact's primary company: the primary association, else the only one.
_PRIMARY = (
    "SELECT id, coalesce(min(other) FILTER (WHERE is_primary), "
    "CASE WHEN count(DISTINCT other) = 1 THEN min(other) END) AS company "
    'FROM (SELECT from_id AS id, to_id AS other, coalesce("primary", false) '
    "AS is_primary FROM rt_data_associations WHERE from_type = 'contact' "
    "AND to_type = 'company' UNION ALL SELECT to_id, from_id, "
    'coalesce("primary", false) FROM rt_data_associations '
    "WHERE to_type = 'contact' AND from_type = 'company') GROUP BY id"
)


class ContactReader:
    """Reads the sequence phase's contacts, their inputs and their profiles."""

    def __init__(
        self,
        ctx: RunContext,
        snapshots: Snapshots,
        sequences: Mapping[str, ast.SequenceDecl],
    ) -> None:
        self.ctx = ctx
        self.snap = snapshots
        self.sequences = sequences
        self.found: dict[str, Track] = {}
        contact = ctx.checked.schema.object("contact")
        self.owner = owner_property(contact)
        self.zone = zone_property(contact)
        has_optout = contact is not None and contact.property("hs_email_optout")
        self.optout = "hs_email_optout" if has_optout else None

    def tracks(
        self,
        requests: Sequence[SequenceRequest],
        exits: Sequence[SequenceExit],
    ) -> dict[str, Track]:
        """The contacts with anything to do in the period: their previous
        enrollments, this run's requests and exits, and their events."""
        self.found = {}
        wanted = self._wanted(requests, exits)
        rows = self.snap.con.execute(
            "SELECT * FROM prev_seq_enrollments WHERE record_id IN "
            "(SELECT unnest($ids))",
            {"ids": sorted(wanted)},
        ).fetchall()
        for row in rows:
            enrollment = enrollment_of(row)
            track = self._track(enrollment.record_id)
            if enrollment.status == QUEUED:
                track.queue.append(enrollment)
            elif enrollment.status in LIVE:
                track.current = enrollment
            else:
                track.past.append(enrollment)
        for request in requests:
            self._track(request.record_id).inputs.append(
                Input(request.at, REQUEST, request.order, "request", request)
            )
        for leave in exits:
            self._track(leave.record_id).inputs.append(
                Input(leave.at, EXIT, leave.order, "exit", leave)
            )
        self._load_events()
        for track in self.found.values():
            track.inputs.sort(key=Input.key)
            track.queue.sort(key=lambda e: e.requested_at)
        return self.found

    def _wanted(
        self, requests: Sequence[SequenceRequest], exits: Sequence[SequenceExit]
    ) -> set[str]:
        """Contacts with a request or an exit, a step due, or an event that
        touches a live enrollment; the others stay as they are, in SQL."""
        found = {r.record_id for r in requests} | {e.record_id for e in exits}
        since = self.ctx.previous or dt.datetime.min.replace(tzinfo=dt.UTC)
        live = (
            "SELECT record_id FROM prev_seq_enrollments "
            "WHERE status IN ('pending', 'active', 'paused')"
        )
        rows = self.snap.con.execute(
            "SELECT record_id FROM prev_seq_enrollments WHERE status IN "
            "('pending', 'active') AND due_at <= $now "
            "UNION SELECT record_id FROM rt_data_events WHERE occurred_at > $since "
            "AND occurred_at <= $now AND type IN ('email_reply', 'meeting_booked', "
            "'email_bounce', 'unsubscribe', 'task_completed') "
            f"AND record_id IN ({live})",
            {"now": self.ctx.as_of, "since": since},
        ).fetchall()
        found.update(str(row[0]) for row in rows)
        found.update(self._company_repliers(live, since))
        return found

    def _track(self, record_id: str) -> Track:
        track = self.found.get(record_id)
        if track is None:
            track = self.found[record_id] = Track(record_id)
        return track

    def _load_events(self) -> None:
        """Exit events, completed tasks and company replies since the previous run."""
        if not self.found:
            return
        con = self.snap.con
        con.execute(
            "CREATE OR REPLACE TEMP TABLE rt_tracked AS SELECT unnest($ids) AS id",
            {"ids": list(self.found)},
        )
        since = self.ctx.previous or dt.datetime.min.replace(tzinfo=dt.UTC)
        window = [since, self.ctx.as_of]
        task = self._has_event_field("task")
        rows = con.execute(
            "SELECT record_id, type, occurred_at, "
            + ("task" if task else "NULL")
            + " FROM rt_data_events WHERE occurred_at > ? AND occurred_at <= ? "
            "AND type IN ('email_reply', 'meeting_booked', 'email_bounce', "
            "'unsubscribe', 'task_completed') "
            "AND record_id IN (SELECT id FROM rt_tracked)",
            window,
        ).fetchall()
        for record_id, kind, at, task_name in rows:
            rank = COMPLETION if kind == "task_completed" else EXIT
            self.found[str(record_id)].inputs.append(
                Input(at.astimezone(dt.UTC), rank, 0, str(kind), task_name)
            )
        for record_id, at in self._company_replies(window):
            self.found[record_id].inputs.append(
                Input(at, EXIT, 0, "company_reply", None)
            )

    def _has_event_field(self, name: str) -> bool:
        columns = self.snap.con.execute("DESCRIBE rt_data_events").fetchall()
        return any(row[0] == name for row in columns)

    def _company_replies(
        self, window: list[dt.datetime]
    ) -> list[tuple[str, dt.datetime]]:
        """Replies by other contacts of a tracked contact's primary company."""
        if not self._company_exits():
            return []
        rows = self.snap.con.execute(
            f"WITH p AS ({_PRIMARY}) SELECT DISTINCT me.id, e.occurred_at "
            "FROM p me JOIN p them ON them.company = me.company AND them.id <> me.id "
            "JOIN rt_data_events e ON e.record_id = them.id "
            "WHERE e.type = 'email_reply' AND e.occurred_at > ? AND e.occurred_at <= ? "
            "AND me.id IN (SELECT id FROM rt_tracked)",
            window,
        ).fetchall()
        return [(str(i), t.astimezone(dt.UTC)) for i, t in rows]

    def _company_repliers(self, live: str, since: dt.datetime) -> set[str]:
        """Contacts in a sequence whose company had a reply in the period."""
        if not self._company_exits():
            return set()
        rows = self.snap.con.execute(
            f"WITH p AS ({_PRIMARY}) SELECT DISTINCT me.id "
            "FROM p me JOIN p them ON them.company = me.company AND them.id <> me.id "
            "JOIN rt_data_events e ON e.record_id = them.id "
            "WHERE e.type = 'email_reply' AND e.occurred_at > $since "
            f"AND e.occurred_at <= $now AND me.id IN ({live})",
            {"since": since, "now": self.ctx.as_of},
        ).fetchall()
        return {str(row[0]) for row in rows}

    def _company_exits(self) -> bool:
        return any(
            ast.ExitReason.COMPANY_REPLIED in exit_reasons(s)
            for s in self.sequences.values()
        )

    def profiles(
        self, pairs: Sequence[tuple[str, dt.datetime]]
    ) -> dict[tuple[str, dt.datetime], dict[str, str | None]]:
        """Email, owner, time zone and opt-out (as text) of contacts at instants."""
        present = {
            str(row[0])
            for row in self.snap.con.execute("DESCRIBE rt_data_obj_contact").fetchall()
        }
        wanted = {
            "email": "email",
            "owner": self.owner.name if self.owner else None,
            "zone": self.zone.name if self.zone else None,
            "optout": self.optout,
        }
        columns = {k: v for k, v in wanted.items() if v is not None and v in present}
        values = self.snap.values_at("contact", pairs, sorted(set(columns.values())))
        return {
            pair: {k: values.get(pair, {}).get(v) for k, v in columns.items()}
            for pair in pairs
        }

    def problems(self) -> dict[str, dict[str, dt.datetime]]:
        """The first bounce and unsubscribe of each tracked contact, up to now."""
        found: dict[str, dict[str, dt.datetime]] = {}
        if not self.found:
            return found
        rows = self.snap.con.execute(
            "SELECT record_id, type, min(occurred_at) FROM rt_data_events "
            "WHERE type IN ('email_bounce', 'unsubscribe') AND occurred_at <= ? "
            "AND record_id IN (SELECT id FROM rt_tracked) GROUP BY ALL",
            [self.ctx.as_of],
        ).fetchall()
        for record_id, kind, at in rows:
            found.setdefault(str(record_id), {})[str(kind)] = at.astimezone(dt.UTC)
        return found
