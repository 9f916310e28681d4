"""Parse stage: source text to :class:`~seqdsl.ast.Module`, with diagnostics.

The Lark LALR parser runs over ``grammar/seqdsl.lark``; its parse tree is turned into
the AST here and never leaves this module. Syntax errors are reported in the user's
words (see :mod:`seqdsl.syntax_errors`); after an error the parser resumes at the next
top-level declaration, so one run reports the errors of every declaration.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import hashlib
import logging
import os
import re
import tempfile
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import attrs
import lark
from lark import Token, Transformer_NonRecursive, v_args
from lark.tree import Meta

from seqdsl import ast
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


def build_parser(*, strict: bool = False, cache_file: str | None = None) -> lark.Lark:
    """A fresh Lark parser; `strict` refuses conflicts and terminal collisions."""
    return lark.Lark(
        grammar_path().read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        strict=strict,
        propagate_positions=True,
        maybe_placeholders=True,
        cache=cache_file or False,
    )


@cache
def parser() -> lark.Lark:
    """The shared parser, loaded from a cache file keyed by the grammar's hash."""
    text = grammar_path().read_bytes()
    digest = hashlib.sha256(text + lark.__version__.encode()).hexdigest()[:16]
    folder = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    cache_file = Path(folder) / "seqdsl" / f"grammar-{digest}.cache"
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
    except OSError:
        cache_file = Path(tempfile.gettempdir()) / f"seqdsl-grammar-{digest}.cache"
    try:
        return build_parser(cache_file=str(cache_file))
    except OSError:
        log.debug("grammar cache at %s not usable; building in memory", cache_file)
        return build_parser()


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

    Parse trees hold no cycles, and the collector's passes over the growing tree
    doubled the parse time of large files (measured on 30k lines).
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
    try:
        return _transform(parser().parse(text), text, path)
    except lark.exceptions.UnexpectedInput as error:
        first = describe_error(error, text, path, parser())
    declarations: list[ast.Declaration] = []
    problems = [first]
    for start, end in _chunks(text):
        if start <= first.span.start <= end:
            continue
        chunk = " " * start + text[start:end]
        try:
            found, issues = _transform(parser().parse(chunk), text, path)
        except lark.exceptions.UnexpectedInput as error:
            problems.append(describe_error(error, chunk, path, parser()))
            continue
        declarations.extend(found)
        problems.extend(issues)
    return declarations, problems


def _chunks(text: str) -> Iterator[tuple[int, int]]:
    starts = [m.start() for m in _DECLARATION_START.finditer(text)]
    for index, start in enumerate(starts):
        yield start, starts[index + 1] if index + 1 < len(starts) else len(text)


def _transform(
    tree: lark.Tree[Token], text: str, path: str
) -> tuple[list[ast.Declaration], list[Diagnostic]]:
    builder = _Builder(path)
    module = builder.transform(tree)
    return list(module), builder.problems


def _comments(text: str) -> Iterator[Comment]:
    """Find `#` comments outside strings; strings never span lines."""
    offset = 0
    for line in text.splitlines(keepends=True):
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
                body = line[index:].rstrip("\r\n")
                yield Comment(offset + index, body, not line[:index].strip())
                break
        offset += len(line)


def _nesting_error(
    text: str, path: str, comments: tuple[Comment, ...]
) -> Diagnostic | None:
    """Refuse nesting deeper than MAX_NESTING before any recursive stage sees it."""
    skip = {c.offset: len(c.text) for c in comments}
    depth = nots = 0
    index = 0
    in_string = False
    while index < len(text):
        char = text[index]
        if not in_string and index in skip:
            index += skip[index]
            continue
        if in_string and char == "\\":
            index += 2  # an escaped character, perhaps a quote
            continue
        if char in '"\n':
            in_string = char == '"' and not in_string  # strings end at the line
        elif not in_string:
            if char in "({[":
                depth += 1
            elif char in ")}]":
                depth = max(0, depth - 1)
            if _word_start(text, index):
                nots = nots + 1 if _is_word(text, index, "not") else 0
        if depth > MAX_NESTING or nots > MAX_NESTING:
            return diagnostic(
                "E006",
                f"nesting is deeper than {MAX_NESTING} levels",
                Span(path, index, index + 1),
                "split the condition into lists and refer to them with `in list`",
            )
        index += 1
    return None


def _word_start(text: str, index: int) -> bool:
    """Whether a name starts at `index` (a letter not preceded by a name character)."""
    if not (text[index].isalpha() or text[index] == "_"):
        return False
    return index == 0 or not (text[index - 1].isalnum() or text[index - 1] == "_")


def _is_word(text: str, index: int, word: str) -> bool:
    end = index + len(word)
    follows = text[end : end + 1]
    return text.startswith(word, index) and not (follows.isalnum() or follows == "_")


# ---------------------------------------------------------------- tree to AST


def _unquote(token: str) -> str:
    return re.sub(r"\\(.)", r"\1", token[1:-1])


def _span_of(path: str, meta: Meta) -> Span:
    if getattr(meta, "empty", True):
        return Span(path, 0, 0)
    return Span(path, meta.start_pos, meta.end_pos)


def _token_span(path: str, token: Token) -> Span:
    start = token.start_pos or 0
    return Span(path, start, token.end_pos or start + len(token))


_UNITS = {
    "minute": ast.Unit.MINUTES,
    "hour": ast.Unit.HOURS,
    "day": ast.Unit.DAYS,
    "week": ast.Unit.WEEKS,
    "business day": ast.Unit.BUSINESS_DAYS,
}
_DAY_RULES = {
    "every day": ast.DayRule.EVERY_DAY,
    "weekdays": ast.DayRule.WEEKDAYS,
    "business days": ast.DayRule.BUSINESS_DAYS,
}
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
_COMPARATORS = {
    "<": ast.Op.LT,
    "<=": ast.Op.LE,
    ">": ast.Op.GT,
    ">=": ast.Op.GE,
    "!=": ast.Op.IS_NOT,
}
_SIMPLE_OPS = {
    "is_": ast.Op.IS,
    "equals": ast.Op.IS,
    "is_not": ast.Op.IS_NOT,
    "is_any_of": ast.Op.IS_ANY_OF,
    "is_none_of": ast.Op.IS_NONE_OF,
    "contains": ast.Op.CONTAINS,
    "not_contains": ast.Op.NOT_CONTAINS,
    "starts_with": ast.Op.STARTS_WITH,
    "not_starts_with": ast.Op.NOT_STARTS_WITH,
    "ends_with": ast.Op.ENDS_WITH,
    "not_ends_with": ast.Op.NOT_ENDS_WITH,
    "contains_any": ast.Op.CONTAINS_ANY,
    "contains_all": ast.Op.CONTAINS_ALL,
    "contains_none": ast.Op.CONTAINS_NONE,
    "is_exactly": ast.Op.IS_EXACTLY,
    "is_known": ast.Op.IS_KNOWN,
    "is_unknown": ast.Op.IS_UNKNOWN,
    "between": ast.Op.BETWEEN,
    "not_between": ast.Op.NOT_BETWEEN,
    "before": ast.Op.BEFORE,
    "after": ast.Op.AFTER,
    "on": ast.Op.ON,
    "in_last": ast.Op.IN_LAST,
    "in_next": ast.Op.IN_NEXT,
    "more_than_ago": ast.Op.MORE_THAN_AGO,
    "more_than_ahead": ast.Op.MORE_THAN_AHEAD,
    "ever_been": ast.Op.EVER_BEEN,
    "never_been": ast.Op.NEVER_BEEN,
    "updated_in_last": ast.Op.UPDATED_IN_LAST,
    "changed": ast.Op.CHANGED,
    "changed_to": ast.Op.CHANGED_TO,
    "changed_from_to": ast.Op.CHANGED_FROM_TO,
}


@attrs.frozen
class _Predicate:
    """A property test without its property; joined with the `ref` one level up."""

    op: ast.Op
    values: tuple[ast.Value, ...]
    duration: ast.Duration | None


def _predicate(op: ast.Op) -> Any:
    def build(self: _Builder, children: list[Any]) -> _Predicate:
        values: list[ast.Value] = []
        duration = None
        for child in children:
            if isinstance(child, ast.Duration):
                duration = child
            elif isinstance(child, list):
                values.extend(child)
            elif child is not None:
                values.append(child)
        return _Predicate(op, tuple(values), duration)

    return build


class _Builder(Transformer_NonRecursive):  # type: ignore[type-arg]
    """Turns Lark's tree into AST nodes; invalid literals become diagnostics."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        self.problems: list[Diagnostic] = []

    def _span(self, meta: Meta) -> Span:
        return _span_of(self.path, meta)

    def _bad_literal(self, token: Token, what: str, hint: str) -> None:
        message = f"`{token}` is not a valid {what}"
        span = _token_span(self.path, token)
        self.problems.append(diagnostic("E007", message, span, hint))

    # -- literals

    def _time(self, token: Token) -> dt.time:
        try:
            return dt.time.fromisoformat(str(token))
        except ValueError:
            self._bad_literal(
                token, "time of day", "write hours 00-23 and minutes 00-59"
            )
            return dt.time(0, 0)

    def _duration(self, amount: Token, unit: Token, meta: Meta) -> ast.Duration:
        words = " ".join(str(unit).split())
        kind = _UNITS[words.removesuffix("s")]
        return ast.Duration(int(amount), kind, span=self._span(meta))

    @v_args(meta=True)
    def duration(self, meta: Meta, children: list[Token]) -> ast.Duration:
        return self._duration(children[0], children[1], meta)

    @v_args(meta=True)
    def string_value(self, meta: Meta, children: list[Token]) -> ast.StringValue:
        return ast.StringValue(_unquote(children[0]), span=self._span(meta))

    @v_args(meta=True)
    def number_value(self, meta: Meta, children: list[Token]) -> ast.NumberValue:
        return ast.NumberValue(str(children[0]), span=self._span(meta))

    @v_args(meta=True)
    def bool_value(self, meta: Meta, children: list[Token]) -> ast.BoolValue:
        return ast.BoolValue(children[0] == "true", span=self._span(meta))

    @v_args(meta=True)
    def word_value(self, meta: Meta, children: list[Token]) -> ast.WordValue:
        return ast.WordValue(str(children[0]), span=self._span(meta))

    @v_args(meta=True)
    def date_value(self, meta: Meta, children: list[Token]) -> ast.DateValue:
        try:
            value = dt.date.fromisoformat(str(children[0]))
        except ValueError:
            self._bad_literal(children[0], "date", "write dates as YYYY-MM-DD")
            value = dt.date(1970, 1, 1)
        return ast.DateValue(value, span=self._span(meta))

    @v_args(meta=True)
    def datetime_value(self, meta: Meta, children: list[Token]) -> ast.DateTimeValue:
        text = str(children[0])
        try:
            dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            self._bad_literal(children[0], "date and time", "write YYYY-MM-DD HH:MM")
        return ast.DateTimeValue(text, span=self._span(meta))

    def value_list(self, children: list[Any]) -> list[ast.Value]:
        return [child for child in children if child is not None]

    def word(self, children: list[Token]) -> str:
        token = children[0]
        return _unquote(token) if token.type == "STRING" else str(token)

    # -- schema

    @v_args(meta=True)
    def object_decl(self, meta: Meta, children: list[Any]) -> ast.ObjectDecl:
        name, *properties = children
        return ast.ObjectDecl(
            str(name),
            tuple(properties),
            span=self._span(meta),
            name_span=_token_span(self.path, name),
        )

    @v_args(meta=True)
    def event_decl(self, meta: Meta, children: list[Any]) -> ast.EventDecl:
        name, *fields = children
        return ast.EventDecl(
            str(name),
            tuple(fields),
            span=self._span(meta),
            name_span=_token_span(self.path, name),
        )

    @v_args(meta=True)
    def property_decl(self, meta: Meta, children: list[Any]) -> ast.PropertyDecl:
        name, type_expr, *flags = children
        labels = [value for kind, value in flags if kind == "label"]
        return ast.PropertyDecl(
            str(name),
            type_expr,
            label=labels[-1] if labels else None,
            deprecated=any(kind == "deprecated" for kind, _ in flags),
            span=self._span(meta),
        )

    def label_flag(self, children: list[Token]) -> tuple[str, str]:
        return ("label", _unquote(children[0]))

    def deprecated_flag(self, children: list[Token]) -> tuple[str, str]:
        return ("deprecated", "")

    @v_args(meta=True)
    def scalar_type(self, meta: Meta, children: list[Token]) -> ast.TypeExpr:
        return ast.TypeExpr(str(children[0]), span=self._span(meta))

    @v_args(meta=True)
    def enum_type(self, meta: Meta, children: list[Any]) -> ast.TypeExpr:
        options = children[0]
        ordered = len(children) > 1 and children[1] is not None
        return ast.TypeExpr("enum", options, ordered, span=self._span(meta))

    @v_args(meta=True)
    def set_type(self, meta: Meta, children: list[Any]) -> ast.TypeExpr:
        return ast.TypeExpr("set", children[0], span=self._span(meta))

    def options(self, children: list[Any]) -> tuple[ast.OptionDecl, ...]:
        return tuple(child for child in children if child is not None)

    @v_args(meta=True)
    def option(self, meta: Meta, children: list[Any]) -> ast.OptionDecl:
        label = _unquote(children[1]) if len(children) > 1 and children[1] else None
        return ast.OptionDecl(children[0], label, span=self._span(meta))

    # -- lists

    @v_args(meta=True)
    def list_decl(self, meta: Meta, children: list[Any]) -> ast.ListDecl:
        name, kind, *rest = children
        on = next((c for c in rest if isinstance(c, Token)), None)
        body = next(
            (c for c in rest if c is not None and not isinstance(c, Token)), None
        )
        return ast.ListDecl(
            _unquote(name),
            ast.ListKind(str(kind)),
            str(on) if on is not None else None,
            body,
            span=self._span(meta),
            name_span=_token_span(self.path, name),
        )

    def on_object(self, children: list[Token]) -> Token:
        return children[0]

    def list_body(self, children: list[Any]) -> Any:
        return children[0]

    # -- conditions

    @v_args(meta=True)
    def or_(self, meta: Meta, children: list[Any]) -> ast.Or:
        items: list[ast.Condition] = []
        for child in children:
            items.extend(child.items if isinstance(child, ast.Or) else (child,))
        return ast.Or(tuple(items), span=self._span(meta))

    @v_args(meta=True)
    def and_(self, meta: Meta, children: list[Any]) -> ast.And:
        items: list[ast.Condition] = []
        for child in children:
            items.extend(child.items if isinstance(child, ast.And) else (child,))
        return ast.And(tuple(items), span=self._span(meta))

    @v_args(meta=True)
    def not_(self, meta: Meta, children: list[Any]) -> ast.Not:
        return ast.Not(children[0], span=self._span(meta))

    @v_args(meta=True)
    def in_list(self, meta: Meta, children: list[Token]) -> ast.InList:
        return ast.InList(_unquote(children[0]), span=self._span(meta))

    @v_args(meta=True)
    def quantified(self, meta: Meta, children: list[Any]) -> ast.Quantified:
        word, name, where = children
        quantifier = ast.Quantifier(str(word))
        return ast.Quantified(quantifier, str(name), where, span=self._span(meta))

    @v_args(meta=True)
    def at_least_quantified(self, meta: Meta, children: list[Any]) -> ast.Quantified:
        times, name, where = children
        return ast.Quantified(
            ast.Quantifier.AT_LEAST,
            str(name),
            where,
            times=int(times),
            span=self._span(meta),
        )

    @v_args(meta=True)
    def had_open(self, meta: Meta, children: list[Any]) -> ast.Had:
        return self._had(meta, children)

    @v_args(meta=True)
    def had_closed(self, meta: Meta, children: list[Any]) -> ast.Had:
        return self._had(meta, children)

    def _had(self, meta: Meta, children: list[Any]) -> ast.Had:
        negated = False
        event = ""
        count = where = window = None
        for child in children:
            if isinstance(child, Token) and child.type == "NEGATION":
                negated = True
            elif isinstance(child, Token):
                event = str(child)
            elif isinstance(child, ast.Count):
                count = child
            elif isinstance(child, ast.LastWindow | ast.SinceEnrolled):
                window = child
            elif child is not None:
                where = child
        return ast.Had(event, negated, count, where, window, span=self._span(meta))

    def _count(
        self, kind: ast.CountKind, meta: Meta, children: list[Token]
    ) -> ast.Count:
        return ast.Count(kind, int(children[0]), span=self._span(meta))

    @v_args(meta=True)
    def at_least(self, meta: Meta, children: list[Token]) -> ast.Count:
        return self._count(ast.CountKind.AT_LEAST, meta, children)

    @v_args(meta=True)
    def at_most(self, meta: Meta, children: list[Token]) -> ast.Count:
        return self._count(ast.CountKind.AT_MOST, meta, children)

    @v_args(meta=True)
    def exactly(self, meta: Meta, children: list[Token]) -> ast.Count:
        return self._count(ast.CountKind.EXACTLY, meta, children)

    @v_args(meta=True)
    def window_last(self, meta: Meta, children: list[Any]) -> ast.LastWindow:
        return ast.LastWindow(children[0], span=self._span(meta))

    @v_args(meta=True)
    def window_enrolled(self, meta: Meta, children: list[Any]) -> ast.SinceEnrolled:
        return ast.SinceEnrolled(span=self._span(meta))

    @v_args(meta=True)
    def property_condition(self, meta: Meta, children: list[Any]) -> ast.PropertyTest:
        ref, predicate = children
        return ast.PropertyTest(
            ref,
            predicate.op,
            predicate.values,
            predicate.duration,
            span=self._span(meta),
        )

    @v_args(meta=True)
    def ref(self, meta: Meta, children: list[Token]) -> ast.Ref:
        if len(children) == 2 and children[1] is not None:
            return ast.Ref(str(children[1]), str(children[0]), span=self._span(meta))
        return ast.Ref(str(children[0]), span=self._span(meta))

    def compare(self, children: list[Any]) -> _Predicate:
        return _Predicate(_COMPARATORS[str(children[0])], (children[1],), None)

    # -- workflows

    @v_args(meta=True)
    def workflow_decl(self, meta: Meta, children: list[Any]) -> ast.WorkflowDecl:
        name, on, *items = children
        clauses = tuple(
            i
            for i in items
            if isinstance(i, ast.Trigger | ast.Existing | ast.RunWindow)
        )
        body = tuple(
            i
            for i in items
            if not isinstance(i, ast.Trigger | ast.Existing | ast.RunWindow)
        )
        return ast.WorkflowDecl(
            _unquote(name),
            str(on),
            clauses,
            body,
            span=self._span(meta),
            name_span=_token_span(self.path, name),
        )

    def _trigger(
        self, kind: ast.TriggerKind, meta: Meta, children: list[Any]
    ) -> ast.Trigger:
        return ast.Trigger(kind, children[0], span=self._span(meta))

    @v_args(meta=True)
    def enroll_when(self, meta: Meta, children: list[Any]) -> ast.Trigger:
        return self._trigger(ast.TriggerKind.ENROLL, meta, children)

    @v_args(meta=True)
    def reenroll_when(self, meta: Meta, children: list[Any]) -> ast.Trigger:
        return self._trigger(ast.TriggerKind.REENROLL, meta, children)

    @v_args(meta=True)
    def goal(self, meta: Meta, children: list[Any]) -> ast.Trigger:
        return self._trigger(ast.TriggerKind.GOAL, meta, children)

    @v_args(meta=True)
    def suppress_when(self, meta: Meta, children: list[Any]) -> ast.Trigger:
        return self._trigger(ast.TriggerKind.SUPPRESS, meta, children)

    @v_args(meta=True)
    def unenroll_when(self, meta: Meta, children: list[Any]) -> ast.Trigger:
        return self._trigger(ast.TriggerKind.UNENROLL, meta, children)

    @v_args(meta=True)
    def existing(self, meta: Meta, children: list[Token]) -> ast.Existing:
        return ast.Existing(children[0] == "skip", span=self._span(meta))

    @v_args(meta=True)
    def run_window(self, meta: Meta, children: list[Token]) -> ast.RunWindow:
        days, start, end = children
        return ast.RunWindow(
            _DAY_RULES[" ".join(days.split())],
            self._time(start),
            self._time(end),
            span=self._span(meta),
        )

    def block(self, children: list[Any]) -> tuple[Any, ...]:
        return tuple(children)

    @v_args(meta=True)
    def if_branch(self, meta: Meta, children: list[Any]) -> ast.If:
        condition, body, *rest = children
        arms = [ast.IfArm(condition, body, span=self._span(meta))]
        otherwise = None
        for item in rest:
            if isinstance(item, ast.IfArm):
                arms.append(item)
            elif item is not None:
                otherwise = item[1]
        return ast.If(tuple(arms), otherwise, span=self._span(meta))

    @v_args(meta=True)
    def else_if(self, meta: Meta, children: list[Any]) -> ast.IfArm:
        return ast.IfArm(children[0], children[1], span=self._span(meta))

    def else_block(self, children: list[Any]) -> tuple[str, tuple[Any, ...]]:
        return ("else", children[0])

    @v_args(meta=True)
    def branch_on(self, meta: Meta, children: list[Any]) -> ast.BranchOn:
        ref, *rest = children
        arms = tuple(item for item in rest if isinstance(item, ast.BranchArm))
        others = [item[1] for item in rest if isinstance(item, tuple)]
        otherwise = others[0] if others else None
        return ast.BranchOn(ref, arms, otherwise, span=self._span(meta))

    @v_args(meta=True)
    def branch_arm(self, meta: Meta, children: list[Any]) -> ast.BranchArm:
        values, body = children
        values = tuple(values) if isinstance(values, list) else (values,)
        return ast.BranchArm(values, body, span=self._span(meta))

    def branch_else(self, children: list[Any]) -> tuple[str, tuple[Any, ...]]:
        return ("else", children[0])

    @v_args(meta=True)
    def split(self, meta: Meta, children: list[Any]) -> ast.Split:
        return ast.Split(tuple(children), span=self._span(meta))

    @v_args(meta=True)
    def split_arm(self, meta: Meta, children: list[Any]) -> ast.SplitArm:
        return ast.SplitArm(str(children[0]), children[1], span=self._span(meta))

    @v_args(meta=True)
    def wait_for(self, meta: Meta, children: list[Any]) -> ast.WaitFor:
        return ast.WaitFor(children[0], span=self._span(meta))

    @v_args(meta=True)
    def wait_until_date(self, meta: Meta, children: list[Any]) -> ast.WaitUntilDate:
        name, *rest = children
        offset = next((c for c in rest if isinstance(c, tuple)), None)
        at = next((c for c in rest if isinstance(c, dt.time)), None)
        ref = ast.Ref(str(name), span=_token_span(self.path, name))
        return ast.WaitUntilDate(
            ref,
            offset[1] if offset else None,
            before=bool(offset and offset[0] == "minus"),
            at=at,
            span=self._span(meta),
        )

    def offset(self, children: list[Any]) -> tuple[str, ast.Duration]:
        return (str(children[0]), children[1])

    def at_time(self, children: list[Token]) -> dt.time:
        return self._time(children[0])

    @v_args(meta=True)
    def wait_until_weekday(
        self, meta: Meta, children: list[Token]
    ) -> ast.WaitUntilWeekday:
        day, time = children
        weekday = [*_WEEKDAYS, "sunday"].index(str(day))
        return ast.WaitUntilWeekday(weekday, self._time(time), span=self._span(meta))

    @v_args(meta=True)
    def wait_until_event(self, meta: Meta, children: list[Any]) -> ast.WaitUntilEvent:
        name, *rest = children
        where = rest[0] if len(rest) == 2 else None
        return ast.WaitUntilEvent(str(name), where, rest[-1], span=self._span(meta))

    # -- actions

    @v_args(meta=True)
    def enroll_in_sequence(
        self, meta: Meta, children: list[Any]
    ) -> ast.EnrollInSequence:
        name, *rest = children
        sender = next((c for c in rest if isinstance(c, ast.Sender)), None)
        start = next((c for c in rest if isinstance(c, ast.StartAt | ast.Resume)), None)
        return ast.EnrollInSequence(
            _unquote(name), sender, start, span=self._span(meta)
        )

    @v_args(meta=True)
    def unenroll_from_sequence(
        self, meta: Meta, children: list[Any]
    ) -> ast.UnenrollFromSequence:
        name = children[0] if children else None
        sequence = _unquote(name) if name is not None else None
        return ast.UnenrollFromSequence(sequence, span=self._span(meta))

    @v_args(meta=True)
    def enroll_in_workflow(
        self, meta: Meta, children: list[Token]
    ) -> ast.EnrollInWorkflow:
        return ast.EnrollInWorkflow(_unquote(children[0]), span=self._span(meta))

    @v_args(meta=True)
    def set_property(self, meta: Meta, children: list[Any]) -> ast.SetProperty:
        return ast.SetProperty(children[0], children[1], span=self._span(meta))

    @v_args(meta=True)
    def clear_property(self, meta: Meta, children: list[Any]) -> ast.ClearProperty:
        return ast.ClearProperty(children[0], span=self._span(meta))

    @v_args(meta=True)
    def add_to_list(self, meta: Meta, children: list[Token]) -> ast.AddToList:
        return ast.AddToList(_unquote(children[0]), span=self._span(meta))

    @v_args(meta=True)
    def remove_from_list(self, meta: Meta, children: list[Token]) -> ast.RemoveFromList:
        return ast.RemoveFromList(_unquote(children[0]), span=self._span(meta))

    @v_args(meta=True)
    def create_task(self, meta: Meta, children: list[Any]) -> ast.CreateTask:
        title, *rest = children
        assignee = next((c for c in rest if isinstance(c, tuple)), None)
        due = next((c for c in rest if isinstance(c, ast.Duration)), None)
        return ast.CreateTask(
            _unquote(title),
            user=assignee[1] if assignee and assignee[0] == "user" else None,
            for_owner=bool(assignee and assignee[0] == "owner"),
            due=due,
            span=self._span(meta),
        )

    def assign_owner(self, children: list[Any]) -> tuple[str, str]:
        return ("owner", "")

    def assign_user(self, children: list[Token]) -> tuple[str, str]:
        return ("user", _unquote(children[0]))

    def due(self, children: list[Any]) -> ast.Duration:
        duration: ast.Duration = children[0]
        return duration

    @v_args(meta=True)
    def rotate_owner(self, meta: Meta, children: list[Any]) -> ast.RotateOwner:
        return ast.RotateOwner(children[0], span=self._span(meta))

    def user_list(self, children: list[Token]) -> tuple[str, ...]:
        return tuple(_unquote(child) for child in children if child is not None)

    @v_args(meta=True)
    def sender_owner(self, meta: Meta, children: list[Any]) -> ast.Sender:
        return ast.Sender(ast.SenderKind.OWNER, span=self._span(meta))

    @v_args(meta=True)
    def sender_user(self, meta: Meta, children: list[Token]) -> ast.Sender:
        users = (_unquote(children[0]),)
        return ast.Sender(ast.SenderKind.USER, users, span=self._span(meta))

    @v_args(meta=True)
    def sender_rotation(self, meta: Meta, children: list[Any]) -> ast.Sender:
        return ast.Sender(ast.SenderKind.ROTATION, children[0], span=self._span(meta))

    @v_args(meta=True)
    def start_at(self, meta: Meta, children: list[Token]) -> ast.StartAt:
        return ast.StartAt(_unquote(children[0]), span=self._span(meta))

    @v_args(meta=True)
    def resume(self, meta: Meta, children: list[Any]) -> ast.Resume:
        return ast.Resume(span=self._span(meta))

    # -- sequences

    @v_args(meta=True)
    def sequence_decl(self, meta: Meta, children: list[Any]) -> ast.SequenceDecl:
        name, *items = children
        return ast.SequenceDecl(
            _unquote(name),
            tuple(items),
            span=self._span(meta),
            name_span=_token_span(self.path, name),
        )

    @v_args(meta=True)
    def send_window(self, meta: Meta, children: list[Any]) -> ast.SendWindow:
        start, end, *zone = children
        contact_zone = not zone or zone[0] is None or zone[0] == "contact"
        return ast.SendWindow(
            self._time(start), self._time(end), contact_zone, span=self._span(meta)
        )

    def zone_choice(self, children: list[Token]) -> str:
        return str(children[0])

    @v_args(meta=True)
    def follow_up(self, meta: Meta, children: list[Token]) -> ast.FollowUp:
        days = _DAY_RULES[" ".join(children[0].split())]
        return ast.FollowUp(days, span=self._span(meta))

    @v_args(meta=True)
    def limit(self, meta: Meta, children: list[Token]) -> ast.Limit:
        kind = ast.LimitKind(str(children[1]))
        return ast.Limit(int(children[0]), kind, span=self._span(meta))

    @v_args(meta=True)
    def auto_unenroll(self, meta: Meta, children: list[Any]) -> ast.AutoUnenroll:
        return ast.AutoUnenroll(tuple(children), span=self._span(meta))

    def exit_replied(self, children: list[Any]) -> ast.ExitReason:
        return ast.ExitReason.REPLIED

    def exit_meeting(self, children: list[Any]) -> ast.ExitReason:
        return ast.ExitReason.BOOKED_MEETING

    def exit_bounced(self, children: list[Any]) -> ast.ExitReason:
        return ast.ExitReason.BOUNCED

    def exit_unsubscribed(self, children: list[Any]) -> ast.ExitReason:
        return ast.ExitReason.UNSUBSCRIBED

    def exit_company_replied(self, children: list[Any]) -> ast.ExitReason:
        return ast.ExitReason.COMPANY_REPLIED

    @v_args(meta=True)
    def queue(self, meta: Meta, children: list[Any]) -> ast.QueueIfEnrolled:
        return ast.QueueIfEnrolled(span=self._span(meta))

    @v_args(meta=True)
    def step(self, meta: Meta, children: list[Any]) -> ast.Step:
        name, *rest = children
        delay = next((c for c in rest if isinstance(c, ast.Duration)), None)
        kind, content, flag = rest[-1]
        return ast.Step(
            _unquote(name),
            kind,
            content,
            delay,
            in_thread=flag and kind is ast.StepKind.EMAIL,
            until_completed=flag and kind is not ast.StepKind.EMAIL,
            span=self._span(meta),
            name_span=_token_span(self.path, name),
        )

    def step_delay(self, children: list[Any]) -> ast.Duration:
        delay: ast.Duration = children[0]
        return delay

    def _step_kind(self, kind: ast.StepKind, children: list[Any]) -> tuple[Any, ...]:
        flag = len(children) > 1 and children[1] is not None
        return (kind, _unquote(children[0]), flag)

    def email_step(self, children: list[Any]) -> tuple[Any, ...]:
        return self._step_kind(ast.StepKind.EMAIL, children)

    def call_step(self, children: list[Any]) -> tuple[Any, ...]:
        return self._step_kind(ast.StepKind.CALL, children)

    def task_step(self, children: list[Any]) -> tuple[Any, ...]:
        return self._step_kind(ast.StepKind.TASK, children)

    @v_args(meta=True)
    def list_enrollment(self, meta: Meta, children: list[Any]) -> ast.ListEnrollment:
        list_name, sequence, *rest = children
        sender = next((c for c in rest if isinstance(c, ast.Sender)), None)
        start = next((c for c in rest if isinstance(c, ast.StartAt | ast.Resume)), None)
        return ast.ListEnrollment(
            _unquote(list_name),
            _unquote(sequence),
            sender,
            start,
            span=self._span(meta),
        )

    def start(self, children: list[Any]) -> list[ast.Declaration]:
        return [child for child in children if child is not None]


for _rule, _op in _SIMPLE_OPS.items():
    setattr(_Builder, _rule, _predicate(_op))
