"""Lint rule L015: a `# seqdsl: ignore` comment that silences nothing.

It can only be judged once every other rule has run, so the driver
(:func:`seqdsl.lint.lint`) computes it from :mod:`seqdsl.lint.suppress`; the
check itself finds nothing on its own.
"""

from __future__ import annotations

from collections.abc import Iterator

from seqdsl.lint.context import Finding, LintContext, LintRule


def check(ctx: LintContext) -> Iterator[Finding]:
    del ctx
    return iter(())


RULE = LintRule(
    "L015",
    "unused-suppression",
    "a `# seqdsl: ignore` comment that silences no finding, or names no rule",
    check,
)
