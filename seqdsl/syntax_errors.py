"""Turn Lark's parse errors into diagnostics in the words of the language.

Users never see terminal names such as `NAME` or `LPAR`: each expected terminal is
described as what a person would type, and common slips (a misspelt keyword, a missing
condition after `and`, an unterminated string) get their own message and hint.
"""

from __future__ import annotations

import difflib
import re

import lark
from lark.lexer import PatternStr

from seqdsl.diagnostics import Diagnostic, diagnostic
from seqdsl.source import Span

#: What each named terminal of the grammar stands for, in user words.
_DESCRIPTIONS = {
    "NAME": "a name",
    "STRING": 'a quoted name such as "Webinar registrants"',
    "INT": "a whole number",
    "SIGNED_NUMBER": "a number",
    "DATE": "a date such as 2026-12-01",
    "DATETIME": "a date and time such as 2026-12-01 09:00",
    "TIME": "a time of day such as 09:00",
    "UNIT": "a unit (minutes, hours, days, weeks or business days)",
    "DAYS": "`every day`, `weekdays` or `business days`",
    "QUANTIFIER": "`any`, `no` or `all`",
    "NEGATION": "`no`",
    "COMPARATOR": "a comparison such as `>=`",
    "LIST_KIND": "`active`, `static` or `manual`",
    "SCALAR_TYPE": "a type (string, number, bool, date, datetime, owner, timezone)",
    "EXISTING_MODE": "`enroll` or `skip`",
    "OFFSET_SIGN": "`minus` or `plus`",
    "WEEKDAY": "a weekday such as `monday`",
    "ZONE_OWNER": "`contact` or `workspace`",
    "LIMIT_KIND": "`enrollments` or `emails`",
    "BOOL": "`true` or `false`",
    "PERCENT": "a share such as 50%",
    "ORDERED": "`ordered`",
    "IN_THREAD": "`in thread`",
    "UNTIL_COMPLETED": "`until completed`",
    "$END": "the end of the file",
}
_VALUE_TERMINALS = frozenset(
    {"STRING", "SIGNED_NUMBER", "INT", "DATETIME", "DATE", "BOOL", "NAME"}
)
_CONDITION_STARTS = frozenset({"NAME", "LPAR", "NOT", "IN", "HAD", "QUANTIFIER", "AT"})
_DECLARATION_STARTS = frozenset({"OBJECT", "EVENT", "LIST", "WORKFLOW", "SEQUENCE"})
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\S")


def describe_error(
    error: lark.exceptions.UnexpectedInput,
    text: str,
    path: str,
    parser: lark.Lark,
    lines_before: int = 0,
) -> Diagnostic:
    """One diagnostic for a Lark parse error, pointing at the offending text.

    `text` may be one declaration cut from a file; `lines_before` counts the
    file's lines above it, for messages that name a line.
    """
    if isinstance(error, lark.exceptions.UnexpectedCharacters):
        return _unexpected_character(error, text, path)
    if isinstance(error, lark.exceptions.UnexpectedToken):
        return _unexpected_token(error, text, path, parser, lines_before)
    position = getattr(error, "pos_in_stream", None) or 0
    return diagnostic(
        "E001", "the text cannot be read here", Span(path, position, position)
    )


def _unexpected_character(
    error: lark.exceptions.UnexpectedCharacters, text: str, path: str
) -> Diagnostic:
    position = error.pos_in_stream or 0
    char = text[position] if position < len(text) else ""
    span = Span(path, position, position + 1)
    if char == '"':
        return diagnostic(
            "E003",
            "this string is not closed before the end of the line",
            span,
            'add the closing `"`; a name cannot span lines',
        )
    word_match = _WORD.match(text, position)
    word = word_match.group(0) if word_match else char
    if word.isidentifier() and len(word) > 1:
        return _unknown_word(
            word, Span(path, position, position + len(word)), error.allowed
        )
    shown = repr(char) if not char.isprintable() or char.isspace() else f"`{char}`"
    return diagnostic(
        "E002",
        f"unexpected character {shown}",
        span,
        *_expected_hint(error.allowed),
    )


def _unexpected_token(
    error: lark.exceptions.UnexpectedToken,
    text: str,
    path: str,
    parser: lark.Lark,
    lines_before: int,
) -> Diagnostic:
    token = error.token
    expected = _acceptable(error)
    if token.type == "$END":
        return _early_end(text, path, expected, lines_before)
    start = token.start_pos or 0
    span = Span(path, start, token.end_pos or start + len(token))
    previous = _previous_word(text, start)
    if expected & _CONDITION_STARTS and not expected - _CONDITION_STARTS - {"LSQB"}:
        after = f" after `{previous}`" if previous else ""
        return diagnostic(
            "E001",
            f"expected a condition{after}, but found `{token}`",
            span,
            'a condition looks like `lifecyclestage is lead` or `in list "Name"`',
        )
    if token.type == "NAME" and _keywords(expected, parser):
        return _unknown_word(str(token), span, expected, parser)
    if token.type == "OR":
        return diagnostic(
            "E001",
            "`or` cannot follow a `where` clause without parentheses",
            span,
            "everything after `where` belongs to the event or associated record; "
            "write `(any deal where ...) or ...` or `any deal where (... or ...)`",
        )
    return diagnostic(
        "E001",
        f"expected {_summary(expected)}, but found `{token}`",
        span,
        *_context_hint(expected, previous),
    )


def _acceptable(error: lark.exceptions.UnexpectedToken) -> set[str]:
    """The terminals the parser accepts at the error, without LALR's default reductions.

    `error.expected` can list terminals of states the parser already reduced away;
    asking the interactive parser gives exactly what may come next.
    """
    interactive = getattr(error, "interactive_parser", None)
    if interactive is not None:
        try:
            return set(interactive.accepts())
        except lark.exceptions.LarkError:
            pass
    return set(error.expected)


def _unknown_word(
    word: str,
    span: Span,
    expected: set[str] | frozenset[str],
    parser: lark.Lark | None = None,
) -> Diagnostic:
    keywords = _keywords(expected, parser) if parser is not None else []
    close = difflib.get_close_matches(word, keywords, n=1, cutoff=0.6)
    if close:
        message = f"unknown keyword `{word}`, did you mean `{close[0]}`?"
        return diagnostic("E001", message, span)
    return diagnostic(
        "E001", f"`{word}` is not expected here", span, *_expected_hint(expected)
    )


def _keywords(
    expected: set[str] | frozenset[str], parser: lark.Lark | None
) -> list[str]:
    if parser is None:
        return []
    by_name = {terminal.name: terminal for terminal in parser.terminals}
    words = []
    for name in expected:
        terminal = by_name.get(name)
        if terminal is not None and isinstance(terminal.pattern, PatternStr):
            value = terminal.pattern.value
            if value.isidentifier():
                words.append(value)
    return sorted(words)


def _describe(name: str) -> str:
    if name in _DESCRIPTIONS:
        return _DESCRIPTIONS[name]
    symbols = {
        "LPAR": "`(`",
        "RPAR": "`)`",
        "LBRACE": "`{`",
        "RBRACE": "`}`",
        "LSQB": "`[`",
        "RSQB": "`]`",
        "COMMA": "`,`",
        "COLON": "`:`",
        "DOT": "`.`",
        "EQUAL": "`=`",
        "__ANON_0": "`->`",
    }
    if name in symbols:
        return symbols[name]
    return f"`{name.lower()}`"


def _summary(expected: set[str] | frozenset[str]) -> str:
    names = set(expected)
    words: list[str] = []
    if len(names & _VALUE_TERMINALS) >= 3:
        names -= _VALUE_TERMINALS
        words.append("a value")
    if names & _DECLARATION_STARTS and len(names & _DECLARATION_STARTS) >= 3:
        names -= _DECLARATION_STARTS | {"ENROLL"}
        words.append(
            "a declaration (`object`, `event`, `list`, `workflow`, `sequence`)"
        )
    words.extend(sorted(_describe(name) for name in names))
    if len(words) > 6:
        words = [*words[:6], "..."]
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " or " + words[-1]


def _expected_hint(expected: set[str] | frozenset[str]) -> tuple[str, ...]:
    if not expected or len(expected) > 8:
        return ()
    return (f"expected {_summary(expected)}",)


def _context_hint(expected: set[str], previous: str) -> tuple[str, ...]:
    if "UNIT" in expected:
        return ("durations look like `30 minutes`, `2 days` or `3 business days`",)
    if expected & {"STRING"} and previous in {"list", "sequence", "workflow"}:
        return (f'names are quoted: {previous} "My {previous}"',)
    if "RBRACE" in expected and previous:
        return ("check for a missing `}` or a keyword typed wrong before this point",)
    return ()


def _early_end(
    text: str, path: str, expected: set[str], lines_before: int
) -> Diagnostic:
    end = len(text.rstrip())
    unclosed = _unclosed_bracket(text)
    if unclosed is not None:
        line = lines_before + text.count("\n", 0, unclosed) + 1
        return diagnostic(
            "E004",
            f"the file ends before the `{text[unclosed]}` on line {line} is closed",
            Span(path, end, end),
            f"add the closing `{_CLOSERS[text[unclosed]]}`",
        )
    return diagnostic(
        "E004",
        "the file ends in the middle of a declaration",
        Span(path, end, end),
        *_expected_hint(expected),
    )


_CLOSERS = {"{": "}", "(": ")", "[": "]"}


def _unclosed_bracket(text: str) -> int | None:
    """The offset of the innermost bracket left open, ignoring strings and comments."""
    stack: list[int] = []
    for match in re.finditer(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*|[{}()\[\]]', text):
        token = match.group(0)
        if token in _CLOSERS:
            stack.append(match.start())
        elif token in "})]" and stack:
            stack.pop()
    return stack[-1] if stack else None


def _previous_word(text: str, position: int) -> str:
    before = text[:position].rstrip()
    match = re.search(r"([A-Za-z_][A-Za-z0-9_]*|[^\sA-Za-z0-9_])$", before)
    return match.group(1) if match else ""
