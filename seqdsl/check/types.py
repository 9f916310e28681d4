"""Check stage, types: which operator fits which kind, and literals against types.

The table :data:`OPERATOR_KINDS` is the one place that says, for instance, that
`<` works on numbers, dates and ordered enums. Literals are read with
:func:`seqdsl.literals.convert`, the same function the compiler uses, so the
checker and the plan never disagree about what a value means.
"""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Iterator, Mapping

from seqdsl import ast
from seqdsl.check.context import Context
from seqdsl.diagnostics import Diagnostic, diagnostic
from seqdsl.literals import LiteralError, convert, describe
from seqdsl.schema import Kind, Property, Type

Op = ast.Op
_ALL = frozenset(Kind)
_TEXT = frozenset({Kind.STRING, Kind.OWNER, Kind.TIMEZONE})
_INSTANT = frozenset({Kind.DATE, Kind.DATETIME})
_RANGE = frozenset({Kind.NUMBER, Kind.DATE, Kind.DATETIME})
_ORDERED = frozenset({*_RANGE, Kind.ENUM})
_MEMBER = frozenset({Kind.STRING, Kind.NUMBER, Kind.ENUM, Kind.OWNER, Kind.TIMEZONE})

#: The property kinds each operator accepts.
OPERATOR_KINDS: Mapping[Op, frozenset[Kind]] = {
    Op.IS: _ALL - {Kind.SET},
    Op.IS_NOT: _ALL - {Kind.SET},
    Op.LT: _ORDERED,
    Op.LE: _ORDERED,
    Op.GT: _ORDERED,
    Op.GE: _ORDERED,
    Op.IS_ANY_OF: _MEMBER,
    Op.IS_NONE_OF: _MEMBER,
    Op.CONTAINS: _TEXT,
    Op.NOT_CONTAINS: _TEXT,
    Op.STARTS_WITH: _TEXT,
    Op.NOT_STARTS_WITH: _TEXT,
    Op.ENDS_WITH: _TEXT,
    Op.NOT_ENDS_WITH: _TEXT,
    Op.CONTAINS_ANY: frozenset({Kind.SET, Kind.STRING}),
    Op.CONTAINS_NONE: frozenset({Kind.SET, Kind.STRING}),
    Op.CONTAINS_ALL: frozenset({Kind.SET}),
    Op.IS_EXACTLY: frozenset({Kind.SET}),
    Op.IS_KNOWN: _ALL,
    Op.IS_UNKNOWN: _ALL,
    Op.BETWEEN: _RANGE,
    Op.NOT_BETWEEN: _RANGE,
    Op.BEFORE: _INSTANT,
    Op.AFTER: _INSTANT,
    Op.ON: _INSTANT,
    Op.IN_LAST: _INSTANT,
    Op.IN_NEXT: _INSTANT,
    Op.MORE_THAN_AGO: _INSTANT,
    Op.MORE_THAN_AHEAD: _INSTANT,
    Op.EVER_BEEN: _ALL - {Kind.SET},
    Op.NEVER_BEEN: _ALL - {Kind.SET},
    Op.UPDATED_IN_LAST: _ALL,
    Op.CHANGED: _ALL,
    Op.CHANGED_TO: _ALL,
    Op.CHANGED_FROM_TO: _ALL,
}

_ORDER_OPS = frozenset({Op.LT, Op.LE, Op.GT, Op.GE})
#: The operators whose values are pieces of text rather than whole values.
PIECE_OPS = frozenset(
    {
        Op.CONTAINS,
        Op.NOT_CONTAINS,
        Op.STARTS_WITH,
        Op.NOT_STARTS_WITH,
        Op.ENDS_WITH,
        Op.NOT_ENDS_WITH,
    }
)
#: The operators that compare with "now".
RELATIVE_OPS = frozenset({Op.IN_LAST, Op.IN_NEXT, Op.MORE_THAN_AGO, Op.MORE_THAN_AHEAD})
_KIND_ORDER = tuple(Kind)

#: How each operator is written, for messages (the AST's spelling is canonical,
#: but two of them read better in full).
_SPELLING = {
    Op.MORE_THAN_AGO: "is more than ... ago",
    Op.MORE_THAN_AHEAD: "is more than ... from now",
}


def spelling(op: Op) -> str:
    return _SPELLING.get(op, op.value)


def kind_names(kinds: frozenset[Kind]) -> str:
    """`number, date and datetime`: kinds in a stable order, for messages."""
    names = [kind.value for kind in _KIND_ORDER if kind in kinds]
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]


def check_operator(test: ast.PropertyTest, prop: Property) -> Iterator[Diagnostic]:
    """The operator of `test` against the type of the property it reads."""
    kind = prop.type.kind
    shown = test.ref.text()
    if test.op in _ORDER_OPS and kind is Kind.ENUM and not prop.type.ordered:
        yield diagnostic(
            "E206",
            f"`{test.op.value}` compares positions, but the enum `{shown}` "
            "is not ordered",
            test.span,
            f"add `ordered` after the options of `{prop.name}` in its declaration",
            "or compare with `is any of [...]`",
        )
        return

    if kind in OPERATOR_KINDS[test.op]:
        return
    yield diagnostic(
        "E201",
        f"`{spelling(test.op)}` cannot be used on `{shown}`, "
        f"a {prop.type.describe()} property",
        test.span,
        *_operator_hints(test.op, kind),
    )


def _operator_hints(op: Op, kind: Kind) -> tuple[str, ...]:
    kinds = kind_names(OPERATOR_KINDS[op])
    if op in _ORDER_OPS:
        kinds = kinds.replace("enum", "ordered enum")
    works = f"`{spelling(op)}` works on {kinds} properties"
    if kind is Kind.SET and op in (Op.IS, Op.IS_NOT, Op.EVER_BEEN, Op.NEVER_BEEN):
        return ("for sets write `contains any of [...]` or `is exactly [...]`",)
    if kind is Kind.SET and op in (Op.IS_ANY_OF, Op.CONTAINS):
        return ("for sets write `contains any of [...]`",)
    if kind is Kind.SET and op in (Op.IS_NONE_OF, Op.NOT_CONTAINS):
        return ("for sets write `contains none of [...]`",)
    if kind is Kind.ENUM and op in (Op.CONTAINS, Op.CONTAINS_ANY):
        return (works, "for enums write `is any of [...]`")
    if kind is Kind.BOOL and op in (Op.IS_ANY_OF, Op.IS_NONE_OF):
        return (works, "for a bool write `is true` or `is false`")
    return (works,)


def check_duration(
    duration: ast.Duration, kind: Kind | None, what: str
) -> Iterator[Diagnostic]:
    """Units of a relative window: no business days; minutes and hours need times."""
    if duration.unit is ast.Unit.BUSINESS_DAYS:
        yield diagnostic(
            "E203",
            f"business days cannot be used in {what}",
            duration.span,
            "count calendar days instead: "
            f"`{ast.Duration(duration.amount, ast.Unit.DAYS).text()}`",
        )
    elif kind is Kind.DATE and duration.unit in (ast.Unit.MINUTES, ast.Unit.HOURS):
        yield diagnostic(
            "E203",
            f"`{duration.text()}` is finer than a day, but the property is a date",
            duration.span,
            "use days or weeks, or declare the property as a datetime",
        )


def check_value(
    ctx: Context, value: ast.Value, type_: Type, shown: str, *, whole: bool = True
) -> Iterator[Diagnostic]:
    """One literal against the type of the property `shown`.

    `whole` is false for text tests (`contains`, `starts with`...), whose values are
    pieces of a value: a piece of a time zone name is not itself a time zone.
    """
    result = convert(value, type_, ctx.zone)
    if isinstance(result, LiteralError):
        yield _literal_problem(ctx, value, type_, shown, result)
    elif whole and type_.kind is Kind.TIMEZONE and isinstance(result, str):
        yield from _check_zone(ctx, value, result)


def _literal_problem(
    ctx: Context, value: ast.Value, type_: Type, shown: str, problem: LiteralError
) -> Diagnostic:
    hints = (problem.hint,) if problem.hint else ()
    is_word = isinstance(
        value, ast.WordValue | ast.StringValue | ast.NumberValue | ast.BoolValue
    )
    if type_.kind in (Kind.ENUM, Kind.SET) and is_word:
        word = describe(value).strip("`").strip('"')
        options = [o.value for o in type_.options]
        options += [o.label for o in type_.options if o.label is not None]
        return diagnostic(
            "E108",
            f"`{word}` is not an option of `{shown}`",
            value.span,
            *ctx.nearest(word, options),
            *hints,
        )
    if problem.message.endswith("is not a valid date and time"):
        return diagnostic("E207", problem.message, value.span, *hints)
    if "the property" in problem.message:
        message = problem.message.replace("the property", f"`{shown}`")
    else:
        message = f"{problem.message}; `{shown}` is a {type_.describe()} property"
    return diagnostic("E202", message, value.span, *hints)


def _check_zone(ctx: Context, value: ast.Value, name: str) -> Iterator[Diagnostic]:
    if name in _zones():
        return
    yield diagnostic(
        "E207",
        f"`{name}` is not a time zone",
        value.span,
        *(ctx.nearest(name, _zones()) or ("use a name such as `America/New_York`",)),
    )


@functools.cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def same_value(left: object, right: object) -> bool:
    """Two converted constants equal as the engines compare them (text ignores case)."""
    if isinstance(left, str) and isinstance(right, str):
        return left.casefold() == right.casefold()
    return left == right
