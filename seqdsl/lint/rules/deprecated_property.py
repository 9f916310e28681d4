"""Lint rule L014: a rule that uses a property marked `deprecated`."""

from __future__ import annotations

from collections.abc import Iterator

from seqdsl import ast
from seqdsl.lint.context import Finding, LintContext, LintRule, leaves, statements
from seqdsl.lint.lower import Scope


def check(ctx: LintContext) -> Iterator[Finding]:
    seen: set[tuple[str, int]] = set()
    for ref, scope in _refs(ctx):
        found = ctx.reader.property(ref, scope)
        where = (ref.span.path, ref.span.start)
        if found is None or not found[1].deprecated or where in seen:
            continue
        seen.add(where)
        yield Finding(
            f"`{ref.text()}` is marked `deprecated` in the schema",
            ref.span,
            (
                "read or set its replacement instead, or remove `deprecated` from "
                "its declaration if it is still in use",
            ),
        )


def _refs(ctx: LintContext) -> Iterator[tuple[ast.Ref, Scope]]:
    """Every property reference, with the scope that gives it a meaning."""
    for site in ctx.sites:
        for leaf in leaves(site.condition):
            if isinstance(leaf, ast.PropertyTest):
                yield leaf.ref, site.scope
    for decl in ctx.declarations():
        if not isinstance(decl, ast.WorkflowDecl):
            continue
        scope = Scope(decl.object, workflow=decl.name)
        for statement in statements(decl.body):
            if isinstance(
                statement,
                ast.SetProperty | ast.ClearProperty | ast.BranchOn | ast.WaitUntilDate,
            ):
                yield statement.ref, scope


RULE = LintRule(
    "L014",
    "deprecated-property",
    "a rule that uses a property the schema marks `deprecated`",
    check,
)
