"""Runtime stage, workflows: what one record's workflows decide at one instant.

One record's workflows depend on nothing but that record's data and state, so the
workflow phase is a map over independent records; :mod:`~seqdsl.runtime.replay`
schedules the visits and gets the rules' truths. At each visit of a :class:`Flow`,
the :class:`Decider`, in this order:

1. makes an enrolled record that meets its workflow's `goal`, `suppress when` or
   `unenroll when` leave;
2. enrolls a record whose `enroll when` went from false to true since its previous
   visit (or, after a first enrollment, whose `reenroll when` did so while `enroll
   when` holds), unless it is suppressed, meets the goal or meets `unenroll when`
   (then it is refused); `enroll list` rules request a sequence enrollment the
   first time a record joins their list;
3. runs every program whose next instruction is due, until it waits, ends or
   changes what the rules read (a property, a list); the replay then evaluates the
   same instant again for the record, up to
   :data:`~seqdsl.runtime.context.MAX_DEPTH` times.

Workflows are visited in name order. Everything they decide goes to the run's
decisions; sequence enrollments and unenrollments go to the sequence phase as
requests.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence

import attrs

from seqdsl import ast
from seqdsl.plan import list_key, workflow_key
from seqdsl.runtime import program as pg
from seqdsl.runtime.actions import Effects, Outcome, Performer
from seqdsl.runtime.context import (
    RunContext,
    SequenceExit,
    SequenceRequest,
    day_rule,
    window_of,
)
from seqdsl.runtime.outbox import Decision
from seqdsl.runtime.snapshot import EPSILON, Snapshots

__all__ = [
    "Decider",
    "Enrollment",
    "Flow",
    "SequenceExit",
    "SequenceRequest",
    "enrollment_of",
    "steady_workflow",
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


def steady_workflow(workflow: str) -> str:
    """The name of the hidden twin whose triggers read no `changed` test."""
    return f"{workflow}#steady"


def wait_workflow(workflow: str, label: str) -> str:
    """The name of the hidden rule that watches a `wait until had` for an event."""
    return f"{workflow}#wait@{label}"


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


class Decider:
    """Decides for one record at one instant: leaving, enrolling, stepping."""

    def __init__(
        self,
        ctx: RunContext,
        snapshots: Snapshots,
        programs: Mapping[str, pg.Program],
        first_seq: int = 0,
    ) -> None:
        self.ctx = ctx
        self.snap = snapshots
        self.programs = programs
        self.workflows = dict(sorted(ctx.checked.workflows.items()))
        self.list_rules = {e.name: e for e in ctx.checked.list_enrollments}
        self.requests: list[SequenceRequest] = []
        self.exits: list[SequenceExit] = []
        self.effects = Effects(snapshots, first_seq)
        self.performer = Performer(ctx, self.effects, self.requests, self.exits)
        # which workflows and `enroll list` rules each trigger key starts
        self.triggers: dict[str, list[str]] = {}
        for name in self.workflows:
            for part in ("enroll", "reenroll"):
                self.triggers.setdefault(workflow_key(name, part), []).append(name)
        for rule in self.list_rules.values():
            self.triggers.setdefault(list_key(rule.list), []).append(rule.name)
        # trigger keys that read `changed`, and the keys of their steady twins
        self.steady = {
            workflow_key(name, part): workflow_key(steady_workflow(name), part)
            for name in self.workflows
            for part in ("enroll", "reenroll")
            if workflow_key(steady_workflow(name), part) in ctx.plan.rules
        }
        # workflows whose enrollment instants rules read (`since enrolled`)
        self.counted = {
            c.window.enrolled_in
            for c in ctx.plan.event_counts.values()
            if c.window.enrolled_in is not None
        }

    # -- visiting

    def visit(self, flow: Flow, at: dt.datetime, keys: frozenset[str]) -> None:
        """Everything the record's workflows do at `at`, given the rules' truth."""
        if flow.at != at:
            flow.at, flow.depth, flow.cascade, flow.stopped = at, 0, 0, False
        flow.depth += 1
        flow.again = False
        while flow.points and flow.points[0] <= at:
            flow.points.pop(0)
        if flow.check is None and flow.earliest_wake() > at and keys == flow.prev:
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
        flow.prev = self.settled(keys)

    def settled(self, keys: frozenset[str]) -> frozenset[str]:
        """The truths a record keeps until its next point: a trigger that reads
        `changed` keeps its steady twin's truth (a change lasts an instant)."""
        if not self.steady:
            return keys
        kept = {k for k in keys if k not in self.steady}
        kept.update(k for k, twin in self.steady.items() if twin in keys)
        return frozenset(kept)

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

    def previous(self, at: dt.datetime) -> dt.datetime | None:
        """The lower bound of `changed` for an evaluation at `at`."""
        return None if self.ctx.first_run else at - EPSILON


def enrollment_of(row: Sequence[object]) -> Enrollment:
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


def _skips_existing(decl: ast.WorkflowDecl) -> bool:
    return any(isinstance(c, ast.Existing) and c.skip for c in decl.clauses)


def _unit(duration: ast.Duration) -> str:
    return duration.unit.value
