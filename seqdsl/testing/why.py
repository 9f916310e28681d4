"""Test stage, evaluation of records as the data stood at one of a case's runs.

The runtime reads a property at an instant with its history replayed and sees
only the events up to it; coverage and failure explanations must see the same
data. The runtime's :class:`Snapshots` views give it: while they are in place,
the data tables show the data as of the views' clock, and the reference engine
(:class:`Evaluation`) or `seqdsl explain` (:func:`explain_rule`) read them as
usual.

A static list is decided by the members its first run froze; an explanation
reads them from the case's own state file as of the same instant, as `seqdsl
explain` reads the workspace's (:func:`seqdsl.explain.read_frozen_lists`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import duckdb

from seqdsl import plan as p
from seqdsl.checked import CheckedWorkspace
from seqdsl.engine import EngineError, Run
from seqdsl.engine.reference import RecordEvaluator, load_facts
from seqdsl.explain import explain_record, read_frozen_lists
from seqdsl.runtime.snapshot import Snapshots
from seqdsl.runtime.state import StateError

__all__ = ["Evaluation", "data_as_of", "explain_rule"]


class Evaluation:
    """Reference-engine evaluators of the records as the data stood at a run's now.

    The data tables are seen through the runtime's :class:`Snapshots` views, so a
    property reads its value at that time (history replayed) and only events up to
    it count, exactly as the runtime evaluated them.
    """

    def __init__(
        self,
        snapshots: Snapshots,
        plan: p.Plan,
        con: duckdb.DuckDBPyConnection,
        run: Run,
    ) -> None:
        snapshots.evaluate_all(run.now, run.previous_run_at)  # sets the views' clock
        self.plan = plan
        self.con = con
        self.run = run
        self.params = plan.resolve(run.now, run.previous_run_at)

    def records(
        self, object: str, ids: list[str] | None = None
    ) -> dict[str, RecordEvaluator]:
        """Evaluators of the records of `object` with `ids` (all when None)."""
        facts = load_facts(self.plan, self.con, object, self.run, ids)
        return {
            record: RecordEvaluator(self.plan, self.run, self.params, found)
            for record, found in facts.items()
        }


@contextlib.contextmanager
def data_as_of(
    checked: CheckedWorkspace, plan: p.Plan, con: duckdb.DuckDBPyConnection
) -> Iterator[Snapshots]:
    """The loaded data behind views that show it as of an instant."""
    objects = [w.object for w in checked.workflows.values()]
    with Snapshots(con, plan, checked.schema, extra_objects=objects) as snapshots:
        yield snapshots


def explain_rule(
    checked: CheckedWorkspace,
    plan: p.Plan,
    con: duckdb.DuckDBPyConnection,
    *,
    key: str,
    record: str,
    now: dt.datetime,
    previous: dt.datetime | None = None,
    state_path: Path | None = None,
) -> str:
    """`seqdsl explain` of rule `key` for `record`, over the data as of the run
    at `now` (after the run at `previous`), with the static lists the state file
    at `state_path` froze by then."""
    with data_as_of(checked, plan, con) as snapshots:
        snapshots.evaluate_all(now, previous)  # sets the views' clock
        try:
            frozen = None
            if state_path is not None:
                frozen = read_frozen_lists(con, state_path, plan, now)
            explanation = explain_record(
                plan, con, record, key, now, previous_run_at=previous, frozen=frozen
            )
        except (EngineError, StateError) as error:
            return str(error)

    head, *rest = explanation.render().rstrip("\n").splitlines()
    return "\n".join([f"{head}, at the run of {_stamp(now)}", *rest])


def _stamp(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
