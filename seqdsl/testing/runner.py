"""Test stage, runner: each case's records through the real pipeline, then its claims.

Every case gets a fresh temporary folder: its records are written there as CSV
files and loaded by :func:`seqdsl.data.load_data`, the workspace's settings
point there, and the runtime keeps its state in a new file there, so a case
never sees another case's state or the workspace's own. The case's runs are made
in order with :func:`seqdsl.runtime.run`; list claims are checked against the
members after the last run, the others against the actions of all runs.

A failed claim is explained as of the run it is about: the first run at or
after its `at`, else the last run. Static lists are then decided by the members
the case's own state file holds as of that run.

A list claim is about the members after the last run, as `seqdsl run` writes
them to `memberships.csv`: a run's actions (a property set, a record added to a
list) count, so a case with list claims only is run through the runtime too.
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import attrs
import duckdb

from seqdsl import plan as p
from seqdsl.checked import CheckedWorkspace
from seqdsl.compile import calendar_of, compile_workspace
from seqdsl.data import DataError, load_data
from seqdsl.diagnostics import Sources
from seqdsl.runtime import Action, run
from seqdsl.testing.coverage import Coverage
from seqdsl.testing.spec import REASONS, Case, Expectation, SpecError, Verb
from seqdsl.testing.tables import Table
from seqdsl.testing.why import explain_rule

__all__ = ["CaseResult", "Failure", "Outcome", "Suite"]

log = logging.getLogger("seqdsl.testing.runner")

_LISTS = (Verb.IN_LIST, Verb.NOT_IN_LIST)
_STEP_KINDS = ("send_email", "create_task")
_SHOWN_ACTIONS = 8
_STATE = "state.duckdb"


@attrs.frozen
class Failure:
    """A claim that did not hold: what was expected, what happened, and why."""

    expectation: Expectation
    actual: str
    why: str = ""


@attrs.frozen
class CaseResult:
    """The outcome of one case; `error` is set when its data could not be loaded."""

    case: Case
    failures: tuple[Failure, ...] = ()
    error: SpecError | None = None
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return not self.failures and self.error is None


@attrs.frozen
class Outcome:
    """What a case's runs produced: every action, and the members after the last."""

    actions: tuple[Action, ...]
    members: frozenset[tuple[str, str]]


class Suite:
    """The cases of one workspace: its rules compiled once, each case run alone."""

    def __init__(
        self,
        checked: CheckedWorkspace,
        *,
        coverage: bool = False,
        sources: Sources | None = None,
    ) -> None:
        self.checked = checked
        self.plan = compile_workspace(checked)
        self.calendar = calendar_of(checked.settings)
        self.coverage = Coverage(checked, self.plan, sources) if coverage else None

    def run(self, case: Case) -> CaseResult:
        """Run one case in a temporary folder of its own."""
        started = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="seqtest-") as folder:
            root = Path(folder)
            checked = self._workspace(case, root)
            con = duckdb.connect()
            try:
                try:  # every property, so that every cell a test gives is typed
                    load_data(con, checked.settings, checked.schema)
                except DataError as error:
                    return CaseResult(case, error=_data_error(case, error))
                outcome = self._outcome(case, checked, con, root)
                failures = tuple(self._judge(case, outcome, con, root / _STATE))
                if self.coverage is not None:
                    self.coverage.observe(con, case.runs, outcome.actions)
            finally:
                con.close()
        elapsed = time.perf_counter() - started
        log.debug("test %r: %.2f s", case.name, elapsed)
        return CaseResult(case, failures, seconds=elapsed)

    def _workspace(self, case: Case, root: Path) -> CheckedWorkspace:
        """The workspace with its data and state moved into `root`."""
        (root / "data").mkdir()
        tables = list(case.tables)
        if not any(table.key == "contact" for table in tables):
            tables.append(Table("contacts", "contact", "id\n"))
        paths = {}
        for table in tables:
            path = root / "data" / f"{table.key}.csv"
            path.write_text(table.text, encoding="utf-8")
            paths[table.key] = path
        settings = attrs.evolve(
            self.checked.settings,
            root=root,
            data=paths,
            state_path=root / _STATE,
        )
        return attrs.evolve(self.checked, settings=settings)

    # -- running

    def _outcome(
        self,
        case: Case,
        checked: CheckedWorkspace,
        con: duckdb.DuckDBPyConnection,
        root: Path,
    ) -> Outcome:
        """Make the case's runs in order on its own state file."""
        actions: list[Action] = []
        members: tuple[tuple[str, str], ...] = ()
        for when in case.runs:
            result = run(checked, con, when, state_path=root / _STATE)
            actions.extend(result.actions)
            members = result.memberships
        return Outcome(tuple(actions), frozenset(members))

    # -- judging

    def _judge(
        self,
        case: Case,
        outcome: Outcome,
        con: duckdb.DuckDBPyConnection,
        state: Path,
    ) -> Iterator[Failure]:
        for expectation in case.expectations:
            actual = self._check(expectation, outcome)
            if actual is not None:
                why = self._why(expectation, case, con, state)
                yield Failure(expectation, actual, why)

    def _check(self, claim: Expectation, outcome: Outcome) -> str | None:
        """None when the claim holds, else what happened instead."""
        if claim.verb in _LISTS:
            member = (claim.target, claim.record) in outcome.members
            if member == (claim.verb is Verb.IN_LIST):
                return None
            return "a member after the last run" if member else "not a member"

        mine = [a for a in outcome.actions if a.record_id == claim.record]
        fitting = [a for a in mine if self._fits(claim, a)]
        timed = [a for a in fitting if claim.at is None or self._on_time(claim, a)]
        if claim.verb.negative:
            return None if not fitting else "it did:\n" + _listed(fitting)
        if timed:
            return None
        if fitting:
            return "only at other times:\n" + _listed(fitting)
        related = [a for a in mine if claim.target in (a.source, a.step)]
        shown = related or mine
        if not shown:
            return f"no actions at all for `{claim.record}`"
        which = "its actions there" if related else "its actions"
        return f"no matching action; {which}:\n{_listed(shown)}"

    def _fits(self, claim: Expectation, action: Action) -> bool:
        verb = claim.verb
        if verb in (Verb.STEP, Verb.NO_STEP):
            return (
                action.kind in _STEP_KINDS
                and action.step == claim.target
                and claim.sequence in (None, action.source)
            )
        if action.source != claim.target:
            return False
        kind = {
            Verb.ENROLLS_IN: "enroll",
            Verb.NOT_ENROLLS_IN: "enroll",
            Verb.UNENROLLED_FROM: "unenroll",
            Verb.REFUSED: "refuse",
        }[verb]
        if action.kind != kind:
            return False
        if claim.reason is None:
            return True
        return action.reason.startswith(REASONS[verb][claim.reason])

    def _on_time(self, claim: Expectation, action: Action) -> bool:
        assert claim.at is not None
        return claim.at.matches(action.due_at, self.calendar)

    def _why(
        self,
        claim: Expectation,
        case: Case,
        con: duckdb.DuckDBPyConnection,
        state: Path,
    ) -> str:
        """The explanation of the condition behind a failed claim, if there is
        one, as of the run the claim is about and with that run's state."""
        key = _condition_key(claim, self.checked)
        if key is None or key not in self.plan.rules:
            return ""
        index = self._run_about(claim, case)
        previous = case.runs[index - 1] if index else None
        return explain_rule(
            self.checked,
            self.plan,
            con,
            key=key,
            record=claim.record,
            now=case.runs[index],
            previous=previous,
            state_path=state,
        )

    def _run_about(self, claim: Expectation, case: Case) -> int:
        """The index in `case.runs` of the run a claim is about: for a claim with
        `at`, the first run at or after that time (or on or after that day), the
        one that would make the action due; else the last run."""
        if claim.verb in _LISTS or claim.at is None:
            return len(case.runs) - 1
        at = claim.at
        for index, when in enumerate(case.runs):
            if at.day is not None and self.calendar.local_date(when) >= at.day:
                return index
            if at.instant is not None and when >= at.instant:
                return index
        return len(case.runs) - 1


def _condition_key(claim: Expectation, checked: CheckedWorkspace) -> str | None:
    if claim.verb in _LISTS:
        return p.list_key(claim.target)
    if claim.target not in checked.workflows:
        return None
    if claim.verb in (Verb.ENROLLS_IN, Verb.NOT_ENROLLS_IN):
        return p.workflow_key(claim.target, "enroll")
    parts = {"goal": "goal", "suppression": "suppress", "unenroll": "unenroll"}
    if claim.reason in parts:
        return p.workflow_key(claim.target, parts[claim.reason])
    return None


def _listed(actions: Sequence[Action]) -> str:
    """The actions one a line, the first few only."""
    shown = [_action_text(a) for a in actions[:_SHOWN_ACTIONS]]
    more = len(actions) - len(shown)
    return "\n".join(shown) + (f"\nand {more} more" if more > 0 else "")


def _action_text(action: Action) -> str:
    """`kind "source" step "s": detail at T (reason)`, the parts there are."""
    step = f' step "{action.step}"' if action.step else ""
    detail = f": {action.detail}" if action.detail else ""
    stamp = action.due_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    reason = f" ({action.reason})" if action.reason else ""
    return f'{action.kind} "{action.source}"{step}{detail} at {stamp}{reason}'


def _data_error(case: Case, error: DataError) -> SpecError:
    """A loader error about a written CSV file, told in the test file's terms."""
    table = next(
        (t for t in case.tables if error.file and error.file.name == f"{t.key}.csv"),
        None,
    )
    if table is None:
        return SpecError(
            case.path, f'test "{case.name}": {error.message}', line=case.line
        )
    line = case.line
    where = f"`{table.name}`"
    if error.row is not None and 0 < error.row <= len(table.lines):
        line = table.lines[error.row - 1] or line
        where += f" record {error.row}"
    if error.column is not None:
        where += f", `{error.column}`"
    message = f'test "{case.name}": {where}: {error.message}'
    return SpecError(case.path, message, line=line, key=error.column)
