"""Check stage, conditions: names and types in every condition of every rule.

A condition is checked in a :class:`Scope`: the record's object and the place it
stands in (a list, a workflow trigger, a branch...). The place decides what may
be used there (`changed` only in triggers, `since enrolled` only where there is
an enrollment). Inside `had E where` the fields of E are in scope, inside `any
deal where` the properties of deals.
"""

from __future__ import annotations

import enum
from collections.abc import Generator, Iterator, Mapping

import attrs

from seqdsl import ast
from seqdsl.check.context import EVENT, LIST, OBJECT, Context, Locate
from seqdsl.check.types import (
    PIECE_OPS,
    RELATIVE_OPS,
    check_duration,
    check_operator,
    check_value,
)
from seqdsl.diagnostics import Diagnostic, diagnostic
from seqdsl.schema import (
    BUILTIN_EVENTS,
    SEQUENCE_PROPERTIES,
    EventSchema,
    ObjectSchema,
    Property,
)
from seqdsl.source import Span


class Place(enum.Enum):
    """Where a condition stands; the value is how messages name the place."""

    LIST = "a list"
    ENROLL = "`enroll when`"
    REENROLL = "`reenroll when`"
    GOAL = "`goal`"
    SUPPRESS = "`suppress when`"
    UNENROLL = "`unenroll when`"
    BRANCH = "an `if` branch"
    WAIT = "`wait until had`"


_CHANGE_PLACES = frozenset({Place.ENROLL, Place.REENROLL})
_ENROLLED_PLACES = frozenset(
    {Place.GOAL, Place.SUPPRESS, Place.UNENROLL, Place.BRANCH, Place.WAIT}
)
TRIGGER_PLACES: Mapping[ast.TriggerKind, Place] = {
    ast.TriggerKind.ENROLL: Place.ENROLL,
    ast.TriggerKind.REENROLL: Place.REENROLL,
    ast.TriggerKind.GOAL: Place.GOAL,
    ast.TriggerKind.SUPPRESS: Place.SUPPRESS,
    ast.TriggerKind.UNENROLL: Place.UNENROLL,
}


@attrs.frozen
class Scope:
    """The record a condition reads and the place the condition stands in."""

    object: ObjectSchema
    place: Place


@attrs.frozen
class _Fields:
    """What plain names mean inside a `where`: event fields or an object's."""

    properties: Mapping[str, Property]
    owner: str
    code: str


def check_condition(
    ctx: Context, condition: ast.Condition, scope: Scope
) -> Iterator[Diagnostic]:
    """Every problem of a condition of the record in `scope`."""
    for node in leaves(condition):
        if isinstance(node, ast.PropertyTest):
            yield from _record_test(ctx, node, scope)
        elif isinstance(node, ast.InList):
            yield from check_list_reference(ctx, node, scope.object.name)
        elif isinstance(node, ast.Had):
            yield from _had(ctx, node, scope)
        elif isinstance(node, ast.Quantified):
            yield from _quantified(ctx, node, scope)


def leaves(condition: ast.Condition) -> Iterator[ast.Condition]:
    """The leaves of the `and`/`or`/`not` structure, in source order.

    `where` clauses are not entered. Iterative: conditions can be long chains.
    """
    stack = [condition]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.And | ast.Or):
            stack.extend(reversed(node.items))
        elif isinstance(node, ast.Not):
            stack.append(node.item)
        else:
            yield node


ListReference = ast.InList | ast.AddToList | ast.RemoveFromList


def check_list_reference(
    ctx: Context, node: ListReference, object: str
) -> Iterator[Diagnostic]:
    """`in list "L"` and list actions: L exists and holds `object` records."""
    name = node.name if isinstance(node, ast.InList) else node.list
    found = ctx.list_decl(name)
    if found is None:
        if not ctx.lost(LIST, name):
            yield diagnostic(
                "E105",
                f'unknown list `"{name}"`',
                ctx.word_span(node.span, name, quoted=True),
                *ctx.nearest(name, ctx.named[LIST]),
                *ctx.other_kinds(name, LIST),
            )
    elif found.object_type != object:
        yield diagnostic(
            "E209",
            f'list `"{name}"` holds {found.object_type} records, '
            f"but this rule is about {object} records",
            ctx.word_span(node.span, name, quoted=True),
            "use a list of contacts (declared without `on`)"
            if object == "contact"
            else f"use a list declared with `on {object}`",
        )


# ---------------------------------------------------------------- property tests


def _record_test(
    ctx: Context, test: ast.PropertyTest, scope: Scope
) -> Iterator[Diagnostic]:
    yield from _place_of_change(test, scope.place)
    prop = yield from resolve_ref(ctx, test.ref, scope.object)
    if prop is not None:
        yield from check_test(ctx, test, prop)


def _place_of_change(test: ast.PropertyTest, place: Place) -> Iterator[Diagnostic]:
    if test.op in ast.CHANGE_OPS and place not in _CHANGE_PLACES:
        yield diagnostic(
            "E204",
            f"`{test.op.value}` cannot be used in {place.value}",
            test.span,
            "a change is an edge seen between two runs; only `enroll when` and "
            "`reenroll when` react to it",
        )


def check_test(
    ctx: Context, test: ast.PropertyTest, prop: Property
) -> Iterator[Diagnostic]:
    """The operator, the duration and the values of one property test."""
    problems = list(check_operator(test, prop))
    yield from problems
    if problems:
        return
    if test.duration is not None:
        # `updated in last` reads the time of the change: always an instant
        relative = test.op in RELATIVE_OPS
        kind = prop.type.kind if relative else None
        what = f"`{test.op.value}`" if relative else "`updated in last`"
        yield from check_duration(test.duration, kind, what)
    whole = test.op not in PIECE_OPS
    shown = test.ref.text()
    for value in test.values:
        yield from check_value(ctx, value, prop.type, shown, whole=whole)


def resolve_ref(
    ctx: Context, ref: ast.Ref, record: ObjectSchema
) -> Generator[Diagnostic, None, Property | None]:
    """The property a reference of the record names, or None after reporting.

    A generator that returns its result: callers write `x = yield from ...`.
    """
    owner = record
    if ref.object is not None:
        name = ref.object
        found = yield from resolve_object(
            ctx, name, lambda: ctx.word_span(ref.span, name)
        )
        if found is None:
            return None
        owner = found

    prop = owner.property(ref.name)
    if prop is None and owner.name == "contact":
        prop = SEQUENCE_PROPERTIES.get(ref.name)
    if prop is None:
        yield _unknown_property(ctx, ref, owner, record)
    return prop


def _unknown_property(
    ctx: Context, ref: ast.Ref, owner: ObjectSchema, record: ObjectSchema
) -> Diagnostic:
    span = ctx.word_span(ref.span, ref.name, after=_name_start(ref))
    candidates = list(owner.properties)
    if owner.name == "contact":
        candidates.extend(SEQUENCE_PROPERTIES)
    hints = list(ctx.nearest(ref.name, candidates))
    if ref.object is None:
        hints.extend(_elsewhere(ctx, ref.name, record))
    return diagnostic(
        "E101",
        f"unknown property `{ref.name}` of `{owner.name}`",
        span,
        *hints,
    )


def _name_start(ref: ast.Ref) -> int:
    """Where the property name starts: after `company.` when there is one."""
    if ref.object is None:
        return ref.span.start
    return ref.span.start + len(ref.object) + 1


def _elsewhere(ctx: Context, name: str, record: ObjectSchema) -> list[str]:
    """Hints for a plain name that is another object's property, or an event."""
    hints = [
        f"`{other.name}` has a property `{name}`: write `{other.name}.{name}`"
        for other in ctx.schema.objects.values()
        if other.name != record.name and name in other.properties
    ][:2]
    if ctx.schema.event(name) is not None:
        hints.append(f"there is an event called `{name}`: write `had {name}`")
    return hints


def resolve_object(
    ctx: Context, name: str, locate: Locate
) -> Generator[Diagnostic, None, ObjectSchema | None]:
    """The schema of object `name`, or None after reporting it unknown."""
    found = ctx.schema.object(name)
    if found is None and not ctx.lost(OBJECT, name):
        hints = list(ctx.nearest(name, ctx.schema.objects))
        if ctx.schema.event(name) is not None:
            hints.append(f"`{name}` is an event: write `had {name} where ...`")
        yield diagnostic("E102", f"unknown object `{name}`", locate(), *hints)
    return found


# ---------------------------------------------------------------- events


def _had(ctx: Context, node: ast.Had, scope: Scope) -> Iterator[Diagnostic]:
    if node.window is not None:
        yield from _window(node.window, scope.place)
    locate = lambda: _event_span(ctx, node)  # noqa: E731
    event = yield from resolve_event(ctx, node.event, locate)
    if event is not None and node.where is not None:
        fields = _Fields(event.fields, f"event `{event.name}`", "E104")
        yield from _where(ctx, node.where, fields, scope.place)


def _event_span(ctx: Context, node: ast.Had) -> Span:
    words = ctx.words(node.span)
    position = 2 if node.negated else 1
    if len(words) > position and words[position][0] == node.event:
        return words[position][1]
    return ctx.word_span(node.span, node.event)


def resolve_event(
    ctx: Context, name: str, locate: Locate
) -> Generator[Diagnostic, None, EventSchema | None]:
    """The schema of event `name` (declared or built in), or None."""
    found = ctx.schema.event(name)
    if found is None and not ctx.lost(EVENT, name):
        hints = list(ctx.nearest(name, [*ctx.schema.events, *BUILTIN_EVENTS]))
        other = _object_named(ctx, name)
        if other is not None:
            hints.append(f"`{other}` is an object: write `any {other} where ...`")
        yield diagnostic("E103", f"unknown event `{name}`", locate(), *hints)
    return found


def _window(window: ast.Window, place: Place) -> Iterator[Diagnostic]:
    if isinstance(window, ast.LastWindow):
        yield from check_duration(window.duration, None, "an event window")
    elif place not in _ENROLLED_PLACES:
        yield diagnostic(
            "E205",
            f"`since enrolled` cannot be used in {place.value}",
            window.span,
            "there is no enrollment there; use a window like `in last 30 days`",
        )


def check_event_where(
    ctx: Context, event: EventSchema, where: ast.Condition, place: Place
) -> Iterator[Diagnostic]:
    """The `where` clause of an event: tests on the event's fields."""
    fields = _Fields(event.fields, f"event `{event.name}`", "E104")
    yield from _where(ctx, where, fields, place)


# ---------------------------------------------------------------- associations


def _quantified(
    ctx: Context, node: ast.Quantified, scope: Scope
) -> Iterator[Diagnostic]:
    name = _object_named(ctx, node.object)
    if name is None:
        locate = lambda: ctx.word_span(node.span, node.object)  # noqa: E731
        yield from resolve_object(ctx, node.object, locate)
        return
    found = ctx.schema.objects[name]
    fields = _Fields(found.properties, f"`{name}`", "E101")
    yield from _where(ctx, node.where, fields, scope.place)


def _object_named(ctx: Context, word: str) -> str | None:
    """The object a word names, plural or not: `deals` and `companies` work."""
    singular = (word.removesuffix("s"), word.removesuffix("ies") + "y")
    for candidate in (word, *singular):
        if candidate in ctx.schema.objects:
            return candidate
    return None


# ---------------------------------------------------------------- where clauses


def _where(
    ctx: Context, condition: ast.Condition, fields: _Fields, place: Place
) -> Iterator[Diagnostic]:
    """Tests inside `where`: names of the event or the associated object."""
    for node in leaves(condition):
        if not isinstance(node, ast.PropertyTest):
            continue  # the grammar allows only property tests here
        if node.op in ast.CHANGE_OPS:
            yield _change_in_where(node, fields)
            continue
        prop = fields.properties.get(node.ref.name)
        if node.ref.object is not None:
            yield diagnostic(
                fields.code,
                f"`{node.ref.text()}` cannot be used inside `where`; "
                f"names there are {_what(fields)} of {fields.owner}",
                node.ref.span,
                f"test `{node.ref.text()}` outside the `where` clause",
            )
        elif prop is None:
            yield _unknown_field(ctx, node.ref, fields)
        else:
            yield from check_test(ctx, node, prop)


def _change_in_where(test: ast.PropertyTest, fields: _Fields) -> Diagnostic:
    return diagnostic(
        "E204",
        f"`{test.op.value}` cannot be used inside `where`",
        test.span,
        f"only the record's own properties change between runs, not the "
        f"{_what(fields)} of {fields.owner}",
    )


def _what(fields: _Fields) -> str:
    return "fields" if fields.code == "E104" else "properties"


def _unknown_field(ctx: Context, ref: ast.Ref, fields: _Fields) -> Diagnostic:
    kind = "field" if fields.code == "E104" else "property"
    hints = ctx.nearest(ref.name, fields.properties)
    if not fields.properties and fields.code == "E104":
        hints = (f"{fields.owner} has no fields",)
    return diagnostic(
        fields.code,
        f"unknown {kind} `{ref.name}` of {fields.owner}",
        ref.span,
        *hints,
    )
