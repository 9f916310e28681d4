"""Check stage, lists: each list's object, kind and condition, and list cycles.

Also checks the `enroll list "L" in sequence "S"` rules, which name a list and a
sequence and so are checked once both are known.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator

from seqdsl import ast
from seqdsl.check.conditions import (
    Place,
    Scope,
    check_condition,
    check_list_reference,
    resolve_object,
)
from seqdsl.check.context import OBJECT, Context
from seqdsl.check.graph import build_graph, cycles
from seqdsl.check.sequences import check_sender, check_sequence_reference
from seqdsl.diagnostics import Diagnostic, diagnostic
from seqdsl.schema import ObjectSchema


def check_lists(ctx: Context) -> Iterator[Diagnostic]:
    """Every list declaration, then the cycles between lists."""
    for declaration in ctx.declarations:
        if isinstance(declaration, ast.ListDecl):
            yield from _check_list(ctx, declaration)
    yield from _cycles(ctx)


def _check_list(ctx: Context, decl: ast.ListDecl) -> Iterator[Diagnostic]:
    yield from _kind(decl)
    record = yield from _object(ctx, decl)
    if record is not None and decl.condition is not None:
        yield from check_condition(ctx, decl.condition, Scope(record, Place.LIST))


def _object(
    ctx: Context, decl: ast.ListDecl
) -> Generator[Diagnostic, None, ObjectSchema | None]:
    """The list's object, reported when unknown (a list is of contacts by default)."""
    found = ctx.schema.object(decl.object_type)
    if found is not None or ctx.lost(OBJECT, decl.object_type):
        return found
    if decl.object is not None:
        name, after = decl.object, decl.name_span.end
        locate = lambda: ctx.word_span(decl.span, name, after=after)  # noqa: E731
        return (yield from resolve_object(ctx, name, locate))
    yield diagnostic(
        "E102",
        "unknown object `contact`: lists are of contacts unless they say otherwise",
        decl.name_span,
        "declare `object contact { ... }`, or name the object with `on`",
    )
    return None


def _kind(decl: ast.ListDecl) -> Iterator[Diagnostic]:
    shown = f'"{decl.name}"'
    if decl.kind is ast.ListKind.MANUAL and decl.condition is not None:
        yield diagnostic(
            "E304",
            f"manual list `{shown}` cannot have a condition",
            decl.condition.span,
            "manual lists take their members from the memberships data; "
            "make it `active` or `static` to compute them",
        )
    elif decl.kind is not ast.ListKind.MANUAL and decl.condition is None:
        yield diagnostic(
            "E304",
            f"{decl.kind.value} list `{shown}` needs a condition",
            decl.name_span,
            f'write the condition in braces: list "{decl.name}" {decl.kind.value} '
            "{ ... }, or make it `manual`",
        )


def _cycles(ctx: Context) -> Iterator[Diagnostic]:
    lists = ctx.lists()
    graph = build_graph(lists)
    for cycle in cycles(graph):
        first, second = cycle[0], cycle[1]
        reference = next(ref for ref in graph[first] if ref.name == second)
        spelled = " -> ".join(f'"{name}"' for name in cycle)
        yield diagnostic(
            "E301",
            f"lists refer to each other in a cycle: {spelled}",
            reference.span,
            "a list cannot depend on itself; remove one of the `in list` references",
        )


def check_list_enrollments(ctx: Context) -> Iterator[Diagnostic]:
    """`enroll list "L" in sequence "S"`: L is a contact list, S and its step exist."""
    for declaration in ctx.declarations:
        if isinstance(declaration, ast.ListEnrollment):
            yield from _list_enrollment(ctx, declaration)


def _list_enrollment(ctx: Context, rule: ast.ListEnrollment) -> Iterator[Diagnostic]:
    yield from check_list_reference(ctx, _as_reference(rule), "contact")
    yield from check_sequence_reference(ctx, rule.sequence, rule.start, rule.span)
    if rule.sender is not None:
        yield from check_sender(ctx, rule.sender)


def _as_reference(rule: ast.ListEnrollment) -> ast.InList:
    """The list part of the rule, spanned on the rule so the name can be found."""
    return ast.InList(rule.list, span=rule.span)
