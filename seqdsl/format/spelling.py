"""Format stage, spellings: the canonical one-line text of values, tests and types.

These are the leaves of the layout: a value, a property test, an event window, a
type with its options. The printer decides where lines break; these decide how
each piece is spelled.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from seqdsl import ast

#: Bare words that the parser reads as keywords right after `is` (`p is known`), so
#: an equality test with such a word value must keep its `=` spelling.
_KEYWORDS_AFTER_IS = frozenset(
    {"not", "any", "none", "exactly", "known", "unknown"}
    | {"between", "before", "after", "on", "more"}
)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _word(text: str) -> str:
    """An option or other word: bare when it is a name, quoted otherwise."""
    return text if _NAME.fullmatch(text) else quote(text)


def time_text(value: dt.time) -> str:
    return f"{value.hour:02d}:{value.minute:02d}"


def value_text(value: ast.Value) -> str:
    match value:
        case ast.StringValue():
            return quote(value.text)
        case ast.BoolValue():
            return "true" if value.value else "false"
        case ast.WordValue():
            return value.name
        case ast.DateValue():
            return value.value.isoformat()
        case _:
            return value.text


def values_text(values: Sequence[ast.Value]) -> str:
    return "[" + ", ".join(value_text(v) for v in values) + "]"


def users_text(users: Sequence[str]) -> str:
    return "[" + ", ".join(quote(u) for u in users) + "]"


def _needs(value: ast.Duration | None) -> ast.Duration:
    if value is None:
        raise ValueError("internal error: a duration test without its duration")
    return value


def property_test(test: ast.PropertyTest) -> str:
    """A property test in its canonical spelling."""
    ref, op, values = test.ref.text(), test.op, [value_text(v) for v in test.values]
    if op in ast.LIST_OPS:
        return f"{ref} {op.value} {values_text(test.values)}"
    if op is ast.Op.MORE_THAN_AGO:
        return f"{ref} is more than {_needs(test.duration).text()} ago"
    if op is ast.Op.MORE_THAN_AHEAD:
        return f"{ref} is more than {_needs(test.duration).text()} from now"
    if op in ast.DURATION_OPS:
        return f"{ref} {op.value} {_needs(test.duration).text()}"
    if op in (ast.Op.BETWEEN, ast.Op.NOT_BETWEEN):
        return f"{ref} {op.value} {values[0]} and {values[1]}"
    if op is ast.Op.CHANGED_FROM_TO:
        return f"{ref} changed from {values[0]} to {values[1]}"
    if not values:
        return f"{ref} {op.value}"
    return f"{ref} {_spelling(test)} {values[0]}"


def _spelling(test: ast.PropertyTest) -> str:
    """`is`/`is not`, or `=`/`!=` where a bare word would read as a keyword."""
    word = test.values[0]
    if not isinstance(word, ast.WordValue):
        return test.op.value
    if test.op is ast.Op.IS and word.name in _KEYWORDS_AFTER_IS:
        return "="
    if test.op is ast.Op.IS_NOT and word.name == "between":
        return "!="
    return test.op.value


def window_text(window: ast.Window) -> str:
    if isinstance(window, ast.SinceEnrolled):
        return "since enrolled"
    return f"in last {window.duration.text()}"


def had_head(had: ast.Had) -> str:
    words = ["had", "no" if had.negated else "", had.event]
    if had.count is not None:
        words.append(f"{had.count.kind.value} {had.count.times} times")
    return " ".join(w for w in words if w)


def quantified_head(node: ast.Quantified) -> str:
    if node.quantifier is ast.Quantifier.AT_LEAST:
        return f"at least {node.times} {node.object} where"
    return f"{node.quantifier.value} {node.object} where"


def option_text(option: ast.OptionDecl) -> str:
    label = f" label {quote(option.label)}" if option.label is not None else ""
    return _word(option.value) + label


def flags_text(prop: ast.PropertyDecl) -> str:
    flags = f"label {quote(prop.label)}" if prop.label is not None else ""
    if prop.deprecated:
        flags = f"{flags} deprecated".strip()
    return flags


def type_text(type_: ast.TypeExpr) -> str:
    if type_.kind not in ("enum", "set"):
        return type_.kind
    ordered = " ordered" if type_.ordered else ""
    return f"{type_.kind} [{', '.join(option_text(o) for o in type_.options)}]{ordered}"
