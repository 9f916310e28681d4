"""Lint rule L003: `not (p is v)` where `p is not v` was probably meant.

The two differ on records where `p` is unknown: every test fails on an unknown
value, so `p is not v` is false there, while `not (p is v)` is true. Bool
properties are left alone: `not (b is true)` reads "not flagged", unset
included, and that is what it is written for.
"""

from __future__ import annotations

from collections.abc import Iterator

import attrs

from seqdsl import ast
from seqdsl.compile import condition_text
from seqdsl.lint.context import Finding, LintContext, LintRule, Site
from seqdsl.lint.logic import AllOf, never
from seqdsl.schema import Kind

Op = ast.Op

#: The test that says "not" without letting unknown values through.
_OPPOSITE = {
    Op.IS: Op.IS_NOT,
    Op.IS_ANY_OF: Op.IS_NONE_OF,
    Op.CONTAINS: Op.NOT_CONTAINS,
    Op.STARTS_WITH: Op.NOT_STARTS_WITH,
    Op.ENDS_WITH: Op.NOT_ENDS_WITH,
    Op.CONTAINS_ANY: Op.CONTAINS_NONE,
    Op.BETWEEN: Op.NOT_BETWEEN,
    Op.LT: Op.GE,
    Op.LE: Op.GT,
    Op.GT: Op.LE,
    Op.GE: Op.LT,
}


def check(ctx: LintContext) -> Iterator[Finding]:
    for site in ctx.sites:
        yield from _search(ctx, site, site.condition, ())


def _search(
    ctx: LintContext,
    site: Site,
    node: ast.Condition,
    siblings: tuple[ast.Condition, ...],
) -> Iterator[Finding]:
    """Find `not (test)`; `siblings`: the other items of the closest `and`."""
    if isinstance(node, ast.Not) and isinstance(node.item, ast.PropertyTest):
        if _matters(ctx, site, node.item, siblings):
            yield _finding(node, node.item)
    elif isinstance(node, ast.And):
        for item in node.items:
            others = tuple(other for other in node.items if other is not item)
            yield from _search(ctx, site, item, others)
    elif isinstance(node, ast.Or | ast.Not):
        items = node.items if isinstance(node, ast.Or) else (node.item,)
        for item in items:
            yield from _search(ctx, site, item, ())


def _matters(
    ctx: LintContext,
    site: Site,
    test: ast.PropertyTest,
    siblings: tuple[ast.Condition, ...],
) -> bool:
    """The `not` lets unknown values in, and nothing beside it stops them."""
    found = ctx.reader.property(test.ref, site.scope)
    if test.op not in _OPPOSITE or found is None:
        return False
    if found[1].type.kind is Kind.BOOL:
        return False  # `not (b is true)`: "not flagged" includes unset, on purpose
    read = ctx.reader.read
    unknown = read(ast.PropertyTest(test.ref, Op.IS_UNKNOWN), site.scope)
    others = tuple(read(item, site.scope) for item in siblings)
    return not never(AllOf((*others, unknown)))


def _finding(node: ast.Not, test: ast.PropertyTest) -> Finding:
    name = test.ref.text()
    opposite = condition_text(attrs.evolve(test, op=_OPPOSITE[test.op]))
    return Finding(
        f"`not ({condition_text(test)})` is also true when `{name}` is unknown",
        node.span,
        (
            f"if records without a value should not match, write `{opposite}`",
            f"if they should, say so: `{name} is unknown or {opposite}`",
        ),
    )


RULE = LintRule(
    "L003",
    "negation-matches-unknown",
    "`not (p is v)` is also true when `p` is unknown, unlike `p is not v`",
    check,
)
