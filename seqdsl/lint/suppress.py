"""Lint stage, inline suppression: `# seqdsl: ignore[L003]` comments.

A comment that starts with `# seqdsl: ignore[L003, L007]` silences the lint
findings with those codes whose span starts on the comment's line; a bare `#
seqdsl: ignore` silences every lint finding there. Rule names work as well as
codes. Errors are never silenced. Suppressions that silence nothing are reported
by L015.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping

import attrs

from seqdsl.diagnostics import Diagnostic, Sources
from seqdsl.lint.context import Finding
from seqdsl.source import Source, Span

_COMMENT = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*')
_DIRECTIVE = re.compile(r"#\s*seqdsl:\s*ignore\b(?:\[([^\]\n]*)\])?")


@attrs.define
class Suppression:
    """A directive: the codes it names (None: all), and those it silenced."""

    span: Span
    line: int
    codes: tuple[str, ...] | None
    used: set[str] = attrs.field(factory=set)

    def covers(self, code: str) -> bool:
        return self.codes is None or code in self.codes


def directives(source: Source) -> Iterator[Suppression]:
    """The suppression comments of a file (not `#` inside strings)."""
    for token in _COMMENT.finditer(source.text):
        if not token.group(0).startswith("#"):
            continue
        found = _DIRECTIVE.match(token.group(0))
        if found is None:
            continue
        start = token.start()
        span = Span(source.path, start, token.start() + found.end())
        codes = None
        if found.group(1) is not None:
            codes = tuple(c.strip() for c in found.group(1).split(",") if c.strip())
        yield Suppression(span, source.position(start).line, codes)


@attrs.frozen
class Outcome:
    """The findings left, and what the directives left unused."""

    kept: list[Diagnostic]
    unused: list[Finding]


def suppress(
    found: Iterable[Diagnostic],
    sources: Sources,
    paths: Iterable[str],
    names: Mapping[str, str],
    ran: frozenset[str],
) -> Outcome:
    """Drop the lint findings silenced on their line, in the files at `paths`.

    `names` maps rule names to codes; `ran` are the codes that ran, the only ones a
    directive can be found unused for.
    """
    table: dict[tuple[str, int], Suppression] = {}
    for path in paths:
        table.update(_table(sources.get(path), names))

    kept: list[Diagnostic] = []
    for item in found:
        location = sources.location(item.span)
        key = (item.span.path, location[0]) if location else None
        directive = table.get(key) if key else None
        lint = item.code.startswith("L")
        if lint and directive is not None and directive.covers(item.code):
            directive.used.add(item.code)
            continue
        kept.append(item)
    return Outcome(kept, list(_unused(table.values(), names, ran)))


def _table(
    source: Source | None, names: Mapping[str, str]
) -> dict[tuple[str, int], Suppression]:
    if source is None:
        return {}
    table = {}
    for directive in directives(source):
        if directive.codes is not None:
            directive.codes = tuple(names.get(c, c) for c in directive.codes)
        table[(source.path, directive.line)] = directive
    return table


def _unused(
    table: Iterable[Suppression], names: Mapping[str, str], ran: frozenset[str]
) -> Iterator[Finding]:
    known = set(names.values())
    for directive in table:
        if directive.codes is None:
            if not directive.used:
                yield Finding(
                    "this `seqdsl: ignore` silences no finding",
                    directive.span,
                    ("remove it",),
                )
            continue
        for code in directive.codes:
            if code not in known:
                yield Finding(
                    f"`{code}` in this `seqdsl: ignore` is not a lint rule",
                    directive.span,
                    ("lint codes run from L001; see docs/lint-rules.md",),
                )
            elif code in ran and code not in directive.used:
                yield Finding(
                    f"this `seqdsl: ignore` names {code}, but there is no {code} "
                    "finding on this line",
                    directive.span,
                    (f"remove `{code}` from it",),
                )
