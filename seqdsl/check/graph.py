"""Check stage, list dependencies: who reads whom, in what order, and cycles.

Lists refer to each other with `in list`. The compiler needs them in dependency
order (a list after every list it reads) and a cycle has no meaning, so both are
computed here without recursion: a workspace may hold thousands of lists in one
long chain.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Mapping

from seqdsl import ast
from seqdsl.check.conditions import leaves

#: list name -> the `in list` references of its condition, in source order
Graph = Mapping[str, tuple[ast.InList, ...]]
#: a list being visited, and the references of it still to follow
_Frame = tuple[str, Iterator[ast.InList]]


def references(condition: ast.Condition | None) -> tuple[ast.InList, ...]:
    """Every `in list` inside a condition, in source order."""
    if condition is None:
        return ()
    return tuple(node for node in leaves(condition) if isinstance(node, ast.InList))


def build_graph(lists: Mapping[str, ast.ListDecl]) -> Graph:
    """Edges between declared lists; references to unknown lists are left out."""
    graph = {}
    for name, decl in lists.items():
        found = references(decl.condition)
        graph[name] = tuple(ref for ref in found if ref.name in lists)
    return graph


def dependency_order(graph: Graph) -> list[str]:
    """Every list after the lists it reads; ties keep declaration order."""
    order: list[str] = []
    done: set[str] = set()
    for root in graph:
        if root in done:
            continue
        done.add(root)
        stack: list[_Frame] = [(root, iter(graph[root]))]
        while stack:
            name, pending = stack[-1]
            child = next(pending, None)
            if child is None:
                stack.pop()
                order.append(name)
            elif child.name not in done:
                done.add(child.name)
                stack.append((child.name, iter(graph[child.name])))
    return order


def cycles(graph: Graph) -> list[list[str]]:
    """One cycle per strongly connected group, each as `[A, B, ..., A]`."""
    position = {name: number for number, name in enumerate(graph)}
    found = []
    for group in _components(graph):
        members = set(group)
        start = min(group, key=position.__getitem__)
        path = _loop(graph, start, members)
        if path is not None:
            found.append(path)
    return found


def _loop(graph: Graph, start: str, members: set[str]) -> list[str] | None:
    """The shortest path from `start` back to itself inside `members`."""
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        name = queue.popleft()
        for ref in graph[name]:
            if ref.name == start:
                path = [name]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return [*reversed(path), start]
            if ref.name in members and ref.name not in came_from:
                came_from[ref.name] = name
                queue.append(ref.name)
    return None


def _components(graph: Graph) -> list[list[str]]:
    """Tarjan's strongly connected components, iteratively; only real cycles."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: dict[str, None] = {}  # ordered, with fast membership
    groups: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        index[root] = low[root] = len(index)
        stack[root] = None
        work: list[_Frame] = [(root, iter(graph[root]))]
        while work:
            name, pending = work[-1]
            child = next(pending, None)
            if child is None:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[name])
                if low[name] == index[name]:
                    groups.append(_pop_group(stack, name))
            elif child.name not in index:
                index[child.name] = low[child.name] = len(index)
                stack[child.name] = None
                work.append((child.name, iter(graph[child.name])))
            elif child.name in stack:
                low[name] = min(low[name], index[child.name])
    return [group for group in groups if _is_cycle(graph, group)]


def _pop_group(stack: dict[str, None], root: str) -> list[str]:
    """The members of a finished component: the stack down to its root."""
    group = []
    while True:
        member, _ = stack.popitem()
        group.append(member)
        if member == root:
            return group


def _is_cycle(graph: Graph, group: list[str]) -> bool:
    return len(group) > 1 or any(ref.name == group[0] for ref in graph[group[0]])
