"""Lint stage, who uses what: enrollments, references and workflow actions.

Rules about the workspace as a whole (unused declarations, competing sequences,
enrollment loops, audiences without email) share these indexes, built once from
the checked workspace.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeGuard

import attrs

from seqdsl import ast
from seqdsl.lint.context import LintContext, blocks
from seqdsl.lint.logic import TRUE, AllOf, AnyOf, Formula, negate
from seqdsl.lint.lower import Reader, Scope
from seqdsl.source import Span


@attrs.frozen
class Enroller:
    """Something that puts contacts in a sequence, and who it can put there.

    `audience` holds for every record the enrollment can reach: for a workflow,
    its `enroll when`, not its suppression or goal, and the branches on the way to
    the action; for `enroll list`, the list's membership.
    """

    source: ast.WorkflowDecl | ast.ListEnrollment
    sequence: str
    span: Span
    audience: Formula = attrs.field(eq=False)

    @property
    def label(self) -> str:
        if isinstance(self.source, ast.WorkflowDecl):
            return f'workflow "{self.source.name}"'
        return f'`enroll list "{self.source.list}"`'


def enrollers(ctx: LintContext) -> list[Enroller]:
    """Every enrollment in a sequence, workflows and `enroll list` rules alike.

    Audiences are read as of enrollment: static lists as the condition that fills
    them (see :attr:`LintContext.joining`).
    """
    found: list[Enroller] = []
    reader = ctx.joining
    for decl in ctx.declarations():
        if isinstance(decl, ast.ListEnrollment):
            members = reader.read(ast.InList(decl.list), Scope("contact"))
            found.append(Enroller(decl, decl.sequence, decl.span, members))
        elif _triggered(decl):
            entry = admitted(reader, decl)
            for action, path in actions(reader, decl):
                if isinstance(action, ast.EnrollInSequence):
                    audience = AllOf((entry, path))
                    found.append(Enroller(decl, action.sequence, action.span, audience))
    return found


def _triggered(decl: ast.Declaration) -> TypeGuard[ast.WorkflowDecl]:
    """A contact workflow with `enroll when`. A workflow entered only through
    `enroll in workflow` has no audience of its own and is left out."""
    return (
        isinstance(decl, ast.WorkflowDecl)
        and decl.object == "contact"
        and bool(decl.triggers(ast.TriggerKind.ENROLL))
    )


def admitted(reader: Reader, decl: ast.WorkflowDecl) -> Formula:
    """Who a workflow enrolls: `enroll when`, not suppressed, not at goal."""
    enroll = trigger(reader, decl, ast.TriggerKind.ENROLL)
    suppress = trigger(reader, decl, ast.TriggerKind.SUPPRESS, none=False)
    goal = trigger(reader, decl, ast.TriggerKind.GOAL, none=False)
    return AllOf((enroll, negate(suppress), negate(goal)))


def trigger(
    reader: Reader, decl: ast.WorkflowDecl, kind: ast.TriggerKind, none: bool = True
) -> Formula:
    """The triggers of one kind, or-ed; `none` when there is none."""
    scope = Scope(decl.object, workflow=decl.name)
    items = tuple(reader.read(t.condition, scope) for t in decl.triggers(kind))
    if not items:
        return TRUE if none else AnyOf(())
    return items[0] if len(items) == 1 else AnyOf(items)


def actions(
    reader: Reader, decl: ast.WorkflowDecl
) -> Iterator[tuple[ast.Action, Formula]]:
    """Every action of a workflow with the branch conditions that lead to it."""
    scope = Scope(decl.object, workflow=decl.name)
    yield from _actions(reader, scope, decl.body, TRUE)


def _actions(
    reader: Reader, scope: Scope, body: Sequence[ast.Statement], path: Formula
) -> Iterator[tuple[ast.Action, Formula]]:
    for statement in body:
        if isinstance(statement, ast.If | ast.BranchOn):
            for arm_path, block in zip(
                arm_paths(reader, scope, statement), blocks(statement), strict=True
            ):
                yield from _actions(reader, scope, block, AllOf((path, arm_path)))
        elif isinstance(statement, ast.Split):
            for block in blocks(statement):
                yield from _actions(reader, scope, block, path)
        elif not isinstance(statement, _WAITS):
            yield statement, path


_WAITS = (ast.WaitFor, ast.WaitUntilDate, ast.WaitUntilWeekday, ast.WaitUntilEvent)


def arm_conditions(statement: ast.If | ast.BranchOn) -> list[ast.Condition]:
    """Each arm's condition (`branch on` arms as `is any of`)."""
    if isinstance(statement, ast.If):
        return [arm.condition for arm in statement.arms]
    return [
        ast.PropertyTest(statement.ref, ast.Op.IS_ANY_OF, arm.values, span=arm.span)
        for arm in statement.arms
    ]


def arm_paths(
    reader: Reader, scope: Scope, statement: ast.If | ast.BranchOn
) -> list[Formula]:
    """When each arm runs (first match wins), then when `else` does."""
    earlier: list[Formula] = []
    paths: list[Formula] = []
    for condition in arm_conditions(statement):
        formula = reader.read(condition, scope)
        paths.append(AllOf((formula, *(negate(f) for f in earlier))))
        earlier.append(formula)
    if statement.otherwise is not None:
        paths.append(AllOf(tuple(negate(f) for f in earlier)))
    return paths


@attrs.frozen
class References:
    """Names used anywhere: in conditions, actions and `enroll list` rules."""

    lists: frozenset[str]
    sequences: frozenset[str]
    workflows: frozenset[str]


def references(ctx: LintContext) -> References:
    lists: set[str] = set()
    sequences: set[str] = set()
    workflows: set[str] = set()
    for decl in ctx.declarations():
        if isinstance(decl, ast.ListEnrollment):
            lists.add(decl.list)
            sequences.add(decl.sequence)
        for node in ast.walk(decl):
            if isinstance(node, ast.InList):
                lists.add(node.name)
            elif isinstance(node, ast.AddToList | ast.RemoveFromList):
                lists.add(node.list)
            elif isinstance(node, ast.EnrollInSequence):
                sequences.add(node.sequence)
            elif isinstance(node, ast.EnrollInWorkflow):
                workflows.add(node.workflow)
    return References(frozenset(lists), frozenset(sequences), frozenset(workflows))
