"""Check stage, sequences: settings given once, steps, senders and limits.

Also home to the checks of a reference to a sequence (`enroll in sequence "S"
start at step "x"`), shared by workflows and `enroll list` rules.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from seqdsl import ast
from seqdsl.check.context import SEQUENCE, Context
from seqdsl.diagnostics import Diagnostic, diagnostic
from seqdsl.schema import Kind, ObjectSchema, Property
from seqdsl.source import Span

#: Sequence settings that may be given at most once, by how users write them.
_SETTINGS: dict[type, str] = {
    ast.Sender: "sender",
    ast.SendWindow: "send window",
    ast.FollowUp: "follow up",
    ast.QueueIfEnrolled: "queue if already enrolled",
}


def check_sequences(ctx: Context) -> Iterator[Diagnostic]:
    """Every sequence declaration."""
    for declaration in ctx.declarations:
        if isinstance(declaration, ast.SequenceDecl):
            yield from _settings(ctx, declaration)
            yield from _steps(declaration)


def _settings(ctx: Context, decl: ast.SequenceDecl) -> Iterator[Diagnostic]:
    seen: dict[str, ast.SequenceItem] = {}
    for item in decl.items:
        if isinstance(item, ast.Step | ast.AutoUnenroll):
            continue
        what = _setting_name(item)
        first = seen.setdefault(what, item)
        if first is not item:
            yield diagnostic(
                "E305",
                f'`{what}` is set more than once in sequence `"{decl.name}"`',
                item.span,
                f"it was first set at {ctx.line_of(first.span)}; keep one",
            )
        yield from _setting(ctx, item)


def _setting_name(item: ast.SequenceItem) -> str:
    if isinstance(item, ast.Limit):
        return f"limit ... {item.kind.value} per day per sender"
    return _SETTINGS[type(item)]


def _setting(ctx: Context, item: ast.SequenceItem) -> Iterator[Diagnostic]:
    if isinstance(item, ast.Sender):
        yield from check_sender(ctx, item)
    elif isinstance(item, ast.SendWindow):
        yield from check_window(ctx, item.start, item.end, item.span, "send window")
    elif isinstance(item, ast.Limit) and item.amount <= 0:
        yield diagnostic(
            "E307",
            f"a limit of {item.amount} {item.kind.value} per day lets nothing through",
            item.span,
            "give a limit of at least 1, or remove the limit",
        )


def _steps(decl: ast.SequenceDecl) -> Iterator[Diagnostic]:
    steps = decl.steps
    if not steps:
        yield diagnostic(
            "E305",
            f'sequence `"{decl.name}"` has no steps',
            decl.name_span,
            'add a step such as `step "intro" email "intro-template"`',
        )
        return

    first = steps[0]
    if first.delay is not None:
        yield diagnostic(
            "E305",
            f'the first step `"{first.name}"` cannot have `after`',
            first.delay.span,
            "the first step is due at enrollment; remove "
            f"`after {first.delay.text()}` (a workflow can `wait` before enrolling)",
        )
    seen: set[str] = set()
    for step in steps:
        if step.name in seen:
            yield diagnostic(
                "E111",
                f'step `"{step.name}"` appears twice in sequence `"{decl.name}"`',
                step.name_span,
                "step names identify where contacts are; give each step its own name",
            )
        seen.add(step.name)


def check_window(
    ctx: Context, start: dt.time, end: dt.time, span: Span, what: str
) -> Iterator[Diagnostic]:
    """A daily window must open before it closes."""
    if start < end or ctx.has_syntax_error(span):
        return
    if start == end:
        message = f"the {what} opens and closes at {start:%H:%M}"
    else:
        message = f"the {what} ends at {end:%H:%M}, before it starts at {start:%H:%M}"
    yield diagnostic(
        "E306",
        message,
        span,
        "write the earlier time first; windows cannot run past midnight",
    )


def check_sender(ctx: Context, sender: ast.Sender) -> Iterator[Diagnostic]:
    """A sender names real users, or the contact has an owner to send as."""
    for user in sender.users:
        if not user.strip():
            yield diagnostic(
                "E202",
                "a user cannot have an empty name",
                sender.span,
                "write the user's id or email between the quotes",
            )
    contact = ctx.schema.object("contact")
    is_owner = sender.kind is ast.SenderKind.OWNER
    if is_owner and contact is not None and owner_property(contact) is None:
        yield no_owner(sender.span, "`sender owner`", contact)


def owner_property(record: ObjectSchema) -> Property | None:
    """The record's owner: the first property of kind `owner`."""
    return next(
        (p for p in record.properties.values() if p.type.kind is Kind.OWNER), None
    )


def no_owner(span: Span, what: str, record: ObjectSchema) -> Diagnostic:
    """The diagnostic for a use of the record's owner when it has none."""
    return diagnostic(
        "E309",
        f"{what} needs an owner, but `{record.name}` has no property of type `owner`",
        span,
        f"declare one in `object {record.name}`, e.g. `hubspot_owner_id: owner`",
    )


def check_sequence_reference(
    ctx: Context,
    name: str,
    start: ast.StartAt | ast.Resume | None,
    span: Span,
) -> Iterator[Diagnostic]:
    """`... sequence "S" [start at step "x"]`: S exists and has step x."""
    found = ctx.sequence(name)
    if found is None:
        if not ctx.lost(SEQUENCE, name):
            words = ctx.words(span)
            keyword = next((s.end for w, s in words if w == "sequence"), span.start)
            yield diagnostic(
                "E106",
                f'unknown sequence `"{name}"`',
                ctx.word_span(span, name, after=keyword, quoted=True),
                *ctx.nearest(name, ctx.named[SEQUENCE]),
                *ctx.other_kinds(name, SEQUENCE),
            )
        return

    steps = [step.name for step in found.steps]
    if isinstance(start, ast.StartAt) and start.step not in steps:
        shown = ", ".join(f'"{step}"' for step in steps[:8])
        yield diagnostic(
            "E110",
            f'sequence `"{name}"` has no step `"{start.step}"`',
            ctx.word_span(start.span, start.step, quoted=True),
            *ctx.nearest(start.step, steps),
            f"its steps are {shown}" if shown else "it has no steps",
        )
