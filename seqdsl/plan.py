"""Compile stage output: the plan, an engine-neutral program over the input tables.

A :class:`Plan` holds what every engine evaluates: the *atoms* (one test of one value,
event count or association count, each interned once for all rules), the *aggregates*
they read (event counts per type, filter and window; association counts per target
and filter), the *parameters* of a run (instants and dates derived from its "now"),
and the *rules*: one boolean expression over atoms and other rules per list and per
workflow condition, under a stable key such as `list:Leads` or `workflow:W:goal`.

Atoms are two-valued: a test of an unknown value is false, whatever the operator,
except `is unknown`. `not`, `and` and `or` above the atoms are plain boolean logic.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterator, Mapping
from typing import TypeAlias

import attrs

from seqdsl import ast
from seqdsl.calendar import Calendar
from seqdsl.literals import Constant
from seqdsl.schema import Kind, Type

# ---------------------------------------------------------------- parameters


class ParamKind(enum.Enum):
    """How a run parameter derives from the run's now and the workspace calendar."""

    NOW = "now"
    PREVIOUS_RUN = "previous_run"
    DAY_START = "day_start"  # instant: local midnight of today + `amount` days
    ELAPSED = "elapsed"  # instant: now + `amount` seconds
    DATE = "date"  # date: today (workspace zone) + `amount` days


@attrs.frozen
class Param:
    """A value bound once per run; engines never read the clock themselves."""

    kind: ParamKind
    amount: int = 0

    @property
    def name(self) -> str:
        if self.kind in (ParamKind.NOW, ParamKind.PREVIOUS_RUN):
            return str(self.kind.value)
        sign = "m" if self.amount < 0 else "p"
        return f"{self.kind.value}_{sign}{abs(self.amount)}"

    @property
    def is_date(self) -> bool:
        return self.kind is ParamKind.DATE

    def describe(self) -> str:
        """The parameter in words, for plan dumps and explanations."""
        if self.kind is ParamKind.NOW:
            return "now"
        if self.kind is ParamKind.PREVIOUS_RUN:
            return "the previous run"
        days = _days(self.amount)
        if self.kind is ParamKind.DAY_START:
            return "midnight today" if self.amount == 0 else f"midnight {days}"
        if self.kind is ParamKind.DATE:
            return "today" if self.amount == 0 else days
        seconds = abs(self.amount)
        span = f"{seconds // 3600} h" if seconds % 3600 == 0 else f"{seconds // 60} min"
        return f"now {'-' if self.amount < 0 else '+'} {span}"

    def resolve(
        self, calendar: Calendar, now: dt.datetime, previous: dt.datetime | None
    ) -> dt.datetime | dt.date | None:
        """The parameter's value for a run at `now`."""
        today = calendar.local_date(now)
        if self.kind is ParamKind.NOW:
            return now
        if self.kind is ParamKind.PREVIOUS_RUN:
            return previous
        if self.kind is ParamKind.DAY_START:
            return calendar.start_of_day(today + dt.timedelta(days=self.amount))
        if self.kind is ParamKind.ELAPSED:
            return now + dt.timedelta(seconds=self.amount)
        return today + dt.timedelta(days=self.amount)


def _days(amount: int) -> str:
    unit = "day" if abs(amount) == 1 else "days"
    return f"{abs(amount)} {unit} {'before' if amount < 0 else 'after'} today"


NOW = Param(ParamKind.NOW)
PREVIOUS_RUN = Param(ParamKind.PREVIOUS_RUN)

#: A bound of a range or a value to compare with: a typed constant or a parameter.
Operand: TypeAlias = Constant | Param


# ---------------------------------------------------------------- where values live


@attrs.frozen
class Own:
    """The row being tested: the record, or the associated record in a quantifier."""

    object: str


@attrs.frozen
class Primary:
    """The primary associated `target` record of an `object` record."""

    object: str
    target: str


@attrs.frozen
class EventRow:
    """One event of type `event`, inside an event count's filter."""

    event: str


Source: TypeAlias = Own | Primary | EventRow


@attrs.frozen
class Field:
    """A typed value an atom reads: a property, or an event field."""

    source: Source
    name: str
    type: Type

    @property
    def kind(self) -> Kind:
        return self.type.kind

    def text(self) -> str:
        if isinstance(self.source, Primary):
            return f"{self.source.target}.{self.name}"
        return self.name

    def object_type(self) -> str:
        """The object whose record holds the value (for property history)."""
        if isinstance(self.source, Primary):
            return self.source.target
        if isinstance(self.source, Own):
            return self.source.object
        raise ValueError(f"internal error: event field `{self.name}` has no history")


# ---------------------------------------------------------------- value tests


@attrs.frozen
class Known:
    """`is known`, or with `negate` `is unknown`; empty text and sets are unknown."""

    negate: bool = False


@attrs.frozen
class OneOf:
    """The value equals one of `values` (text compared in lower case)."""

    values: tuple[Operand, ...]
    negate: bool = False


@attrs.frozen
class InRange:
    """The value lies between the bounds; a missing bound is open-ended."""

    low: Operand | None = None
    high: Operand | None = None
    low_open: bool = False
    high_open: bool = False
    negate: bool = False


class TextMode(enum.Enum):
    CONTAINS = "contains"
    STARTS = "starts with"
    ENDS = "ends with"


@attrs.frozen
class TextMatch:
    """Lower-cased text contains / starts / ends with any of `values` (lower-cased)."""

    mode: TextMode
    values: tuple[str, ...]
    negate: bool = False


class SetMode(enum.Enum):
    ANY = "contains any of"
    ALL = "contains all of"
    NONE = "contains none of"
    EXACTLY = "is exactly"


@attrs.frozen
class SetMatch:
    mode: SetMode
    values: tuple[str, ...]


Test: TypeAlias = Known | OneOf | InRange | TextMatch | SetMatch


# ---------------------------------------------------------------- atoms


def _text() -> str:
    return attrs.field(default="", eq=False)


@attrs.frozen
class ValueAtom:
    """One test of one value; `text` is the condition as the user wrote it."""

    field: Field
    test: Test
    text: str = _text()


@attrs.frozen
class EverBeen:
    """The value is, or per property history ever was, one of `values`."""

    field: Field
    values: tuple[Constant, ...]
    negate: bool = False
    text: str = _text()


@attrs.frozen
class UpdatedSince:
    """The last recorded change of the property is at or after `since`."""

    field: Field
    since: Param
    text: str = _text()


@attrs.frozen
class Changed:
    """A history row after the previous run and up to now changed the value.

    `to` and `before` (when set) are the values after and before that change.
    """

    field: Field
    to: Constant | None = None
    before: Constant | None = None
    text: str = _text()


class CountOp(enum.Enum):
    AT_LEAST = ">="
    AT_MOST = "<="
    EXACTLY = "="
    FEWER = "<"
    MORE = ">"
    NOT_EXACTLY = "!="

    def holds(self, count: int, times: int) -> bool:
        return bool(_COUNT_TESTS[self](count, times))


_COUNT_TESTS = {
    CountOp.AT_LEAST: lambda c, n: c >= n,
    CountOp.AT_MOST: lambda c, n: c <= n,
    CountOp.EXACTLY: lambda c, n: c == n,
    CountOp.FEWER: lambda c, n: c < n,
    CountOp.MORE: lambda c, n: c > n,
    CountOp.NOT_EXACTLY: lambda c, n: c != n,
}


@attrs.frozen
class CountTest:
    """An event count compared with `times`; false when the count is unknown."""

    count: str
    op: CountOp
    times: int
    text: str = _text()


@attrs.frozen
class QuantTest:
    """`any / no / all / at least N` associated records match (`all` needs one)."""

    quantifier: ast.Quantifier
    matches: str
    total: str
    times: int = 1
    text: str = _text()


class StoredKind(enum.Enum):
    MANUAL = "manual"  # the `list_memberships` input
    STATIC = "static"  # the stored members the runtime passes in


@attrs.frozen
class Stored:
    """Membership of a list as stored, not computed."""

    list: str
    kind: StoredKind
    text: str = _text()


Atom: TypeAlias = (
    ValueAtom | EverBeen | UpdatedSince | Changed | CountTest | QuantTest | Stored
)


# ---------------------------------------------------------------- expressions


@attrs.frozen
class AtomRef:
    id: str


@attrs.frozen
class RuleRef:
    """The truth of another rule (a list) for the same record in the same run."""

    key: str


@attrs.frozen
class And:
    items: tuple[Expr, ...]


@attrs.frozen
class Or:
    items: tuple[Expr, ...]


@attrs.frozen
class Not:
    item: Expr


@attrs.frozen
class Literal:
    value: bool


Expr: TypeAlias = AtomRef | RuleRef | And | Or | Not | Literal


def walk(expr: Expr) -> Iterator[Expr]:
    """Every node of an expression, depth first."""
    stack = [expr]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, And | Or):
            stack.extend(reversed(node.items))
        elif isinstance(node, Not):
            stack.append(node.item)


# ---------------------------------------------------------------- aggregates


@attrs.frozen
class Window:
    """Which events count: since a parameter, since enrollment in a workflow, or all.

    Every window ends at the run's now.
    """

    since: Param | None = None
    enrolled_in: str | None = None

    def describe(self) -> str:
        if self.since is not None:
            return f"since {self.since.describe()}"
        if self.enrolled_in is not None:
            return f'since enrolled in "{self.enrolled_in}"'
        return "ever"


@attrs.frozen
class EventCount:
    """How many events of `event` a record of `object` had in `window`."""

    object: str
    event: str
    window: Window
    filter: Expr | None = None


@attrs.frozen
class AssocCount:
    """How many associated `target` records of an `object` record match `filter`."""

    object: str
    target: str
    filter: Expr | None = None


# ---------------------------------------------------------------- rules


class RuleKind(enum.Enum):
    ACTIVE_LIST = "active list"
    STATIC_LIST = "static list"
    MANUAL_LIST = "manual list"
    ENROLL = "enroll when"
    REENROLL = "reenroll when"
    GOAL = "goal"
    SUPPRESS = "suppress when"
    UNENROLL = "unenroll when"
    BRANCH = "branch"


LIST_KINDS = frozenset(
    {RuleKind.ACTIVE_LIST, RuleKind.STATIC_LIST, RuleKind.MANUAL_LIST}
)


@attrs.frozen
class Rule:
    """One named condition over records of `object`.

    `level` orders evaluation: a rule only refers to rules of lower levels.
    `stored` is the atom that reads a static list's stored members, used instead of
    `expr` when a run passes them in.
    """

    key: str
    kind: RuleKind
    object: str
    name: str
    expr: Expr
    level: int = 0
    workflow: str | None = None
    stored: str | None = None

    @property
    def is_list(self) -> bool:
        return self.kind in LIST_KINDS


def list_key(name: str) -> str:
    return f"list:{name}"


def workflow_key(workflow: str, part: str) -> str:
    return f"workflow:{workflow}:{part}"


def branch_key(workflow: str, statement: int, arm: int) -> str:
    """The rule of arm `arm` (from 1) of the `statement`-th branching statement."""
    return workflow_key(workflow, f"branch:{statement}:{arm}")


# ---------------------------------------------------------------- the plan


@attrs.frozen
class Scan:
    """One input table and the columns the plan reads from it."""

    table: str
    columns: tuple[str, ...]
    note: str = ""


@attrs.frozen
class Plan:
    calendar: Calendar
    atoms: Mapping[str, Atom]
    event_counts: Mapping[str, EventCount]
    assoc_counts: Mapping[str, AssocCount]
    rules: Mapping[str, Rule]

    @property
    def objects(self) -> tuple[str, ...]:
        """Objects with rules, in the order their first rule appears."""
        return tuple(dict.fromkeys(rule.object for rule in self.rules.values()))

    def rules_of(self, object: str) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules.values() if r.object == object)

    def params(self) -> dict[str, Param]:
        """Every parameter the plan reads, by name."""
        found: dict[str, Param] = {NOW.name: NOW}
        for param in self._param_uses():
            found.setdefault(param.name, param)
        return found

    def resolve(
        self, now: dt.datetime, previous_run_at: dt.datetime | None = None
    ) -> dict[str, dt.datetime | dt.date | None]:
        """The value of every parameter for a run at `now` (aware, any zone)."""
        now = now.astimezone(dt.UTC)
        previous = previous_run_at.astimezone(dt.UTC) if previous_run_at else None
        return {
            name: param.resolve(self.calendar, now, previous)
            for name, param in self.params().items()
        }

    def turns_daily(self, key: str) -> bool:
        """Whether time alone may turn rule `key` at a workspace midnight: it
        reads, itself or through the lists, counts and filters it uses, a
        parameter fixed per day (`in last N days`, a date's today)."""
        daily = (ParamKind.DAY_START, ParamKind.DATE)
        seen: set[str] = set()
        stack: list[Expr] = [self.rules[key].expr]
        while stack:
            for node in walk(stack.pop()):
                found = node.id if isinstance(node, AtomRef) else None
                if isinstance(node, RuleRef):
                    found = node.key
                if found is None or found in seen:
                    continue
                seen.add(found)
                if isinstance(node, RuleRef):
                    stack.append(self.rules[node.key].expr)
                    continue
                atom = self.atoms[found]
                if any(p.kind in daily for p in self._atom_params(atom)):
                    return True
                stack += self._atom_filters(atom)
        return False

    def _atom_params(self, atom: Atom) -> Iterator[Param]:
        """The parameters one atom reads itself (not through filters)."""
        if isinstance(atom, UpdatedSince):
            yield atom.since
        elif isinstance(atom, Changed):
            yield PREVIOUS_RUN
        elif isinstance(atom, ValueAtom) and isinstance(atom.test, OneOf):
            yield from (v for v in atom.test.values if isinstance(v, Param))
        elif isinstance(atom, ValueAtom) and isinstance(atom.test, InRange):
            bounds = (atom.test.low, atom.test.high)
            yield from (b for b in bounds if isinstance(b, Param))
        elif isinstance(atom, CountTest):
            since = self.event_counts[atom.count].window.since
            if since is not None:
                yield since

    def _atom_filters(self, atom: Atom) -> list[Expr]:
        """The filters of the events or associated records an atom counts."""
        if isinstance(atom, CountTest):
            found = self.event_counts[atom.count].filter
            return [] if found is None else [found]
        if isinstance(atom, QuantTest):
            counts = (self.assoc_counts[atom.matches], self.assoc_counts[atom.total])
            return [c.filter for c in counts if c.filter is not None]
        return []

    def _param_uses(self) -> Iterator[Param]:
        for atom in self.atoms.values():
            yield from self._atom_params(atom)
        for count in self.event_counts.values():
            if count.window.since is not None:
                yield count.window.since

    def needed_columns(self) -> dict[str, frozenset[str]]:
        """Per object, the properties the rules read (for loading only those)."""
        found: dict[str, set[str]] = {}
        for atom in self.atoms.values():
            field = getattr(atom, "field", None)
            if isinstance(field, Field) and not isinstance(field.source, EventRow):
                found.setdefault(field.object_type(), set()).add(field.name)
        for count in self.assoc_counts.values():
            found.setdefault(count.target, set())
        return {name: frozenset(names) for name, names in found.items()}

    def expr_text(self, expr: Expr) -> str:
        """An expression in the rule language's words, for messages."""
        return _expr_text(self, expr, top=True)

    def scans(self) -> tuple[Scan, ...]:
        """The input tables the plan reads and, per table, the columns it needs."""
        found = [
            Scan(f"obj_{name}", ("id", *sorted(columns)))
            for name, columns in self.needed_columns().items()
        ]
        events = sorted({c.event for c in self.event_counts.values()})
        if events:
            fields = sorted(_event_fields(self))
            note = "types " + ", ".join(events)
            found.append(
                Scan("events", ("record_id", "type", "occurred_at", *fields), note)
            )
        history = sorted(_history_properties(self))
        if history:
            columns = ("object_type", "record_id", "property", "value", "changed_at")
            found.append(Scan("property_history", columns, ", ".join(history)))
        pairs = sorted(_association_pairs(self))
        if pairs:
            columns = ("from_type", "from_id", "to_type", "to_id", "primary")
            found.append(Scan("associations", columns, ", ".join(pairs)))
        manual = [
            a.list
            for a in self.atoms.values()
            if isinstance(a, Stored) and a.kind is StoredKind.MANUAL
        ]
        if manual:
            shown = ", ".join(f'"{name}"' for name in sorted(set(manual)))
            found.append(Scan("list_memberships", ("list", "record_id"), shown))
        return tuple(found)

    def dump(self, sql: bool = True) -> str:
        """The plan as text for `seqdsl plan`; with `sql` the DuckDB statements."""
        lines = [f"plan ({len(self.rules)} rules, zone {self.calendar.zone})", ""]
        lines += ["params:"]
        lines += [f"  {n}: {p.describe()}" for n, p in self.params().items()]
        lines += ["", "scans:"]
        for scan in self.scans():
            note = f"  ({scan.note})" if scan.note else ""
            lines.append(f"  {scan.table}: {', '.join(scan.columns)}{note}")
        lines += ["", "atoms:"]
        lines += [f"  {i}: {describe_atom(a)}" for i, a in self.atoms.items()]
        if self.event_counts:
            lines += ["", "event counts:"]
            lines += [
                f"  {i}: {self._count_text(c)}" for i, c in self.event_counts.items()
            ]
        if self.assoc_counts:
            lines += ["", "association counts:"]
            lines += [
                f"  {i}: {self._assoc_text(c)}" for i, c in self.assoc_counts.items()
            ]
        lines += ["", "rules:"]
        for rule in self.rules.values():
            lines.append(
                f"  {rule.key} ({rule.kind.value} on {rule.object}, level {rule.level})"
            )
            lines.append(f"    {expr_ids(rule.expr)}")
        if sql:
            from seqdsl.engine.duckdb import plan_sql  # the SQL is the engine's

            lines += ["", "sql (duckdb):", plan_sql(self)]
        return "\n".join(lines) + "\n"

    def _count_text(self, count: EventCount) -> str:
        where = f" where {expr_ids(count.filter)}" if count.filter else ""
        return f"{count.event} of {count.object}{where}, {count.window.describe()}"

    def _assoc_text(self, count: AssocCount) -> str:
        where = f" where {expr_ids(count.filter)}" if count.filter else ""
        return f"associated {count.target} of {count.object}{where}"


def _expr_text(plan: Plan, expr: Expr, top: bool = False) -> str:
    if isinstance(expr, AtomRef):
        return plan.atoms[expr.id].text or expr.id
    if isinstance(expr, RuleRef):
        return f'in list "{expr.key.removeprefix("list:")}"'
    if isinstance(expr, Literal):
        return "true" if expr.value else "false"
    if isinstance(expr, Not):
        inner = expr.item
        if isinstance(inner, RuleRef):
            return f'not in list "{inner.key.removeprefix("list:")}"'
        return f"not ({_expr_text(plan, inner, top=True)})"
    word = " and " if isinstance(expr, And) else " or "
    text = word.join(_expr_text(plan, item) for item in expr.items)
    return text if top or isinstance(expr, And) else f"({text})"


def expr_ids(expr: Expr) -> str:
    """An expression over atom ids and rule keys, for plan dumps."""
    if isinstance(expr, AtomRef):
        return expr.id
    if isinstance(expr, RuleRef):
        return f"[{expr.key}]"
    if isinstance(expr, Literal):
        return "true" if expr.value else "false"
    if isinstance(expr, Not):
        return f"not {expr_ids(expr.item)}"
    word = " and " if isinstance(expr, And) else " or "
    return "(" + word.join(expr_ids(item) for item in expr.items) + ")"


def operand_text(value: Operand | None) -> str:
    if isinstance(value, Param):
        return f"${value.name}"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def describe_test(test: Test) -> str:
    """A value test in the plan's core operators."""
    no = "not " if getattr(test, "negate", False) else ""
    if isinstance(test, Known):
        return "is unknown" if test.negate else "is known"
    if isinstance(test, OneOf):
        return f"{no}in {{{', '.join(operand_text(v) for v in test.values)}}}"
    if isinstance(test, InRange):
        low = "(-inf" if test.low is None else "(" if test.low_open else "["
        high = "+inf)" if test.high is None else ")" if test.high_open else "]"
        left = low if test.low is None else low + operand_text(test.low)
        right = high if test.high is None else operand_text(test.high) + high
        return f"{no}in {left}, {right}"
    if isinstance(test, TextMatch):
        shown = ", ".join(repr(v) for v in test.values)
        return f"lower {no}{test.mode.value} any of [{shown}]"
    return f"{test.mode.value} [{', '.join(repr(v) for v in test.values)}]"


def describe_atom(atom: Atom) -> str:
    """An atom in the plan's core operators, with the text it came from."""
    core = _core(atom)
    return f"{core}    # {atom.text}" if atom.text and atom.text != core else core


def _core(atom: Atom) -> str:
    if isinstance(atom, ValueAtom):
        return f"{_field_text(atom.field)} {describe_test(atom.test)}"
    if isinstance(atom, EverBeen):
        word = "never held" if atom.negate else "held"
        shown = ", ".join(operand_text(v) for v in atom.values)
        return f"{_field_text(atom.field)} {word} one of {{{shown}}} (history + now)"
    if isinstance(atom, UpdatedSince):
        return f"last change of {_field_text(atom.field)} >= ${atom.since.name}"
    if isinstance(atom, Changed):
        parts = [f"changed {_field_text(atom.field)} in ($previous_run, $now]"]
        if atom.before is not None:
            parts.append(f"from {operand_text(atom.before)}")
        if atom.to is not None:
            parts.append(f"to {operand_text(atom.to)}")
        return " ".join(parts)
    if isinstance(atom, CountTest):
        return f"{atom.count} {atom.op.value} {atom.times}"
    if isinstance(atom, QuantTest):
        if atom.quantifier is ast.Quantifier.ALL:
            return f"{atom.matches} = {atom.total} and {atom.total} >= 1"
        if atom.quantifier is ast.Quantifier.NO:
            return f"{atom.matches} = 0"
        return f"{atom.matches} >= {atom.times}"
    return f'stored member of "{atom.list}" ({atom.kind.value})'


def _field_text(field: Field) -> str:
    if isinstance(field.source, EventRow):
        return f"{field.source.event}.{field.name}"
    if isinstance(field.source, Primary):
        return f"{field.source.object}->{field.source.target}.{field.name}"
    return f"{field.source.object}.{field.name}"


def _event_fields(plan: Plan) -> set[str]:
    return {
        atom.field.name
        for atom in plan.atoms.values()
        if isinstance(atom, ValueAtom) and isinstance(atom.field.source, EventRow)
    }


def _history_properties(plan: Plan) -> set[str]:
    return {
        f"{atom.field.object_type()}.{atom.field.name}"
        for atom in plan.atoms.values()
        if isinstance(atom, EverBeen | UpdatedSince | Changed)
    }


def _association_pairs(plan: Plan) -> set[str]:
    pairs = {f"{c.object}-{c.target}" for c in plan.assoc_counts.values()}
    for atom in plan.atoms.values():
        source = getattr(getattr(atom, "field", None), "source", None)
        if isinstance(source, Primary):
            pairs.add(f"{source.object}-{source.target} (primary)")
    return pairs
