"""Parse stage: source text to :class:`~seqdsl.ast.Module`, with diagnostics.

The Lark LALR parser runs over ``grammar/seqdsl.lark`` and builds AST nodes as it
reduces each rule (the nodes themselves come from :mod:`seqdsl.ast_builder`), so
no parse tree is made and walked afterwards. Syntax errors are reported in the
user's words (see :mod:`seqdsl.syntax_errors`); after an error the parser resumes
at the next top-level declaration, so one run reports the errors of every
declaration. Comments and too-deep nesting are found by regex scans beforehand.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import logging
import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import attrs
import lark
from lark.lexer import PatternStr

from seqdsl import ast
from seqdsl.ast_builder import CHAIN_RULES, SPANNED, Builder, Chain
from seqdsl.diagnostics import Diagnostic, diagnostic
from seqdsl.source import Source, Span
from seqdsl.syntax_errors import describe_error

log = logging.getLogger("seqdsl.parse")

#: Deeper nesting than this is refused before parsing, so no later stage recurses
#: without bound. Real rules nest a handful of levels.
MAX_NESTING = 64

_DECLARATION_START = re.compile(
    r"^(object|event|list|workflow|sequence|enroll[ \t]+list)\b", re.MULTILINE
)


@attrs.frozen
class Comment:
    """A `#` comment; the formatter puts it back next to the code it annotated."""

    offset: int
    text: str
    own_line: bool


@attrs.frozen
class ParseResult:
    source: Source
    module: ast.Module
    comments: tuple[Comment, ...]
    diagnostics: tuple[Diagnostic, ...]

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)


def grammar_path() -> Path:
    """The grammar shipped in the wheel, or the repository's copy in a checkout."""
    packaged = Path(__file__).parent / "_grammar" / "seqdsl.lark"
    if packaged.exists():
        return packaged
    return Path(__file__).parent.parent / "grammar" / "seqdsl.lark"


_LARK_OPTIONS: dict[str, Any] = {
    "parser": "lalr",
    "lexer": "contextual",
    # every token reaches the reductions, which take a rule's span from its first
    # and last token and then drop keywords and punctuation; an optional part that
    # is absent is simply missing, never None
    "keep_all_tokens": True,
    "maybe_placeholders": False,
}


def build_parser(*, strict: bool = False, cache_file: str | None = None) -> lark.Lark:
    """A fresh Lark parser; `strict` refuses conflicts and terminal collisions.

    It is for checking the grammar: its results are this module's own building
    blocks. Parse text with :func:`parse_text`.
    """
    return _Reader.build(strict=strict, cache_file=cache_file).parser


@attrs.frozen
class _Reader:
    """A Lark parser and the builder its reductions call.

    The builder holds the state of the parse in progress (the file's path and the
    problems found so far), so parses take turns under `turn`.
    """

    parser: lark.Lark
    builder: Builder
    turn: threading.Lock = attrs.field(factory=threading.Lock)

    @classmethod
    def build(cls, *, strict: bool = False, cache_file: str | None = None) -> _Reader:
        builder = Builder()
        reductions = _Reductions(builder)
        parser = lark.Lark(
            grammar_path().read_text(encoding="utf-8"),
            strict=strict,
            transformer=reductions,
            cache=cache_file or False,
            **_LARK_OPTIONS,
        )
        reductions.keywords = _keywords(parser)
        _check_rules(parser, builder)
        return cls(parser, builder)

    def read(
        self, text: str, offset: int = 0
    ) -> tuple[list[ast.Declaration], list[Diagnostic]]:
        """The declarations in `text` and the problems with their literals.

        `offset` is where `text` starts in its file; every span is moved by it.
        """
        self.builder.base = offset
        self.builder.problems = []
        built: Any = self.parser.parse(text)
        declarations: list[ast.Declaration] = built.value
        return declarations, self.builder.problems


@cache
def _reader() -> _Reader:
    """The shared reader; its grammar tables come from a cache keyed by hash."""
    versions = f"{lark.__version__}{_LARK_OPTIONS}".encode()
    key = grammar_path().read_bytes() + versions
    digest = hashlib.sha256(key).hexdigest()[:16]
    folder = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    cache_file = Path(folder) / "seqdsl" / f"grammar-{digest}.cache"
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
    except OSError:
        cache_file = Path(tempfile.gettempdir()) / f"seqdsl-grammar-{digest}.cache"
    try:
        return _Reader.build(cache_file=str(cache_file))
    except OSError:
        log.debug("grammar cache at %s not usable; building in memory", cache_file)
        return _Reader.build()


def parse_file(path: Path, display: str | None = None) -> ParseResult:
    """Read and parse one file; unreadable or non-UTF-8 files give a diagnostic."""
    name = display or str(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        message = f"cannot read `{name}`: {error.strerror or error}"
        return _failed(Source(name, ""), diagnostic("E008", message, Span(name, 0, 0)))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        good = data[: error.start].decode("utf-8")
        source = Source(name, good)
        span = Span(name, len(good), len(good) + 1)
        return _failed(
            source,
            diagnostic(
                "E005",
                f"byte 0x{data[error.start]:02x} is not valid UTF-8",
                span,
                "save the file as UTF-8",
            ),
        )
    return parse_text(text, name)


def parse_text(text: str, path: str = "<text>") -> ParseResult:
    """Parse rule text; never raises on bad input, errors come back as diagnostics."""
    text = text.removeprefix("\ufeff")
    source = Source(path, text)
    comments = tuple(_comments(text))
    too_deep = _nesting_error(text, path, comments)
    if too_deep is not None:
        return _failed(source, too_deep, comments)
    with _no_gc():
        declarations, problems = _parse_chunks(text, path)
    module = ast.Module(path, tuple(declarations), span=Span(path, 0, len(text)))
    return ParseResult(source, module, comments, tuple(problems))


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cycle collector while parsing.

    The AST holds no cycles, and the collector's passes over the growing set of
    nodes added a fifth to the parse time of large files (20k and 100k lines).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _failed(
    source: Source, problem: Diagnostic, comments: tuple[Comment, ...] = ()
) -> ParseResult:
    module = ast.Module(source.path, ())
    return ParseResult(source, module, comments, (problem,))


def _parse_chunks(
    text: str, path: str
) -> tuple[list[ast.Declaration], list[Diagnostic]]:
    """Parse the whole text; after an error, parse each declaration on its own."""
    reader = _reader()
    with reader.turn:
        reader.builder.path = path
        try:
            return reader.read(text)
        except lark.exceptions.UnexpectedInput as error:
            first = describe_error(error, text, path, reader.parser)
        return _recover(reader, text, path, first)


def _recover(
    reader: _Reader, text: str, path: str, first: Diagnostic
) -> tuple[list[ast.Declaration], list[Diagnostic]]:
    """Parse each declaration but the one with the first error on its own."""
    declarations: list[ast.Declaration] = []
    problems = [first]
    for start, end, lines in _chunks(text):
        if start <= first.span.start <= end:
            continue
        # a copy of the declaration, as Lark counts the lines of any text before
        # a slice it is given, which made recovery quadratic on large files
        chunk = text[start:end]
        try:
            found, issues = reader.read(chunk, offset=start)
        except lark.exceptions.UnexpectedInput as error:
            problem = describe_error(error, chunk, path, reader.parser, lines)
            problems.append(_moved(problem, start))
            continue
        declarations.extend(found)
        problems.extend(issues)
    return declarations, problems


def _moved(problem: Diagnostic, offset: int) -> Diagnostic:
    """A problem of a declaration read on its own, placed in the whole file
    (`offset` counts the characters before the declaration)."""
    span = problem.span
    moved = Span(span.path, span.start + offset, span.end + offset)
    return attrs.evolve(problem, span=moved)


def _chunks(text: str) -> Iterator[tuple[int, int, int]]:
    """Where each declaration starts and ends, and the lines before it."""
    starts = [m.start() for m in _DECLARATION_START.finditer(text)]
    lines = previous = 0
    for index, start in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else len(text)
        lines += text.count("\n", previous, start)
        previous = start
        yield start, end, lines


def _comments(text: str) -> Iterator[Comment]:
    """Find `#` comments outside strings; strings never span lines."""
    offset = 0
    for line in text.splitlines(keepends=True):
        index = _comment_start(line) if "#" in line else -1
        if index >= 0:
            body = line[index:].rstrip("\r\n")
            yield Comment(offset + index, body, not line[:index].strip())
        offset += len(line)


def _comment_start(line: str) -> int:
    """Where the comment of a line starts, or -1."""
    hash_at = line.index("#")
    quote_at = line.find('"')
    if quote_at < 0 or hash_at < quote_at:
        return hash_at  # no string can hide this `#`
    in_string = escaped = False
    for index, char in enumerate(line):
        if escaped:
            escaped = False
        elif in_string:
            escaped = char == "\\"
            in_string = char != '"'
        elif char == '"':
            in_string = True
        elif char == "#":
            return index
    return -1


#: What the nesting scan stops at outside strings: brackets, strings and comments;
#: when `not`s could go past the limit, also the next `not`, and after a `not` the
#: next word, which either adds to the `not`s in a row or ends them.
_NESTING_MARKS = re.compile(r'["#(){}\[\]]')
_NESTING_MARKS_OR_NOT = re.compile(r'["#(){}\[\]]|(?<!\w)not(?!\w)')
_NESTING_MARKS_OR_WORD = re.compile(r'["#(){}\[\]]|\w+')
#: The rest of a string after its opening quote: it ends with a quote or at the end
#: of the line, and a backslash takes the next character along, even a newline.
_STRING_REST = re.compile(r'(?:[^"\\\n]|\\.)*["\n]?', re.DOTALL)


def _nesting_error(
    text: str, path: str, comments: tuple[Comment, ...]
) -> Diagnostic | None:
    """Refuse nesting deeper than MAX_NESTING before any recursive stage sees it.

    Brackets count, and so do `not`s in a row: any other word resets that count.
    """
    skip = {c.offset: len(c.text) for c in comments}
    nots_matter = text.count("not") > MAX_NESTING
    depth = nots = 0
    position = 0
    while True:
        marks = _NESTING_MARKS
        if nots_matter:
            marks = _NESTING_MARKS_OR_WORD if nots else _NESTING_MARKS_OR_NOT
        found = marks.search(text, position)
        if found is None:
            return None
        index, mark = found.start(), found.group()
        position = found.end()
        if mark == '"':
            position = _end_of_string(text, position)
        elif mark == "#":
            position = index + skip.get(index, 1)  # a `#` in no comment is a char
        elif mark in "({[":
            depth += 1
        elif mark in ")}]":
            depth = max(0, depth - 1)
        elif mark[0].isalpha() or mark[0] == "_":
            nots = nots + 1 if mark == "not" else 0
        if depth > MAX_NESTING or nots > MAX_NESTING:
            return diagnostic(
                "E006",
                f"nesting is deeper than {MAX_NESTING} levels",
                Span(path, index, index + 1),
                "split the condition into lists and refer to them with `in list`",
            )


def _end_of_string(text: str, position: int) -> int:
    rest = _STRING_REST.match(text, position)
    return rest.end() if rest is not None else position


# ---------------------------------------------------------------- reductions


class _Built:
    """A reduced rule on the parser's stack: its value and the text it covers.

    The offsets cover every token of the rule, parentheses included, while a node's
    span is fixed when it is built: `(a or b)` covers the parentheses, the `Or` in
    it does not. Both offsets are None for a rule that read no tokens.
    """

    __slots__ = ("end", "start", "value")

    def __init__(self, value: Any, start: int | None, end: int | None) -> None:
        self.value = value
        self.start = start
        self.end = end


class _Reductions:
    """The callbacks Lark's parser runs on each reduction, one per rule name.

    Lark looks a callback up by the rule's alias or name, so each builder method
    gets an attribute of that name here. `keywords` is set once Lark has read the
    grammar, which it does after taking the callbacks.
    """

    def __init__(self, builder: Builder) -> None:
        self.keywords: frozenset[str] = frozenset()
        for name in _rule_names():
            setattr(self, name, self._reduction(builder, name))

    def _reduction(self, builder: Builder, name: str) -> Callable[[list[Any]], _Built]:
        method = getattr(builder, name)
        spanned = name in SPANNED
        keeps_chains = name in CHAIN_RULES

        def reduce(children: list[Any]) -> _Built:
            start, end = _extent(children)
            # the builder gets what Lark would keep: no keywords, no punctuation
            values = []
            for child in children:
                if type(child) is _Built:
                    value = child.value
                    if type(value) is Chain and not keeps_chains:
                        value = value.joined()
                    values.append(value)
                elif child.type not in self.keywords:
                    values.append(child)
            if not spanned:
                return _Built(method(values), start, end)
            return _Built(method(_span(builder, start, end), values), start, end)

        return reduce


def _extent(children: list[Any]) -> tuple[int | None, int | None]:
    """Where the children's text starts and ends (None if they read none)."""
    start = end = None
    for child in children:
        start = child.start if type(child) is _Built else child.start_pos
        if start is not None:
            break
    for child in reversed(children):
        end = child.end if type(child) is _Built else child.end_pos
        if end is not None:
            break
    return start, end


def _span(builder: Builder, start: int | None, end: int | None) -> Span:
    """The span in the file of a rule that read `start` to `end`, if any."""
    if start is None or end is None:
        return Span(builder.path, 0, 0)
    return Span(builder.path, start + builder.base, end + builder.base)


def _rule_names() -> list[str]:
    """Every public method of the builder is named after a grammar rule or alias."""
    return [name for name in dir(Builder) if not name.startswith("_")]


def _keywords(parser: lark.Lark) -> frozenset[str]:
    """The terminals written as quoted text in the grammar: keywords, punctuation.

    Every terminal the grammar names is a regular expression, so a plain-text
    terminal is one the grammar wrote in quotes, which carries no value.
    """
    return frozenset(
        terminal.name
        for terminal in parser.terminals
        if isinstance(terminal.pattern, PatternStr)
    )


def _check_rules(parser: lark.Lark, builder: Builder) -> None:
    """Refuse a grammar with a rule the builder cannot build.

    Rules that pass their one child on (`?rule`) need no method, and neither do
    Lark's own `__` rules for repetitions, whose children join their parent's.
    """
    reached = {
        str(rule.alias or rule.origin.name)
        for rule in parser.rules
        if rule.alias or not rule.options.expand1 or len(rule.expansion) != 1
    }
    missing = sorted(
        name
        for name in reached
        if not name.startswith("_") and not hasattr(builder, name)
    )
    if missing:
        raise RuntimeError(f"internal error: no AST builder for rules {missing}")
