"""Lint rule L010: an email sequence fed by contacts that may have no address.

A contact without an email address is refused by a sequence. When the rule that
enrolls contacts (a workflow's trigger and branches, or the list of an `enroll
list` rule, read through active lists) does not require `email is known`, some
enrollments can be refused. Manual lists are skipped: their members are data.
"""

from __future__ import annotations

from collections.abc import Iterator

from seqdsl import ast
from seqdsl.lint.context import Finding, LintContext, LintRule
from seqdsl.lint.logic import AllOf, never
from seqdsl.lint.lower import Scope
from seqdsl.lint.usage import Enroller, enrollers

_EMAIL = ast.Ref("email")


def check(ctx: LintContext) -> Iterator[Finding]:
    scope = Scope("contact")
    if ctx.reader.property(_EMAIL, scope) is None:
        return
    no_email = ctx.expanding.read(ast.PropertyTest(_EMAIL, ast.Op.IS_UNKNOWN), scope)
    for enroller in enrollers(ctx):
        if not _sends_email(ctx, enroller.sequence) or _manual(ctx, enroller):
            continue
        if not never(AllOf((enroller.audience, no_email))):
            yield _finding(enroller)


def _sends_email(ctx: LintContext, name: str) -> bool:
    sequence = ctx.checked.sequences.get(name)
    return sequence is not None and any(
        step.kind is ast.StepKind.EMAIL for step in sequence.steps
    )


def _manual(ctx: LintContext, enroller: Enroller) -> bool:
    if not isinstance(enroller.source, ast.ListEnrollment):
        return False
    listed = ctx.checked.lists.get(enroller.source.list)
    return listed is not None and listed.kind is ast.ListKind.MANUAL


def _finding(enroller: Enroller) -> Finding:
    where = (
        f'list "{enroller.source.list}"'
        if isinstance(enroller.source, ast.ListEnrollment)
        else "the `enroll when` of this workflow (or the branch around this action)"
    )
    return Finding(
        f'sequence "{enroller.sequence}" sends email, but contacts enrolled here '
        "may have no email address",
        enroller.span,
        (
            f"add `email is known` to {where}; contacts without one are refused "
            "and the refusal is recorded",
        ),
    )


RULE = LintRule(
    "L010",
    "audience-without-email",
    "an email sequence fed by contacts that may have no email address",
    check,
)
