"""Report stage, plans: the part of a compiled plan that one list or workflow needs."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any

import attrs

from seqdsl.plan import Plan


class UnknownRuleError(LookupError):
    """No list or workflow of that name is in the plan."""


def subset(plan: Plan, name: str) -> Plan:
    """The rules of list or workflow `name`, with every rule, atom and count they use.

    Interned pieces are shared across rules, so the subset is the closure over the
    ids that the chosen rules mention.
    """
    chosen = [
        key for key, rule in plan.rules.items() if name in (rule.name, rule.workflow)
    ]
    if not chosen:
        names = sorted({rule.workflow or rule.name for rule in plan.rules.values()})
        raise UnknownRuleError(
            f"no list or workflow called `{name}` in the plan; "
            f"known: {', '.join(names[:10])}{', ...' if len(names) > 10 else ''}"
        )
    kept: set[str] = set()
    pending = list(chosen)
    while pending:
        key = pending.pop()
        if key in kept:
            continue
        kept.add(key)
        pending.extend(_ids(plan, _lookup(plan, key)))
    return attrs.evolve(
        plan,
        atoms=_only(plan.atoms, kept),
        event_counts=_only(plan.event_counts, kept),
        assoc_counts=_only(plan.assoc_counts, kept),
        rules=_only(plan.rules, kept),
    )


def _only(mapping: Mapping[str, Any], kept: set[str]) -> Mapping[str, Any]:
    return MappingProxyType({k: v for k, v in mapping.items() if k in kept})


def _lookup(plan: Plan, key: str) -> object:
    for table in (plan.rules, plan.atoms, plan.event_counts, plan.assoc_counts):
        if key in table:
            return table[key]
    return None


def _ids(plan: Plan, node: object) -> Iterator[str]:
    """Every string inside `node` that names a rule, atom or count of the plan."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, str):
            if _lookup(plan, current) is not None:
                yield current
        elif isinstance(current, tuple | list | frozenset):
            stack.extend(current)
        elif attrs.has(type(current)):
            fields = attrs.fields(type(current))  # type: ignore[arg-type]
            stack.extend(getattr(current, f.name) for f in fields)
