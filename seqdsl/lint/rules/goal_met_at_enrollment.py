"""Lint rule L004: a goal that every record meets when it would enroll.

The goal is checked before a record is enrolled, and a record that already meets
it is not enrolled. When the enrollment trigger implies the goal, the workflow
never enrolls anyone. Active lists are read through their conditions, so `enroll
when in list "Opportunities"` is compared with what the list holds.
"""

from __future__ import annotations

from collections.abc import Iterator

from seqdsl import ast
from seqdsl.lint.context import Finding, LintContext, LintRule, shown
from seqdsl.lint.logic import AllOf, implies, negate, never
from seqdsl.lint.usage import trigger

Kind = ast.TriggerKind


def check(ctx: LintContext) -> Iterator[Finding]:
    for decl in ctx.declarations():
        if not isinstance(decl, ast.WorkflowDecl):
            continue
        goals = decl.triggers(Kind.GOAL)
        enrolls = decl.triggers(Kind.ENROLL)
        if not goals or not enrolls:
            continue
        reader = ctx.expanding
        enroll = trigger(reader, decl, Kind.ENROLL)
        suppress = trigger(reader, decl, Kind.SUPPRESS, none=False)
        entering = AllOf((enroll, negate(suppress)))
        if never(entering):
            continue  # L001 or L002 explain why nothing enrolls
        if implies(entering, trigger(reader, decl, Kind.GOAL)):
            yield _finding(ctx, goals[0], enrolls[0])


def _finding(ctx: LintContext, goal: ast.Trigger, enroll: ast.Trigger) -> Finding:
    return Finding(
        f"every record that meets `enroll when` already meets the goal "
        f"{shown(goal.condition)}, so the workflow never enrolls anyone",
        goal.span,
        (
            f"`enroll when` is at {ctx.line_of(enroll.span)}: "
            f"{shown(enroll.condition)}",
            "a record that meets the goal is not enrolled; make the goal a later "
            "stage than the trigger, or narrow the trigger",
        ),
    )


RULE = LintRule(
    "L004",
    "goal-met-at-enrollment",
    "a goal that the enrollment trigger already implies",
    check,
)
