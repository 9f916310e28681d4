"""Runtime stage, actions: what a workflow step decides and what it changes.

:class:`Performer` turns one action of a workflow body into a decision (an outbox
row) and, where the action changes what rules read, into *effects*: a property set or
cleared (an override, seen by later evaluations as a history row at that instant) or
a list membership changed. :class:`Effects` collects them for the state and feeds
them to the evaluation tables; an effect can be undone when the action is skipped.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from typing import TYPE_CHECKING

import attrs

from seqdsl import ast
from seqdsl.literals import LiteralError, convert
from seqdsl.runtime.context import RunContext, SequenceExit, SequenceRequest
from seqdsl.runtime.outbox import Decision, stamp
from seqdsl.schema import Kind, ObjectSchema, Property

if TYPE_CHECKING:
    from seqdsl.runtime.snapshot import Snapshots
    from seqdsl.runtime.workflows import Enrollment, Flow

__all__ = ["Effects", "Outcome", "Performer", "owner_property", "zone_property"]


@attrs.frozen
class Override:
    object_type: str
    record_id: str
    property: str
    value: str | None
    set_at: dt.datetime
    seq: int


@attrs.frozen
class ListChange:
    list: str
    record_id: str
    member: bool
    since: dt.datetime
    seq: int


@attrs.frozen
class Outcome:
    """What one action did: its decision and, if any, the effect it had."""

    decision: Decision
    effect: Override | ListChange | None = None

    @property
    def changed(self) -> bool:
        return self.effect is not None


class Effects:
    """Property overrides and list changes made during the run, in order.

    New effects are written to the evaluation tables by :meth:`flush`, just before
    the next evaluation; :meth:`undo` takes one back, wherever it is.
    """

    def __init__(self, snapshots: Snapshots, first_seq: int = 0) -> None:
        self.snap = snapshots
        self.overrides: list[Override] = []
        self.list_changes: list[ListChange] = []
        self._seq = itertools.count(first_seq + 1)
        self._pending: list[Override | ListChange] = []

    def override(
        self, object: str, record_id: str, name: str, value: str | None, at: dt.datetime
    ) -> Override:
        found = Override(object, record_id, name, value, at, next(self._seq))
        self.overrides.append(found)
        self._pending.append(found)
        return found

    def change_list(
        self, name: str, record_id: str, member: bool, at: dt.datetime
    ) -> ListChange:
        found = ListChange(name, record_id, member, at, next(self._seq))
        self.list_changes.append(found)
        self._pending.append(found)
        return found

    def flush(self) -> None:
        """Write the new effects to `rt_overrides` and `rt_list_changes`."""
        rows = [attrs.astuple(e) for e in self._pending if isinstance(e, Override)]
        self.snap.add_rows("rt_overrides", rows)
        rows = [attrs.astuple(e) for e in self._pending if isinstance(e, ListChange)]
        self.snap.add_rows("rt_list_changes", rows)
        self._pending.clear()

    def undo(self, outcome: Outcome) -> None:
        effect = outcome.effect
        if effect is None:
            return
        if isinstance(effect, Override):
            self.overrides.remove(effect)
        else:
            self.list_changes.remove(effect)
        if effect in self._pending:
            self._pending.remove(effect)
            return
        table = "rt_overrides" if isinstance(effect, Override) else "rt_list_changes"
        self.snap.flush()
        self.snap.con.execute(f"DELETE FROM {table} WHERE seq = ?", [effect.seq])


def owner_property(record: ObjectSchema | None) -> Property | None:
    """The record's owner: its first property of type `owner`."""
    if record is None:
        return None
    return next(
        (p for p in record.properties.values() if p.type.kind is Kind.OWNER), None
    )


def zone_property(record: ObjectSchema | None) -> Property | None:
    """The record's time zone: `hs_timezone`, else its first `timezone` property."""
    if record is None:
        return None
    zones = [p for p in record.properties.values() if p.type.kind is Kind.TIMEZONE]
    preferred = [p for p in zones if p.name == "hs_timezone"]
    return next(iter(preferred or zones), None)


class Performer:
    """Performs workflow actions: a decision each, effects where rules read them."""

    def __init__(
        self,
        ctx: RunContext,
        effects: Effects,
        requests: list[SequenceRequest],
        exits: list[SequenceExit],
    ) -> None:
        self.ctx = ctx
        self.effects = effects
        self.requests = requests
        self.exits = exits
        self._texts: dict[tuple[str, str, ast.Value], str] = {}

    def perform(
        self,
        flow: Flow,
        enrollment: Enrollment,
        action: ast.Action,
        label: str,
        at: dt.datetime,
    ) -> Outcome:
        kind, detail, effect = self._apply(flow, enrollment, action, at)
        identity = (
            enrollment.workflow,
            self.ctx.version(enrollment.workflow),
            flow.record_id,
            label,
            str(enrollment.occurrence),
        )
        decision = Decision(
            at,
            flow.record_id,
            enrollment.workflow,
            kind,
            identity,
            None,
            detail,
            enrollment.note,
            flow.tick(),
        )
        self.ctx.decide(decision)
        if kind == "enroll_in_sequence":
            self._request(flow, action, at, enrollment.workflow, decision.order)
        elif kind == "unenroll_from_sequence":
            assert isinstance(action, ast.UnenrollFromSequence)
            self.exits.append(
                _exit(
                    at,
                    flow.record_id,
                    action.sequence,
                    enrollment.workflow,
                    decision.order,
                )
            )
        return Outcome(decision, effect)

    def _apply(
        self, flow: Flow, enrollment: Enrollment, action: ast.Action, at: dt.datetime
    ) -> tuple[str, str, Override | ListChange | None]:
        if isinstance(action, ast.SetProperty):
            text = self._text(flow.object_type, action.ref.name, action.value)
            found = self.effects.override(
                flow.object_type, flow.record_id, action.ref.name, text, at
            )
            return "set_property", f"{action.ref.name} = {text}", found
        if isinstance(action, ast.ClearProperty):
            found = self.effects.override(
                flow.object_type, flow.record_id, action.ref.name, None, at
            )
            return "clear_property", action.ref.name, found
        if isinstance(action, ast.AddToList | ast.RemoveFromList):
            member = isinstance(action, ast.AddToList)
            change = self.effects.change_list(action.list, flow.record_id, member, at)
            kind = "add_to_list" if member else "remove_from_list"
            return kind, f'list "{action.list}"', change
        if isinstance(action, ast.RotateOwner):
            return self._rotate(flow, enrollment, action, at)
        if isinstance(action, ast.CreateTask):
            return "create_task", self._task(flow, action, at), None
        if isinstance(action, ast.EnrollInSequence):
            return "enroll_in_sequence", _sequence_detail(action), None
        assert isinstance(action, ast.UnenrollFromSequence)
        target = f'sequence "{action.sequence}"' if action.sequence else "any sequence"
        return "unenroll_from_sequence", target, None

    def _rotate(
        self,
        flow: Flow,
        enrollment: Enrollment,
        action: ast.RotateOwner,
        at: dt.datetime,
    ) -> tuple[str, str, Override | None]:
        owner = owner_property(self.ctx.checked.schema.object(flow.object_type))
        seed = f"{enrollment.workflow}\x1f{flow.record_id}\x1f{enrollment.occurrence}"
        index = int(hashlib.md5(seed.encode()).hexdigest()[:8], 16) % len(action.users)
        user = action.users[index]
        if owner is None:
            return "rotate_owner", f"owner = {user}", None
        found = self.effects.override(
            flow.object_type, flow.record_id, owner.name, user, at
        )
        return "rotate_owner", f"{owner.name} = {user}", found

    def _task(self, flow: Flow, action: ast.CreateTask, at: dt.datetime) -> str:
        parts = [f'task "{action.title}"']
        if action.user is not None:
            parts.append(f"for {action.user}")
        elif action.for_owner:
            owner = owner_property(self.ctx.checked.schema.object(flow.object_type))
            value = flow.values.get(owner.name) if owner else None
            parts.append(f"for {value}" if value else "for owner (unknown)")
        if action.due is not None:
            due = self.ctx.calendar.add(at, action.due.amount, action.due.unit.value)
            parts.append(f"due {stamp(due)}")
        return " ".join(parts)

    def _request(
        self, flow: Flow, action: ast.Action, at: dt.datetime, source: str, order: int
    ) -> None:
        assert isinstance(action, ast.EnrollInSequence)
        self.requests.append(
            SequenceRequest(
                at,
                flow.record_id,
                action.sequence,
                action.sender,
                action.start,
                source,
                order,
            )
        )

    def _text(self, object: str, name: str, value: ast.Value) -> str:
        """A set value as the text a history row would hold."""
        key = (object, name, value)
        found = self._texts.get(key)
        if found is None:
            found = self._texts[key] = self._convert(object, name, value)
        return found

    def _convert(self, object: str, name: str, value: ast.Value) -> str:
        record = self.ctx.checked.schema.object(object)
        prop = record.property(name) if record else None
        if prop is None:
            return _literal(value)
        constant = convert(value, prop.type, self.ctx.calendar.zone)
        if isinstance(constant, LiteralError):
            return _literal(value)
        if isinstance(constant, bool):
            return "true" if constant else "false"
        if isinstance(constant, float):
            return str(int(constant)) if constant.is_integer() else repr(constant)
        if isinstance(constant, dt.datetime):
            return stamp(constant)
        if isinstance(constant, dt.date):
            return constant.isoformat()
        return constant


def _exit(
    at: dt.datetime, record_id: str, sequence: str | None, source: str, order: int
) -> SequenceExit:
    return SequenceExit(at, record_id, sequence, source, order)


def _sequence_detail(action: ast.EnrollInSequence) -> str:
    parts = [f'sequence "{action.sequence}"']
    if action.sender is not None:
        parts.append(sender_text(action.sender))
    if isinstance(action.start, ast.StartAt):
        parts.append(f'start at step "{action.start.step}"')
    elif isinstance(action.start, ast.Resume):
        parts.append("resume")
    return " ".join(parts)


def sender_text(sender: ast.Sender) -> str:
    if sender.kind is ast.SenderKind.OWNER:
        return "sender owner"
    if sender.kind is ast.SenderKind.USER:
        return f'sender user "{sender.users[0]}"'
    return "sender rotate among [" + ", ".join(f'"{u}"' for u in sender.users) + "]"


def _literal(value: ast.Value) -> str:
    if isinstance(value, ast.StringValue):
        return value.text
    if isinstance(value, ast.WordValue):
        return value.name
    if isinstance(value, ast.BoolValue):
        return "true" if value.value else "false"
    if isinstance(value, ast.DateValue):
        return value.value.isoformat()
    return value.text
