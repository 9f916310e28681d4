"""Check stage, shared state: the symbol tables every pass reads.

A :class:`Context` is built once per run from the parsed modules. It indexes
every declaration by kind and name (the first declaration of a name wins; later
ones are reported by the names pass), builds the schema, and offers the helpers
that make messages precise: spans of single words inside a node, nearest-name
hints, and "there is a sequence called ..." hints.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Iterator, Sequence

import attrs

from seqdsl import ast
from seqdsl.diagnostics import Sources
from seqdsl.parse import ParseResult
from seqdsl.schema import Schema
from seqdsl.source import NO_SPAN, Span
from seqdsl.workspace import Settings

#: The kinds of named declaration, as users call them in messages.
LIST, SEQUENCE, WORKFLOW, OBJECT, EVENT = (
    "list",
    "sequence",
    "workflow",
    "object",
    "event",
)

#: Finds the span of a name in a node; called only when a diagnostic needs it.
Locate = Callable[[], Span]

_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*|[A-Za-z_][A-Za-z0-9_]*')
_HEADER = re.compile(
    r'^[ \t]*(list|sequence|workflow)[ \t]+"((?:[^"\\\n]|\\.)*)"'
    r"|^[ \t]*(object|event)[ \t]+([A-Za-z_][A-Za-z0-9_]*)",
    re.MULTILINE,
)


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text[1:-1])


@attrs.define
class Context:
    """What every pass shares: settings, sources, declarations, schema."""

    settings: Settings
    results: Sequence[ParseResult]
    sources: Sources
    schema: Schema
    #: every declaration of every file, in file order
    declarations: list[ast.Declaration]
    #: the first declaration of each name, per kind
    named: dict[str, dict[str, ast.Declaration]]
    #: (kind, name) of declarations in files with syntax errors; misses on these
    #: names are not reported, they are most likely a consequence of the error
    unparsed: set[tuple[str, str]]

    @property
    def zone(self) -> str:
        return self.settings.timezone

    def lists(self) -> dict[str, ast.ListDecl]:
        named = self.named[LIST].items()
        return {k: v for k, v in named if isinstance(v, ast.ListDecl)}

    def workflows(self) -> dict[str, ast.WorkflowDecl]:
        named = self.named[WORKFLOW].items()
        return {k: v for k, v in named if isinstance(v, ast.WorkflowDecl)}

    def sequences(self) -> dict[str, ast.SequenceDecl]:
        named = self.named[SEQUENCE].items()
        return {k: v for k, v in named if isinstance(v, ast.SequenceDecl)}

    def list_decl(self, name: str) -> ast.ListDecl | None:
        found = self.named[LIST].get(name)
        return found if isinstance(found, ast.ListDecl) else None

    def sequence(self, name: str) -> ast.SequenceDecl | None:
        found = self.named[SEQUENCE].get(name)
        return found if isinstance(found, ast.SequenceDecl) else None

    def workflow(self, name: str) -> ast.WorkflowDecl | None:
        found = self.named[WORKFLOW].get(name)
        return found if isinstance(found, ast.WorkflowDecl) else None

    def has_syntax_error(self, span: Span) -> bool:
        """Whether the parser reported a problem inside `span`.

        The parser replaces a bad time with midnight, for instance; checking
        such a node again would only echo the parser's diagnostic.
        """
        for result in self.results:
            if result.source.path != span.path:
                continue
            for item in result.diagnostics:
                if span.start <= item.span.start < span.end:
                    return True
        return False

    def lost(self, kind: str, name: str) -> bool:
        """Whether `name` may be declared in a part that did not parse."""
        return (kind, name) in self.unparsed

    # -- hints

    def nearest(self, name: str, candidates: Iterable[str]) -> tuple[str, ...]:
        """A "did you mean" hint for the closest candidate, if one is close."""
        pool = list(candidates)
        close = difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
        folded = {c.casefold(): c for c in pool}
        if not close and name.casefold() in folded:
            close = [folded[name.casefold()]]
        return (f"did you mean `{close[0]}`?",) if close else ()

    def other_kinds(self, name: str, kind: str) -> tuple[str, ...]:
        """Hints naming declarations of other kinds that carry `name`."""
        hints = []
        for other in (LIST, SEQUENCE, WORKFLOW, OBJECT, EVENT):
            if other == kind or name not in self.named[other]:
                continue
            quoted = other in (LIST, SEQUENCE, WORKFLOW)
            shown = f'"{name}"' if quoted else name
            hints.append(f"there is {_article(other)} {other} called `{shown}`")
        return tuple(hints)

    def line_of(self, span: Span) -> str:
        """`file:line` of a span, for hints that point elsewhere."""
        location = self.sources.location(span)
        return f"{span.path}:{location[0]}" if location else span.path

    # -- spans of words inside a node

    def word_span(
        self, span: Span, word: str, *, after: int = 0, quoted: bool = False
    ) -> Span:
        """The span of the first token `word` in `span`, from `after` on."""
        for token in self._tokens(span, max(after, span.start)):
            text = token.group(0)
            found = _unquote(text) == word if quoted else text == word
            if found and (quoted == text.startswith('"')):
                return Span(span.path, token.start(), token.end())
        return span

    def words(self, span: Span) -> list[tuple[str, Span]]:
        """The bare words of `span`, in order, skipping strings and comments."""
        return [
            (token.group(0), Span(span.path, token.start(), token.end()))
            for token in self._tokens(span, span.start)
            if token.group(0)[0] not in '"#'
        ]

    def _tokens(self, span: Span, start: int) -> Iterator[re.Match[str]]:
        source = self.sources.get(span.path)
        if source is None or span is NO_SPAN:
            return iter(())
        return _TOKEN.finditer(source.text, start, span.end)


def _article(kind: str) -> str:
    return "an" if kind[0] in "aeiou" else "a"


_KINDS: dict[type, str] = {
    ast.ListDecl: LIST,
    ast.SequenceDecl: SEQUENCE,
    ast.WorkflowDecl: WORKFLOW,
    ast.ObjectDecl: OBJECT,
    ast.EventDecl: EVENT,
}


def kind_of(declaration: ast.Declaration) -> str | None:
    """The namespace of a declaration's name; list enrollments have none."""
    return _KINDS.get(type(declaration))


def index(
    declarations: Iterable[ast.Declaration],
) -> dict[str, dict[str, ast.Declaration]]:
    """The first declaration of every name, per kind."""
    named: dict[str, dict[str, ast.Declaration]] = {
        kind: {} for kind in (LIST, SEQUENCE, WORKFLOW, OBJECT, EVENT)
    }
    for declaration in declarations:
        kind = kind_of(declaration)
        if kind is not None and not isinstance(declaration, ast.ListEnrollment):
            named[kind].setdefault(declaration.name, declaration)
    return named


def unparsed_names(results: Iterable[ParseResult]) -> set[tuple[str, str]]:
    """Declaration headers found in the text of files that had syntax errors."""
    found: set[tuple[str, str]] = set()
    for result in results:
        if result.ok:
            continue
        for match in _HEADER.finditer(result.source.text):
            if match.group(1):
                found.add((match.group(1), _unquote(f'"{match.group(2)}"')))
            else:
                found.add((match.group(3), match.group(4)))
    return found
