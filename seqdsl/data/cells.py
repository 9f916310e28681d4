"""Load stage, data half: the SQL that reads a file's raw cells as the schema's types.

:func:`typed` makes one output :class:`Column`: SQL that yields the typed value, or
NULL when the cell is empty or cannot be read, and SQL that tells the two apart, so
:func:`~seqdsl.data.tables.create` can fail on the first unreadable cell with a
message from :func:`explain_value`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from seqdsl.data.files import Source
from seqdsl.data.session import Session, ident
from seqdsl.schema import Kind, Type

#: The DuckDB column type of each schema kind.
DUCK_TYPES = {
    Kind.STRING: "VARCHAR",
    Kind.OWNER: "VARCHAR",
    Kind.TIMEZONE: "VARCHAR",
    Kind.NUMBER: "DOUBLE",
    Kind.BOOL: "BOOLEAN",
    Kind.DATE: "DATE",
    Kind.DATETIME: "TIMESTAMPTZ",
    Kind.ENUM: "VARCHAR",
    Kind.SET: "VARCHAR[]",
}

# how a column Parquet already typed becomes the schema's type; {c} is the column
_NATIVE = {
    (Kind.NUMBER, "number"): "CAST({c} AS DOUBLE)",
    (Kind.BOOL, "bool"): "{c}",
    (Kind.DATE, "date"): "{c}",
    (Kind.DATE, "timestamp"): "CAST({c} AS DATE)",
    (Kind.DATE, "timestamptz"): "CAST(timezone({zone}, {c}) AS DATE)",
    (Kind.DATETIME, "timestamptz"): "{c}",
    (Kind.DATETIME, "timestamp"): "timezone({zone}, CAST({c} AS TIMESTAMP))",
    (Kind.DATETIME, "date"): "timezone({zone}, CAST({c} AS TIMESTAMP))",
}
_FAMILIES = {
    "VARCHAR": "text",
    "BOOLEAN": "bool",
    "DATE": "date",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
}


@attrs.frozen
class Column:
    """One output column: its typed SQL and how to tell an unreadable cell."""

    name: str
    sql: str
    header: str | None = None
    # true when the raw cell holds a value; None when no value can be unreadable
    given: str | None = None
    explain: Callable[[str, Mapping[str, Any]], str] | None = None
    required: bool = False


def typed(
    session: Session,
    name: str,
    type_: Type,
    source: Source,
    header: str | None,
    *,
    required: bool = False,
) -> Column:
    """The column `name` of `type_` read from the file's column `header`."""
    if header is None:
        return Column(name, f"CAST(NULL AS {DUCK_TYPES[type_.kind]})")

    raw = ident(header)
    family = family_of(source.columns[header])
    sql = convert(session, raw, family, type_)
    textual = type_.kind.is_textual
    return Column(
        name,
        sql,
        header,
        given=None if textual else given_sql(raw, family),
        explain=explainer(type_, f"an option of `{name}`"),
        required=required,
    )


def convert(session: Session, raw: str, family: str, type_: Type) -> str:
    """SQL that reads a raw cell as `type_`; NULL when empty or unreadable."""
    kind = type_.kind
    text = raw if family == "text" else f"CAST({raw} AS VARCHAR)"
    if kind.is_textual:
        return f"NULLIF({text}, '')"
    if native := _NATIVE.get((kind, family)):
        return native.format(c=raw, zone=session.zone)

    cell = f"NULLIF({text}, '')"
    if kind is Kind.NUMBER:
        return f"try_cast({cell} AS DOUBLE)"
    if kind is Kind.BOOL:
        return (
            f"CASE WHEN lower({cell}) IN ('true', 'yes', '1') THEN true "
            f"WHEN lower({cell}) IN ('false', 'no', '0') THEN false END"
        )
    if kind is Kind.DATE:
        day = f"try_cast({cell} AS DATE)"
        return f"CASE WHEN length({cell}) = 10 THEN {day} END"
    if kind is Kind.DATETIME:
        return _instant(session.zone, cell)

    options = session.lookup(option_keys(type_))
    if kind is Kind.ENUM:
        return f"map_extract_value({options}, lower({cell}))"
    items = raw if family == "list" else f"string_split({cell}, ';')"
    return set_sql(items, lambda e: f"map_extract_value({options}, {e})")


def _instant(zone: str, cell: str) -> str:
    """ISO 8601 text as a UTC instant; without an offset it is local time."""
    return (
        f"CASE WHEN regexp_matches(substr({cell}, 11), '[^0-9:. T]') "
        f"THEN try_cast({cell} AS TIMESTAMPTZ) "
        f"ELSE timezone({zone}, try_cast({cell} AS TIMESTAMP)) END"
    )


def family_of(duck_type: str) -> str:
    """The broad kind of a DuckDB column type, as far as typing cells goes."""
    if duck_type in _FAMILIES:
        return _FAMILIES[duck_type]
    if duck_type.endswith("[]"):
        return "list"
    if duck_type.startswith("TIMESTAMP"):
        return "timestamp"
    numeric = ("INT", "FLOAT", "DOUBLE", "DECIMAL")
    return "number" if duck_type.startswith(numeric) else "other"


def option_keys(type_: Type) -> dict[str, str]:
    """Folded option values and labels to the stored value; values win."""
    keys = {o.label.lower(): o.value for o in type_.options if o.label}
    keys.update((o.value.lower(), o.value) for o in type_.options)
    return keys


def given_sql(raw: str, family: str) -> str:
    """SQL that is true when a raw cell holds a value (empty text is no value)."""
    if family == "text":
        return f"{raw} <> ''"
    return f"{raw} IS NOT NULL"


def set_sql(items: str, lookup: Callable[[str], str]) -> str:
    """Map each item of a list to its option; NULL when any item is unknown."""
    item = "trim(CAST(e AS VARCHAR))"
    kept = f"list_filter({items}, lambda e: {item} <> '')"
    mapped = f"list_transform({kept}, lambda e: {lookup(f'lower({item})')})"
    return (
        f"CASE WHEN list_position({mapped}, NULL) IS NULL "
        f"THEN list_sort(list_distinct({mapped})) END"
    )


def explainer(type_: Type, what: str) -> Callable[[str, Mapping[str, Any]], str]:
    """The message for a cell that cannot be read as `type_`."""

    def explain(value: str, _: Mapping[str, Any]) -> str:
        return explain_value(type_, what, value)

    return explain


def explain_value(type_: Type, what: str, value: str) -> str:
    """Why `value` is not a `type_`; `what` names an enum's or set's options."""
    kind = type_.kind
    if kind in (Kind.ENUM, Kind.SET):
        items = value.split(";") if kind is Kind.SET else [value]
        unknown = (i for i in map(str.strip, items) if i and not type_.option(i))
        bad = next(unknown, value)
        valid = ", ".join(option.value for option in type_.options)
        return f"`{bad}` is not {what}; expected one of: {valid}"
    expected = {
        Kind.NUMBER: "",
        Kind.BOOL: " (expected true/false, yes/no or 1/0)",
        Kind.DATE: " (expected YYYY-MM-DD)",
        Kind.DATETIME: " (expected ISO 8601, such as 2026-01-05T09:30:00Z)",
    }
    return f"cannot read `{value}` as a {kind.value}{expected.get(kind, '')}"
