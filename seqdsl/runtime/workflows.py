"""Runtime stage, workflows: enrollment edges, leaving, and stepping each record.

One record's workflows depend on nothing but that record's data and state, so this
phase is a map over independent records (a partition-parallel step on Spark): each
:class:`Flow` is visited at its *points* in time order — the times of its events and
property history rows since the previous run (checkpoints), the times its waits
end, and the run's now. A visit gets the truth of every rule at that instant from
the engine (:mod:`~seqdsl.runtime.snapshot`, batched over all records visited at
the same instant) and then, in this order:

1. an enrolled record that meets its workflow's `goal`, `suppress when` or
   `unenroll when` leaves;
2. a record that is not enrolled and whose `enroll when` went from false to true
   since its previous point (or, after a first enrollment, whose `reenroll when`
   did so while `enroll when` holds) is checked for suppression, then the goal,
   and enrolled or refused; `enroll list` rules request a sequence enrollment the
   first time a record joins their list;
3. every enrolled record whose next instruction is due runs until it waits, ends
   or changes what the rules read (a property, a list); then the same instant is
   evaluated again for it, up to :data:`~seqdsl.runtime.context.MAX_DEPTH` times.

Workflows are visited in name order. Everything they decide goes to the run's
decisions; sequence enrollments and unenrollments go to the sequence phase as
requests.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping, Sequence

import attrs

from seqdsl import ast
from seqdsl.plan import list_key, workflow_key
from seqdsl.runtime import program as pg
from seqdsl.runtime.actions import Effects, Outcome, Performer
from seqdsl.runtime.context import RunContext, day_rule, window_of
from seqdsl.runtime.outbox import Decision
from seqdsl.runtime.snapshot import EPSILON, Point, Snapshots, point_id
from seqdsl.schema import SEQUENCE_PROPERTIES

__all__ = [
    "Enrollment",
    "Flow",
    "SequenceExit",
    "SequenceRequest",
    "WorkflowPhase",
    "wait_workflow",
]

log = logging.getLogger("seqdsl.runtime.workflows")

ACTIVE, DONE, LEFT = "active", "done", "left"
# what refuses an enrollment, in the order it is checked
_REFUSALS = (
    ("suppress", "suppressed"),
    ("goal", "already meets the goal"),
    ("unenroll", "meets `unenroll when`"),
)
_FAR = dt.datetime.max.replace(tzinfo=dt.UTC)


def wait_workflow(workflow: str, label: str) -> str:
    """The name of the hidden rule that watches a `wait until had` for an event."""
    return f"{workflow}#wait@{label}"


@attrs.frozen
class SequenceRequest:
    """A request to enroll a contact in a sequence, from a workflow or a list rule."""

    at: dt.datetime
    record_id: str
    sequence: str
    sender: ast.Sender | None
    start: ast.StartAt | ast.Resume | None
    source: str
    order: int


@attrs.frozen
class SequenceExit:
    """`unenroll from sequence`: leave `sequence` (any when None) at `at`."""

    at: dt.datetime
    record_id: str
    sequence: str | None
    source: str
    order: int


@attrs.define(eq=False)
class Enrollment:
    """A record's latest enrollment in one workflow (or `enroll list` rule)."""

    workflow: str
    record_id: str
    occurrence: int
    status: str
    enrolled_at: dt.datetime
    pc: str | None = None
    wake_at: dt.datetime | None = None
    waiting: str | None = None
    waited_from: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    reason: str | None = None
    note: str = ""

    @property
    def active(self) -> bool:
        return self.status == ACTIVE


@attrs.define(eq=False)
class Flow:
    """One record during the workflow phase."""

    object_type: str
    record_id: str
    prev: frozenset[str]
    enrollments: dict[str, Enrollment] = attrs.field(factory=dict)
    points: list[dt.datetime] = attrs.field(factory=list)
    values: dict[str, object] = attrs.field(factory=dict)
    order: int = 0
    depth: int = 0
    cascade: int = 0
    at: dt.datetime | None = None
    again: bool = False
    dirty: bool = False
    stopped: bool = False
    keys: frozenset[str] = frozenset()
    check: tuple[Enrollment, Outcome, frozenset[str]] | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.object_type, self.record_id)

    def earliest_wake(self) -> dt.datetime:
        """When the record's first active enrollment wakes (far away if none)."""
        wakes = [
            e.wake_at
            for e in self.enrollments.values()
            if e.active and e.wake_at is not None
        ]
        return min(wakes, default=_FAR)

    def upcoming(self, before: dt.datetime) -> list[dt.datetime]:
        """The instants before `before` this record must be visited at, in order:
        its points, the ends of its waits, and the current instant again when an
        action changed what the rules read."""
        found = {t for t in self.points if t < before}
        found.update(
            e.wake_at
            for e in self.enrollments.values()
            if e.active and e.wake_at is not None and e.wake_at < before
        )
        if self.again and self.at is not None:
            found.add(self.at)
        return sorted(found)

    def tick(self) -> int:
        self.order += 1
        return self.order


class WorkflowPhase:
    """Visits records at their points and decides for every workflow."""

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
        self.programs = programs
        self.value_columns = value_columns
        self.workflows = dict(sorted(ctx.checked.workflows.items()))
        self.list_rules = {e.name: e for e in ctx.checked.list_enrollments}
        self.flows: dict[tuple[str, str], Flow] = {}
        self.requests: list[SequenceRequest] = []
        self.exits: list[SequenceExit] = []
        self.effects = Effects(snapshots, first_seq)
        self.now_tables: Mapping[str, str] = {}
        # which workflows and `enroll list` rules each trigger key starts
        self.triggers: dict[str, list[str]] = {}
        for name in self.workflows:
            for part in ("enroll", "reenroll"):
                self.triggers.setdefault(workflow_key(name, part), []).append(name)
        for rule in self.list_rules.values():
            self.triggers.setdefault(list_key(rule.list), []).append(rule.name)
        # workflows whose enrollment instants rules read (`since enrolled`)
        self.counted = {
            c.window.enrolled_in
            for c in ctx.plan.event_counts.values()
            if c.window.enrolled_in is not None
        }
        self.performer = Performer(ctx, self.effects, self.requests, self.exits)
        self.subjects = tuple(
            dict.fromkeys(
                [w.object for w in self.workflows.values()]
                + (["contact"] if self.list_rules else [])
            )
        )

    # -- the phase

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
        """Visit records at their instants before now, in rounds: each round
        evaluates, per record, every instant that may share one evaluation with its
        first, and visits them in order until an action changes what the rules
        read (the rest waits for the next round)."""
        flows = list(self.flows.values())
        while flows:
            batches: dict[object, list[tuple[Flow, list[dt.datetime]]]] = {}
            busy = []
            for flow in flows:
                todo = flow.upcoming(self.ctx.as_of)
                if todo:
                    busy.append(flow)
                    key = self.snap.batch_key(todo[0])
                    same = [t for t in todo if self.snap.batch_key(t) == key]
                    batches.setdefault(key, []).append((flow, same))
            for items in batches.values():
                self._visit_batch(items)
            flows = busy

    def edge_keys(self) -> list[str]:
        """The rule keys whose previous truth the state keeps, for edges."""
        keys = [
            workflow_key(name, part)
            for name in self.workflows
            for part in ("enroll", "reenroll")
        ]
        keys += [list_key(rule.list) for rule in self.list_rules.values()]
        return [key for key in dict.fromkeys(keys) if key in self.ctx.plan.rules]

    def _visit_batch(self, items: Sequence[tuple[Flow, list[dt.datetime]]]) -> None:
        """Evaluate the rules at every instant of these records in one call, then
        visit each record at its instants while nothing it did changes them."""
        points = [(f.object_type, f.record_id, t) for f, todo in items for t in todo]
        self.effects.flush()
        found, _ = self.snap.evaluate_points(points, self.ctx.first_run)
        values = self._point_values([p for p in points if self._may_act(p, found)])
        for flow, todo in items:
            for at in todo:
                if flow.earliest_wake() < at:
                    break
                point = (flow.object_type, flow.record_id, at)
                flow.values = values.get(point, {})
                flow.dirty = False
                self.visit(flow, at, found[point])
                if flow.again or flow.dirty:
                    break

    def _may_act(self, point: Point, found: Mapping[Point, frozenset[str]]) -> bool:
        """Whether a program may run at the point (so it needs property values):
        the record is enrolled somewhere, or a trigger of it holds."""
        flow = self.flows[(point[0], point[1])]
        if any(e.active for e in flow.enrollments.values()):
            return True
        return not self.triggers.keys().isdisjoint(found[point])

    def _visit_now(self) -> None:
        """Evaluate every record at now; visit those with anything to do."""
        now = self.ctx.as_of
        self.effects.flush()
        tables = self.snap.evaluate_all(now, self._previous(now))
        self.now_tables = tables
        wanted = self._wanted_now(tables)
        self._load(wanted)
        found = {
            (o, i): keys
            for o, i, keys in self.snap.fetch(tables, [i for _, i in wanted])
        }
        values = self._values(wanted)
        for key in wanted:
            flow = self.flows[key]
            flow.values = values.get(key, {})
            self.visit(flow, now, found.get(key, frozenset()))
        again = [f for f in self.flows.values() if f.again]
        while again:
            self._visit_batch([(f, [now]) for f in again])
            again = [f for f in self.flows.values() if f.again]

    def _wanted_now(self, tables: Mapping[str, str]) -> list[tuple[str, str]]:
        """Records to visit at now: an edge key turned on, or already in hand, or
        enrolled somewhere."""
        con = self.snap.con
        parts = []
        for object in self.subjects:
            table = tables.get(object)
            if table is None:
                continue
            for key in self.edge_keys():
                if self.ctx.plan.rules[key].object != object:
                    continue
                parts.append(
                    f'SELECT \'{object}\' AS o, id FROM "{table}" WHERE "{key}" '
                    "AND id NOT IN (SELECT record_id FROM prev_truths "
                    f"WHERE key = {_sql_text(key)})"
                )
        found = set(self.flows)
        if parts:
            found |= {
                (str(o), str(i))
                for o, i in con.execute(" UNION ".join(parts)).fetchall()
            }
        objects = {w: d.object for w, d in self.workflows.items()}
        active = (
            "SELECT workflow, record_id FROM prev_wf_enrollments "
            "WHERE status = 'active'"
        )
        for workflow, record_id in con.execute(active).fetchall():
            if workflow in objects:
                found.add((objects[workflow], str(record_id)))
        return sorted(found)

    def _points_before_now(self) -> list[tuple[str, str, dt.datetime]]:
        """(object, id, instant): checkpoints and wakes strictly between the
        previous run and now."""
        previous = self.ctx.previous
        if previous is None:
            return []
        con = self.snap.con
        found: list[tuple[str, str, dt.datetime]] = []
        window = [previous, self.ctx.as_of]
        types = sorted({c.event for c in self.ctx.plan.event_counts.values()})
        needed = self.ctx.plan.needed_columns()
        for object in self.subjects:
            if types:
                found += con.execute(
                    f"SELECT DISTINCT '{object}', record_id, occurred_at "
                    "FROM rt_data_events WHERE occurred_at > ? AND occurred_at < ? "
                    "AND list_contains(?, type) "
                    f"AND record_id IN (SELECT id FROM rt_data_obj_{object})",
                    [*window, types],
                ).fetchall()
            for other, names in needed.items():
                found += self._history_points(object, other, sorted(names), window)
        if "contact" in self.subjects and set(needed.get("contact", ())) & set(
            SEQUENCE_PROPERTIES
        ):
            found += con.execute(
                "SELECT DISTINCT 'contact', record_id, since FROM rt_sequence_props "
                "WHERE since > ? AND since < ?",
                window,
            ).fetchall()
        for workflow, record_id, wake in con.execute(
            "SELECT workflow, record_id, wake_at FROM prev_wf_enrollments "
            "WHERE status = 'active' AND wake_at < ?",
            [self.ctx.as_of],
        ).fetchall():
            decl = self.workflows.get(str(workflow))
            if decl is not None:
                found.append((decl.object, str(record_id), wake))
        return [(str(o), str(i), _utc(t)) for o, i, t in found]

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
            query = f"SELECT DISTINCT '{object}', record_id, changed_at FROM ({rows})"
        else:
            query = (
                f"SELECT DISTINCT '{object}', l.id, h.changed_at FROM ({rows}) h JOIN ("
                "SELECT from_id AS id, to_id AS other FROM rt_data_associations "
                "WHERE from_type = ? AND to_type = ? UNION ALL "
                "SELECT to_id, from_id FROM rt_data_associations "
                "WHERE to_type = ? AND from_type = ?) l ON l.other = h.record_id"
            )
            params += [object, other, object, other]
        return [
            (str(o), str(i), t)
            for o, i, t in self.snap.con.execute(query, params).fetchall()
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
        objects = {w: d.object for w, d in self.workflows.items()}
        for row in rows:
            enrollment = _enrollment(row)
            object = objects.get(enrollment.workflow, "contact")
            flow = fresh.get((object, enrollment.record_id))
            if flow is not None:
                flow.enrollments[enrollment.workflow] = enrollment
        for key, flow in fresh.items():
            flow.prev = frozenset(prev.get(flow.record_id, ()))
            self.flows[key] = flow

    def _values(
        self, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], dict[str, object]]:
        """The properties programs read (dates to wait for, the owner) of records,
        as of the instant the current views stand at."""
        found: dict[tuple[str, str], dict[str, object]] = {}
        for object in dict.fromkeys(o for o, _ in keys):
            columns = self.value_columns.get(object, ())
            if not columns:
                continue
            names = ", ".join(f'"{c}"' for c in columns)
            rows = self.snap.con.execute(
                f'SELECT id, {names} FROM "obj_{object}" '
                "WHERE id IN (SELECT unnest($ids))",
                {"ids": [i for o, i in keys if o == object]},
            ).fetchall()
            for row in rows:
                found[(object, str(row[0]))] = dict(zip(columns, row[1:], strict=True))
        return found

    def _point_values(self, points: Sequence[Point]) -> dict[Point, dict[str, object]]:
        """The same, for points (the views stand at the points' instants)."""
        ids = {point_id(point): point for point in points}
        found = self._values([(point[0], pid) for pid, point in ids.items()])
        return {ids[pid]: value for (_, pid), value in found.items()}

    # -- visiting

    def visit(self, flow: Flow, at: dt.datetime, keys: frozenset[str]) -> None:
        """Everything the record's workflows do at `at`, given the rules' truth."""
        if flow.at != at:
            flow.at, flow.depth, flow.cascade, flow.stopped = at, 0, 0, False
        flow.depth += 1
        flow.again = False
        while flow.points and flow.points[0] <= at:
            flow.points.pop(0)
        if keys == flow.prev and flow.check is None and flow.earliest_wake() > at:
            flow.keys = keys
            return  # nothing changed and nothing is due: nothing to decide
        if self._reentered(flow, keys):
            flow.again = True
            return
        flow.keys = keys

        for name, enrollment in sorted(flow.enrollments.items()):
            if enrollment.active and name in self.workflows:
                self._leave_if_met(flow, enrollment, at, keys)
        if flow.depth > self.ctx.max_depth and not flow.stopped:
            flow.stopped = True
            self._note(flow, at, "", "cascade_stopped", reason=self._depth_reason())
        if not flow.stopped:
            self._edges(flow, at, keys)

        flow.again = self._run_due(flow, at, keys)
        flow.prev = keys

    def _run_due(self, flow: Flow, at: dt.datetime, keys: frozenset[str]) -> bool:
        """Run every program due at `at`, in workflow name order, until none is
        (a program may enroll the record in another one); True when the rules
        must be evaluated again first."""
        ran = True
        while ran:
            ran = False
            for name in sorted(flow.enrollments):
                enrollment = flow.enrollments[name]
                if not self._due(enrollment, at, keys):
                    continue
                if self._run(flow, enrollment, at, keys):
                    return True
                ran = True
        return False

    def _depth_reason(self) -> str:
        return (
            f"actions re-triggered rules {self.ctx.max_depth} times at one instant; "
            "no more enrollments at this instant"
        )

    def _due(
        self, enrollment: Enrollment, at: dt.datetime, keys: frozenset[str]
    ) -> bool:
        if not enrollment.active or enrollment.workflow not in self.programs:
            return False
        if enrollment.waiting is not None:
            label = enrollment.waiting
            hidden = workflow_key(wait_workflow(enrollment.workflow, label), "enroll")
            if hidden in keys:
                enrollment.note = "the awaited event happened"
                return True
        return enrollment.wake_at is not None and enrollment.wake_at <= at

    # -- leaving and enrolling

    def _leave_if_met(
        self, flow: Flow, enrollment: Enrollment, at: dt.datetime, keys: frozenset[str]
    ) -> None:
        name = enrollment.workflow
        for part, reason in (
            ("goal", "met the goal"),
            ("suppress", "met `suppress when`"),
            ("unenroll", "met `unenroll when`"),
        ):
            if workflow_key(name, part) in keys:
                self._end(flow, enrollment, at, LEFT, reason)
                self._decide(flow, at, name, "unenroll", ("unenroll",), reason=reason)
                return

    def _edges(self, flow: Flow, at: dt.datetime, keys: frozenset[str]) -> None:
        """Enroll where a trigger turned on (only those can have an edge)."""
        turned_on = keys - flow.prev
        if not turned_on:
            return
        names = sorted({w for key in turned_on for w in self.triggers.get(key, ())})
        for name in names:
            decl = self.workflows.get(name)
            if decl is None:
                rule = self.list_rules[name]
                if flow.object_type == "contact":
                    self._list_edge(flow, rule, at, keys)
                continue
            if decl.object != flow.object_type or not self._exists(name, at):
                continue
            current = flow.enrollments.get(name)
            if current is not None and current.active:
                continue
            reason = self._edge_reason(flow, name, current, keys)
            if reason is not None:
                self.enroll(flow, name, at, keys, reason)

    def _exists(self, rule: str, at: dt.datetime) -> bool:
        """A rule seen first in this run starts at this run's now."""
        return at >= self.ctx.first_seen[rule]

    def _edge_reason(
        self,
        flow: Flow,
        name: str,
        current: Enrollment | None,
        keys: frozenset[str],
    ) -> str | None:
        enroll = workflow_key(name, "enroll")
        if enroll not in keys:
            return None
        if current is None:
            if enroll in flow.prev:
                return None
            if self.ctx.is_new(name) and _skips_existing(self.workflows[name]):
                return None
            return "`enroll when` became true"
        again = workflow_key(name, "reenroll")
        if again in keys and again not in flow.prev:
            return "`reenroll when` became true while `enroll when` holds"
        return None

    def enroll(
        self,
        flow: Flow,
        name: str,
        at: dt.datetime,
        keys: frozenset[str],
        reason: str,
    ) -> bool:
        """Check suppression, the goal and `unenroll when`, then enroll; True when
        enrolled."""
        for part, why in _REFUSALS:
            if workflow_key(name, part) in keys:
                stamp = at.isoformat()
                self._decide(flow, at, name, "refuse", ("refuse", stamp), reason=why)
                return False

        current = flow.enrollments.get(name)
        occurrence = 1 if current is None else current.occurrence + 1
        program = self.programs[name]
        enrollment = Enrollment(
            name,
            flow.record_id,
            occurrence,
            ACTIVE,
            at,
            pc=program.instructions[0].label,
            wake_at=at,
        )
        flow.enrollments[name] = enrollment
        self.snap.add_rows("rt_enrolled", [(name, flow.record_id, at, None)])
        flow.dirty = flow.dirty or name in self.counted
        self._decide(flow, at, name, "enroll", ("enroll",), reason=reason)
        return True

    def _list_edge(
        self,
        flow: Flow,
        rule: ast.ListEnrollment,
        at: dt.datetime,
        keys: frozenset[str],
    ) -> None:
        """`enroll list`: request once, when the record first joins the list."""
        key = list_key(rule.list)
        if key not in keys or flow.record_id == "" or rule.name in flow.enrollments:
            return
        if key in flow.prev or not self._exists(rule.name, at):
            return
        flow.enrollments[rule.name] = Enrollment(
            rule.name, flow.record_id, 1, DONE, at, ended_at=at, reason="requested"
        )
        order = flow.tick()
        self.requests.append(
            SequenceRequest(
                at,
                flow.record_id,
                rule.sequence,
                rule.sender,
                rule.start,
                rule.name,
                order,
            )
        )

    def _end(
        self,
        flow: Flow,
        enrollment: Enrollment,
        at: dt.datetime,
        status: str,
        reason: str,
    ) -> None:
        enrollment.status, enrollment.ended_at, enrollment.reason = status, at, reason
        enrollment.wake_at = enrollment.waiting = enrollment.waited_from = None
        self.snap.add_rows(
            "rt_enrolled", [(enrollment.workflow, flow.record_id, None, at)]
        )
        flow.dirty = flow.dirty or enrollment.workflow in self.counted

    # -- running a program

    def _run(
        self, flow: Flow, enrollment: Enrollment, at: dt.datetime, keys: frozenset[str]
    ) -> bool:
        """Step the record's program at `at`; True when the rules must be
        evaluated again at this instant (an action changed what they read)."""
        program = self.programs[enrollment.workflow]
        index = program.at(enrollment.pc or "")
        if index is None:
            reason = "the workflow was edited and its next step is gone"
            self._end(flow, enrollment, at, LEFT, reason)
            self._note(flow, at, enrollment.workflow, "unenroll", reason=reason)
            return False
        enrollment.waiting = enrollment.waited_from = None

        while True:
            instruction = program.instructions[index]
            op = instruction.op
            if isinstance(op, pg.Do):
                opening = self._opening(enrollment.workflow, at)
                if opening > at:
                    self._park(enrollment, instruction.label, opening)
                    return False
                changed = self._act(flow, enrollment, instruction, at)
                index += 1
                if changed:
                    self._park(enrollment, program.instructions[index].label, at)
                    return True
            elif isinstance(op, pg.Wait):
                index += 1
                if self._wait(flow, enrollment, op.wait, instruction.label, at):
                    self._park(enrollment, program.instructions[index].label)
                    return False
            elif isinstance(op, pg.Test):
                index = self._test(enrollment, op, keys)
            elif isinstance(op, pg.Split):
                index = self._split(flow, enrollment, op)
            elif isinstance(op, pg.Jump):
                index = op.target
            else:
                self._end(flow, enrollment, at, DONE, "completed")
                self._note(flow, at, enrollment.workflow, "complete")
                return False

    def _park(
        self, enrollment: Enrollment, label: str, wake: dt.datetime | None = None
    ) -> None:
        enrollment.pc = label
        if wake is not None:
            enrollment.wake_at = wake

    def _opening(self, workflow: str, at: dt.datetime) -> dt.datetime:
        """When an action due at `at` may run, given the workflow's run window."""
        decl = self.workflows[workflow]
        for clause in decl.clauses:
            if isinstance(clause, ast.RunWindow):
                window = window_of(clause.start, clause.end)
                return self.ctx.calendar.next_opening(at, window, day_rule(clause.days))
        return at

    def _act(
        self,
        flow: Flow,
        enrollment: Enrollment,
        instruction: pg.Instruction,
        at: dt.datetime,
    ) -> bool:
        assert isinstance(instruction.op, pg.Do)
        action = instruction.op.action
        if isinstance(action, ast.EnrollInWorkflow):
            return self._enroll_in_workflow(flow, enrollment, action, instruction, at)
        outcome = self.performer.perform(
            flow, enrollment, action, instruction.label, at
        )
        if outcome.changed:
            flow.check = (enrollment, outcome, flow.keys)
        return outcome.changed

    def _reentered(self, flow: Flow, keys: frozenset[str]) -> bool:
        """Undo the last action when it turned its own workflow's trigger on: it
        would make the record enter that workflow again. True when undone."""
        if flow.check is None:
            return False
        enrollment, outcome, before = flow.check
        flow.check = None
        name = enrollment.workflow
        watched = (workflow_key(name, "enroll"), workflow_key(name, "reenroll"))
        if not any(key in keys and key not in before for key in watched):
            return False
        self.effects.undo(outcome)
        self.ctx.decisions.remove(outcome.decision)
        reason = "skipped: it would make the record enter this workflow again"
        at = outcome.decision.at
        self._note(
            flow, at, name, "skip", detail=outcome.decision.detail, reason=reason
        )
        return True

    def _enroll_in_workflow(
        self,
        flow: Flow,
        enrollment: Enrollment,
        action: ast.EnrollInWorkflow,
        instruction: pg.Instruction,
        at: dt.datetime,
    ) -> bool:
        name, target = enrollment.workflow, action.workflow
        detail = f'workflow "{target}"'
        current = flow.enrollments.get(target)
        if target == name:
            reason = "skipped: a workflow cannot enroll a record in itself"
            self._note(flow, at, name, "skip", detail=detail, reason=reason)
        elif flow.stopped or max(flow.depth, flow.cascade) >= self.ctx.max_depth:
            self._note(
                flow, at, name, "skip", detail=detail, reason=self._depth_reason()
            )
        elif current is not None and current.active:
            reason = "already enrolled there"
            self._note(flow, at, name, "skip", detail=detail, reason=reason)
        else:
            reason = f'enrolled by workflow "{name}"'
            flow.cascade += 1
            self._note(flow, at, name, "enroll_in_workflow", detail=detail)
            self.enroll(flow, target, at, flow.keys, reason)
        return False

    def _wait(
        self,
        flow: Flow,
        enrollment: Enrollment,
        wait: ast.Wait,
        label: str,
        at: dt.datetime,
    ) -> bool:
        """Start a wait; True when the record now waits (False: it is over already)."""
        if isinstance(wait, ast.WaitUntilEvent):
            enrollment.waiting, enrollment.waited_from = label, at
            enrollment.wake_at = self._add(at, wait.timeout)
            hidden = wait_workflow(enrollment.workflow, label)
            self.snap.add_rows("rt_enrolled", [(hidden, flow.record_id, at, None)])
            flow.dirty = True
            enrollment.note = f"waited at most {wait.timeout.text()} for `{wait.event}`"
            return True
        until = self._wait_end(flow, wait, at)
        if until is None or until <= at:
            return False
        enrollment.wake_at = until
        enrollment.note = f"after `wait` until {until.isoformat()}"
        return True

    def _wait_end(
        self, flow: Flow, wait: ast.Wait, at: dt.datetime
    ) -> dt.datetime | None:
        calendar = self.ctx.calendar
        if isinstance(wait, ast.WaitFor):
            return self._add(at, wait.duration)
        if isinstance(wait, ast.WaitUntilWeekday):
            return calendar.next_weekday_at(at, wait.weekday, wait.at)
        assert isinstance(wait, ast.WaitUntilDate)
        value = flow.values.get(wait.ref.name)
        if isinstance(value, dt.datetime):
            base = value
        elif isinstance(value, dt.date):
            base = calendar.start_of_day(value)
        else:
            return None
        if wait.offset is not None:
            amount = -wait.offset.amount if wait.before else wait.offset.amount
            base = calendar.add(base, amount, _unit(wait.offset))
        if wait.at is not None:
            base = calendar.at_local_time(calendar.local_date(base), wait.at)
        return base

    def _add(self, at: dt.datetime, duration: ast.Duration) -> dt.datetime:
        return self.ctx.calendar.add(at, duration.amount, _unit(duration))

    def _test(self, enrollment: Enrollment, op: pg.Test, keys: frozenset[str]) -> int:
        for key, target in op.arms:
            if key in keys:
                enrollment.note = (
                    f"branch `{key.rsplit(':', 2)[-2]}` took arm {key[-1]}"
                )
                return target
        enrollment.note = "no branch condition held; took `else`"
        return op.otherwise

    def _split(self, flow: Flow, enrollment: Enrollment, op: pg.Split) -> int:
        point = pg.split_point(enrollment.workflow, flow.record_id)
        bound = 0.0
        for number, (share, target) in enumerate(op.arms, 1):
            bound += share
            if point < bound:
                enrollment.note = f"split: arm {number} ({share:g}%)"
                return target
        return op.arms[-1][1]

    # -- decisions

    def _decide(
        self,
        flow: Flow,
        at: dt.datetime,
        source: str,
        kind: str,
        step: tuple[str, ...],
        *,
        detail: str = "",
        reason: str = "",
    ) -> Decision:
        occurrence = flow.enrollments.get(source)
        number = str(occurrence.occurrence) if occurrence is not None else "0"
        identity = (source, self.ctx.version(source), flow.record_id, *step, number)
        decision = Decision(
            at,
            flow.record_id,
            source,
            kind,
            identity,
            None,
            detail,
            reason,
            flow.tick(),
        )
        self.ctx.decide(decision)
        return decision

    def _note(
        self,
        flow: Flow,
        at: dt.datetime,
        source: str,
        kind: str,
        *,
        detail: str = "",
        reason: str = "",
    ) -> None:
        identity = (
            "note",
            source,
            flow.record_id,
            kind,
            at.isoformat(),
            str(flow.order),
        )
        self.ctx.decide(
            Decision(
                at,
                flow.record_id,
                source,
                kind,
                identity,
                None,
                detail,
                reason,
                flow.tick(),
            )
        )

    def _previous(self, at: dt.datetime) -> dt.datetime | None:
        return None if self.ctx.first_run else at - EPSILON


def _enrollment(row: Sequence[object]) -> Enrollment:
    """An enrollment from a `wf_enrollments` row (columns in the state's order)."""
    (
        workflow,
        record_id,
        occurrence,
        status,
        enrolled_at,
        pc,
        wake,
        waiting,
        waited,
        ended,
        reason,
    ) = row
    return Enrollment(
        str(workflow),
        str(record_id),
        int(occurrence),  # type: ignore[call-overload]
        str(status),
        _utc(enrolled_at),
        None if pc is None else str(pc),
        _utc_or_none(wake),
        None if waiting is None else str(waiting),
        _utc_or_none(waited),
        _utc_or_none(ended),
        None if reason is None else str(reason),
    )


def _utc(value: object) -> dt.datetime:
    assert isinstance(value, dt.datetime)
    return value.astimezone(dt.UTC)


def _utc_or_none(value: object) -> dt.datetime | None:
    return None if value is None else _utc(value)


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _skips_existing(decl: ast.WorkflowDecl) -> bool:
    return any(isinstance(c, ast.Existing) and c.skip for c in decl.clauses)


def _unit(duration: ast.Duration) -> str:
    return duration.unit.value
