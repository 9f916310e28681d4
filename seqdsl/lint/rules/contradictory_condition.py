"""Lint rule L001: a condition, or a part of one, that no record can meet."""

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

#: What a dead condition means, by where it stands (for the whole condition).
_CONSEQUENCE = {
    Place.LIST: "so the list is always empty",
    Place.ENROLL: "so no record is ever enrolled",
    Place.REENROLL: "so no record is ever enrolled again",
    Place.GOAL: "so no record ever meets the goal",
    Place.SUPPRESS: "so it never suppresses anything",
    Place.BRANCH: "so this branch never runs",
    Place.EVENT_FILTER: "so no event ever matches",
    Place.RECORD_FILTER: "so no associated record ever matches",
}


def check(ctx: LintContext) -> Iterator[Finding]:
    for site in ctx.sites:
        dead = _dead(ctx, site)
        if site.place == Place.UNENROLL and dead(site.condition):
            continue  # L005 reports a dead `unenroll when` as a whole
        for node in innermost(site.condition, dead):
            yield _finding(site, node)


def _dead(ctx: LintContext, site: Site) -> Callable[[ast.Condition], bool]:
    """Whether a part of the site's condition can never be true."""
    read = ctx.reader.read

    def dead(node: ast.Condition) -> bool:
        if isinstance(node, ast.Not) and always(read(node.item, site.scope)):
            return False  # L002 reports the always-true part inside
        return never(read(node, site.scope))

    return dead


def _finding(site: Site, node: ast.Condition) -> Finding:
    whole = node is site.condition
    consequence = _CONSEQUENCE.get(site.place) if whole else None
    message = f"{shown(node)} can never be true"
    if consequence:
        message += f", {consequence}"
    return Finding(
        message,
        node.span,
        (
            "unknown values fail every comparison, and the tests here leave no "
            "value that passes them all",
            "check the bounds, dates and values; remove the condition if it is "
            "not needed",
        ),
    )


RULE = LintRule(
    "L001",
    "contradictory-condition",
    "a condition, or a part of one, that can never be true",
    check,
)
