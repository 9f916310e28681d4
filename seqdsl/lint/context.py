"""Lint stage, shared state: the rule type, findings, and what every rule reads.

A :class:`LintRule` is a code, a kebab-case name for the pattern it flags and a
check function. The function reads a :class:`LintContext` (the checked
workspace, its texts, the rule options, and lazily built helpers: condition
readers and the list of every condition with its scope) and yields
:class:`Finding` objects; the driver in :mod:`seqdsl.lint` turns them into
diagnostics with the rule's code and severity.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping

import attrs

from seqdsl import ast
from seqdsl.checked import CheckedWorkspace
from seqdsl.compile import condition_text
from seqdsl.diagnostics import Sources
from seqdsl.lint.lower import Reader, Scope
from seqdsl.source import Span

#: Strings, comments and words: enough to find a keyword outside strings.
_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*|[A-Za-z_][A-Za-z0-9_]*')


@attrs.frozen
class Finding:
    """What a rule found: the message, where, and hints on what to do."""

    message: str
    span: Span
    hints: tuple[str, ...] = ()


Check = Callable[["LintContext"], Iterable[Finding]]


@attrs.frozen
class LintRule:
    """One lint rule; `options` are its tunables under `[lint.options]`."""

    code: str
    name: str
    summary: str
    check: Check = attrs.field(eq=False, repr=False)
    options: Mapping[str, int] = attrs.field(factory=dict)


class Place:
    """Where a condition stands, as messages name it."""

    LIST = "list"
    ENROLL = ast.TriggerKind.ENROLL.value
    REENROLL = ast.TriggerKind.REENROLL.value
    GOAL = ast.TriggerKind.GOAL.value
    SUPPRESS = ast.TriggerKind.SUPPRESS.value
    UNENROLL = ast.TriggerKind.UNENROLL.value
    BRANCH = "branch"
    EVENT_FILTER = "event filter"
    RECORD_FILTER = "record filter"


@attrs.frozen
class Site:
    """One condition, the scope it reads and where it stands."""

    condition: ast.Condition
    scope: Scope
    place: str
    owner: ast.Declaration = attrs.field(eq=False)


@attrs.define
class LintContext:
    """What the rules read; helpers are built on first use and shared."""

    checked: CheckedWorkspace
    sources: Sources
    options: Mapping[str, int] = attrs.field(factory=dict)

    @functools.cached_property
    def reader(self) -> Reader:
        """Reads conditions as written: `in list` stays a variable."""
        return Reader(self.checked.schema, self.zone, self.checked.lists)

    @functools.cached_property
    def expanding(self) -> Reader:
        """Reads conditions with every active list replaced by its condition."""
        kinds = frozenset({ast.ListKind.ACTIVE})
        return Reader(self.checked.schema, self.zone, self.checked.lists, kinds)

    @functools.cached_property
    def joining(self) -> Reader:
        """Reads `in list` as what a record meets when it joins the list.

        Active lists are their condition; static lists are filled with theirs, so
        a record that joins one meets it then (records added by actions aside).
        """
        kinds = frozenset({ast.ListKind.ACTIVE, ast.ListKind.STATIC})
        return Reader(self.checked.schema, self.zone, self.checked.lists, kinds)

    @property
    def zone(self) -> str:
        return self.checked.settings.timezone

    def declarations(self) -> Iterator[ast.Declaration]:
        """Every declaration of every file, in file order."""
        for module in self.checked.modules:
            yield from module.declarations

    @functools.cached_property
    def sites(self) -> tuple[Site, ...]:
        """Every condition: of lists, triggers, branches, waits, and filters."""
        found: list[Site] = []
        for decl in self.declarations():
            for site in _top_sites(decl):
                found.append(site)
                found.extend(self._filters(site))
        return tuple(found)

    def _filters(self, site: Site) -> Iterator[Site]:
        """The `where` clauses inside a condition, each in its own scope."""
        for node in ast.walk(site.condition):
            if isinstance(node, ast.Had) and node.where is not None:
                scope = Scope(event=node.event, workflow=site.scope.workflow)
                yield Site(node.where, scope, Place.EVENT_FILTER, site.owner)
            elif isinstance(node, ast.Quantified):
                target = self.checked.schema.object(node.object)
                scope = Scope(target.name if target else node.object)
                yield Site(node.where, scope, Place.RECORD_FILTER, site.owner)

    def line_of(self, span: Span) -> str:
        """`file:line` of a span, for hints that point elsewhere."""
        location = self.sources.location(span)
        return f"{span.path}:{location[0]}" if location else span.path

    def keyword(self, word: str, after: int, within: Span) -> Span:
        """The span of the first bare `word` in `within`, from `after` on."""
        source = self.sources.get(within.path)
        if source is not None:
            for token in _TOKEN.finditer(source.text, after, within.end):
                if token.group(0) == word:
                    return Span(within.path, token.start(), token.end())
        return within


def _top_sites(decl: ast.Declaration) -> Iterator[Site]:
    if isinstance(decl, ast.ListDecl) and decl.condition is not None:
        yield Site(decl.condition, Scope(decl.object_type), Place.LIST, decl)
    elif isinstance(decl, ast.WorkflowDecl):
        scope = Scope(decl.object, workflow=decl.name)
        for clause in decl.clauses:
            if isinstance(clause, ast.Trigger):
                yield Site(clause.condition, scope, clause.kind.value, decl)
        for statement in statements(decl.body):
            yield from _statement_sites(decl, scope, statement)


def _statement_sites(
    decl: ast.WorkflowDecl, scope: Scope, statement: ast.Statement
) -> Iterator[Site]:
    if isinstance(statement, ast.If):
        for arm in statement.arms:
            yield Site(arm.condition, scope, Place.BRANCH, decl)
    elif isinstance(statement, ast.WaitUntilEvent) and statement.where is not None:
        event = Scope(event=statement.event, workflow=decl.name)
        yield Site(statement.where, event, Place.EVENT_FILTER, decl)


def statements(body: Iterable[ast.Statement]) -> Iterator[ast.Statement]:
    """Every statement of a body, nested ones included, in source order."""
    for statement in body:
        yield statement
        for block in blocks(statement):
            yield from statements(block)


def blocks(statement: ast.Statement) -> Iterator[tuple[ast.Statement, ...]]:
    """The nested bodies of a branching statement, in source order."""
    if isinstance(statement, ast.If | ast.BranchOn):
        for arm in statement.arms:
            yield arm.body
        if statement.otherwise is not None:
            yield statement.otherwise
    elif isinstance(statement, ast.Split):
        for split_arm in statement.arms:
            yield split_arm.body


def leaves(condition: ast.Condition) -> Iterator[ast.Condition]:
    """The tests of a condition; `where` clauses are not entered."""
    if isinstance(condition, ast.And | ast.Or):
        for item in condition.items:
            yield from leaves(item)
    elif isinstance(condition, ast.Not):
        yield from leaves(condition.item)
    else:
        yield condition


def shown(condition: ast.Condition, width: int = 60) -> str:
    """A condition as it reads, cut to `width` characters, in backticks."""
    text = _text(condition)
    if len(text) > width:
        text = text[: width - 3].rstrip() + "..."
    return f"`{text}`"


def _text(condition: ast.Condition) -> str:
    """The canonical text, with `not (...)` around anything but a plain test."""
    if isinstance(condition, ast.And | ast.Or):
        word = " and " if isinstance(condition, ast.And) else " or "
        parts = [_text(item) for item in condition.items]
        nested = [isinstance(item, ast.And | ast.Or) for item in condition.items]
        return word.join(
            f"({p})" if n else p for p, n in zip(parts, nested, strict=True)
        )
    if isinstance(condition, ast.Not):
        inner = _text(condition.item)
        bare = isinstance(condition.item, ast.InList | ast.Had | ast.Quantified)
        return f"not {inner}" if bare else f"not ({inner})"
    return condition_text(condition)


def innermost(
    condition: ast.Condition, holds: Callable[[ast.Condition], bool]
) -> Iterator[ast.Condition]:
    """The smallest parts of a condition for which `holds` is true.

    A part is yielded when `holds` is true for it and for none of its direct parts;
    where `holds` is false, the search goes on inside (a dead `or` branch can sit
    in a live condition).
    """
    inner = _parts(condition)
    if not holds(condition):
        for part in inner:
            yield from innermost(part, holds)
        return
    found = [part for part in inner if holds(part)]
    if not found:
        yield condition
    for part in found:
        yield from innermost(part, holds)


def _parts(condition: ast.Condition) -> tuple[ast.Condition, ...]:
    if isinstance(condition, ast.And | ast.Or):
        return condition.items
    if isinstance(condition, ast.Not):
        return (condition.item,)
    return ()
