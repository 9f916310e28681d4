"""Lint stage, configuration: the `[lint]` table of `seqdsl.toml`.

    [lint]
    select = ["L001", "L003"]          # default: every rule
    ignore = ["overlapping-branches"]  # codes or names
    [lint.severity]
    L003 = "error"                     # error, warning or note
    [lint.options]
    drain-days = 45

Every key, code and value is checked; a problem is an E401 diagnostic pointing
at the offending text of `seqdsl.toml`, and the rest of the table still applies.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from seqdsl.diagnostics import Diagnostic, Severity, diagnostic
from seqdsl.lint.context import LintRule
from seqdsl.source import Source, Span
from seqdsl.workspace import CONFIG_NAME, Settings

_KEYS = ("select", "ignore", "severity", "options")
_SEVERITIES = {
    "error": Severity.ERROR,
    "warning": Severity.WARNING,
    "note": Severity.NOTE,
}


@attrs.frozen
class LintConfig:
    """Which rules run, at which severity, with which options."""

    selected: frozenset[str]
    severities: Mapping[str, Severity]
    options: Mapping[str, int]

    def severity(self, code: str) -> Severity:
        return self.severities.get(code, Severity.WARNING)


def read_config(
    settings: Settings, rules: Mapping[str, LintRule]
) -> tuple[LintConfig, list[Diagnostic], Source | None]:
    """The configuration, its problems, and the toml text they point into."""
    table = settings.lint
    source = _source(settings) if table else None
    reader = _Reader(rules, _Locator(source))
    config = reader.read(table)
    return config, reader.problems, source


def _source(settings: Settings) -> Source | None:
    path = settings.root / CONFIG_NAME
    try:
        return Source(CONFIG_NAME, path.read_text(encoding="utf-8"))
    except OSError:
        return None


class _Reader:
    def __init__(self, rules: Mapping[str, LintRule], locate: _Locator) -> None:
        self.rules = rules
        self.names = {rule.name: code for code, rule in rules.items()}
        self.locate = locate
        self.problems: list[Diagnostic] = []

    def read(self, table: Mapping[str, Any]) -> LintConfig:
        for key in table:
            if key not in _KEYS:
                self.problem(
                    f"unknown key `{key}` in [lint]",
                    key,
                    *_near(key, _KEYS, "the keys of [lint] are " + _listed(_KEYS)),
                )
        chosen = self.codes(table, "select")
        selected = set(self.rules if chosen is None else chosen)
        selected -= set(self.codes(table, "ignore") or ())
        return LintConfig(
            frozenset(selected), self.severities(table), self.options(table)
        )

    def problem(self, message: str, token: str, *hints: str) -> None:
        span = self.locate(token)
        self.problems.append(diagnostic("E401", message, span, *hints))

    def codes(self, table: Mapping[str, Any], key: str) -> list[str] | None:
        value = table.get(key)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problem(
                f"`{key}` in [lint] must be an array of rule codes or names",
                key,
                f'for example `{key} = ["L001", "unused-declaration"]`',
            )
            return None
        return [code for code in map(self.code, value) if code is not None]

    def code(self, word: str) -> str | None:
        """The code of a rule given by code or name; None (reported) if unknown."""
        if word in self.rules:
            return word
        if word in self.names:
            return self.names[word]
        choices = [*self.rules, *self.names]
        self.problem(
            f"unknown lint rule `{word}`",
            word,
            *_near(word, choices, "see docs/lint-rules.md for the rules"),
        )
        return None

    def severities(self, table: Mapping[str, Any]) -> dict[str, Severity]:
        value = table.get("severity", {})
        if not isinstance(value, dict):
            self.problem(
                "`severity` in [lint] must be a table of rule = severity",
                "severity",
                'for example `[lint.severity]` with `L003 = "error"`',
            )
            return {}
        found: dict[str, Severity] = {}
        for word, level in value.items():
            code = self.code(word)
            if code is not None and level in _SEVERITIES:
                found[code] = _SEVERITIES[level]
            elif code is not None:
                self.problem(
                    f"`{word}` in [lint.severity] must be "
                    f'"error", "warning" or "note", not `{level!r}`',
                    word,
                    "to turn a rule off, list it in `ignore`",
                )
        return found

    def options(self, table: Mapping[str, Any]) -> dict[str, int]:
        value = table.get("options", {})
        known = {name for rule in self.rules.values() for name in rule.options}
        if not isinstance(value, dict):
            self.problem("`options` in [lint] must be a table", "options")
            return {}
        found: dict[str, int] = {}
        for name, number in value.items():
            if name not in known:
                self.problem(
                    f"unknown lint option `{name}`",
                    name,
                    *_near(name, known, "options are " + _listed(sorted(known))),
                )
            elif type(number) is not int or number < 1:
                self.problem(
                    f"`{name}` in [lint.options] must be a whole number of at "
                    f"least 1, not `{number!r}`",
                    name,
                )
            else:
                found[name] = number
        return found


def _near(word: str, choices: Iterable[str], fallback: str) -> tuple[str, ...]:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return (f"did you mean `{close[0]}`?",) if close else (fallback,)


def _listed(words: Iterable[str]) -> str:
    return ", ".join(f"`{w}`" for w in words)


_HEADER = re.compile(r"^\s*\[+\s*([^\]]*?)\s*\]")


class _Locator:
    """Finds a word inside the `[lint]` tables of the toml text, for spans."""

    def __init__(self, source: Source | None) -> None:
        self.source = source

    def __call__(self, word: str) -> Span:
        if self.source is None:
            return Span(CONFIG_NAME, 0, 0)
        text = self.source.text
        regions = list(self._regions(text))
        pattern = re.compile(rf"(?<![\w-]){re.escape(word)}(?![\w-])")
        for start, end in regions:
            found = pattern.search(text, start, end)
            if found:
                return Span(CONFIG_NAME, found.start(), found.end())
        start = regions[0][0] if regions else 0
        return Span(CONFIG_NAME, start, start)

    def _regions(self, text: str) -> Iterable[tuple[int, int]]:
        """Character ranges of the tables named `lint` or `lint.*`."""
        offset, inside, begin = 0, False, 0
        for line in text.splitlines(keepends=True):
            header = _HEADER.match(line)
            if header:
                if inside:
                    yield begin, offset
                name = header.group(1).replace('"', "").replace(" ", "")
                inside = name == "lint" or name.startswith("lint.")
                begin = offset
            offset += len(line)
        if inside:
            yield begin, offset
