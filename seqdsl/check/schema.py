"""Check stage, schema: `object` and `event` declarations to a typed Schema.

:func:`build_schema` turns the declarations into :class:`~seqdsl.schema.Schema`
(the first declaration of a name wins, as does the first property of a name);
:func:`check_schema` is the pass that reports what the build silently skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from types import MappingProxyType

from seqdsl import ast
from seqdsl.check.context import Context
from seqdsl.diagnostics import Diagnostic, diagnostic
from seqdsl.schema import (
    BUILTIN_EVENTS,
    EventSchema,
    Kind,
    ObjectSchema,
    Option,
    Property,
    Schema,
    Type,
)


def build_schema(declarations: Iterable[ast.Declaration]) -> Schema:
    """The schema declared by `object` and `event` declarations."""
    objects: dict[str, ObjectSchema] = {}
    events: dict[str, EventSchema] = {}
    for declaration in declarations:
        if isinstance(declaration, ast.ObjectDecl):
            properties = _properties(declaration.properties)
            objects.setdefault(
                declaration.name, ObjectSchema(declaration.name, properties)
            )
        elif isinstance(declaration, ast.EventDecl):
            if declaration.name in BUILTIN_EVENTS:
                continue
            fields = _properties(declaration.fields)
            events.setdefault(declaration.name, EventSchema(declaration.name, fields))
    return Schema(MappingProxyType(objects), MappingProxyType(events))


def _properties(decls: Iterable[ast.PropertyDecl]) -> MappingProxyType[str, Property]:
    found: dict[str, Property] = {}
    for decl in decls:
        prop = Property(decl.name, _type(decl.type), decl.label, decl.deprecated)
        found.setdefault(decl.name, prop)
    return MappingProxyType(found)


def _type(expr: ast.TypeExpr) -> Type:
    options: dict[str, Option] = {}
    for option in expr.options:
        options.setdefault(option.value.casefold(), Option(option.value, option.label))
    return Type(Kind(expr.kind), tuple(options.values()), expr.ordered)


def check_schema(ctx: Context) -> Iterator[Diagnostic]:
    """Repeated properties, fields and options, and redeclared builtin events."""
    for declaration in ctx.declarations:
        if isinstance(declaration, ast.ObjectDecl):
            yield from _repeated_properties(declaration.properties, "property")
        elif isinstance(declaration, ast.EventDecl):
            yield from _repeated_properties(declaration.fields, "field")
            if declaration.name in BUILTIN_EVENTS:
                yield _builtin(declaration)


def _builtin(declaration: ast.EventDecl) -> Diagnostic:
    fields = BUILTIN_EVENTS[declaration.name].fields
    shown = ", ".join(f"`{name}`" for name in fields) or "none"
    return diagnostic(
        "E109",
        f"event `{declaration.name}` is built in and cannot be declared again",
        declaration.name_span,
        f"remove this declaration; its fields are fixed ({shown})",
    )


def _repeated_properties(
    decls: Iterable[ast.PropertyDecl], what: str
) -> Iterator[Diagnostic]:
    seen: dict[str, ast.PropertyDecl] = {}
    for decl in decls:
        first = seen.setdefault(decl.name, decl)
        if first is not decl:
            yield diagnostic(
                "E111",
                f"{what} `{decl.name}` is declared twice",
                decl.span,
                "remove one of the two declarations",
            )
        yield from _repeated_options(decl)


def _repeated_options(decl: ast.PropertyDecl) -> Iterator[Diagnostic]:
    seen: set[str] = set()
    for option in decl.type.options:
        folded = option.value.casefold()
        if folded in seen:
            yield diagnostic(
                "E111",
                f"option `{option.value}` of `{decl.name}` is listed twice",
                option.span,
                "options are compared ignoring case; remove the repeat",
            )
        seen.add(folded)
