"""Lint rule L008: two rules that can put one contact in different sequences.

A contact is in one sequence at a time, so when two workflows (or `enroll list`
rules) whose audiences can overlap enroll in different sequences, whichever runs
second is refused for the contacts in both. Audiences are compared with active
lists read through their conditions; they overlap unless that is proven false.
"""

from __future__ import annotations

from collections.abc import Iterator

from seqdsl import ast
from seqdsl.lint.context import Finding, LintContext, LintRule
from seqdsl.lint.logic import AllOf, never
from seqdsl.lint.usage import Enroller, enrollers


def check(ctx: LintContext) -> Iterator[Finding]:
    found = enrollers(ctx)
    for index, later in enumerate(found):
        # one finding per enrollment: the first earlier rule it competes with
        first = next((e for e in found[:index] if _competing(ctx, e, later)), None)
        if first is not None:
            yield _finding(ctx, first, later)


def _competing(ctx: LintContext, first: Enroller, later: Enroller) -> bool:
    if first.source is later.source or first.sequence == later.sequence:
        return False
    if _queues(ctx, first.sequence) and _queues(ctx, later.sequence):
        return False
    return not never(AllOf((first.audience, later.audience)))


def _queues(ctx: LintContext, name: str) -> bool:
    sequence = ctx.checked.sequences.get(name)
    return sequence is not None and any(
        isinstance(item, ast.QueueIfEnrolled) for item in sequence.items
    )


def _finding(ctx: LintContext, first: Enroller, later: Enroller) -> Finding:
    return Finding(
        f'a contact can be enrolled in sequence "{later.sequence}" here and in '
        f'sequence "{first.sequence}" by {first.label}; it can only be in one, '
        "so the later enrollment is refused",
        later.span,
        (
            f"the other enrollment is at {ctx.line_of(first.span)}",
            "make the audiences exclusive (a `suppress when`, or `not in list`), "
            "or add `queue if already enrolled` to both sequences",
        ),
    )


RULE = LintRule(
    "L008",
    "competing-sequence-enrollments",
    "two rules that can put one contact in different sequences",
    check,
)
