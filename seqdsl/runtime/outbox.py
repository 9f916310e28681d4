"""Runtime stage, outbox: the decisions of a run, their ids, order and CSV form.

Every decision a run makes is a :class:`Decision`. Those of an action kind
(:data:`ACTION_KINDS`) go to the outbox, the contract with downstream tools; all of
them, notes included (a skipped action, a deferral by a limit), go to the history.

An action's id is the md5 of its identity: the rule, the rule's version, the record,
the step (a sequence step's name, or a workflow instruction's label) and the
occurrence (which enrollment of the record this is), joined by the unit separator.
The same decision made again, by a rerun or after a crash, therefore has the same
id, and the outbox keeps only one row per id.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import hashlib
import io
from collections.abc import Iterable, Sequence

import attrs

__all__ = [
    "ACTION_COLUMNS",
    "ACTION_KINDS",
    "Action",
    "Decision",
    "action_id",
    "actions_csv",
    "in_due_order",
    "stamp",
]

#: The columns of `actions.csv`, in order: a contract for downstream tools.
ACTION_COLUMNS = (
    "action_id",
    "due_at",
    "record_id",
    "source",
    "kind",
    "step",
    "detail",
    "reason",
)

#: The kinds that are actions (outbox rows); other kinds are history notes only.
ACTION_KINDS = frozenset(
    {
        "enroll",
        "unenroll",
        "refuse",
        "send_email",
        "create_task",
        "set_property",
        "clear_property",
        "add_to_list",
        "remove_from_list",
        "enroll_in_sequence",
        "unenroll_from_sequence",
        "rotate_owner",
    }
)

_SEPARATOR = "\x1f"


def action_id(*identity: str) -> str:
    """The md5 of the identity parts; `md5(concat_ws(chr(31), ...))` in SQL."""
    return hashlib.md5(_SEPARATOR.join(identity).encode()).hexdigest()


@attrs.frozen
class Decision:
    """One decision: an action due at `at`, or a note for the history.

    `order` breaks ties between decisions of one record at one instant: it is the
    order in which the record's rules made them.
    """

    at: dt.datetime
    record_id: str
    source: str
    kind: str
    identity: tuple[str, ...]
    step: str | None = None
    detail: str = ""
    reason: str = ""
    order: int = 0

    @functools.cached_property
    def id(self) -> str:
        return action_id(*self.identity)

    @property
    def is_action(self) -> bool:
        return self.kind in ACTION_KINDS

    def sort_key(self) -> tuple[dt.datetime, str, int]:
        return (self.at, self.record_id, self.order)


@attrs.frozen
class Action:
    """One row of `actions.csv`."""

    action_id: str
    due_at: dt.datetime
    record_id: str
    source: str
    kind: str
    step: str | None
    detail: str
    reason: str

    @classmethod
    def of(cls, decision: Decision) -> Action:
        return cls(
            decision.id,
            decision.at,
            decision.record_id,
            decision.source,
            decision.kind,
            decision.step,
            decision.detail,
            decision.reason,
        )

    def row(self) -> tuple[str, ...]:
        return (
            self.action_id,
            stamp(self.due_at),
            self.record_id,
            self.source,
            self.kind,
            self.step or "",
            self.detail,
            self.reason,
        )


@functools.lru_cache(maxsize=1 << 14)
def stamp(at: dt.datetime) -> str:
    """An instant as `actions.csv` writes it: UTC, whole seconds, `Z`."""
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def in_due_order(decisions: Iterable[Decision]) -> list[Decision]:
    """Due time, then record id, then the order the record's rules decided in."""
    return sorted(decisions, key=Decision.sort_key)


def actions_csv(actions: Sequence[Action]) -> str:
    """The text of `actions.csv`: a header, then one row per action."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(ACTION_COLUMNS)
    writer.writerows(action.row() for action in actions)
    return out.getvalue()
