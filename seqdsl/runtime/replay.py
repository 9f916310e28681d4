"""Runtime stage, replay: when each record is looked at, and with what truths.

The workflow phase of a run is a map over independent records (a partition-parallel
step on Spark). Each :class:`~seqdsl.runtime.workflows.Flow` is visited at its
*points* in time order: the instants of its events and property history rows since
the previous run, the ends of its waits, the midnights at which time alone turns one
of its triggers or exit conditions, and the run's now. :class:`WorkflowPhase`
schedules the visits and asks the engine for the rules' truths in batches
(:mod:`~seqdsl.runtime.snapshot`); :class:`~seqdsl.runtime.workflows.Decider` decides
at each visit.

Before now, records go in rounds: a round evaluates, in one engine call per batch
key, every instant of every record that may share an evaluation with its first
pending one, then visits each record at those instants in order until something it
did changes what the rules read (an action's effect, an enrollment that `since
enrolled` reads, a new wait) — the rest of its instants wait for the next round.
Rounds stop at each workspace midnight of the period until every record is past it;
then the rules that read per-day parameters are evaluated for everyone just before
and at the midnight, and the records they differ for get it as a point. At
now, every record is evaluated in one call; only records whose trigger turned on, that
are in hand already, or whose enrollment is due or meets an exit condition are
visited. Bulk work (edge detection, choosing records) is SQL.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping, Sequence

from seqdsl import ast
from seqdsl.calendar import parse_instant
from seqdsl.engine.query import counted_events
from seqdsl.plan import list_key, workflow_key
from seqdsl.runtime import program as pg
from seqdsl.runtime.actions import Effects
from seqdsl.runtime.context import RunContext
from seqdsl.runtime.snapshot import Point, Snapshots
from seqdsl.runtime.sqltext import name_sql
from seqdsl.runtime.workflows import (
    Decider,
    Flow,
    SequenceExit,
    SequenceRequest,
    enrollment_of,
    wait_workflow,
)
from seqdsl.schema import SEQUENCE_PROPERTIES, Kind

__all__ = ["WorkflowPhase"]

log = logging.getLogger("seqdsl.runtime.replay")

# the stages the phase reports to the run's progress, and how often it does
_REPLAYING = "replaying the period"
_EVALUATING = "evaluating every record at now"
_DECIDING = "deciding at now"
_EVERY = 5000


class WorkflowPhase:
    """Schedules the visits of every record and evaluates the rules for them."""

    def __init__(
        self,
        ctx: RunContext,
        snapshots: Snapshots,
        programs: Mapping[str, pg.Program],
        value_columns: Mapping[str, Sequence[str]],
        first_seq: int = 0,
    ) -> None:
        self.ctx = ctx
        self.snap = snapshots
        self.value_columns = value_columns
        self.decider = Decider(ctx, snapshots, programs, first_seq)
        self.flows: dict[tuple[str, str], Flow] = {}
        # flows with nothing left to visit before now, for the progress
        self._finished = 0
        self.now_tables: Mapping[str, str] = {}
        workflows = self.decider.workflows
        self.subjects = tuple(
            dict.fromkeys(
                [w.object for w in workflows.values()]
                + (["contact"] if self.decider.list_rules else [])
            )
        )

    @property
    def requests(self) -> list[SequenceRequest]:
        return self.decider.requests

    @property
    def exits(self) -> list[SequenceExit]:
        return self.decider.exits

    @property
    def effects(self) -> Effects:
        return self.decider.effects

    def run(self) -> None:
        """Visit every record at its points before now, then everyone at now."""
        points = self._points_before_now()
        self._load({(object, record_id) for object, record_id, _ in points})
        for object, record_id, at in points:
            self.flows[(object, record_id)].points.append(at)
        for flow in self.flows.values():
            flow.points = sorted(set(flow.points))
        self._replay()
        self._visit_now()

    def _replay(self) -> None:
        """Visit records at their instants before now, in rounds, one workspace
        day at a time when rules read windows of days: at each midnight, the
        records whose truths time alone turns then get a point there."""
        pending = list(self.flows.values())
        watched = self._watched_keys()
        for midnight in self._midnights() if watched else ():
            pending = self._rounds(pending, midnight)
            turning = self.snap.turning_at(midnight, watched)
            log.debug("midnight %s: %d record(s) turn", midnight, len(turning))
            known = set(self.flows)
            self._load({(object, record_id) for object, record_id, _ in turning})
            waiting = {flow.key for flow in pending}
            for object, record_id, at in turning:
                flow = self.flows[(object, record_id)]
                flow.points = sorted({*flow.points, at})
                if flow.key not in waiting:
                    pending.append(flow)
                    # a record counted as done has something to do again
                    self._finished -= flow.key in known
        self._rounds(pending, self.ctx.as_of)
        self.ctx.progress(_REPLAYING, len(self.flows), len(self.flows))

    def _rounds(self, flows: list[Flow], until: dt.datetime) -> list[Flow]:
        """Visit `flows` at their instants before `until`, in rounds: each round
        evaluates, per record, every instant that may share one evaluation with
        its first, and visits them in order until an action changes what the
        rules read (the rest waits for the next round). Returns the flows with
        instants left between `until` and now."""
        later = []
        while flows:
            batches: dict[object, list[tuple[Flow, list[dt.datetime]]]] = {}
            busy = []
            for flow in flows:
                todo = flow.upcoming(until)
                if todo:
                    busy.append(flow)
                    key = self.snap.batch_key(todo[0])
                    same = [t for t in todo if self.snap.batch_key(t) == key]
                    batches.setdefault(key, []).append((flow, same))
                elif until < self.ctx.as_of and flow.upcoming(self.ctx.as_of):
                    later.append(flow)
                else:
                    self._finished += 1
            self.ctx.progress(_REPLAYING, self._finished, len(self.flows))
            for items in batches.values():
                self._visit_batch(items)
            flows = busy
        return later

    def _midnights(self) -> list[dt.datetime]:
        """The workspace midnights strictly inside the run's period; none when
        the rules read finer instants than days (`in last 4 hours`)."""
        previous, now = self.ctx.previous, self.ctx.as_of
        if previous is None or not self.snap.by_day:
            return []
        calendar = self.ctx.calendar
        found = []
        day = calendar.local_date(previous) + dt.timedelta(days=1)
        while (midnight := calendar.start_of_day(day)) < now:
            if midnight > previous:
                found.append(midnight)
            day += dt.timedelta(days=1)
        return found

    def _watched_keys(self) -> list[str]:
        """The keys whose turn makes a record do something, and that time alone
        may turn at a midnight: triggers, and the exit conditions of the
        workflows a record may be in."""
        keys = self.edge_keys()
        keys += [
            workflow_key(name, part)
            for name in self.decider.workflows
            for part in ("goal", "suppress", "unenroll")
        ]
        plan = self.ctx.plan
        return [
            k for k in dict.fromkeys(keys) if k in plan.rules and plan.turns_daily(k)
        ]

    def edge_keys(self) -> list[str]:
        """The rule keys whose previous truth the state keeps, for edges."""
        keys = [
            workflow_key(name, part)
            for name in self.decider.workflows
            for part in ("enroll", "reenroll")
        ]
        keys += [list_key(rule.list) for rule in self.decider.list_rules.values()]
        return [key for key in dict.fromkeys(keys) if key in self.ctx.plan.rules]

    def _visit_batch(self, items: Sequence[tuple[Flow, list[dt.datetime]]]) -> None:
        """Evaluate the rules at every instant of these records in one call, then
        visit each record at its instants while nothing it did changes them."""
        points = [(f.object_type, f.record_id, t) for f, todo in items for t in todo]
        self.effects.flush()
        found = self.snap.evaluate_points(points, self.ctx.first_run)
        values = self._values([p for p in points if self._may_act(p, found)])
        for flow, todo in items:
            for at in todo:
                if flow.earliest_wake() < at:
                    break
                point = (flow.object_type, flow.record_id, at)
                flow.values = values.get(point, {})
                flow.dirty = False
                self.decider.visit(flow, at, found[point])
                if flow.again or flow.dirty:
                    break

    def _may_act(self, point: Point, found: Mapping[Point, frozenset[str]]) -> bool:
        """Whether a program may run at the point (so it needs property values):
        the record is enrolled somewhere, or a trigger of it holds."""
        flow = self.flows[(point[0], point[1])]
        if any(e.active for e in flow.enrollments.values()):
            return True
        return not self.decider.triggers.keys().isdisjoint(found[point])

    def _visit_now(self) -> None:
        """Evaluate every record at now; visit those with anything to do."""
        now = self.ctx.as_of
        self.effects.flush()
        self.ctx.progress(_EVALUATING, 0, 1)
        previous = self.decider.previous(now)
        tables = self.snap.evaluate_all(now, previous)
        self.now_tables = tables
        self.ctx.progress(_EVALUATING, 1, 1)
        wanted = self._wanted_now(tables)
        self._load(wanted)
        found = {
            (o, i): keys
            for o, i, keys in self.snap.fetch(tables, [i for _, i in wanted])
        }
        values = self._values([(o, i, now) for o, i in wanted])
        for number, key in enumerate(wanted):
            if number % _EVERY == 0:
                self.ctx.progress(_DECIDING, number, len(wanted))
            flow = self.flows[key]
            flow.values = values.get((key[0], key[1], now), {})
            self.decider.visit(flow, now, found.get(key, frozenset()))
        self.ctx.progress(_DECIDING, len(wanted), len(wanted))
        again = [f for f in self.flows.values() if f.again]
        touched: set[tuple[str, str]] = set()
        while again:
            touched.update(f.key for f in again)
            self._visit_batch([(f, [now]) for f in again])
            again = [f for f in self.flows.values() if f.again]
        # what the run leaves (memberships, stored truths) is as of after the
        # actions at now
        self.effects.flush()
        self.snap.refresh(tables, sorted(touched), now, previous)

    def _wanted_now(self, tables: Mapping[str, str]) -> list[tuple[str, str]]:
        """Records to visit at now: an edge key turned on, or already in hand, or
        enrolled somewhere."""
        con = self.snap.con
        parts: list[str] = []
        params: list[str] = []
        for object in self.subjects:
            table = tables.get(object)
            keys = [
                key
                for key in self.edge_keys()
                if self.ctx.plan.rules[key].object == object
            ]
            if table is None or not keys:
                continue
            # a key that holds now and did not at the record's last evaluation
            held = "coalesce(p.keys, [])"
            turned_on = " OR ".join(
                f"t.{self.snap.column(key)} AND NOT list_contains({held}, ?)"
                for key in keys
            )
            parts.append(
                f"SELECT ? AS o, t.id FROM {name_sql(table)} t "
                "LEFT JOIN (SELECT record_id, list(key) AS keys FROM prev_truths "
                f"GROUP BY record_id) p ON p.record_id = t.id WHERE {turned_on}"
            )
            params += [object, *keys]
        found = set(self.flows)
        if parts:
            rows = con.execute(" UNION ".join(parts), params).fetchall()
            found |= {(str(o), str(i)) for o, i in rows}
        query, due_params = self._due_now(tables)
        for object, record_id in con.execute(query, due_params).fetchall():
            found.add((str(object), str(record_id)))
        return sorted(found)

    def _due_now(self, tables: Mapping[str, str]) -> tuple[str, list[object]]:
        """SQL and its parameters for enrolled records with something to do at
        now: a wait ends, an awaited event happened, or an exit condition (goal,
        suppression, `unenroll when`) holds."""
        parts = ["SELECT NULL, NULL WHERE false"]
        params: list[object] = []
        rules = self.ctx.plan.rules
        for name, decl in self.decider.workflows.items():
            table = tables.get(decl.object)
            reasons = ["e.wake_at <= ?"]
            reason_params: list[object] = [self.ctx.as_of]
            if table is not None:
                keys = [
                    workflow_key(name, part)
                    for part in ("goal", "suppress", "unenroll")
                ]
                reasons += [f"t.{self.snap.column(k)}" for k in keys if k in rules]
                for label in _event_waits(self.decider.programs[name]):
                    key = workflow_key(wait_workflow(name, label), "enroll")
                    if key in rules:
                        column = self.snap.column(key)
                        reasons.append(f"(e.waiting = ? AND t.{column})")
                        reason_params.append(label)
            join = ""
            if table is not None:
                join = f" LEFT JOIN {name_sql(table)} t ON t.id = e.record_id"
            parts.append(
                f"SELECT ?, e.record_id FROM prev_wf_enrollments e{join} "
                "WHERE e.workflow = ? AND e.status = 'active' "
                f"AND ({' OR '.join(reasons)})"
            )
            params += [decl.object, name, *reason_params]
        return " UNION ".join(parts), params

    def _points_before_now(self) -> list[tuple[str, str, dt.datetime]]:
        """(object, id, instant): checkpoints and wakes strictly between the
        previous run and now."""
        previous = self.ctx.previous
        if previous is None:
            return []
        con = self.snap.con
        found: list[tuple[str, str, dt.datetime]] = []
        window = [previous, self.ctx.as_of]
        needed = self.ctx.plan.needed_columns()
        for object in self.subjects:
            counted = counted_events(self.ctx.plan, object)
            if counted is not None:
                # an event no count can count changes no truth at its instant
                rows = con.execute(
                    "SELECT DISTINCT record_id, occurred_at "
                    "FROM rt_data_events e WHERE occurred_at > ? AND occurred_at < ? "
                    f"AND ({counted}) AND record_id IN "
                    f"(SELECT id FROM {name_sql(f'rt_data_obj_{object}')})",
                    window,
                ).fetchall()
                found += [(object, record_id, at) for record_id, at in rows]
            for other, names in needed.items():
                found += self._history_points(object, other, sorted(names), window)
        if "contact" in self.subjects and set(needed.get("contact", ())) & set(
            SEQUENCE_PROPERTIES
        ):
            rows = con.execute(
                "SELECT DISTINCT record_id, since FROM rt_sequence_props "
                "WHERE since > ? AND since < ?",
                window,
            ).fetchall()
            found += [("contact", record_id, at) for record_id, at in rows]
        for workflow, record_id, wake in con.execute(
            "SELECT workflow, record_id, wake_at FROM prev_wf_enrollments "
            "WHERE status = 'active' AND wake_at < ?",
            [self.ctx.as_of],
        ).fetchall():
            decl = self.decider.workflows.get(str(workflow))
            if decl is not None:
                found.append((decl.object, str(record_id), wake))
        return [(str(o), str(i), t.astimezone(dt.UTC)) for o, i, t in found]

    def _history_points(
        self, object: str, other: str, names: Sequence[str], window: list[dt.datetime]
    ) -> list[tuple[str, str, dt.datetime]]:
        """History rows of `other` records, as points of the `object` records that
        read them (the record itself, or the records associated with it)."""
        rows = (
            "SELECT record_id, changed_at FROM rt_data_property_history "
            "WHERE object_type = ? AND changed_at > ? AND changed_at < ? "
            "AND list_contains(?, property)"
        )
        params = [other, *window, list(names)]
        if other == object:
            query = f"SELECT DISTINCT record_id, changed_at FROM ({rows})"
        else:
            query = (
                f"SELECT DISTINCT l.id, h.changed_at FROM ({rows}) h JOIN ("
                "SELECT from_id AS id, to_id AS other FROM rt_data_associations "
                "WHERE from_type = ? AND to_type = ? UNION ALL "
                "SELECT to_id, from_id FROM rt_data_associations "
                "WHERE to_type = ? AND from_type = ?) l ON l.other = h.record_id"
            )
            params += [object, other, object, other]
        return [
            (object, str(i), t)
            for i, t in self.snap.con.execute(query, params).fetchall()
        ]

    def _load(self, keys: Iterable[tuple[str, str]]) -> None:
        """Make flows for records not in hand yet, from the previous state."""
        fresh = {
            key: Flow(key[0], key[1], frozenset())
            for key in keys
            if key not in self.flows
        }
        if not fresh:
            return
        ids = sorted({record_id for _, record_id in fresh})
        con = self.snap.con
        prev: dict[str, set[str]] = {}
        for key, record_id in con.execute(
            "SELECT key, record_id FROM prev_truths "
            "WHERE record_id IN (SELECT unnest($ids))",
            {"ids": ids},
        ).fetchall():
            prev.setdefault(str(record_id), set()).add(str(key))
        rows = con.execute(
            "SELECT * FROM prev_wf_enrollments "
            "WHERE record_id IN (SELECT unnest($ids)) ORDER BY occurrence",
            {"ids": ids},
        ).fetchall()
        objects = {w: d.object for w, d in self.decider.workflows.items()}
        for row in rows:
            enrollment = enrollment_of(row)
            object = objects.get(enrollment.workflow, "contact")
            flow = fresh.get((object, enrollment.record_id))
            if flow is not None:
                flow.enrollments[enrollment.workflow] = enrollment
        for key, flow in fresh.items():
            flow.prev = frozenset(prev.get(flow.record_id, ()))
            self.flows[key] = flow

    def _values(self, points: Sequence[Point]) -> dict[Point, dict[str, object]]:
        """The properties programs read (dates to wait for, the owner) at points."""
        found: dict[Point, dict[str, object]] = {}
        for object in dict.fromkeys(point[0] for point in points):
            columns = self.value_columns.get(object, ())
            record = self.ctx.checked.schema.object(object)
            if not columns or record is None:
                continue
            pairs = [(r, t) for o, r, t in points if o == object]
            texts = self.snap.values_at(object, pairs, columns)
            for (record_id, at), values in texts.items():
                found[(object, record_id, at)] = {
                    name: self._typed(record.properties[name].type.kind, text)
                    for name, text in values.items()
                }
        return found

    def _typed(self, kind: Kind, text: str | None) -> object:
        """A value read as text, as the type programs use."""
        if text is None or not text.strip():
            return None
        if kind is Kind.DATE:
            return dt.date.fromisoformat(text.strip()[:10])
        if kind is Kind.DATETIME:
            return parse_instant(text.strip(), self.ctx.calendar.zone)
        return text


def _event_waits(program: pg.Program) -> list[str]:
    """The labels of a program's `wait until had` instructions."""
    return [
        i.label
        for i in program.instructions
        if isinstance(i.op, pg.Wait) and isinstance(i.op.wait, ast.WaitUntilEvent)
    ]
