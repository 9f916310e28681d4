"""Lint stage, the rules: one module per pattern, listed in code order."""

from __future__ import annotations

from seqdsl.lint.context import LintRule
from seqdsl.lint.rules import (
    always_true_condition,
    audience_without_email,
    competing_sequences,
    contradictory_condition,
    deprecated_property,
    enrollment_loop,
    goal_met_at_enrollment,
    limit_cannot_drain,
    negation_matches_unknown,
    overlapping_branches,
    unenroll_never_true,
    unreachable_branch,
    unused_declaration,
    unused_suppression,
    wait_outside_window,
)

#: Every rule, in code order.
ALL_RULES: tuple[LintRule, ...] = (
    contradictory_condition.RULE,
    always_true_condition.RULE,
    negation_matches_unknown.RULE,
    goal_met_at_enrollment.RULE,
    unenroll_never_true.RULE,
    unreachable_branch.RULE,
    overlapping_branches.RULE,
    competing_sequences.RULE,
    enrollment_loop.RULE,
    audience_without_email.RULE,
    wait_outside_window.RULE,
    limit_cannot_drain.RULE,
    unused_declaration.RULE,
    deprecated_property.RULE,
    unused_suppression.RULE,
)
