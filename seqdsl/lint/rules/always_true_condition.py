"""Lint rule L002: a condition, or a part of one, that every record meets."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from seqdsl import ast
from seqdsl.lint.context import (
    Finding,
    LintContext,
    LintRule,
    Place,
    Site,
    innermost,
    shown,
)
from seqdsl.lint.logic import always, never

#: What an always-true condition means, by where it stands (the whole
#: condition).
_CONSEQUENCE = {
    Place.LIST: "so the list holds every record",
    Place.ENROLL: "so every record is enrolled",
    Place.REENROLL: "so the trigger never goes from false to true again",
    Place.GOAL: "so every record meets the goal and none is ever enrolled",
    Place.SUPPRESS: "so every record is suppressed and none is ever enrolled",
    Place.UNENROLL: "so every record leaves before its first action",
    Place.BRANCH: "so the branches after it never run",
    Place.EVENT_FILTER: "so the filter lets every event through",
    Place.RECORD_FILTER: "so the filter lets every associated record through",
}


def check(ctx: LintContext) -> Iterator[Finding]:
    for site in ctx.sites:
        for node in innermost(site.condition, _total(ctx, site)):
            yield _finding(site, node)


def _total(ctx: LintContext, site: Site) -> Callable[[ast.Condition], bool]:
    """Whether a part of the site's condition is true for every record."""
    read = ctx.reader.read

    def total(node: ast.Condition) -> bool:
        if isinstance(node, ast.Not) and never(read(node.item, site.scope)):
            return False  # L001 reports the never-true part inside
        return always(read(node, site.scope))

    return total


def _finding(site: Site, node: ast.Condition) -> Finding:
    whole = node is site.condition
    consequence = _CONSEQUENCE.get(site.place) if whole else None
    message = f"{shown(node)} is always true"
    if consequence:
        message += f", {consequence}"
    return Finding(
        message,
        node.span,
        ("remove it, or write the test that was meant",),
    )


RULE = LintRule(
    "L002",
    "always-true-condition",
    "a condition, or a part of one, that is true for every record",
    check,
)
