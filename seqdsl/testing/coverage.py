"""Test stage, coverage: which conditions and branch arms the tests exercised.

A *condition* is one test in a list's condition, a workflow trigger (`enroll
when`, `goal`, ...) or an `if` arm: a property test, an event or association
test, or an `in list`. It is covered when some test record made it true and some
made it false. It is found in the plan by walking the rule's AST condition and
its compiled expression side by side (the compiler keeps their shape).

A *branch arm* is an arm of `if` (an implicit `else` counts), `branch on` or
`split`. At each run time of a case, every record enrolled in the workflow by
then follows its workflow's body with the branch conditions evaluated at that
time (first match wins; a `split` arm comes from the record's split point), and
the arms on that path count as taken; the conditions of `if` arms count only
where they were evaluated.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence

import attrs
import duckdb

from seqdsl import ast
from seqdsl import plan as p
from seqdsl.checked import CheckedWorkspace
from seqdsl.compile import branching_statements, condition_text
from seqdsl.diagnostics import Sources
from seqdsl.engine import Run
from seqdsl.engine.reference import RecordEvaluator
from seqdsl.runtime import Action
from seqdsl.runtime.program import split_point
from seqdsl.source import Span
from seqdsl.testing.why import Evaluation, data_as_of

__all__ = ["Arm", "Coverage", "CoverageReport", "Site"]

_ENROLLED = "seqtest_enrolled_"
_Branching = ast.If | ast.BranchOn | ast.Split


@attrs.frozen
class Site:
    """One condition: where it is (`owner`), its text, and the plan node for it."""

    owner: str
    text: str
    span: Span
    object: str
    ref: p.AtomRef | p.RuleRef


@attrs.frozen
class Arm:
    """One arm of a branching statement of a workflow."""

    workflow: str
    text: str
    span: Span


@attrs.frozen
class Missed:
    """A condition outcome or an arm no test exercised, with its location."""

    where: str
    text: str


@attrs.frozen
class CoverageReport:
    """Counts of outcomes and arms exercised, and what was missed."""

    outcomes: int
    outcomes_seen: int
    arms: int
    arms_taken: int
    missed_conditions: tuple[Missed, ...]
    missed_arms: tuple[Missed, ...]

    def text(self) -> str:
        lines = [
            f"coverage: {self.outcomes_seen} of {self.outcomes} condition outcomes, "
            f"{self.arms_taken} of {self.arms} branch arms"
        ]
        if self.missed_conditions:
            lines.append("conditions not exercised both ways:")
            lines += [f"  {m.where}  {m.text}" for m in self.missed_conditions]
        if self.missed_arms:
            lines.append("branch arms never taken:")
            lines += [f"  {m.where}  {m.text}" for m in self.missed_arms]
        return "\n".join(lines) + "\n"


class Coverage:
    """Collects condition outcomes and arms over all the cases of a suite."""

    def __init__(
        self,
        checked: CheckedWorkspace,
        plan: p.Plan,
        sources: Sources | None = None,
    ) -> None:
        self.checked = checked
        self.plan = plan
        self.sources = sources or Sources()
        self.sites: list[Site] = []
        self.arm_sites: dict[tuple[str, int, int], list[int]] = {}
        self.arms: dict[tuple[str, int, int], Arm] = {}
        self.numbers: dict[str, dict[int, int]] = {}
        self.seen: dict[int, set[bool]] = {}
        self.taken: set[tuple[str, int, int]] = set()
        self._collect()
        # conditions of `if` arms count only where a record's path evaluates them
        on_path = {i for sites in self.arm_sites.values() for i in sites}
        self.everywhere = [i for i in range(len(self.sites)) if i not in on_path]

    # -- what there is to cover

    def _collect(self) -> None:
        for name, decl in self.checked.lists.items():
            if decl.condition is not None:
                key = p.list_key(name)
                self._sites(f'list "{name}"', decl.object_type, decl.condition, key)
        for name, workflow in self.checked.workflows.items():
            self._triggers(workflow)
            statements = list(branching_statements(workflow.body))
            self.numbers[name] = {id(s): n for n, s in enumerate(statements, 1)}
            self._arms(workflow, workflow.body)

    def _triggers(self, workflow: ast.WorkflowDecl) -> None:
        for kind in ast.TriggerKind:
            triggers = workflow.triggers(kind)
            key = p.workflow_key(workflow.name, kind.name.lower())
            if not triggers or key not in self.plan.rules:
                continue
            expr = self.plan.rules[key].expr
            exprs = (
                expr.items if len(triggers) > 1 and isinstance(expr, p.Or) else (expr,)
            )
            owner = f'workflow "{workflow.name}" {kind.value}'
            for trigger, item in zip(triggers, exprs, strict=False):
                self._add(owner, workflow.object, trigger.condition, item)

    def _sites(
        self, owner: str, object: str, node: ast.Condition, key: str
    ) -> list[int]:
        return self._add(owner, object, node, self.plan.rules[key].expr)

    def _add(
        self, owner: str, object: str, node: ast.Condition, expr: p.Expr
    ) -> list[int]:
        added = []
        for leaf, ref in _leaves(node, expr):
            added.append(len(self.sites))
            self.sites.append(Site(owner, condition_text(leaf), leaf.span, object, ref))
        return added

    def _arms(self, workflow: ast.WorkflowDecl, body: Sequence[ast.Statement]) -> None:
        name = workflow.name
        for statement in body:
            if not isinstance(statement, _Branching):
                continue
            number = self._number(name, statement)
            for index, (text, span, arm_body) in enumerate(_arm_parts(statement)):
                self.arms[(name, number, index)] = Arm(name, text, span)
                self._arms(workflow, arm_body)
            if isinstance(statement, ast.If):
                for index, arm in enumerate(statement.arms):
                    key = p.branch_key(name, number, index + 1)
                    owner = f'workflow "{name}" if (arm {index + 1})'
                    sites = self._sites(owner, workflow.object, arm.condition, key)
                    self.arm_sites[(name, number, index)] = sites

    def _number(self, workflow: str, statement: _Branching) -> int:
        """`if` and `branch on` as the compiler numbers them; splits by offset."""
        return self.numbers[workflow].get(id(statement), -statement.span.start - 1)

    # -- observing the cases

    def observe(
        self,
        con: duckdb.DuckDBPyConnection,
        runs: Sequence[dt.datetime],
        actions: Sequence[Action],
    ) -> None:
        """Evaluate every condition and follow every enrolled record at each run."""
        objects = {site.object for site in self.sites}
        objects |= {w.object for w in self.checked.workflows.values()}
        tables = {w: f"{_ENROLLED}{n}" for n, w in enumerate(self.checked.workflows)}
        with data_as_of(self.checked, self.plan, con) as snapshots:
            for index, now in enumerate(runs):
                enrolled = self._enrolled(con, actions, now)
                previous = runs[index - 1] if index else None
                run = Run(now, previous, tables)
                evaluation = Evaluation(snapshots, self.plan, con, run)
                for object in sorted(objects):
                    for record, evaluator in evaluation.records(object).items():
                        self._record(object, record, evaluator, enrolled)

    def _enrolled(
        self,
        con: duckdb.DuckDBPyConnection,
        actions: Sequence[Action],
        now: dt.datetime,
    ) -> dict[str, set[str]]:
        """Per workflow, the records enrolled by `now`, also as a TEMP table."""
        found: dict[str, set[str]] = {}
        for number, workflow in enumerate(self.checked.workflows):
            rows = [
                (a.record_id, a.due_at)
                for a in actions
                if a.kind == "enroll" and a.source == workflow and a.due_at <= now
            ]
            table = f"{_ENROLLED}{number}"
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {table} "
                "(record_id VARCHAR, enrolled_at TIMESTAMPTZ)"
            )
            if rows:
                con.executemany(f"INSERT INTO {table} VALUES (?, ?)", rows)
            found[workflow] = {record for record, _ in rows}
        return found

    def _record(
        self,
        object: str,
        record: str,
        evaluator: RecordEvaluator,
        enrolled: Mapping[str, set[str]],
    ) -> None:
        for index in self.everywhere:
            if self.sites[index].object == object:
                self._see(index, evaluator)
        for name, workflow in self.checked.workflows.items():
            if workflow.object == object and record in enrolled[name]:
                self._follow(name, workflow.body, evaluator, record)

    def _see(self, index: int, evaluator: RecordEvaluator) -> None:
        ref = self.sites[index].ref
        if isinstance(ref, p.RuleRef):
            truth = evaluator.rule(ref.key)
        else:
            truth = evaluator.atom(ref.id).passed
        self.seen.setdefault(index, set()).add(truth)

    def _follow(
        self,
        workflow: str,
        body: Sequence[ast.Statement],
        evaluator: RecordEvaluator,
        record: str,
    ) -> None:
        """Walk `body` as the record would now, marking the arms it takes."""
        for statement in body:
            if not isinstance(statement, _Branching):
                continue
            number = self._number(workflow, statement)
            index = self._choose(workflow, number, statement, evaluator, record)
            self.taken.add((workflow, number, index))
            self._follow(workflow, _arm_parts(statement)[index][2], evaluator, record)

    def _choose(
        self,
        workflow: str,
        number: int,
        statement: _Branching,
        evaluator: RecordEvaluator,
        record: str,
    ) -> int:
        if isinstance(statement, ast.Split):
            point, bound = split_point(workflow, record), 0.0
            for index, arm in enumerate(statement.arms):
                bound += arm.share
                if point < bound:
                    return index
            return len(statement.arms) - 1
        for index in range(len(statement.arms)):
            for site in self.arm_sites.get((workflow, number, index), ()):
                self._see(site, evaluator)
            if evaluator.rule(p.branch_key(workflow, number, index + 1)):
                return index
        return len(statement.arms)

    # -- the report

    def report(self) -> CoverageReport:
        missed = []
        for index, site in enumerate(self.sites):
            lacking = {True, False} - self.seen.get(index, set())
            if lacking:
                never = " and ".join(
                    sorted(("true" if v else "false") for v in lacking)
                )
                text = f"{site.owner}: `{site.text}` never {never}"
                missed.append(Missed(self._where(site.span), text))
        arms = [
            Missed(self._where(arm.span), f'workflow "{arm.workflow}": {arm.text}')
            for key, arm in self.arms.items()
            if key not in self.taken
        ]
        seen = sum(len(self.seen.get(i, ())) for i in range(len(self.sites)))
        return CoverageReport(
            2 * len(self.sites),
            seen,
            len(self.arms),
            len(self.arms) - len(arms),
            tuple(missed),
            tuple(arms),
        )

    def _where(self, span: Span) -> str:
        found = self.sources.location(span)
        return span.path if found is None else f"{span.path}:{found[0]}:{found[1]}"


def _leaves(
    node: ast.Condition, expr: p.Expr
) -> Iterator[tuple[ast.Condition, p.AtomRef | p.RuleRef]]:
    """The tests of an AST condition paired with their atoms or list rules."""
    if isinstance(node, ast.And | ast.Or) and isinstance(expr, p.And | p.Or):
        for item, part in zip(node.items, expr.items, strict=False):
            yield from _leaves(item, part)
    elif isinstance(node, ast.Not) and isinstance(expr, p.Not):
        yield from _leaves(node.item, expr.item)
    elif isinstance(expr, p.AtomRef | p.RuleRef):
        yield node, expr


def _arm_parts(
    statement: _Branching,
) -> list[tuple[str, Span, tuple[ast.Statement, ...]]]:
    """Each arm's description, span and body; `if` and `branch on` end with else."""
    if isinstance(statement, ast.Split):
        return [
            (f"split arm {n} ({arm.percent})", arm.span, arm.body)
            for n, arm in enumerate(statement.arms, 1)
        ]
    parts: list[tuple[str, Span, tuple[ast.Statement, ...]]] = []
    if isinstance(statement, ast.If):
        for n, arm in enumerate(statement.arms, 1):
            text = f"if arm {n} (`{condition_text(arm.condition)}`)"
            parts.append((text, arm.span, arm.body))
    else:
        field = statement.ref.text()
        for n, value_arm in enumerate(statement.arms, 1):
            parts.append((f"branch on {field} arm {n}", value_arm.span, value_arm.body))
    kind = (
        "if" if isinstance(statement, ast.If) else f"branch on {statement.ref.text()}"
    )
    if statement.otherwise is None:
        parts.append((f"{kind}: no arm held (no else)", statement.span, ()))
    else:
        parts.append((f"{kind}: else", statement.span, statement.otherwise))
    return parts
