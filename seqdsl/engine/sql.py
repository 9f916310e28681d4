"""Engine stage, SQL builders: plan values, tests and expressions as sqlglot trees.

These functions say in SQL what :mod:`seqdsl.engine.reference` says in Python, one
function per concept, so the two can be read side by side: how a stored value is
normalised, how each core test treats an unknown value (false, never NULL), how a
history row's text is read as a typed value. Constants become typed literals and
run parameters `$name` placeholders; no value is ever pasted into SQL text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence

from sqlglot import exp

from seqdsl import plan as p
from seqdsl.literals import Constant
from seqdsl.schema import Kind, Type

__all__ = [
    "Sql",
    "col",
    "constant",
    "create_statement",
    "expr_sql",
    "history_value_sql",
    "param",
    "parameters_of",
    "select",
    "table",
    "test_sql",
    "value_sql",
]

#: Any SQL expression node (sqlglot's common base class).
Sql = exp.Expr

# history text that reads as a value; the reference engine uses the same patterns
NUMBER_TEXT = r" *[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)? *"
DATE_TEXT = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
INSTANT_TEXT = DATE_TEXT + r"[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
OFFSET_TEXT = r"(Z|[+-][0-9]{2}:[0-9]{2})"
TRUE_WORDS = ("true", "yes", "1")
FALSE_WORDS = ("false", "no", "0")

# ---------------------------------------------------------------- small builders


def ident(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def col(name: str, table_: str | None = None) -> exp.Column:
    return exp.column(name, table=table_, quoted=True)


def table(name: str, alias: str | None = None) -> exp.Table:
    found = exp.Table(this=ident(name))
    if alias:
        found.set("alias", exp.TableAlias(this=ident(alias)))
    return found


def text(value: str) -> exp.Literal:
    return exp.Literal.string(value)


def number(value: int) -> Sql:
    return exp.Literal.number(value)


def func(name: str, *args: Sql) -> Sql:
    """A DuckDB function sqlglot has no node for."""
    return exp.Anonymous(this=name, expressions=list(args))


def is_null(value: Sql) -> Sql:
    return exp.Is(this=value, expression=exp.null())


def false_if_null(condition: Sql) -> Sql:
    return exp.func("coalesce", condition, exp.false())


def all_of(items: Sequence[Sql]) -> Sql:
    return exp.and_(*items, copy=False) if items else exp.true()


def any_of(items: Sequence[Sql]) -> Sql:
    return exp.or_(*items, copy=False) if items else exp.false()


def negate(condition: Sql) -> Sql:
    return exp.not_(condition, copy=False)


def named(value: Sql, name: str) -> Sql:
    return exp.alias_(value, name, quoted=True, copy=False)


def select(
    columns: Iterable[Sql],
    source: Sql,
    *,
    joins: Iterable[tuple[Sql, Sql, str]] = (),
    where: Sequence[Sql] = (),
    group_by: Sequence[Sql] = (),
) -> exp.Select:
    """A SELECT built in place (sqlglot's builders copy the tree at each step)."""
    query = exp.select(*columns, copy=False).from_(source, copy=False)
    for target, on, kind in joins:
        query = query.join(target, on=on, join_type=kind, copy=False)
    if where:
        query = query.where(*where, copy=False)
    if group_by:
        query = query.group_by(*group_by, copy=False)
    return query


def create_statement(name: str, query: exp.Query) -> exp.Create:
    """`CREATE OR REPLACE TEMP TABLE name AS query`."""
    return exp.Create(
        this=table(name),
        kind="TABLE",
        expression=query,
        replace=True,
        properties=exp.Properties(expressions=[exp.TemporaryProperty()]),
    )


_TYPES: dict[str, exp.DataType] = {}


def cast(value: Sql, type_: str, safe: bool = False) -> Sql:
    """`CAST(value AS type_)`, or `TRY_CAST` when `safe`; types are parsed once."""
    if type_ not in _TYPES:
        _TYPES[type_] = exp.DataType.build(type_, dialect="duckdb")
    kind = exp.TryCast if safe else exp.Cast
    return kind(this=value, to=_TYPES[type_].copy())


def param(param_: p.Param) -> Sql:
    """A run parameter as a typed `$name` placeholder."""
    kind = "DATE" if param_.is_date else "TIMESTAMPTZ"
    return cast(exp.Placeholder(this=param_.name), kind)


def parameters_of(tree: Sql) -> set[str]:
    """The names of the `$name` parameters a statement reads."""
    return {str(node.this) for node in tree.find_all(exp.Placeholder)}


def constant(value: Constant) -> Sql:
    """A typed SQL literal for a plan constant."""
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, float | int):
        return cast(exp.Literal.number(repr(float(value))), "DOUBLE")
    if isinstance(value, dt.datetime):
        return cast(text(value.isoformat()), "TIMESTAMPTZ")
    if isinstance(value, dt.date):
        return cast(text(value.isoformat()), "DATE")
    return text(value)


def operand(value: p.Operand) -> Sql:
    return param(value) if isinstance(value, p.Param) else constant(value)


def text_list(values: Iterable[str]) -> Sql:
    return cast(exp.Array(expressions=[text(v) for v in values]), "VARCHAR[]")


# ---------------------------------------------------------------- values and tests


def value_sql(field: p.Field, column: Sql) -> Sql:
    """A stored value as tests compare it: text lower-cased, empty text unknown."""
    if field.kind.is_textual:
        return exp.Lower(this=exp.Nullif(this=column, expression=text("")))
    if field.kind is Kind.ENUM:
        return exp.Nullif(this=column, expression=text(""))
    return column


def test_sql(test: p.Test, field: p.Field, value: Sql) -> Sql:
    """A core test of a normalised value; false, never NULL, when it is unknown."""
    if field.kind is Kind.SET:
        return _set_test(test, value)
    if isinstance(test, p.Known):
        return is_null(value) if test.negate else negate(is_null(value))
    if isinstance(test, p.OneOf):
        inside: Sql = value.isin(*(operand(v) for v in test.values), copy=False)
    elif isinstance(test, p.InRange):
        inside = all_of(_bounds(test, value))
    elif isinstance(test, p.TextMatch):
        inside = any_of([_text_match(test.mode, value, v) for v in test.values])
    else:
        raise ValueError(f"internal error: {test!r} on a {field.kind.value} value")
    return false_if_null(negate(exp.paren(inside)) if test.negate else inside)


def _bounds(test: p.InRange, value: Sql) -> list[Sql]:
    found: list[Sql] = []
    if test.low is not None:
        low = operand(test.low)
        found.append(
            exp.GT(this=value, expression=low)
            if test.low_open
            else exp.GTE(this=value, expression=low)
        )
    if test.high is not None:
        high = operand(test.high)
        found.append(
            exp.LT(this=value.copy(), expression=high)
            if test.high_open
            else exp.LTE(this=value.copy(), expression=high)
        )
    return found


def _text_match(mode: p.TextMode, value: Sql, needle: str) -> Sql:
    if mode is p.TextMode.CONTAINS:
        return exp.Contains(this=value.copy(), expression=text(needle))
    if mode is p.TextMode.STARTS:
        return exp.StartsWith(this=value.copy(), expression=text(needle))
    return exp.EndsWith(this=value.copy(), expression=text(needle))


def _set_test(test: p.Test, value: Sql) -> Sql:
    """Set tests; an empty set is unknown, like a missing one."""
    size = exp.ArraySize(this=value.copy())
    known = false_if_null(exp.GT(this=size, expression=number(0)))
    if isinstance(test, p.Known):
        return negate(known) if test.negate else known
    if not isinstance(test, p.SetMatch):
        raise ValueError(f"internal error: {test!r} on a set")
    wanted = text_list(test.values)
    overlap = func("list_has_any", value, wanted)
    checks = {
        p.SetMode.ANY: overlap,
        p.SetMode.ALL: func("list_has_all", value.copy(), wanted.copy()),
        p.SetMode.NONE: negate(overlap.copy()),
        p.SetMode.EXACTLY: exp.and_(
            func("list_has_all", value.copy(), wanted.copy()),
            func("list_has_all", wanted.copy(), value.copy()),
            copy=False,
        ),
    }
    return false_if_null(exp.and_(known, checks[test.mode], copy=False))


def held_sql(kind: Kind, value: Sql, values: Sequence[Constant]) -> Sql:
    """A normalised value is one of `values` (a set holds one of them)."""
    if kind is Kind.SET:
        return func("list_has_any", value, text_list(str(v) for v in values))
    return value.isin(*(constant(v) for v in values), copy=False)


# ---------------------------------------------------------------- history text


def history_value_sql(value: Sql, type_: Type, zone: str) -> Sql:
    """A history row's text read as the property's type, normalised like values.

    Text that does not strictly read as the type is unknown; the reference engine
    reads it with the same patterns.
    """
    kind = type_.kind
    if kind.is_textual or kind is Kind.ENUM:
        return value_sql(p.Field(p.Own(""), "", type_), value)
    if kind is Kind.NUMBER:
        trimmed = cast(exp.Trim(this=value.copy()), "DOUBLE", safe=True)
        return _when_matches(value, NUMBER_TEXT, trimmed)
    if kind is Kind.BOOL:
        word = exp.Lower(this=exp.Trim(this=value))
        return (
            exp.Case()
            .when(word.isin(*map(text, TRUE_WORDS)), exp.true(), copy=False)
            .when(word.copy().isin(*map(text, FALSE_WORDS)), exp.false(), copy=False)
        )
    if kind is Kind.DATE:
        return _when_matches(value, DATE_TEXT, cast(value.copy(), "DATE", safe=True))
    if kind is Kind.DATETIME:
        return _instant_sql(value, zone)
    return _set_items(value)


def _when_matches(value: Sql, pattern: str, then: Sql) -> Sql:
    full = func("regexp_full_match", value, text(pattern))
    return exp.Case().when(full, then, copy=False)


def _instant_sql(value: Sql, zone: str) -> Sql:
    """ISO text with an offset, or local time in the workspace zone."""
    aware = func("regexp_full_match", value, text(INSTANT_TEXT + OFFSET_TEXT))
    local = func("regexp_full_match", value.copy(), text(INSTANT_TEXT))
    naive = cast(value.copy(), "TIMESTAMP", safe=True)
    return (
        exp.Case()
        .when(aware, cast(value.copy(), "TIMESTAMPTZ", safe=True), copy=False)
        .when(local, func("timezone", text(zone), naive), copy=False)
    )


def _set_items(value: Sql) -> Sql:
    """`a; b` as a sorted list of distinct options; no option is unknown."""
    items = func("string_split", value, text(";"))
    trimmed = func("list_transform", items, _lambda(exp.Trim(this=exp.column("x"))))
    blank = exp.NEQ(this=exp.column("x"), expression=text(""))
    ordered = func(
        "list_sort", func("list_distinct", func("list_filter", trimmed, _lambda(blank)))
    )
    empty = exp.EQ(this=exp.ArraySize(this=ordered), expression=number(0))
    return (
        exp.Case().when(empty, exp.null(), copy=False).else_(ordered.copy(), copy=False)
    )


def _lambda(body: Sql) -> exp.Lambda:
    return exp.Lambda(this=body, expressions=[exp.to_identifier("x")])


# ---------------------------------------------------------------- boolean expressions


def expr_sql(expr: p.Expr, column_of: Callable[[p.AtomRef | p.RuleRef], Sql]) -> Sql:
    """A boolean expression of the plan over atom and rule columns."""
    if isinstance(expr, p.AtomRef | p.RuleRef):
        return column_of(expr)
    if isinstance(expr, p.Literal):
        return exp.Boolean(this=expr.value)
    if isinstance(expr, p.Not):
        return negate(expr_sql(expr.item, column_of))
    items = [expr_sql(item, column_of) for item in expr.items]
    joined = all_of(items) if isinstance(expr, p.And) else any_of(items)
    return exp.paren(joined, copy=False)
