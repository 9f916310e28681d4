"""Typed constants: rule literals read against the type they are compared with.

The checker calls :func:`convert` to report a value of the wrong type; the compiler
calls it to put typed constants into the plan. Both therefore agree on what `lead`,
`"42"`, `2026-12-01` or `2026-12-01 09:00` mean for a given property.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

import attrs

from seqdsl import ast
from seqdsl.schema import Kind, Type

#: A constant as the engines see it: text is already in canonical option spelling for
#: enums and sets; instants are aware UTC datetimes.
Constant = str | float | bool | dt.date | dt.datetime


@attrs.frozen
class LiteralError:
    """Why a literal does not fit a type, and what to write instead."""

    message: str
    hint: str = ""


def convert(value: ast.Value, type_: Type, zone: str) -> Constant | LiteralError:
    """Read `value` as a constant of `type_`; instants without offset are in `zone`."""
    kind = type_.kind
    if kind in (Kind.ENUM, Kind.SET):
        return _option(value, type_)
    if kind is Kind.NUMBER:
        return _number(value)
    if kind is Kind.BOOL:
        if isinstance(value, ast.BoolValue):
            return value.value
        return LiteralError(f"{_show(value)} is not `true` or `false`")
    if kind is Kind.DATE:
        return _date(value, zone)
    if kind is Kind.DATETIME:
        return _instant(value, zone)
    return _text(value)


def describe(value: ast.Value) -> str:
    """The literal as the user wrote it, for messages."""
    return _show(value)


def parse_instant(text: str, zone: str) -> dt.datetime:
    """An ISO date-time literal in UTC; without an offset it is local to `zone`."""
    parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zoneinfo.ZoneInfo(zone))
    return parsed.astimezone(dt.UTC)


def _option(value: ast.Value, type_: Type) -> Constant | LiteralError:
    text = _word(value)
    if text is None:
        kind = type_.describe()
        return LiteralError(f"{_show(value)} is not an option of this {kind}")
    option = type_.option(text)
    if option is None:
        shown = ", ".join(o.value for o in type_.options[:12])
        more = ", ..." if len(type_.options) > 12 else ""
        return LiteralError(
            f"`{text}` is not an option of this {type_.describe()}",
            f"valid options: {shown}{more}",
        )
    return option.value


def _number(value: ast.Value) -> Constant | LiteralError:
    if isinstance(value, ast.NumberValue):
        return value.value
    if isinstance(value, ast.StringValue):
        try:
            return float(value.text)
        except ValueError:
            pass
    return LiteralError(f"{_show(value)} is not a number")


def _date(value: ast.Value, zone: str) -> Constant | LiteralError:
    if isinstance(value, ast.DateValue):
        return value.value
    if isinstance(value, ast.DateTimeValue):
        return LiteralError(
            f"{_show(value)} has a time, but the property is a date",
            "compare date properties with a date such as 2026-12-01",
        )
    return LiteralError(f"{_show(value)} is not a date", "write dates as 2026-12-01")


def _instant(value: ast.Value, zone: str) -> Constant | LiteralError:
    if isinstance(value, ast.DateValue):
        midnight = dt.datetime.combine(value.value, dt.time(0, 0))
        return parse_instant(midnight.isoformat(), zone)
    if isinstance(value, ast.DateTimeValue):
        try:
            return parse_instant(value.text, zone)
        except ValueError:
            return LiteralError(f"{_show(value)} is not a valid date and time")
    return LiteralError(
        f"{_show(value)} is not a date and time", "write 2026-12-01 or 2026-12-01 09:00"
    )


def _text(value: ast.Value) -> Constant | LiteralError:
    if isinstance(value, ast.StringValue):
        return value.text
    if isinstance(value, ast.WordValue):
        return value.name
    if isinstance(value, ast.NumberValue):
        return value.text
    return LiteralError(
        f"{_show(value)} is not text", 'put text in double quotes: "like this"'
    )


def _word(value: ast.Value) -> str | None:
    if isinstance(value, ast.WordValue):
        return value.name
    if isinstance(value, ast.StringValue):
        return value.text
    if isinstance(value, ast.NumberValue):
        return value.text
    if isinstance(value, ast.BoolValue):
        return "true" if value.value else "false"
    return None


def _show(value: ast.Value) -> str:
    if isinstance(value, ast.StringValue):
        return f'`"{value.text}"`'
    if isinstance(value, ast.WordValue):
        return f"`{value.name}`"
    if isinstance(value, ast.BoolValue):
        return "`true`" if value.value else "`false`"
    if isinstance(value, ast.DateValue):
        return f"`{value.value.isoformat()}`"
    return f"`{value.text}`"
