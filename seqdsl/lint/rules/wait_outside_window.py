"""Lint rule L011: a wait that always ends outside the run or send window.

`wait until monday at 07:00` in a workflow that runs on weekdays from 09:00 to
17:00 never resumes at 07:00: what follows waits for the window to open. The
same holds for a wait followed by `enroll in sequence` when the sequence sends
in the workspace time zone outside that hour. Windows include their start, not
their end.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from seqdsl import ast
from seqdsl.lint.context import Finding, LintContext, LintRule, blocks
from seqdsl.workspace import WEEKDAYS

_DAY_NAMES = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)


def check(ctx: LintContext) -> Iterator[Finding]:
    for decl in ctx.declarations():
        if isinstance(decl, ast.WorkflowDecl):
            window = next(
                (c for c in decl.clauses if isinstance(c, ast.RunWindow)), None
            )
            yield from _body(ctx, window, decl.body)


def _body(
    ctx: LintContext, window: ast.RunWindow | None, body: Sequence[ast.Statement]
) -> Iterator[Finding]:
    for index, statement in enumerate(body):
        for block in blocks(statement):
            yield from _body(ctx, window, block)
        if not isinstance(statement, ast.WaitUntilWeekday | ast.WaitUntilDate):
            continue
        if window is not None:
            yield from _run_window(ctx, window, statement)
        following = body[index + 1] if index + 1 < len(body) else None
        if isinstance(following, ast.EnrollInSequence):
            yield from _send_window(ctx, statement, following)


def _run_window(
    ctx: LintContext,
    window: ast.RunWindow,
    wait: ast.WaitUntilWeekday | ast.WaitUntilDate,
) -> Iterator[Finding]:
    opens = f"{window.start:%H:%M} to {window.end:%H:%M}"
    if isinstance(wait, ast.WaitUntilWeekday) and not _allowed(
        ctx, window.days, wait.weekday
    ):
        yield Finding(
            f"this wait ends on a {_DAY_NAMES[wait.weekday]}, but the workflow runs "
            f"on {window.days.value} only, so what follows waits for the next one",
            wait.span,
            (f"the run window is at {ctx.line_of(window.span)}",),
        )
    elif wait.at is not None and not window.start <= wait.at < window.end:
        yield Finding(
            f"this wait ends at {wait.at:%H:%M}, outside the run window ({opens}), "
            "so what follows waits for the window to open",
            wait.span,
            (
                f"the run window is at {ctx.line_of(window.span)}; wait until a "
                "time inside it",
            ),
        )


def _send_window(
    ctx: LintContext,
    wait: ast.WaitUntilWeekday | ast.WaitUntilDate,
    enroll: ast.EnrollInSequence,
) -> Iterator[Finding]:
    sequence = ctx.checked.sequences.get(enroll.sequence)
    if sequence is None or wait.at is None:
        return
    for item in sequence.items:
        if not isinstance(item, ast.SendWindow) or item.contact_zone:
            continue
        if not item.start <= wait.at < item.end:
            yield Finding(
                f"this wait ends at {wait.at:%H:%M}, outside the send window of "
                f'sequence "{enroll.sequence}" ({item.start:%H:%M} to '
                f"{item.end:%H:%M}), so its first step waits for the window",
                wait.span,
                (f"the send window is at {ctx.line_of(item.span)}",),
            )


def _allowed(ctx: LintContext, days: ast.DayRule, weekday: int) -> bool:
    if days is ast.DayRule.EVERY_DAY:
        return True
    if days is ast.DayRule.WEEKDAYS:
        return weekday < 5
    return WEEKDAYS[weekday] in ctx.checked.settings.business_days


RULE = LintRule(
    "L011",
    "wait-outside-window",
    "a wait that always ends outside the run window or the send window",
    check,
)
