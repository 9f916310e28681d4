"""Runtime stage, shared context: what every part of one run reads and adds to.

A :class:`RunContext` holds the run's instant, the previous run's, the rules and
their versions, the calendar, and the decisions made so far. The phases
(:mod:`~seqdsl.runtime.workflows`, :mod:`~seqdsl.runtime.sequences`) read it and
append to its decisions.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from typing import Protocol

import attrs

from seqdsl import ast
from seqdsl.calendar import Calendar, DayRule, TimeWindow
from seqdsl.checked import CheckedWorkspace
from seqdsl.plan import Plan
from seqdsl.runtime.outbox import Decision

__all__ = [
    "MAX_DEPTH",
    "Progress",
    "RunContext",
    "SequenceExit",
    "SequenceRequest",
    "day_rule",
    "no_progress",
    "rule_version",
    "window_of",
]

#: How many times one record may be re-evaluated at one instant, i.e. how deep
#: actions may trigger other workflows before the cascade is stopped.
MAX_DEPTH = 8


class Progress(Protocol):
    """Told how far a long verb has got: its current stage in a few words, and
    `done` of `total` units of it (`total` None when not known in advance)."""

    def __call__(self, stage: str, done: int, total: int | None, /) -> None: ...


def no_progress(stage: str, done: int, total: int | None) -> None:
    """The progress of a caller that does not ask for it."""


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


def rule_version(declaration: object) -> str:
    """A short digest of a declaration's syntax tree (spans excluded)."""
    return hashlib.md5(ast.dump(declaration).encode()).hexdigest()[:12]


def day_rule(rule: ast.DayRule) -> DayRule:
    return DayRule(rule.value)


def window_of(start: dt.time, end: dt.time) -> TimeWindow:
    return TimeWindow(start, end)


@attrs.define
class RunContext:
    """One run: its instants, rules, calendar and the decisions made so far."""

    checked: CheckedWorkspace
    plan: Plan
    calendar: Calendar
    as_of: dt.datetime
    previous: dt.datetime | None
    versions: Mapping[str, str]
    first_seen: Mapping[str, dt.datetime]
    decisions: list[Decision] = attrs.field(factory=list)
    max_depth: int = MAX_DEPTH
    progress: Progress = no_progress

    @property
    def first_run(self) -> bool:
        return self.previous is None

    def is_new(self, rule: str) -> bool:
        """Whether `rule` is seen for the first time in this run."""
        return self.first_seen[rule] >= self.as_of

    def decide(self, decision: Decision) -> None:
        self.decisions.append(decision)

    def version(self, rule: str) -> str:
        return self.versions[rule]
