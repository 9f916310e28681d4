"""Lint rule L012: a daily limit too low to enroll a list in reasonable time.

Estimated from the state file of the last run (nothing is estimated without
one): the list's members at that run, and for `sender owner` the number of
senders the sequence has used. A limit of N enrollments per day per sender lets
N x senders contacts in a day; a limit of N emails, N x senders / (emails per
contact). When the list needs more than `drain-days` days (default 30) to get
through, the contacts at the back of the queue are enrolled weeks late.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from seqdsl import ast
from seqdsl.lint.context import Finding, LintContext, LintRule
from seqdsl.lint.state import StateFacts, read_state

_OPTION = "drain-days"


def check(ctx: LintContext) -> Iterator[Finding]:
    facts = read_state(ctx.checked.settings.state_path)
    if facts is None:
        return
    horizon = ctx.options.get(_OPTION, RULE.options[_OPTION])
    for decl in ctx.declarations():
        if not isinstance(decl, ast.ListEnrollment):
            continue
        sequence = ctx.checked.sequences.get(decl.sequence)
        size = facts.list_sizes.get(decl.list, 0)
        senders = _senders(decl, sequence, facts)
        if sequence is None or size == 0 or not senders:
            continue
        for limit in sequence.items:
            if isinstance(limit, ast.Limit):
                days = _days(limit, sequence, size, senders)
                if days is not None and days > horizon:
                    yield _finding(
                        ctx,
                        decl,
                        limit,
                        size=size,
                        senders=senders,
                        days=days,
                        horizon=horizon,
                    )


def _senders(
    rule: ast.ListEnrollment, sequence: ast.SequenceDecl | None, facts: StateFacts
) -> int:
    """How many senders share the limit; 0 when it cannot be told."""
    sender = rule.sender
    if sender is None and sequence is not None:
        sender = next((i for i in sequence.items if isinstance(i, ast.Sender)), None)
    if sender is not None and sender.kind is ast.SenderKind.USER:
        return 1
    if sender is not None and sender.kind is ast.SenderKind.ROTATION:
        return len(sender.users)
    return facts.senders.get(rule.sequence, 0)


def _days(
    limit: ast.Limit, sequence: ast.SequenceDecl, size: int, senders: int
) -> int | None:
    per_day = float(limit.amount * senders)
    if limit.kind is ast.LimitKind.EMAILS:
        emails = sum(1 for s in sequence.steps if s.kind is ast.StepKind.EMAIL)
        if emails == 0:
            return None
        per_day /= emails
    return math.ceil(size / per_day) if per_day > 0 else None


def _finding(
    ctx: LintContext,
    rule: ast.ListEnrollment,
    limit: ast.Limit,
    *,
    size: int,
    senders: int,
    days: int,
    horizon: int,
) -> Finding:
    who = "1 sender" if senders == 1 else f"{senders} senders"
    return Finding(
        f"`limit {limit.amount} {limit.kind.value} per day per sender` with {who} "
        f"needs about {days} days to enroll the {size:,} members of list "
        f'"{rule.list}" (more than {horizon})',
        limit.span,
        (
            f"the list is enrolled at {ctx.line_of(rule.span)}; the size is from "
            "the last run's state",
            "raise the limit, add senders (`sender rotate among [...]`), or "
            "narrow the list",
        ),
    )


RULE = LintRule(
    "L012",
    "limit-cannot-drain",
    "a daily sequence limit too low to enroll its list within `drain-days`",
    check,
    {_OPTION: 30},
)
