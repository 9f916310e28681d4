"""Lint stage, value sets: what a property may hold for a test to pass.

Every property test is read as the set of values that pass it, with "unknown" as
one more value, because in seqdsl an unknown value fails every comparison (only
`is unknown` holds for it). Sets can be intersected and complemented, which is
all the satisfiability search in :mod:`seqdsl.lint.logic` needs. Three shapes
cover the property kinds: finite sets (enums, bools), unions of intervals
(numbers, dates, instants) and finite-or-cofinite sets of lower-cased text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, TypeAlias

import attrs

#: An enum value outside the declared options; data may hold one, rules never
#: name it.
OTHER = "\x00other"


# ---------------------------------------------------------------- finite domains


@attrs.frozen
class Finite:
    """A subset of a finite universe (enum options, or true and false)."""

    members: frozenset[object]
    universe: frozenset[object]
    unknown: bool = False

    def meet(self, other: Values) -> Finite:
        assert isinstance(other, Finite), "internal error: mixed value sets"
        both = self.members & other.members
        return Finite(both, self.universe, self.unknown and other.unknown)

    def complement(self) -> Finite:
        return Finite(self.universe - self.members, self.universe, not self.unknown)

    def is_empty(self) -> bool:
        return not self.members and not self.unknown

    def example(self) -> str | None:
        shown = sorted(_show(m) for m in self.members if m != OTHER)
        return shown[0] if shown else None


def _show(member: object) -> str:
    return str(member).lower() if isinstance(member, bool) else str(member)


# ---------------------------------------------------------------- ordered domains


Point: TypeAlias = Any  # a float, a date ordinal (int) or an aware datetime


@attrs.frozen
class Interval:
    """A range of ordered values; a missing bound is unbounded."""

    low: Point | None = None
    high: Point | None = None
    low_open: bool = False
    high_open: bool = False

    def is_empty(self) -> bool:
        if self.low is None or self.high is None or self.low < self.high:
            return False
        return bool(self.low > self.high or self.low_open or self.high_open)

    def meet(self, other: Interval) -> Interval:
        low, low_open = _tighter(
            self.low, self.low_open, other.low, other.low_open, True
        )
        high, high_open = _tighter(
            self.high, self.high_open, other.high, other.high_open, False
        )
        return Interval(low, high, low_open, high_open)


def _tighter(
    a: Point | None, a_open: bool, b: Point | None, b_open: bool, larger: bool
) -> tuple[Point | None, bool]:
    """The stricter of two bounds: the larger low bound, or the smaller high."""
    if a is None:
        return b, b_open
    if b is None:
        return a, a_open
    if a == b:
        return a, a_open or b_open
    keep_a = a > b if larger else a < b
    return (a, a_open) if keep_a else (b, b_open)


@attrs.frozen
class Intervals:
    """Sorted disjoint intervals; `discrete` for whole numbers (dates)."""

    parts: tuple[Interval, ...]
    discrete: bool = False
    unknown: bool = False

    @classmethod
    def of(
        cls, parts: Iterable[Interval], discrete: bool = False, unknown: bool = False
    ) -> Intervals:
        kept = [_normal(part, discrete) for part in parts]
        kept = [part for part in kept if not part.is_empty()]
        kept.sort(key=_low_key)
        return cls(tuple(kept), discrete, unknown)

    def meet(self, other: Values) -> Intervals:
        assert isinstance(other, Intervals), "internal error: mixed value sets"
        pieces = [a.meet(b) for a in self.parts for b in other.parts]
        return Intervals.of(pieces, self.discrete, self.unknown and other.unknown)

    def complement(self) -> Intervals:
        gaps: list[Interval] = []
        low: Point | None = None
        low_open = False
        for index, part in enumerate(self.parts):
            if part.low is not None or index > 0:
                gaps.append(Interval(low, part.low, low_open, not part.low_open))
            if part.high is None:
                return Intervals.of(gaps, self.discrete, not self.unknown)
            low, low_open = part.high, not part.high_open
        gaps.append(Interval(low, None, low_open, False))
        return Intervals.of(gaps, self.discrete, not self.unknown)

    def is_empty(self) -> bool:
        return not self.parts and not self.unknown

    def example(self) -> str | None:
        if not self.parts or self.parts[0] == Interval():
            return None  # nothing, or anything: no example says more
        value = _inside(self.parts[0])
        if isinstance(value, int) and self.discrete:
            return dt.date.fromordinal(value).isoformat()
        if isinstance(value, dt.datetime):
            return value.isoformat()
        return f"{value:g}" if isinstance(value, float) else str(value)


def _normal(part: Interval, discrete: bool) -> Interval:
    """Whole-number intervals get closed bounds, so `> 1 and < 2` is empty."""
    if not discrete:
        return part
    low = part.low + 1 if part.low is not None and part.low_open else part.low
    high = part.high - 1 if part.high is not None and part.high_open else part.high
    return Interval(low, high)


def _low_key(part: Interval) -> tuple[int, Any]:
    return (0, 0) if part.low is None else (1, part.low)


def _inside(part: Interval) -> Point:
    """A value inside a non-empty interval, preferring round numbers."""
    if part.low is not None and not part.low_open:
        return part.low
    if part.high is not None and not part.high_open and part.low is None:
        return part.high
    if part.low is not None and part.high is not None:
        return part.low + (part.high - part.low) / 2
    if part.low is not None:
        return part.low + (dt.timedelta(days=1) if _is_instant(part.low) else 1)
    assert part.high is not None
    return part.high - (dt.timedelta(days=1) if _is_instant(part.high) else 1)


def _is_instant(value: Point) -> bool:
    return isinstance(value, dt.datetime)


# ---------------------------------------------------------------- text


@attrs.frozen
class Texts:
    """Lower-cased texts: `members`, or all but them (`cofinite`)."""

    members: frozenset[str]
    cofinite: bool = False
    unknown: bool = False

    def meet(self, other: Values) -> Texts:
        assert isinstance(other, Texts), "internal error: mixed value sets"
        unknown = self.unknown and other.unknown
        if self.cofinite and other.cofinite:
            return Texts(self.members | other.members, True, unknown)
        if self.cofinite:
            return Texts(other.members - self.members, False, unknown)
        if other.cofinite:
            return Texts(self.members - other.members, False, unknown)
        return Texts(self.members & other.members, False, unknown)

    def complement(self) -> Texts:
        return Texts(self.members, not self.cofinite, not self.unknown)

    def is_empty(self) -> bool:
        return not self.cofinite and not self.members and not self.unknown

    def example(self) -> str | None:
        if self.cofinite:
            return None
        return f'"{sorted(self.members)[0]}"' if self.members else None


Values: TypeAlias = Finite | Intervals | Texts


def known(values: Values) -> Values:
    """Every value of the same domain, but not unknown."""
    return unknown_only(values).complement()


def unknown_only(values: Values) -> Values:
    """Only the unknown value, in the same domain as `values`."""
    if isinstance(values, Finite):
        return Finite(frozenset(), values.universe, True)
    if isinstance(values, Intervals):
        return Intervals((), values.discrete, True)
    return Texts(frozenset(), False, True)


def describe(values: Values) -> str:
    """A value of the set, in words, for messages ("unknown" if only that)."""
    example = values.example()
    if example is not None:
        return example
    return "unknown" if values.unknown else "some value"
