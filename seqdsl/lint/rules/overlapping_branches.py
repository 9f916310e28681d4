"""Lint rule L007: two branches that test one property on overlapping values.

The first matching branch wins, so when the value sets of two branches overlap
(`numberofemployees is between 50 and 500`, then `... between 200 and 1000`),
records in the overlap silently take the first. Only branches that each test a
single, common property are compared: a later branch on another property is the
usual way to give priority, and a branch contained in an earlier one is L006.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator

from seqdsl import ast
from seqdsl.lint.context import Finding, LintContext, LintRule, shown, statements
from seqdsl.lint.logic import AllOf, AnyOf, Formula, Has, implies, negate, witness
from seqdsl.lint.lower import Scope
from seqdsl.lint.values import describe


def check(ctx: LintContext) -> Iterator[Finding]:
    for decl in ctx.declarations():
        if not isinstance(decl, ast.WorkflowDecl):
            continue
        scope = Scope(decl.object, workflow=decl.name)
        for statement in statements(decl.body):
            if isinstance(statement, ast.If):
                yield from _if(ctx, scope, statement)


def _if(ctx: LintContext, scope: Scope, node: ast.If) -> Iterator[Finding]:
    formulas = [ctx.reader.read(arm.condition, scope) for arm in node.arms]
    for later in range(1, len(node.arms)):
        for first in range(later):
            found = _overlap(ctx, node, formulas, first, later)
            if found is not None:
                yield found
                break


def _overlap(
    ctx: LintContext, node: ast.If, formulas: list[Formula], first: int, later: int
) -> Finding | None:
    a, b = formulas[first], formulas[later]
    key = _single_property(a)
    if key is None or key != _single_property(b):
        return None
    if node.arms[first].body == node.arms[later].body:
        return None
    if implies(a, b) or implies(b, a):
        return None  # specific first on purpose, or L006
    before = tuple(negate(f) for f in formulas[:first])
    example = witness(AllOf((a, b, *before)))
    if example is None:
        return None

    arm, other = node.arms[later], node.arms[first]
    value = describe(example.values[key])
    name = key[-1] if isinstance(key, tuple) else str(key)
    return Finding(
        f"{shown(arm.condition)} overlaps the branch {shown(other.condition)}: "
        f"a record whose `{name}` is {value} matches both and takes the first",
        arm.condition.span,
        (
            f"the first branch is at {ctx.line_of(other.condition.span)}",
            "make the value ranges not overlap, or order the branches on purpose "
            "and suppress this with `# seqdsl: ignore[L007]`",
        ),
    )


def _single_property(formula: Formula) -> Hashable | None:
    """The one property a formula tests, if it tests nothing else."""
    keys: set[Hashable] = set()
    stack = [formula]
    while stack:
        item = stack.pop()
        if isinstance(item, AllOf | AnyOf):
            stack.extend(item.items)
        elif isinstance(item, Has):
            keys.add(item.key)
        else:
            return None
    return keys.pop() if len(keys) == 1 else None


RULE = LintRule(
    "L007",
    "overlapping-branches",
    "branches on one property whose values overlap, so their order decides",
    check,
)
