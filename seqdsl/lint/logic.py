"""Lint stage, reasoning: conditions as formulas, and a search for a model.

A :data:`Formula` is in negation normal form: `AllOf` and `AnyOf` over two kinds
of leaves. A :class:`Has` leaf says a property holds a value of a
:class:`~seqdsl.lint.values.Values` set (negation is the complement, unknown
included); a :class:`Var` stands for anything the linter does not look into (an
event count, a list membership, `contains "x"`) and is only ever true or false.

:func:`model` searches for an assignment that makes a formula true. Lint rules
only report what the search *proves* (no model at all), so every leaf the linter
cannot read simply adds freedom and never a false finding. The search gives up
after a fixed number of steps; a rule treats that as "not proven" and stays
silent.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import TypeAlias

import attrs

from seqdsl.lint.values import Values

#: How many leaves the search may visit before it gives up on a formula.
BUDGET = 20_000


@attrs.frozen
class Has:
    """The property `key` holds one of `values` (which may include unknown)."""

    key: Hashable
    values: Values


@attrs.frozen
class Var:
    """An opaque test, true (`positive`) or false."""

    key: Hashable
    positive: bool = True


@attrs.frozen
class AllOf:
    items: tuple[Formula, ...]


@attrs.frozen
class AnyOf:
    items: tuple[Formula, ...]


Formula: TypeAlias = Has | Var | AllOf | AnyOf

TRUE: Formula = AllOf(())
FALSE: Formula = AnyOf(())


def negate(formula: Formula) -> Formula:
    """The formula that is true exactly when `formula` is false."""
    if isinstance(formula, Has):
        return Has(formula.key, formula.values.complement())
    if isinstance(formula, Var):
        return Var(formula.key, not formula.positive)
    if isinstance(formula, AllOf):
        return AnyOf(tuple(negate(item) for item in formula.items))
    return AllOf(tuple(negate(item) for item in formula.items))


def both(*formulas: Formula) -> Formula:
    return AllOf(formulas)


@attrs.frozen
class Model:
    """One way to make a formula true: property value sets and opaque truths."""

    values: Mapping[Hashable, Values]
    truths: Mapping[Hashable, bool]


class Undecided(Exception):
    """The search ran out of steps."""


def model(formula: Formula) -> Model | None:
    """An assignment that makes `formula` true, or None when there is none.

    Raises :class:`Undecided` when the search gives up.
    """
    search = _Search()
    return search.run([formula], {}, {})


def never(formula: Formula) -> bool:
    """Proven: no record makes `formula` true."""
    try:
        return model(formula) is None
    except Undecided:
        return False


def always(formula: Formula) -> bool:
    """Proven: every record makes `formula` true."""
    return never(negate(formula))


def implies(premise: Formula, conclusion: Formula) -> bool:
    """Proven: every record that meets `premise` meets `conclusion`."""
    return never(both(premise, negate(conclusion)))


def witness(formula: Formula) -> Model | None:
    """A model of `formula`; None when there is none or the search gave up."""
    try:
        return model(formula)
    except Undecided:
        return None


class _Search:
    """Depth-first search: leaves narrow the assignment, `AnyOf` branches."""

    def __init__(self) -> None:
        self.steps = 0

    def run(
        self,
        todo: Sequence[Formula],
        values: dict[Hashable, Values],
        truths: dict[Hashable, bool],
    ) -> Model | None:
        choices: list[AnyOf] = []
        stack = list(todo)
        while stack:
            self.tick()
            item = stack.pop()
            if isinstance(item, AllOf):
                stack.extend(item.items)
            elif isinstance(item, AnyOf):
                choices.append(item)
            elif not _narrow(item, values, truths):
                return None

        if not choices:
            return Model(dict(values), dict(truths))
        # branch on the smallest choice first: fewer alternatives, earlier
        # failure
        choices.sort(key=lambda choice: len(choice.items))
        first, rest = choices[0], choices[1:]
        for option in first.items:
            found = self.run([*rest, option], dict(values), dict(truths))
            if found is not None:
                return found
        return None

    def tick(self) -> None:
        self.steps += 1
        if self.steps > BUDGET:
            raise Undecided


def _narrow(
    leaf: Has | Var, values: dict[Hashable, Values], truths: dict[Hashable, bool]
) -> bool:
    """Add a leaf to the assignment; False if it contradicts it."""
    if isinstance(leaf, Var):
        return truths.setdefault(leaf.key, leaf.positive) == leaf.positive
    current = values.get(leaf.key)
    narrowed = leaf.values if current is None else current.meet(leaf.values)
    values[leaf.key] = narrowed
    return not narrowed.is_empty()
