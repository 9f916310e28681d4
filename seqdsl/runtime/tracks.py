"""Runtime stage, sequence tracks: a contact's enrollments, and what sequences say.

A :class:`Track` is one contact during the sequence phase: its current enrollment
(pending, active or paused), its queued requests, its past enrollments and the
inputs of the period, in the order they are handled. The functions read the settings
of a sequence declaration (limits, send window, follow-up days, exits) and convert
between the state's rows and enrollments.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence

import attrs

from seqdsl import ast
from seqdsl.calendar import DayRule
from seqdsl.runtime import limits
from seqdsl.runtime.actions import sender_text
from seqdsl.runtime.context import day_rule

__all__ = [
    "ACTIVE",
    "ALWAYS",
    "COMPLETION",
    "ENDED",
    "EXIT",
    "EXIT_EVENTS",
    "LIVE",
    "PAUSED",
    "PENDING",
    "QUEUED",
    "REQUEST",
    "STEP",
    "Input",
    "SeqEnrollment",
    "Track",
    "enrollment_of",
    "exit_reasons",
    "follow_up",
    "limit_of",
    "send_window",
    "sender_of_spec",
    "sender_spec",
    "sequence_props",
    "start_of_spec",
    "start_spec",
    "step_action",
]

QUEUED, PENDING, ACTIVE, PAUSED, ENDED = (
    "queued",
    "pending",
    "active",
    "paused",
    "ended",
)
LIVE = frozenset({PENDING, ACTIVE, PAUSED})

#: Event types that end a sequence enrollment, and the exit reason they are.
EXIT_EVENTS: Mapping[str, ast.ExitReason] = {
    "email_reply": ast.ExitReason.REPLIED,
    "meeting_booked": ast.ExitReason.BOOKED_MEETING,
    "email_bounce": ast.ExitReason.BOUNCED,
    "unsubscribe": ast.ExitReason.UNSUBSCRIBED,
}
#: Exit reasons that end every enrollment, declared or not.
ALWAYS = frozenset({ast.ExitReason.BOUNCED, ast.ExitReason.UNSUBSCRIBED})

#: The order in which a contact's inputs at one instant are handled.
EXIT, COMPLETION, STEP, REQUEST = 0, 1, 2, 3


@attrs.define(eq=False)
class SeqEnrollment:
    """One request or enrollment of a contact in a sequence."""

    record_id: str
    sequence: str
    occurrence: int
    status: str
    requested_at: dt.datetime
    enrolled_at: dt.datetime | None = None
    sender: str | None = None
    zone: str | None = None
    source: str | None = None
    start_step: str | None = None
    next_step: str | None = None
    due_at: dt.datetime | None = None
    last_done: str | None = None
    ended_at: dt.datetime | None = None
    reason: str | None = None
    # in-run only: the limit decision for the item at `due_at`
    allowed: bool = False

    def row(self) -> tuple[object, ...]:
        return attrs.astuple(self, recurse=False)[:-1]


@attrs.frozen
class Input:
    """Something that happens to a contact at an instant."""

    at: dt.datetime
    rank: int
    order: int
    kind: str
    payload: object = None

    def key(self) -> tuple[dt.datetime, int, int]:
        return (self.at, self.rank, self.order)


@attrs.define(eq=False)
class Track:
    """One contact during the sequence phase."""

    record_id: str
    current: SeqEnrollment | None = None
    queue: list[SeqEnrollment] = attrs.field(factory=list)
    past: list[SeqEnrollment] = attrs.field(factory=list)
    inputs: list[Input] = attrs.field(factory=list)
    order: int = 0
    blocked: limits.Item | None = None

    def tick(self) -> int:
        self.order += 1
        return self.order

    def occurrences(self, sequence: str) -> int:
        found = [
            e.occurrence for e in (*self.past, *self.live()) if e.sequence == sequence
        ]
        return max(found, default=0)

    def live(self) -> list[SeqEnrollment]:
        return [self.current] if self.current is not None else []


def limit_of(decl: ast.SequenceDecl, kind: str) -> int | None:
    found = [
        i.amount
        for i in decl.items
        if isinstance(i, ast.Limit) and i.kind.value == kind
    ]
    return min(found) if found else None


def send_window(decl: ast.SequenceDecl) -> ast.SendWindow | None:
    return next((i for i in decl.items if isinstance(i, ast.SendWindow)), None)


def follow_up(decl: ast.SequenceDecl) -> DayRule:
    found = next((i for i in decl.items if isinstance(i, ast.FollowUp)), None)
    return day_rule(found.days) if found else DayRule.WEEKDAYS


def exit_reasons(decl: ast.SequenceDecl) -> frozenset[ast.ExitReason]:
    return frozenset(
        reason
        for item in decl.items
        if isinstance(item, ast.AutoUnenroll)
        for reason in item.reasons
    )


def step_action(step: ast.Step, sender: str | None) -> tuple[str, str]:
    if step.kind is ast.StepKind.EMAIL:
        thread = " in thread" if step.in_thread else ""
        return "send_email", f'email "{step.content}"{thread} from {sender}'
    return "create_task", f'{step.kind.value} "{step.content}" for {sender}'


def sender_spec(sender: ast.Sender | None) -> str | None:
    return None if sender is None else sender_text(sender)


def sender_of_spec(spec: str | None) -> ast.Sender | None:
    if spec is None:
        return None
    if spec == "sender owner":
        return ast.Sender(ast.SenderKind.OWNER)
    users = tuple(part for part in spec.split('"')[1::2])
    kind = (
        ast.SenderKind.USER
        if spec.startswith("sender user")
        else ast.SenderKind.ROTATION
    )
    return ast.Sender(kind, users)


def start_spec(start: ast.StartAt | ast.Resume | None) -> str | None:
    if isinstance(start, ast.StartAt):
        return f"step:{start.step}"
    if isinstance(start, ast.Resume):
        return "resume"
    return None


def start_of_spec(spec: str | None) -> ast.StartAt | ast.Resume | None:
    if spec is None:
        return None
    if spec == "resume":
        return ast.Resume()
    return ast.StartAt(spec.removeprefix("step:"))


def enrollment_of(row: Sequence[object]) -> SeqEnrollment:
    """An enrollment from a `seq_enrollments` row (columns in the state's order)."""
    return SeqEnrollment(*row)  # type: ignore[arg-type]


def sequence_props(
    rows: Iterable[Sequence[object]],
) -> list[tuple[object, ...]]:
    """The sequence properties of contacts over time, from `seq_enrollments` rows:
    (record, since, currently_in_sequence, last sequence, enrolled date, ended date)."""
    changes: dict[str, list[tuple[dt.datetime, int, str, str | None]]] = {}
    for row in rows:
        enrollment = enrollment_of(row)
        if enrollment.status == QUEUED:
            continue
        mine = changes.setdefault(enrollment.record_id, [])
        mine.append((enrollment.requested_at, 0, "start", enrollment.sequence))
        if enrollment.enrolled_at is not None:
            mine.append((enrollment.enrolled_at, 1, "enrolled", enrollment.sequence))
        if enrollment.ended_at is not None:
            mine.append((enrollment.ended_at, 2, "end", enrollment.sequence))
    found: list[tuple[object, ...]] = []
    for record_id, items in changes.items():
        current, last, enrolled, ended = False, None, None, None
        for at, _, what, sequence in sorted(items, key=lambda i: (i[0], i[1])):
            if what == "start":
                current, last = True, sequence
            elif what == "enrolled":
                enrolled = at
            else:
                current, ended = False, at
            found.append((record_id, at, current, last, enrolled, ended))
    return found
