"""Lint stage, reading conditions: a condition as a :mod:`seqdsl.lint.logic`
formula.

Property tests the linter understands (comparisons, membership, ranges, dates,
`is known`) become value sets with the engines' semantics: literals are read
with :func:`seqdsl.literals.convert`, text is compared in lower case, an ordered
enum comparison is the set of options it admits, and a date compared with a
datetime property stands for that whole local day. Everything else becomes an
opaque variable; tests that fail on unknown values also say that the value is
known.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Mapping
from typing import Any

import attrs

from seqdsl import ast
from seqdsl.lint.logic import FALSE, TRUE, AllOf, AnyOf, Formula, Has, Var, negate
from seqdsl.lint.values import (
    OTHER,
    Finite,
    Interval,
    Intervals,
    Texts,
    Values,
    known,
    unknown_only,
)
from seqdsl.literals import LiteralError, convert, parse_instant
from seqdsl.schema import SEQUENCE_PROPERTIES, Kind, Property, Schema, Type

Op = ast.Op

_TEXT_KINDS = frozenset({Kind.STRING, Kind.OWNER, Kind.TIMEZONE})
#: Text tests as (the positive test, whether it holds): `does not contain "x"`
#: is "contains x" denied, on a known value. `contains "x"` is `contains any of
#: ["x"]`.
_TEXT_FAMILIES = {
    Op.CONTAINS: ("contains", True),
    Op.CONTAINS_ANY: ("contains", True),
    Op.NOT_CONTAINS: ("contains", False),
    Op.CONTAINS_NONE: ("contains", False),
    Op.STARTS_WITH: ("starts", True),
    Op.NOT_STARTS_WITH: ("starts", False),
    Op.ENDS_WITH: ("ends", True),
    Op.NOT_ENDS_WITH: ("ends", False),
}
#: Set tests in the same terms, with the spellings the compiler accepts on sets.
_SET_FAMILIES = {
    Op.CONTAINS_ANY: ("any", True),
    Op.CONTAINS: ("any", True),
    Op.IS: ("any", True),
    Op.IS_ANY_OF: ("any", True),
    Op.CONTAINS_NONE: ("any", False),
    Op.NOT_CONTAINS: ("any", False),
    Op.IS_NOT: ("any", False),
    Op.IS_NONE_OF: ("any", False),
    Op.CONTAINS_ALL: ("all", True),
    Op.IS_EXACTLY: ("exactly", True),
}
#: Tests read from property history or a change: true or false on unknown
#: values.
_HISTORY = frozenset({Op.EVER_BEEN, Op.NEVER_BEEN, Op.UPDATED_IN_LAST, *ast.CHANGE_OPS})
#: Negative comparisons: on a known value, the complement of the positive one.
_NEGATIVE = {
    Op.IS_NOT: Op.IS,
    Op.IS_NONE_OF: Op.IS_ANY_OF,
    Op.NOT_BETWEEN: Op.BETWEEN,
}
#: The comparisons read as value sets; every other test is opaque.
_COMPARISONS = frozenset(
    {
        Op.IS,
        Op.IS_ANY_OF,
        Op.LT,
        Op.LE,
        Op.GT,
        Op.GE,
        Op.BETWEEN,
        Op.BEFORE,
        Op.AFTER,
        Op.ON,
    }
)


@attrs.frozen
class Scope:
    """What plain names mean: a record's properties or an event's fields.

    `workflow` tells `since enrolled` windows of different workflows apart.
    """

    object: str | None = None
    event: str | None = None
    workflow: str | None = None


class Reader:
    """Lowers conditions of one workspace.

    `in list` is read through the list's condition for lists of the kinds in
    `expand`, and is an opaque variable otherwise.
    """

    def __init__(
        self,
        schema: Schema,
        zone: str,
        lists: Mapping[str, ast.ListDecl],
        expand: frozenset[ast.ListKind] = frozenset(),
    ) -> None:
        self.schema = schema
        self.zone = zone
        self.lists = lists
        self.expand = expand
        # keyed by identity: hashing a deep condition costs as much as reading
        # it; the node is kept in the value so that its id is not reused
        self._memo: dict[tuple[int, Scope], tuple[ast.Condition, Formula]] = {}
        self._open: set[str] = set()

    def read(self, node: ast.Condition, scope: Scope) -> Formula:
        """The condition as a formula over the record in `scope`."""
        key = (id(node), scope)
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = (node, self._read(node, scope))
        return found[1]

    def _read(self, node: ast.Condition, scope: Scope) -> Formula:
        if isinstance(node, ast.And):
            return AllOf(tuple(self.read(item, scope) for item in node.items))
        if isinstance(node, ast.Or):
            return AnyOf(tuple(self.read(item, scope) for item in node.items))
        if isinstance(node, ast.Not):
            return negate(self.read(node.item, scope))
        if isinstance(node, ast.InList):
            return self._in_list(node.name)
        if isinstance(node, ast.Had):
            return _had(node, scope)
        if isinstance(node, ast.Quantified):
            return Var(("records", node))
        return self._test(node, scope)

    def _in_list(self, name: str) -> Formula:
        decl = self.lists.get(name)
        if (
            decl is None
            or decl.condition is None
            or decl.kind not in self.expand
            or name in self._open
        ):
            return Var(("list", name))
        self._open.add(name)
        try:
            return self.read(decl.condition, Scope(decl.object_type))
        finally:
            self._open.discard(name)

    # -- property tests

    def property(self, ref: ast.Ref, scope: Scope) -> tuple[Hashable, Property] | None:
        """The property a reference reads, and its key in formulas."""
        if scope.event is not None:
            event = self.schema.event(scope.event)
            field = event.fields.get(ref.name) if event else None
            return (("event", scope.event, ref.name), field) if field else None
        if ref.object is not None:
            other = self.schema.object(ref.object)
            prop = other.property(ref.name) if other else None
            key = ("primary", other.name if other else ref.object, ref.name)
            return (key, prop) if prop else None
        own = self.schema.object(scope.object or "contact")
        prop = own.property(ref.name) if own else None
        if prop is None and (scope.object or "contact") == "contact":
            prop = SEQUENCE_PROPERTIES.get(ref.name)
        return (("own", scope.object, ref.name), prop) if prop else None

    def _test(self, node: ast.PropertyTest, scope: Scope) -> Formula:
        found = self.property(node.ref, scope)
        if found is None:
            return Var(("test", node, scope))
        key, prop = found
        domain = _domain(prop.type)
        op = node.op
        if op is Op.IS_KNOWN:
            return Has(key, known(domain))
        if op is Op.IS_UNKNOWN:
            return Has(key, unknown_only(domain))
        if op in _HISTORY:
            return Var(("history", key, node))

        values = _Values(self, prop.type).of(node)
        if values is not None:
            return Has(key, values)
        return self._opaque(key, domain, node, prop.type.kind)

    def _opaque(
        self, key: Hashable, domain: Values, node: ast.PropertyTest, kind: Kind
    ) -> Formula:
        """A test not looked into; it still needs a known value."""
        texts = frozenset(_lower(value) for value in node.values)
        families = _SET_FAMILIES if kind is Kind.SET else _TEXT_FAMILIES
        family = families.get(node.op)
        if family is None:
            test = Var((key, node.op, texts, node.duration))
        else:
            test = Var((key, family[0], texts), family[1])
        return AllOf((Has(key, known(domain)), test))


def _had(node: ast.Had, scope: Scope) -> Formula:
    """An event test; `had no E ...` without a count denies `had E ...`."""
    since = isinstance(node.window, ast.SinceEnrolled)
    workflow = scope.workflow if since else None
    if node.negated and node.count is None:
        positive = attrs.evolve(node, negated=False)
        return Var(("had", positive, workflow), False)
    return Var(("had", node, workflow))


def _lower(value: ast.Value) -> str:
    """A literal as lower-cased text, to name opaque text tests."""
    if isinstance(value, ast.StringValue | ast.NumberValue | ast.DateTimeValue):
        return value.text.lower()
    if isinstance(value, ast.WordValue):
        return value.name.lower()
    if isinstance(value, ast.DateValue):
        return value.value.isoformat()
    return str(value.value).lower()


def _domain(type_: Type) -> Values:
    """The empty set of the property's domain (for `known`, complements)."""
    kind = type_.kind
    if kind is Kind.ENUM:
        universe = frozenset(o.value for o in type_.options) | {OTHER}
        return Finite(frozenset(), frozenset(universe))
    if kind is Kind.BOOL:
        return Finite(frozenset(), frozenset({True, False}))
    if kind in (Kind.NUMBER, Kind.DATETIME):
        return Intervals(())
    if kind is Kind.DATE:
        return Intervals((), discrete=True)
    return Texts(frozenset())


# ---------------------------------------------------------------- value sets


@attrs.frozen
class _Day:
    """A date literal read against a datetime property: the whole local day."""

    start: dt.datetime
    end: dt.datetime


class _Values:
    """The value set of one comparison-like test; None when it is not one."""

    def __init__(self, reader: Reader, type_: Type) -> None:
        self.reader = reader
        self.type = type_
        self.kind = type_.kind

    def of(self, node: ast.PropertyTest) -> Values | None:
        positive = _NEGATIVE.get(node.op, node.op)
        if self.kind is Kind.SET or positive not in _COMPARISONS:
            return None
        try:
            found = self.positive(positive, node.values)
        except _Unreadable:
            return None
        if found is None or positive is node.op:
            return found
        return found.complement().meet(known(_domain(self.type)))

    def positive(self, op: Op, values: tuple[ast.Value, ...]) -> Values | None:
        if self.kind is Kind.ENUM or self.kind is Kind.BOOL:
            return self.finite(op, values)
        if self.kind in _TEXT_KINDS:
            return self.texts(op, values)
        if self.kind is Kind.DATETIME:
            return self.instants(op, values)
        return self.ranges(op, values)

    def constant(self, value: ast.Value) -> Any:
        found = convert(value, self.type, self.reader.zone)
        if isinstance(found, LiteralError):
            raise _Unreadable
        if isinstance(found, dt.date) and not isinstance(found, dt.datetime):
            return found.toordinal()
        return found

    def finite(self, op: Op, values: tuple[ast.Value, ...]) -> Values | None:
        universe = _domain(self.type)
        assert isinstance(universe, Finite)
        if op in (Op.IS, Op.IS_ANY_OF):
            chosen = frozenset(self.constant(v) for v in values)
            return Finite(chosen, universe.universe)
        if op not in _ORDER or not self.type.ordered or len(values) != 1:
            return None
        pivot = self.type.position(str(self.constant(values[0])))
        chosen = frozenset(
            option.value
            for index, option in enumerate(self.type.options)
            if _ORDER[op](index, pivot)
        )
        return Finite(chosen, universe.universe)

    def texts(self, op: Op, values: tuple[ast.Value, ...]) -> Values | None:
        if op not in (Op.IS, Op.IS_ANY_OF):
            return None
        return Texts(frozenset(str(self.constant(v)).lower() for v in values))

    def ranges(self, op: Op, values: tuple[ast.Value, ...]) -> Values | None:
        """Numbers and dates: dates are whole numbers (ordinals)."""
        discrete = self.kind is Kind.DATE
        points = [self.constant(v) for v in values]
        op = _DATE_OPS.get(op, op)
        if op in (Op.IS, Op.IS_ANY_OF):
            return Intervals.of((Interval(v, v) for v in points), discrete)
        if op is Op.BETWEEN:
            return Intervals.of([Interval(points[0], points[1])], discrete)
        bound = _RAYS.get(op)
        if bound is None or len(points) != 1:
            return None
        return Intervals.of([bound(points[0])], discrete)

    def instants(self, op: Op, values: tuple[ast.Value, ...]) -> Values | None:
        """Datetimes: a date literal is its local day, as compiled."""
        if op is Op.IS_ANY_OF:
            return None
        points = [self.instant(v) for v in values]
        first = points[0]
        if op is Op.ON and isinstance(first, dt.datetime):
            first = self.day(first.astimezone(_zone(self.reader.zone)).date())
        op = _DATE_OPS.get(op, op)
        if op is Op.BETWEEN:
            low, high = points
            start = low.start if isinstance(low, _Day) else low
            end = high.end if isinstance(high, _Day) else high
            return Intervals.of([Interval(start, end, False, isinstance(high, _Day))])
        if isinstance(first, _Day):
            return Intervals.of([_day_part(op, first)])
        if op is Op.IS:
            return Intervals.of([Interval(first, first)])
        return Intervals.of([_RAYS[op](first)])

    def instant(self, value: ast.Value) -> dt.datetime | _Day:
        if isinstance(value, ast.DateValue):
            return self.day(value.value)
        found = self.constant(value)
        if not isinstance(found, dt.datetime):
            raise _Unreadable
        return found

    def day(self, day: dt.date) -> _Day:
        start = parse_instant(f"{day.isoformat()}T00:00", self.reader.zone)
        following = day + dt.timedelta(days=1)
        end = parse_instant(f"{following.isoformat()}T00:00", self.reader.zone)
        return _Day(start, end)


class _Unreadable(Exception):
    """A literal that does not fit its property (the checker reports those)."""


_ORDER: Mapping[Op, Callable[[int, int], bool]] = {
    Op.LT: lambda index, pivot: index < pivot,
    Op.LE: lambda index, pivot: index <= pivot,
    Op.GT: lambda index, pivot: index > pivot,
    Op.GE: lambda index, pivot: index >= pivot,
}
_RAYS: Mapping[Op, Callable[[Any], Interval]] = {
    Op.LT: lambda v: Interval(high=v, high_open=True),
    Op.LE: lambda v: Interval(high=v),
    Op.GT: lambda v: Interval(low=v, low_open=True),
    Op.GE: lambda v: Interval(low=v),
}
_DATE_OPS = {Op.BEFORE: Op.LT, Op.AFTER: Op.GT, Op.ON: Op.IS}


def _day_part(op: Op, day: _Day) -> Interval:
    """A comparison with a whole day, as the compiler lowers it."""
    if op in (Op.IS, Op.ON):
        return Interval(day.start, day.end, high_open=True)
    if op is Op.LT:
        return Interval(high=day.start, high_open=True)
    if op is Op.LE:
        return Interval(high=day.end, high_open=True)
    if op is Op.GT:
        return Interval(low=day.end)
    return Interval(low=day.start)


def _zone(name: str) -> dt.tzinfo:
    import zoneinfo

    return zoneinfo.ZoneInfo(name)


__all__ = ["FALSE", "TRUE", "Reader", "Scope"]
