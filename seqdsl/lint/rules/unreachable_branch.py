"""Lint rule L006: an `else if` or `else` that earlier branches always take.

The first matching branch wins, so a branch whose records all match an earlier
one never runs. Active lists are read through their conditions. (A `branch on`
value given twice, or one that is not an option, is already an error: E308,
E108.)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from seqdsl import ast
from seqdsl.lint.context import Finding, LintContext, LintRule, shown, statements
from seqdsl.lint.logic import AllOf, Formula, implies, negate, never
from seqdsl.lint.lower import Scope


def check(ctx: LintContext) -> Iterator[Finding]:
    for decl in ctx.declarations():
        if not isinstance(decl, ast.WorkflowDecl):
            continue
        scope = Scope(decl.object, workflow=decl.name)
        for statement in statements(decl.body):
            if isinstance(statement, ast.If):
                yield from _if(ctx, scope, statement)


def _if(ctx: LintContext, scope: Scope, node: ast.If) -> Iterator[Finding]:
    formulas = [ctx.expanding.read(arm.condition, scope) for arm in node.arms]
    for index in range(1, len(node.arms)):
        formula, earlier = formulas[index], formulas[:index]
        if never(formula):
            continue  # L001 reports a branch that can never be true
        if never(AllOf((formula, *(negate(f) for f in earlier)))):
            yield _covered(ctx, node, index, formulas)

    if node.otherwise is not None and never(_none_of(formulas)):
        yield _dead_else(ctx, node)


def _none_of(formulas: Sequence[Formula]) -> Formula:
    return AllOf(tuple(negate(f) for f in formulas))


def _covered(
    ctx: LintContext, node: ast.If, index: int, formulas: list[Formula]
) -> Finding:
    arm = node.arms[index]
    earlier = [
        other
        for other, formula in zip(node.arms[:index], formulas, strict=False)
        if implies(formulas[index], formula)
    ]
    if earlier:
        first = earlier[0].condition
        why = f"{shown(first)} at {ctx.line_of(first.span)} matches all of them first"
    else:
        why = "together, the branches above match all of them first"
    return Finding(
        f"this branch never runs: every record that meets {shown(arm.condition)} "
        "is taken by an earlier branch",
        arm.condition.span,
        (why, "reorder the branches (the more specific first) or remove this one"),
    )


def _dead_else(ctx: LintContext, node: ast.If) -> Finding:
    last = node.arms[-1]
    ends = [last.condition.span.end, *(s.span.end for s in last.body)]
    span = ctx.keyword("else", max(ends), node.span)
    return Finding(
        "this `else` never runs: every record matches one of the branches above",
        span,
        (
            "unknown values included; remove the `else`, or make the last branch "
            "the `else`",
        ),
    )


RULE = LintRule(
    "L006",
    "unreachable-branch",
    "an `else if` or `else` that earlier branches always take first",
    check,
)
