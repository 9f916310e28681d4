"""Diagnostics: the problems every stage reports, as data, and their text renderings.

A :class:`Diagnostic` holds a stable code, a severity, a span and hints; positions are
computed only when rendering. Stages collect diagnostics and keep going, so a user sees
every problem of a workspace at once.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from seqdsl.source import NO_SPAN, Source, Span


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


@attrs.frozen
class Diagnostic:
    code: str
    message: str
    span: Span = NO_SPAN
    severity: Severity = Severity.ERROR
    hints: tuple[str, ...] = ()

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def with_severity(self, severity: Severity) -> Diagnostic:
        return attrs.evolve(self, severity=severity)


#: Every code a stage can report, with its one-line title. docs/diagnostics.md
#: documents each of them; a test keeps the two in step.
CODES: Mapping[str, str] = {
    # parse
    "E001": "unexpected token",
    "E002": "unexpected character",
    "E003": "unterminated string",
    "E004": "unexpected end of file",
    "E005": "file is not valid UTF-8",
    "E006": "nesting too deep",
    "E007": "invalid literal",
    "E008": "file cannot be read",
    # names
    "E101": "unknown property",
    "E102": "unknown object",
    "E103": "unknown event",
    "E104": "unknown event field",
    "E105": "unknown list",
    "E106": "unknown sequence",
    "E107": "unknown workflow",
    "E108": "unknown option",
    "E109": "duplicate declaration",
    "E110": "unknown sequence step",
    "E111": "duplicate name inside a declaration",
    # types
    "E201": "operator not valid for the type",
    "E202": "value of the wrong type",
    "E203": "duration not allowed here",
    "E204": "`changed` outside a trigger",
    "E205": "`since enrolled` outside a workflow or sequence",
    "E206": "ordered comparison on an unordered value",
    "E207": "invalid date, time or time zone",
    "E208": "property cannot be changed by an action",
    "E209": "list or workflow of another object type",
    # structure
    "E301": "list dependency cycle",
    "E302": "misplaced or repeated workflow setting",
    "E303": "split shares do not add up to 100%",
    "E304": "list definition does not fit its kind",
    "E305": "misplaced or repeated sequence setting",
    "E306": "time window ends before it starts",
    "E307": "number out of range",
    "E308": "repeated branch value",
    "E309": "action not available for the workflow's object",
    # settings and internal
    "E401": "invalid workspace settings",
    "E999": "internal error",
}


def diagnostic(
    code: str,
    message: str,
    span: Span = NO_SPAN,
    *hints: str,
    severity: Severity = Severity.ERROR,
) -> Diagnostic:
    """Build a diagnostic, refusing codes that are not registered."""
    if code not in CODES and not code.startswith("L"):
        raise KeyError(f"unregistered diagnostic code {code}")
    return Diagnostic(code, message, span, severity, tuple(hints))


def sort_key(item: Diagnostic) -> tuple[str, int, str]:
    return (item.span.path, item.span.start, item.code)


class Sources:
    """The texts behind spans, for rendering; unknown paths render without excerpt."""

    def __init__(self, sources: Iterable[Source] = ()) -> None:
        self._by_path = {source.path: source for source in sources}

    def add(self, source: Source) -> None:
        self._by_path[source.path] = source

    def get(self, path: str) -> Source | None:
        return self._by_path.get(path)

    def location(self, span: Span) -> tuple[int, int] | None:
        source = self.get(span.path)
        if source is None:
            return None
        position = source.position(span.start)
        return position.line, position.column


def render_short(item: Diagnostic, sources: Sources) -> str:
    """One line: `file:line:col: CODE message`."""
    where = _where(item.span, sources)
    severity = "" if item.is_error else f"{item.severity.value}: "
    return f"{where}: {item.code} {severity}{item.message}"


def render_full(item: Diagnostic, sources: Sources) -> str:
    """The one-line form, the source line with a caret underline, then the hints."""
    lines = [render_short(item, sources)]
    source = sources.get(item.span.path)
    if source is not None and item.span is not NO_SPAN:
        lines.extend(_excerpt(source, item.span))
    lines.extend(f"      = hint: {hint}" for hint in item.hints)
    return "\n".join(lines)


#: Excerpts show at most this many characters of a long line around the caret.
_EXCERPT_WIDTH = 100


def _excerpt(source: Source, span: Span) -> list[str]:
    start = source.position(span.start)
    text = source.line_text(start.line).expandtabs(1)
    end = source.position(max(span.end, span.start + 1))
    width = end.column - start.column if end.line == start.line else 1
    column = start.column - 1
    if len(text) > _EXCERPT_WIDTH:
        first = max(0, min(column - _EXCERPT_WIDTH // 2, len(text) - _EXCERPT_WIDTH))
        text = text[first : first + _EXCERPT_WIDTH]
        column -= first
    width = max(1, min(width, len(text) - column))
    gutter = f"{start.line:>5} | "
    return [gutter + text, " " * (len(gutter) + column) + "^" * width]


def to_json(item: Diagnostic, sources: Sources) -> dict[str, Any]:
    location = sources.location(item.span)
    line, column = location if location else (None, None)
    return {
        "code": item.code,
        "severity": item.severity.value,
        "message": item.message,
        "path": item.span.path,
        "line": line,
        "column": column,
        "start": item.span.start,
        "end": item.span.end,
        "hints": list(item.hints),
    }


def render_json(items: Sequence[Diagnostic], sources: Sources) -> str:
    return json.dumps([to_json(item, sources) for item in items], indent=2)


def _where(span: Span, sources: Sources) -> str:
    location = sources.location(span)
    if location is None or span is NO_SPAN:
        return span.path
    return f"{span.path}:{location[0]}:{location[1]}"
