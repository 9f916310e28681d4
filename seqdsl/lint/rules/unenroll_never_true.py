"""Lint rule L005: an `unenroll when` that no record can ever meet."""

from __future__ import annotations

from collections.abc import Iterator

from seqdsl import ast
from seqdsl.lint.context import Finding, LintContext, LintRule, shown
from seqdsl.lint.logic import never
from seqdsl.lint.lower import Scope


def check(ctx: LintContext) -> Iterator[Finding]:
    for decl in ctx.declarations():
        if not isinstance(decl, ast.WorkflowDecl):
            continue
        scope = Scope(decl.object, workflow=decl.name)
        for clause in decl.triggers(ast.TriggerKind.UNENROLL):
            if never(ctx.reader.read(clause.condition, scope)):
                yield Finding(
                    f"`unenroll when` {shown(clause.condition)} can never be true, "
                    "so no record ever leaves this way",
                    clause.span,
                    (
                        "its tests leave no value that passes them all (unknown "
                        "values fail every comparison)",
                        "write the condition that was meant, or remove the clause",
                    ),
                )


RULE = LintRule(
    "L005",
    "unenroll-never-true",
    "an `unenroll when` condition that can never become true",
    check,
)
