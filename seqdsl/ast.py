"""The syntax tree: what the parser produces and later stages read.

Every node is a frozen attrs class. Nodes carry a :class:`~seqdsl.source.Span`
that takes no part in equality, so a file and its formatted copy compare equal when
they mean the same. :func:`dump` prints any node as an indented tree for debugging
and snapshots.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterator
from typing import Any, TypeAlias

import attrs

from seqdsl.source import NO_SPAN, Span


def _span() -> Any:
    return attrs.field(default=NO_SPAN, eq=False, repr=False, kw_only=True)


# ---------------------------------------------------------------- values


@attrs.frozen
class StringValue:
    text: str
    span: Span = _span()


@attrs.frozen
class NumberValue:
    """A number as written; `value` is the parsed float."""

    text: str
    span: Span = _span()

    @property
    def value(self) -> float:
        return float(self.text)


@attrs.frozen
class BoolValue:
    value: bool
    span: Span = _span()


@attrs.frozen
class WordValue:
    """A bare word: an enum or set option, or an owner id."""

    name: str
    span: Span = _span()


@attrs.frozen
class DateValue:
    value: dt.date
    span: Span = _span()


@attrs.frozen
class DateTimeValue:
    """A date and time as written; a missing offset means the workspace time zone."""

    text: str
    span: Span = _span()


Value: TypeAlias = (
    StringValue | NumberValue | BoolValue | WordValue | DateValue | DateTimeValue
)


class Unit(enum.Enum):
    MINUTES = "minutes"
    HOURS = "hours"
    DAYS = "days"
    WEEKS = "weeks"
    BUSINESS_DAYS = "business days"


@attrs.frozen
class Duration:
    amount: int
    unit: Unit
    span: Span = _span()

    def text(self) -> str:
        word = self.unit.value
        return f"{self.amount} {word[:-1] if self.amount == 1 else word}"


# ---------------------------------------------------------------- conditions


@attrs.frozen
class Ref:
    """A property of the record (`name`) or of its primary associated `object`."""

    name: str
    object: str | None = None
    span: Span = _span()

    def text(self) -> str:
        return f"{self.object}.{self.name}" if self.object else self.name


class Op(enum.Enum):
    """Property test operators; the value is the canonical spelling."""

    IS = "is"
    IS_NOT = "is not"
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    IS_ANY_OF = "is any of"
    IS_NONE_OF = "is none of"
    CONTAINS = "contains"
    NOT_CONTAINS = "does not contain"
    STARTS_WITH = "starts with"
    NOT_STARTS_WITH = "does not start with"
    ENDS_WITH = "ends with"
    NOT_ENDS_WITH = "does not end with"
    CONTAINS_ANY = "contains any of"
    CONTAINS_ALL = "contains all of"
    CONTAINS_NONE = "contains none of"
    IS_EXACTLY = "is exactly"
    IS_KNOWN = "is known"
    IS_UNKNOWN = "is unknown"
    BETWEEN = "is between"
    NOT_BETWEEN = "is not between"
    BEFORE = "is before"
    AFTER = "is after"
    ON = "is on"
    IN_LAST = "in last"
    IN_NEXT = "in next"
    MORE_THAN_AGO = "is more than"
    MORE_THAN_AHEAD = "is more than ahead"
    EVER_BEEN = "has ever been"
    NEVER_BEEN = "has never been"
    UPDATED_IN_LAST = "updated in last"
    CHANGED = "changed"
    CHANGED_TO = "changed to"
    CHANGED_FROM_TO = "changed from"


#: Operators whose arguments are a list of values.
LIST_OPS = frozenset(
    {
        Op.IS_ANY_OF,
        Op.IS_NONE_OF,
        Op.CONTAINS_ANY,
        Op.CONTAINS_ALL,
        Op.CONTAINS_NONE,
        Op.IS_EXACTLY,
    }
)
#: Operators whose single argument is a duration.
DURATION_OPS = frozenset(
    {Op.IN_LAST, Op.IN_NEXT, Op.MORE_THAN_AGO, Op.MORE_THAN_AHEAD, Op.UPDATED_IN_LAST}
)
#: Operators that compare with a transition since the last evaluation.
CHANGE_OPS = frozenset({Op.CHANGED, Op.CHANGED_TO, Op.CHANGED_FROM_TO})


@attrs.frozen
class PropertyTest:
    ref: Ref
    op: Op
    values: tuple[Value, ...] = ()
    duration: Duration | None = None
    span: Span = _span()


@attrs.frozen
class InList:
    name: str
    span: Span = _span()


class CountKind(enum.Enum):
    AT_LEAST = "at least"
    AT_MOST = "at most"
    EXACTLY = "exactly"


@attrs.frozen
class Count:
    kind: CountKind
    times: int
    span: Span = _span()


@attrs.frozen
class LastWindow:
    duration: Duration
    span: Span = _span()


@attrs.frozen
class SinceEnrolled:
    span: Span = _span()


Window: TypeAlias = LastWindow | SinceEnrolled


@attrs.frozen
class Had:
    """`had [no] EVENT [count] [where ...] [window]`."""

    event: str
    negated: bool = False
    count: Count | None = None
    where: Condition | None = None
    window: Window | None = None
    span: Span = _span()


class Quantifier(enum.Enum):
    ANY = "any"
    NO = "no"
    ALL = "all"
    AT_LEAST = "at least"


@attrs.frozen
class Quantified:
    """`any deal where ...`, `no ...`, `all ...`, `at least N ...`."""

    quantifier: Quantifier
    object: str
    where: Condition
    times: int = 1
    span: Span = _span()


@attrs.frozen
class And:
    items: tuple[Condition, ...]
    span: Span = _span()


@attrs.frozen
class Or:
    items: tuple[Condition, ...]
    span: Span = _span()


@attrs.frozen
class Not:
    item: Condition
    span: Span = _span()


Condition: TypeAlias = PropertyTest | InList | Had | Quantified | And | Or | Not


# ---------------------------------------------------------------- schema


@attrs.frozen
class OptionDecl:
    value: str
    label: str | None = None
    span: Span = _span()


@attrs.frozen
class TypeExpr:
    """`string`, `enum [..] ordered`, `set [..]`, ...; `kind` is the keyword."""

    kind: str
    options: tuple[OptionDecl, ...] = ()
    ordered: bool = False
    span: Span = _span()


@attrs.frozen
class PropertyDecl:
    name: str
    type: TypeExpr
    label: str | None = None
    deprecated: bool = False
    span: Span = _span()


@attrs.frozen
class ObjectDecl:
    name: str
    properties: tuple[PropertyDecl, ...]
    span: Span = _span()
    name_span: Span = _span()


@attrs.frozen
class EventDecl:
    name: str
    fields: tuple[PropertyDecl, ...]
    span: Span = _span()
    name_span: Span = _span()


# ---------------------------------------------------------------- lists


class ListKind(enum.Enum):
    ACTIVE = "active"
    STATIC = "static"
    MANUAL = "manual"


@attrs.frozen
class ListDecl:
    name: str
    kind: ListKind
    object: str | None = None
    condition: Condition | None = None
    span: Span = _span()
    name_span: Span = _span()

    @property
    def object_type(self) -> str:
        return self.object or "contact"


# ---------------------------------------------------------------- actions and flow


class SenderKind(enum.Enum):
    OWNER = "owner"
    USER = "user"
    ROTATION = "rotate among"


@attrs.frozen
class Sender:
    kind: SenderKind
    users: tuple[str, ...] = ()
    span: Span = _span()


@attrs.frozen
class StartAt:
    step: str
    span: Span = _span()


@attrs.frozen
class Resume:
    span: Span = _span()


@attrs.frozen
class EnrollInSequence:
    sequence: str
    sender: Sender | None = None
    start: StartAt | Resume | None = None
    span: Span = _span()


@attrs.frozen
class UnenrollFromSequence:
    sequence: str | None = None
    span: Span = _span()


@attrs.frozen
class EnrollInWorkflow:
    workflow: str
    span: Span = _span()


@attrs.frozen
class SetProperty:
    ref: Ref
    value: Value
    span: Span = _span()


@attrs.frozen
class ClearProperty:
    ref: Ref
    span: Span = _span()


@attrs.frozen
class AddToList:
    list: str
    span: Span = _span()


@attrs.frozen
class RemoveFromList:
    list: str
    span: Span = _span()


@attrs.frozen
class CreateTask:
    """`create task "title" [for owner | for user "id"] [due in DURATION]`."""

    title: str
    user: str | None = None
    for_owner: bool = False
    due: Duration | None = None
    span: Span = _span()


@attrs.frozen
class RotateOwner:
    users: tuple[str, ...]
    span: Span = _span()


@attrs.frozen
class WaitFor:
    duration: Duration
    span: Span = _span()


@attrs.frozen
class WaitUntilDate:
    """`wait until PROPERTY [minus|plus DURATION] [at HH:MM]`."""

    ref: Ref
    offset: Duration | None = None
    before: bool = False
    at: dt.time | None = None
    span: Span = _span()


@attrs.frozen
class WaitUntilWeekday:
    weekday: int
    at: dt.time
    span: Span = _span()


@attrs.frozen
class WaitUntilEvent:
    event: str
    where: Condition | None
    timeout: Duration
    span: Span = _span()


@attrs.frozen
class IfArm:
    condition: Condition
    body: tuple[Statement, ...]
    span: Span = _span()


@attrs.frozen
class If:
    arms: tuple[IfArm, ...]
    otherwise: tuple[Statement, ...] | None = None
    span: Span = _span()


@attrs.frozen
class BranchArm:
    values: tuple[Value, ...]
    body: tuple[Statement, ...]
    span: Span = _span()


@attrs.frozen
class BranchOn:
    ref: Ref
    arms: tuple[BranchArm, ...]
    otherwise: tuple[Statement, ...] | None = None
    span: Span = _span()


@attrs.frozen
class SplitArm:
    percent: str
    body: tuple[Statement, ...]
    span: Span = _span()

    @property
    def share(self) -> float:
        return float(self.percent.rstrip("%"))


@attrs.frozen
class Split:
    arms: tuple[SplitArm, ...]
    span: Span = _span()


Action: TypeAlias = (
    EnrollInSequence
    | UnenrollFromSequence
    | EnrollInWorkflow
    | SetProperty
    | ClearProperty
    | AddToList
    | RemoveFromList
    | CreateTask
    | RotateOwner
)
Wait: TypeAlias = WaitFor | WaitUntilDate | WaitUntilWeekday | WaitUntilEvent
Statement: TypeAlias = Action | Wait | If | BranchOn | Split


# ---------------------------------------------------------------- workflows


class TriggerKind(enum.Enum):
    ENROLL = "enroll when"
    REENROLL = "reenroll when"
    GOAL = "goal"
    SUPPRESS = "suppress when"
    UNENROLL = "unenroll when"


@attrs.frozen
class Trigger:
    kind: TriggerKind
    condition: Condition
    span: Span = _span()


@attrs.frozen
class Existing:
    skip: bool
    span: Span = _span()


class DayRule(enum.Enum):
    EVERY_DAY = "every day"
    WEEKDAYS = "weekdays"
    BUSINESS_DAYS = "business days"


@attrs.frozen
class RunWindow:
    days: DayRule
    start: dt.time
    end: dt.time
    span: Span = _span()


Clause: TypeAlias = Trigger | Existing | RunWindow


@attrs.frozen
class WorkflowDecl:
    name: str
    object: str
    clauses: tuple[Clause, ...]
    body: tuple[Statement, ...]
    span: Span = _span()
    name_span: Span = _span()

    def triggers(self, kind: TriggerKind) -> tuple[Trigger, ...]:
        return tuple(
            c for c in self.clauses if isinstance(c, Trigger) and c.kind is kind
        )


# ---------------------------------------------------------------- sequences


@attrs.frozen
class SendWindow:
    start: dt.time
    end: dt.time
    contact_zone: bool = True
    span: Span = _span()


@attrs.frozen
class FollowUp:
    days: DayRule
    span: Span = _span()


class LimitKind(enum.Enum):
    ENROLLMENTS = "enrollments"
    EMAILS = "emails"


@attrs.frozen
class Limit:
    amount: int
    kind: LimitKind
    span: Span = _span()


class ExitReason(enum.Enum):
    REPLIED = "replied"
    BOOKED_MEETING = "booked meeting"
    BOUNCED = "bounced"
    UNSUBSCRIBED = "unsubscribed"
    COMPANY_REPLIED = "company replied"


@attrs.frozen
class AutoUnenroll:
    reasons: tuple[ExitReason, ...]
    span: Span = _span()


@attrs.frozen
class QueueIfEnrolled:
    span: Span = _span()


class StepKind(enum.Enum):
    EMAIL = "email"
    CALL = "call"
    TASK = "task"


@attrs.frozen
class Step:
    name: str
    kind: StepKind
    content: str
    delay: Duration | None = None
    in_thread: bool = False
    until_completed: bool = False
    span: Span = _span()
    name_span: Span = _span()


SequenceItem: TypeAlias = (
    Sender | SendWindow | FollowUp | Limit | AutoUnenroll | QueueIfEnrolled | Step
)


@attrs.frozen
class SequenceDecl:
    name: str
    items: tuple[SequenceItem, ...]
    span: Span = _span()
    name_span: Span = _span()

    @property
    def steps(self) -> tuple[Step, ...]:
        return tuple(item for item in self.items if isinstance(item, Step))


@attrs.frozen
class ListEnrollment:
    """`enroll list "L" in sequence "S" ...`: a standing bulk enrollment."""

    list: str
    sequence: str
    sender: Sender | None = None
    start: StartAt | Resume | None = None
    span: Span = _span()

    @property
    def name(self) -> str:
        return f"{self.list} -> {self.sequence}"


Declaration: TypeAlias = (
    ObjectDecl | EventDecl | ListDecl | WorkflowDecl | SequenceDecl | ListEnrollment
)


@attrs.frozen
class Module:
    """One parsed `.seq` file."""

    path: str
    declarations: tuple[Declaration, ...]
    span: Span = _span()


# ---------------------------------------------------------------- walking and dumping


def children(node: object) -> Iterator[object]:
    """The child nodes of an AST node, in field order."""
    if not attrs.has(type(node)):
        return
    for field in attrs.fields(type(node)):  # type: ignore[arg-type]
        if not field.eq:
            continue
        value = getattr(node, field.name)
        items = value if isinstance(value, tuple) else (value,)
        for item in items:
            if attrs.has(type(item)):
                yield item


def walk(node: object) -> Iterator[object]:
    """Every node below and including `node`, depth first, in source order."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(list(children(current))))


def dump(node: object, indent: str = "") -> str:
    """An indented, span-free rendering of a node, stable enough for snapshots."""
    lines: list[str] = []
    _dump_into(lines, node, indent)
    return "\n".join(lines)


def _dump_into(lines: list[str], node: object, indent: str) -> None:
    scalars: list[str] = []
    nested: list[tuple[str, tuple[object, ...]]] = []
    for field in attrs.fields(type(node)):  # type: ignore[arg-type]
        if not field.eq:
            continue
        value = getattr(node, field.name)
        if attrs.has(type(value)):
            nested.append((field.name, (value,)))
        elif isinstance(value, tuple) and any(attrs.has(type(v)) for v in value):
            nested.append((field.name, value))
        elif value is not None and value != () and value is not False:
            scalars.append(f"{field.name}={_scalar(value)}")
    lines.append(f"{indent}{type(node).__name__}({', '.join(scalars)})")
    for name, items in nested:
        lines.append(f"{indent}  .{name}:")
        for child in items:
            _dump_into(lines, child, indent + "    ")


def _scalar(value: object) -> str:
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, tuple):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    return str(value)
