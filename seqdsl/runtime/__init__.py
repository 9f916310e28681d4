"""Runtime stage: workflows and sequences over durable state, with an outbox.

The verb is :func:`run`: the data up to an as-of instant, the rules' truths from the
engine, and the previous state give the new state and the actions that became due,
committed together in one transaction (see docs/semantics.md for the exact rules).
:func:`record_history` and :func:`simulate` read and explore that state.
"""

from seqdsl.runtime.context import Progress
from seqdsl.runtime.errors import RunError
from seqdsl.runtime.history import (
    DayCounts,
    HistoryEntry,
    SenderDay,
    Simulation,
    record_history,
    simulate,
)
from seqdsl.runtime.outbox import ACTION_COLUMNS, ACTION_KINDS, Action, actions_csv
from seqdsl.runtime.run import RunResult, RunStats, run, runtime_columns
from seqdsl.runtime.state import StateError

__all__ = [
    "ACTION_COLUMNS",
    "ACTION_KINDS",
    "Action",
    "DayCounts",
    "HistoryEntry",
    "Progress",
    "RunError",
    "RunResult",
    "RunStats",
    "SenderDay",
    "Simulation",
    "StateError",
    "actions_csv",
    "record_history",
    "run",
    "runtime_columns",
    "simulate",
]
