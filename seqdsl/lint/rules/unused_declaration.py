"""Lint rule L013: lists, sequences and workflows that nothing uses.

A list is used when a condition reads it, an action changes it or an `enroll
list` rule enrolls it; a sequence when something enrolls in it; a workflow when
it has `enroll when` or another workflow enrolls records in it.
"""

from __future__ import annotations

from collections.abc import Iterator

from seqdsl import ast
from seqdsl.lint.context import Finding, LintContext, LintRule
from seqdsl.lint.usage import references


def check(ctx: LintContext) -> Iterator[Finding]:
    used = references(ctx)
    for decl in ctx.declarations():
        if isinstance(decl, ast.ListDecl) and decl.name not in used.lists:
            yield _list(decl)
        elif isinstance(decl, ast.SequenceDecl) and decl.name not in used.sequences:
            yield Finding(
                f'nothing enrolls contacts in sequence "{decl.name}"',
                decl.name_span,
                (
                    "enroll with `enroll in sequence` in a workflow or with "
                    "`enroll list`, or remove the sequence",
                ),
            )
        elif isinstance(decl, ast.WorkflowDecl) and _idle(decl, used.workflows):
            yield Finding(
                f'workflow "{decl.name}" never enrolls anyone: it has no '
                "`enroll when` and no workflow enrolls records in it",
                decl.name_span,
                ("add `enroll when ...`, or `enroll in workflow` from another one",),
            )


def _list(decl: ast.ListDecl) -> Finding:
    what = "no rule reads, changes or enrolls"
    if decl.kind is ast.ListKind.MANUAL:
        what = "no rule reads or enrolls the members of"
    return Finding(
        f'{what} {decl.kind.value} list "{decl.name}"',
        decl.name_span,
        (
            "remove it, or if it is kept for its members (runs write them to "
            "memberships.csv), suppress this with `# seqdsl: ignore[L013]`",
        ),
    )


def _idle(decl: ast.WorkflowDecl, targets: frozenset[str]) -> bool:
    return not decl.triggers(ast.TriggerKind.ENROLL) and decl.name not in targets


RULE = LintRule(
    "L013",
    "unused-declaration",
    "a list, sequence or workflow that no rule uses",
    check,
)
