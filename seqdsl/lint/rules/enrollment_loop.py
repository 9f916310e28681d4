"""Lint rule L009: workflows whose actions enroll records in each other.

Workflow A feeds workflow B when one of A's actions can make B's `enroll when`
or `reenroll when` true: it sets or clears a property the trigger reads, adds to
or removes from a list it reads (active lists are read through their
conditions), or enrolls in B directly. A cycle in this graph sends records round
from workflow to workflow; the checks use the value set, so `set p = x` only
feeds a trigger that can be true with `p` equal to x.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Mapping, Sequence

import attrs

from seqdsl import ast
from seqdsl.lint.context import Finding, LintContext, LintRule, leaves
from seqdsl.lint.logic import AllOf, AnyOf, Formula, Var, never
from seqdsl.lint.lower import Scope
from seqdsl.lint.usage import actions

Kind = ast.TriggerKind
_ENTRY = (Kind.ENROLL, Kind.REENROLL)


@attrs.frozen
class _Edge:
    """`source` can enroll records in `target` through `action`."""

    source: str
    target: str
    action: ast.Action
    how: str


def check(ctx: LintContext) -> Iterator[Finding]:
    workflows = ctx.checked.workflows
    readers: dict[Hashable, list[_Target]] = {}
    for decl in workflows.values():
        if decl.triggers(Kind.ENROLL) or decl.triggers(Kind.REENROLL):
            target = _Target(decl, _entry(ctx, decl), _reads(ctx, decl))
            for key in target.reads:
                readers.setdefault(key, []).append(target)
    edges = [e for decl in workflows.values() for e in _edges(ctx, decl, readers)]
    graph: dict[str, list[_Edge]] = {name: [] for name in workflows}
    for edge in edges:
        if edge.source != edge.target:  # the runtime stops a record re-entering
            graph[edge.source].append(edge)
    for component in _components(graph):
        cycle = _cycle(graph, component)
        if cycle:
            yield _finding(ctx, cycle)


# ---------------------------------------------------------------- the graph


@attrs.frozen
class _Target:
    """A workflow that records can enter by trigger: what lets them in, and what
    that reads (property keys and list names)."""

    decl: ast.WorkflowDecl
    entry: Formula
    reads: frozenset[Hashable]


def _edges(
    ctx: LintContext,
    decl: ast.WorkflowDecl,
    readers: Mapping[Hashable, Sequence[_Target]],
) -> Iterator[_Edge]:
    """The edges out of one workflow; `readers`: targets by what they read."""
    for action, _ in actions(ctx.expanding, decl):
        if isinstance(action, ast.EnrollInWorkflow):
            yield _Edge(decl.name, action.workflow, action, "enrolls records in it")
            continue
        for target in _candidates(decl, action, readers):
            how = _feeds(ctx, decl, action, target)
            if how is not None:
                yield _Edge(decl.name, target.decl.name, action, how)


def _candidates(
    decl: ast.WorkflowDecl,
    action: ast.Action,
    readers: Mapping[Hashable, Sequence[_Target]],
) -> list[_Target]:
    """The targets whose triggers read what `action` changes."""
    if isinstance(action, ast.AddToList | ast.RemoveFromList):
        return list(readers.get(("list", action.list), ()))
    if not isinstance(action, ast.SetProperty | ast.ClearProperty):
        return []
    own = readers.get(("own", decl.object, action.ref.name), ())
    other = readers.get(("primary", decl.object, action.ref.name), ())
    return [*own, *other]


def _entry(ctx: LintContext, decl: ast.WorkflowDecl) -> Formula:
    scope = Scope(decl.object, workflow=decl.name)
    items = [
        ctx.expanding.read(trigger.condition, scope)
        for kind in _ENTRY
        for trigger in decl.triggers(kind)
    ]
    return AnyOf(tuple(items))


def _reads(ctx: LintContext, decl: ast.WorkflowDecl) -> frozenset[Hashable]:
    """Property keys and list names the entry triggers read (via lists)."""
    scope = Scope(decl.object, workflow=decl.name)
    found: set[Hashable] = set()
    todo = [trigger.condition for k in _ENTRY for trigger in decl.triggers(k)]
    seen: set[str] = set()
    while todo:
        for leaf in leaves(todo.pop()):
            if isinstance(leaf, ast.PropertyTest):
                prop = ctx.reader.property(leaf.ref, scope)
                if prop is not None:
                    found.add(prop[0])
            elif isinstance(leaf, ast.InList) and leaf.name not in seen:
                seen.add(leaf.name)
                found.add(("list", leaf.name))
                listed = ctx.checked.lists.get(leaf.name)
                if listed is not None and listed.kind is ast.ListKind.ACTIVE:
                    todo.extend([listed.condition] if listed.condition else [])
    return frozenset(found)


def _feeds(
    ctx: LintContext, source: ast.WorkflowDecl, action: ast.Action, target: _Target
) -> str | None:
    """How `action` can make the target's trigger true, or None if it cannot."""
    entry, reads = target.entry, target.reads
    scope = Scope(target.decl.object, workflow=target.decl.name)
    if isinstance(action, ast.AddToList | ast.RemoveFromList):
        adds = isinstance(action, ast.AddToList)
        key = ("list", action.list)
        if key not in reads or never(AllOf((entry, Var(key, adds)))):
            return None
        verb = "adds to" if adds else "removes from"
        return f'{verb} list "{action.list}"'

    if not isinstance(action, ast.SetProperty | ast.ClearProperty):
        return None
    name = action.ref.name
    other = source.object if source.object != target.decl.object else None
    ref = ast.Ref(name, other)
    prop = ctx.reader.property(ref, scope)
    if prop is None or prop[0] not in reads:
        return None
    if isinstance(action, ast.SetProperty):
        test = ast.PropertyTest(ref, ast.Op.IS, (action.value,))
        how = f"sets `{name}`"
    else:
        test = ast.PropertyTest(ref, ast.Op.IS_UNKNOWN)
        how = f"clears `{name}`"
    if never(AllOf((entry, ctx.expanding.read(test, scope)))):
        return None
    return how


# ---------------------------------------------------------------- cycles


def _components(graph: Mapping[str, Sequence[_Edge]]) -> list[list[str]]:
    """Strongly connected components with more than one workflow (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for edge in graph.get(node, ()):
            if edge.target not in index:
                visit(edge.target)
                low[node] = min(low[node], low[edge.target])
            elif edge.target in stack:
                low[node] = min(low[node], index[edge.target])
        if low[node] == index[node]:
            component: list[str] = []
            while not component or component[-1] != node:
                component.append(stack.pop())
            if len(component) > 1:
                found.append(component)

    for node in graph:
        if node not in index:
            visit(node)
    return found


def _cycle(graph: Mapping[str, Sequence[_Edge]], component: list[str]) -> list[_Edge]:
    """A shortest cycle through the component's first workflow in file order."""
    members = set(component)
    start = next(name for name in graph if name in members)
    paths: dict[str, list[_Edge]] = {start: []}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for edge in graph[node]:
            if edge.target == start:
                return [*paths[node], edge]
            if edge.target in members and edge.target not in paths:
                paths[edge.target] = [*paths[node], edge]
                queue.append(edge.target)
    return []


def _finding(ctx: LintContext, cycle: list[_Edge]) -> Finding:
    names = [f'"{edge.source}"' for edge in cycle] + [f'"{cycle[0].source}"']
    hints = [
        f'"{edge.source}" {edge.how} at {ctx.line_of(edge.action.span)}, '
        f'which can enroll records in "{edge.target}"'
        for edge in cycle
    ]
    workflows = ctx.checked.workflows
    again = any(workflows[edge.target].triggers(Kind.REENROLL) for edge in cycle)
    if again:
        hints.append("with `reenroll when`, a record can go round this loop again")
    hints.append(
        "break the cycle: change what one of the actions sets, or add a "
        "`suppress when` that keeps records from coming back"
    )
    return Finding(
        "workflows enroll records in each other in a loop: " + " -> ".join(names),
        cycle[0].action.span,
        tuple(hints),
    )


RULE = LintRule(
    "L009",
    "enrollment-loop",
    "workflows whose actions feed each other's enrollment triggers in a cycle",
    check,
)
