"""Check stage, workflows: settings, triggers, and every statement of the body.

Settings and triggers (`enroll when`, `goal`, `existing`, `run on`, ...) come
before the first action; conditions are checked in the place they stand; actions
must fit the workflow's object (sequences enroll contacts, `rotate owner` needs
an owner).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import attrs

from seqdsl import ast
from seqdsl.check.conditions import (
    TRIGGER_PLACES,
    Place,
    Scope,
    check_condition,
    check_event_where,
    check_list_reference,
    resolve_event,
    resolve_object,
    resolve_ref,
)
from seqdsl.check.context import WORKFLOW, Context
from seqdsl.check.sequences import (
    check_sender,
    check_sequence_reference,
    check_window,
    no_owner,
    owner_property,
)
from seqdsl.check.types import check_value, kind_names, same_value
from seqdsl.diagnostics import Diagnostic, diagnostic
from seqdsl.literals import LiteralError, convert, describe
from seqdsl.schema import Kind, ObjectSchema
from seqdsl.source import Span

_BRANCH_KINDS = frozenset({Kind.ENUM, Kind.STRING, Kind.BOOL, Kind.OWNER, Kind.NUMBER})


@attrs.frozen
class _Flow:
    """The workflow being checked and its record's schema (None when unknown)."""

    decl: ast.WorkflowDecl
    record: ObjectSchema | None


def check_workflows(ctx: Context) -> Iterator[Diagnostic]:
    """Every workflow declaration."""
    for declaration in ctx.declarations:
        if isinstance(declaration, ast.WorkflowDecl):
            yield from _check_workflow(ctx, declaration)


def _check_workflow(ctx: Context, decl: ast.WorkflowDecl) -> Iterator[Diagnostic]:
    after = decl.name_span.end
    locate = lambda: ctx.word_span(decl.span, decl.object, after=after)  # noqa: E731
    record = yield from resolve_object(ctx, decl.object, locate)
    flow = _Flow(decl, record)
    yield from _clause_order(ctx, decl)
    for clause in decl.clauses:
        yield from _clause(ctx, flow, clause)
    yield from _statements(ctx, flow, decl.body)


# ---------------------------------------------------------------- clauses


def _clause_order(ctx: Context, decl: ast.WorkflowDecl) -> Iterator[Diagnostic]:
    """Clauses before the first action; `goal`, `existing`, `run on` once each."""
    first_action = min((s.span.start for s in decl.body), default=None)
    seen: dict[str, ast.Clause] = {}
    for clause in decl.clauses:
        what = _clause_name(clause)
        first = seen.setdefault(what, clause)
        repeated = first is not clause and what in ("goal", "existing", "run on")
        repeat_hint = _repeat_hint(ctx, what, first) if repeated else ()
        if first_action is not None and clause.span.start > first_action:
            yield diagnostic(
                "E302",
                f"`{what}` must come before the first action of the workflow",
                clause.span,
                "move settings and triggers to the top of the workflow",
                *repeat_hint,
            )
        elif repeated:
            message = f"a workflow has one `{what}`, but this one has more"
            yield diagnostic("E302", message, clause.span, *repeat_hint)


def _repeat_hint(ctx: Context, what: str, first: ast.Clause) -> tuple[str]:
    fix = "combine the conditions with `or`" if what == "goal" else "keep one"
    return (f"`{what}` is already given at {ctx.line_of(first.span)}; {fix}",)


def _clause_name(clause: ast.Clause) -> str:
    if isinstance(clause, ast.Trigger):
        return clause.kind.value
    return "existing" if isinstance(clause, ast.Existing) else "run on"


def _clause(ctx: Context, flow: _Flow, clause: ast.Clause) -> Iterator[Diagnostic]:
    if isinstance(clause, ast.RunWindow):
        window = (clause.start, clause.end, clause.span)
        yield from check_window(ctx, *window, "run window")
    elif isinstance(clause, ast.Trigger) and flow.record is not None:
        scope = Scope(flow.record, TRIGGER_PLACES[clause.kind])
        yield from check_condition(ctx, clause.condition, scope)


# ---------------------------------------------------------------- statements


def _statements(
    ctx: Context, flow: _Flow, body: Sequence[ast.Statement]
) -> Iterator[Diagnostic]:
    for statement in body:
        yield from _statement(ctx, flow, statement)


def _statement(
    ctx: Context, flow: _Flow, statement: ast.Statement
) -> Iterator[Diagnostic]:
    if isinstance(statement, ast.If):
        yield from _if(ctx, flow, statement)
    elif isinstance(statement, ast.BranchOn):
        yield from _branch_on(ctx, flow, statement)
    elif isinstance(statement, ast.Split):
        yield from _split(ctx, flow, statement)
    elif isinstance(statement, ast.WaitUntilDate):
        yield from _wait_until_date(ctx, flow, statement)
    elif isinstance(statement, ast.WaitUntilEvent):
        yield from _wait_until_event(ctx, statement)
    elif not isinstance(statement, ast.WaitFor | ast.WaitUntilWeekday):
        yield from _action(ctx, flow, statement)


def _if(ctx: Context, flow: _Flow, node: ast.If) -> Iterator[Diagnostic]:
    for arm in node.arms:
        if flow.record is not None:
            scope = Scope(flow.record, Place.BRANCH)
            yield from check_condition(ctx, arm.condition, scope)
        yield from _statements(ctx, flow, arm.body)
    yield from _statements(ctx, flow, node.otherwise or ())


def _branch_on(ctx: Context, flow: _Flow, node: ast.BranchOn) -> Iterator[Diagnostic]:
    for arm in node.arms:
        yield from _statements(ctx, flow, arm.body)
    yield from _statements(ctx, flow, node.otherwise or ())
    if flow.record is None:
        return

    prop = yield from resolve_ref(ctx, node.ref, flow.record)
    if prop is None:
        return
    if prop.type.kind not in _BRANCH_KINDS:
        yield diagnostic(
            "E201",
            f"cannot branch on `{node.ref.text()}`, a {prop.type.describe()} property",
            node.ref.span,
            f"`branch on` works on {kind_names(_BRANCH_KINDS)} properties",
            "use `if ... else if ...` for ranges and dates",
        )
        return

    seen: list[object] = []
    for arm in node.arms:
        for value in arm.values:
            yield from check_value(ctx, value, prop.type, node.ref.text())
            constant = convert(value, prop.type, ctx.zone)
            if isinstance(constant, LiteralError):
                continue
            if any(same_value(constant, other) for other in seen):
                yield diagnostic(
                    "E308",
                    f"`{node.ref.text()}` value {describe(value)} has a branch already",
                    value.span,
                    "the first matching branch wins, so this one never runs; "
                    "remove the repeat",
                )
            seen.append(constant)


def _split(ctx: Context, flow: _Flow, node: ast.Split) -> Iterator[Diagnostic]:
    for arm in node.arms:
        yield from _statements(ctx, flow, arm.body)
        if arm.share <= 0:
            yield diagnostic(
                "E303",
                f"a split share must be more than 0%, not {arm.percent}",
                arm.span,
                "remove the branch instead of giving it no share",
            )
    total = sum(arm.share for arm in node.arms)
    if abs(total - 100) > 1e-9:
        shares = " + ".join(arm.percent for arm in node.arms)
        yield diagnostic(
            "E303",
            f"split shares add up to {total:g}%, not 100%",
            node.span,
            f"change the shares ({shares}) so that they add up to 100%",
        )


def _wait_until_date(
    ctx: Context, flow: _Flow, node: ast.WaitUntilDate
) -> Iterator[Diagnostic]:
    if flow.record is None:
        return
    prop = yield from resolve_ref(ctx, node.ref, flow.record)
    if prop is not None and prop.type.kind not in (Kind.DATE, Kind.DATETIME):
        yield diagnostic(
            "E202",
            f"`wait until` needs a date or datetime property, but `{node.ref.text()}` "
            f"is a {prop.type.describe()} property",
            node.ref.span,
            "to wait for a change, use `wait until had EVENT ... for at most ...`",
        )


def _wait_until_event(ctx: Context, node: ast.WaitUntilEvent) -> Iterator[Diagnostic]:
    event = yield from resolve_event(ctx, node.event, lambda: _event_span(ctx, node))
    if event is not None and node.where is not None:
        yield from check_event_where(ctx, event, node.where, Place.WAIT)


def _event_span(ctx: Context, node: ast.WaitUntilEvent) -> Span:
    words = ctx.words(node.span)
    after_had = next((s.end for w, s in words if w == "had"), node.span.start)
    return ctx.word_span(node.span, node.event, after=after_had)


# ---------------------------------------------------------------- actions


def _action(ctx: Context, flow: _Flow, action: ast.Action) -> Iterator[Diagnostic]:
    if isinstance(action, ast.EnrollInSequence | ast.UnenrollFromSequence):
        yield from _sequence_action(ctx, flow, action)
    elif isinstance(action, ast.EnrollInWorkflow):
        yield from _enroll_in_workflow(ctx, flow, action)
    elif isinstance(action, ast.SetProperty | ast.ClearProperty):
        yield from _change_property(ctx, flow, action)
    elif isinstance(action, ast.AddToList | ast.RemoveFromList):
        yield from _list_action(ctx, flow, action)
    elif isinstance(action, ast.CreateTask | ast.RotateOwner):
        yield from _owner_action(ctx, flow, action)


def _sequence_action(
    ctx: Context, flow: _Flow, action: ast.EnrollInSequence | ast.UnenrollFromSequence
) -> Iterator[Diagnostic]:
    if flow.record is not None and flow.record.name != "contact":
        verb = "enroll" if isinstance(action, ast.EnrollInSequence) else "unenroll"
        yield diagnostic(
            "E309",
            f"only contacts are in sequences, but this workflow is on "
            f"`{flow.record.name}` records",
            action.span,
            f"{verb} the associated contacts from a contact workflow",
        )
    if action.sequence is not None:
        start = action.start if isinstance(action, ast.EnrollInSequence) else None
        yield from check_sequence_reference(ctx, action.sequence, start, action.span)
    if isinstance(action, ast.EnrollInSequence) and action.sender is not None:
        yield from check_sender(ctx, action.sender)


def _enroll_in_workflow(
    ctx: Context, flow: _Flow, action: ast.EnrollInWorkflow
) -> Iterator[Diagnostic]:
    target = ctx.workflow(action.workflow)
    if target is not None and target.object == flow.decl.object:
        return

    span = ctx.word_span(action.span, action.workflow, quoted=True)
    if target is None and not ctx.lost(WORKFLOW, action.workflow):
        yield diagnostic(
            "E107",
            f'unknown workflow `"{action.workflow}"`',
            span,
            *ctx.nearest(action.workflow, ctx.named[WORKFLOW]),
            *ctx.other_kinds(action.workflow, WORKFLOW),
        )
    elif target is not None and target.object != flow.decl.object:
        yield diagnostic(
            "E209",
            f'workflow `"{action.workflow}"` is on {target.object} records, '
            f"but this workflow is on {flow.decl.object} records",
            span,
            "a record can only be enrolled in workflows of its own object",
        )


def _change_property(
    ctx: Context, flow: _Flow, action: ast.SetProperty | ast.ClearProperty
) -> Iterator[Diagnostic]:
    verb = "set" if isinstance(action, ast.SetProperty) else "clear"
    ref = action.ref
    if ref.object is not None:
        yield diagnostic(
            "E208",
            f"`{verb}` changes the workflow's own record, not `{ref.object}`",
            ref.span,
            f"change `{ref.name}` in a workflow on `{ref.object}`",
        )
        return
    if flow.record is None:
        return

    prop = yield from resolve_ref(ctx, ref, flow.record)
    if prop is not None and flow.record.property(ref.name) is None:
        yield diagnostic(
            "E208",
            f"`{ref.name}` is maintained by the sequence runtime and cannot be "
            f"{'set' if verb == 'set' else 'cleared'}",
            ref.span,
            "rules may read it, but only enrolling and unenrolling changes it",
        )
    elif prop is not None and isinstance(action, ast.SetProperty):
        yield from check_value(ctx, action.value, prop.type, ref.text())


def _list_action(
    ctx: Context, flow: _Flow, action: ast.AddToList | ast.RemoveFromList
) -> Iterator[Diagnostic]:
    if flow.record is not None:
        yield from check_list_reference(ctx, action, flow.record.name)
    target = ctx.list_decl(action.list)
    if target is not None and target.kind is ast.ListKind.ACTIVE:
        verb = "added to" if isinstance(action, ast.AddToList) else "removed from"
        yield diagnostic(
            "E304",
            f'records cannot be {verb} active list `"{action.list}"`',
            ctx.word_span(action.span, action.list, quoted=True),
            "an active list is recomputed from its condition every run; "
            "use a static or manual list",
        )


def _owner_action(
    ctx: Context, flow: _Flow, action: ast.CreateTask | ast.RotateOwner
) -> Iterator[Diagnostic]:
    users = action.users if isinstance(action, ast.RotateOwner) else ()
    if isinstance(action, ast.CreateTask) and action.user is not None:
        users = (action.user,)
    if any(not user.strip() for user in users):
        yield diagnostic(
            "E202",
            "a user cannot have an empty name",
            action.span,
            "write the user's id or email between the quotes",
        )

    needs_owner = isinstance(action, ast.RotateOwner) or action.for_owner
    if flow.record is not None and needs_owner and not owner_property(flow.record):
        what = (
            "`rotate owner`" if isinstance(action, ast.RotateOwner) else "`for owner`"
        )
        yield no_owner(action.span, what, flow.record)
