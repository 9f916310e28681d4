"""Compile stage: a checked workspace to a :class:`~seqdsl.plan.Plan`.

Sugar is lowered to the plan's few core tests: ordered-enum comparisons become sets
of options, relative dates become ranges between run parameters, a date compared
with a datetime property becomes that local day, `had no ...` becomes a count test.
Identical atoms and aggregates are interned across all rules, so an engine computes
each of them once per run.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator, Mapping, Sequence

import attrs

from seqdsl import ast
from seqdsl import plan as p
from seqdsl.calendar import Calendar
from seqdsl.checked import CheckedWorkspace
from seqdsl.literals import Constant, LiteralError, convert
from seqdsl.schema import SEQUENCE_PROPERTIES, Kind, Property, Schema, Type
from seqdsl.workspace import Settings

__all__ = [
    "CompileError",
    "branching_statements",
    "calendar_of",
    "compile_workspace",
    "condition_text",
]

log = logging.getLogger("seqdsl.compile")

Op = ast.Op
_ORDER = {Op.LT, Op.LE, Op.GT, Op.GE}
_RELATIVE = {Op.IN_LAST, Op.IN_NEXT, Op.MORE_THAN_AGO, Op.MORE_THAN_AHEAD}
_TEXT_MODES = {
    Op.CONTAINS: (p.TextMode.CONTAINS, False),
    Op.NOT_CONTAINS: (p.TextMode.CONTAINS, True),
    Op.STARTS_WITH: (p.TextMode.STARTS, False),
    Op.NOT_STARTS_WITH: (p.TextMode.STARTS, True),
    Op.ENDS_WITH: (p.TextMode.ENDS, False),
    Op.NOT_ENDS_WITH: (p.TextMode.ENDS, True),
}
_SET_MODES = {
    Op.CONTAINS_ANY: p.SetMode.ANY,
    Op.CONTAINS_ALL: p.SetMode.ALL,
    Op.CONTAINS_NONE: p.SetMode.NONE,
    Op.IS_EXACTLY: p.SetMode.EXACTLY,
    Op.IS: p.SetMode.ANY,
    Op.IS_ANY_OF: p.SetMode.ANY,
    Op.CONTAINS: p.SetMode.ANY,
    Op.IS_NOT: p.SetMode.NONE,
    Op.IS_NONE_OF: p.SetMode.NONE,
    Op.NOT_CONTAINS: p.SetMode.NONE,
}
_COUNTS = {
    ast.CountKind.AT_LEAST: (p.CountOp.AT_LEAST, p.CountOp.FEWER),
    ast.CountKind.AT_MOST: (p.CountOp.AT_MOST, p.CountOp.MORE),
    ast.CountKind.EXACTLY: (p.CountOp.EXACTLY, p.CountOp.NOT_EXACTLY),
}
_TRIGGERS = {
    ast.TriggerKind.ENROLL: (p.RuleKind.ENROLL, "enroll"),
    ast.TriggerKind.REENROLL: (p.RuleKind.REENROLL, "reenroll"),
    ast.TriggerKind.GOAL: (p.RuleKind.GOAL, "goal"),
    ast.TriggerKind.SUPPRESS: (p.RuleKind.SUPPRESS, "suppress"),
    ast.TriggerKind.UNENROLL: (p.RuleKind.UNENROLL, "unenroll"),
}
_LIST_KINDS = {
    ast.ListKind.ACTIVE: p.RuleKind.ACTIVE_LIST,
    ast.ListKind.STATIC: p.RuleKind.STATIC_LIST,
    ast.ListKind.MANUAL: p.RuleKind.MANUAL_LIST,
}


class CompileError(Exception):
    """A checked workspace the compiler cannot lower: always a bug in the checker."""


def calendar_of(settings: Settings) -> Calendar:
    """The workspace calendar the plan's parameters are computed with."""
    return Calendar.build(
        settings.timezone,
        settings.business_days,
        settings.holidays,
        settings.holiday_country,
    )


def compile_workspace(checked: CheckedWorkspace) -> p.Plan:
    """Lower every list and workflow condition of `checked` into one plan."""
    compiler = _Compiler(checked.schema, calendar_of(checked.settings))
    for decl in checked.lists.values():
        compiler.add_list(decl)
    for workflow in checked.workflows.values():
        compiler.add_workflow(workflow)
    plan = compiler.finish()
    log.debug(
        "plan: %d rules, %d atoms, %d event counts, %d association counts",
        len(plan.rules),
        len(plan.atoms),
        len(plan.event_counts),
        len(plan.assoc_counts),
    )
    return plan


def branching_statements(
    body: Sequence[ast.Statement],
) -> Iterator[ast.If | ast.BranchOn]:
    """`if` and `branch on` statements in source order (pre-order), numbered from 1
    by :func:`seqdsl.plan.branch_key`; arms are numbered from 1 as written."""
    for statement in body:
        if isinstance(statement, ast.If):
            yield statement
            for arm in statement.arms:
                yield from branching_statements(arm.body)
            yield from branching_statements(statement.otherwise or ())
        elif isinstance(statement, ast.BranchOn):
            yield statement
            for value_arm in statement.arms:
                yield from branching_statements(value_arm.body)
            yield from branching_statements(statement.otherwise or ())
        elif isinstance(statement, ast.Split):
            for split_arm in statement.arms:
                yield from branching_statements(split_arm.body)


@attrs.frozen
class _Scope:
    """What plain names mean: a record's properties, an event's fields, or an
    associated record's properties; `workflow` gives `since enrolled` a meaning."""

    object: str
    event: str | None = None
    workflow: str | None = None


class _Compiler:
    def __init__(self, schema: Schema, calendar: Calendar) -> None:
        self.schema = schema
        self.calendar = calendar
        self.atoms: dict[p.Atom, str] = {}
        self.events: dict[p.EventCount, str] = {}
        self.assocs: dict[p.AssocCount, str] = {}
        self.rules: dict[str, p.Rule] = {}

    # -- rules

    def add_list(self, decl: ast.ListDecl) -> None:
        kind = _LIST_KINDS[decl.kind]
        scope = _Scope(decl.object_type)
        stored = None
        if decl.kind is ast.ListKind.MANUAL:
            manual = p.Stored(decl.name, p.StoredKind.MANUAL, f'in list "{decl.name}"')
            expr: p.Expr = self.atom(manual)
        elif decl.condition is None:
            raise CompileError(f'internal error: list "{decl.name}" has no condition')
        else:
            expr = self.condition(decl.condition, scope)
        if decl.kind is ast.ListKind.STATIC:
            kept = p.Stored(decl.name, p.StoredKind.STATIC, f'in list "{decl.name}"')
            stored = self.atom(kept).id
        key = p.list_key(decl.name)
        self.rules[key] = p.Rule(
            key, kind, decl.object_type, decl.name, expr, stored=stored
        )

    def add_workflow(self, workflow: ast.WorkflowDecl) -> None:
        scope = _Scope(workflow.object, workflow=workflow.name)
        for trigger_kind, (kind, part) in _TRIGGERS.items():
            triggers = workflow.triggers(trigger_kind)
            if triggers:
                items = tuple(self.condition(t.condition, scope) for t in triggers)
                key = p.workflow_key(workflow.name, part)
                self.add_rule(workflow, kind, key, _any(items))

        statements = branching_statements(workflow.body)
        for number, statement in enumerate(statements, 1):
            for arm, expr in enumerate(self.arms(statement, scope), 1):
                key = p.branch_key(workflow.name, number, arm)
                self.add_rule(workflow, p.RuleKind.BRANCH, key, expr)

    def add_rule(
        self, workflow: ast.WorkflowDecl, kind: p.RuleKind, key: str, expr: p.Expr
    ) -> None:
        self.rules[key] = p.Rule(
            key, kind, workflow.object, workflow.name, expr, workflow=workflow.name
        )

    def arms(self, statement: ast.If | ast.BranchOn, scope: _Scope) -> list[p.Expr]:
        if isinstance(statement, ast.If):
            return [self.condition(arm.condition, scope) for arm in statement.arms]
        return [
            self.condition(
                ast.PropertyTest(statement.ref, Op.IS_ANY_OF, arm.values), scope
            )
            for arm in statement.arms
        ]

    def finish(self) -> p.Plan:
        levels: dict[str, int] = {}
        rules = {key: self.leveled(rule, levels) for key, rule in self.rules.items()}
        ordered = dict(sorted(rules.items(), key=lambda item: item[1].level))
        return p.Plan(
            calendar=self.calendar,
            atoms={ident: atom for atom, ident in self.atoms.items()},
            event_counts={ident: count for count, ident in self.events.items()},
            assoc_counts={ident: count for count, ident in self.assocs.items()},
            rules=ordered,
        )

    def leveled(self, rule: p.Rule, levels: dict[str, int]) -> p.Rule:
        """The rule with its level: one above the highest rule it refers to."""
        if rule.key not in levels:
            levels[rule.key] = -1  # the checker refuses cycles; this stops a loop
            refs = [n.key for n in p.walk(rule.expr) if isinstance(n, p.RuleRef)]
            below = [self.leveled(self.rules[key], levels).level for key in refs]
            levels[rule.key] = 1 + max(below, default=-1)
        return attrs.evolve(rule, level=levels[rule.key])

    # -- conditions

    def atom(self, atom: p.Atom) -> p.AtomRef:
        ident = self.atoms.setdefault(atom, f"a{len(self.atoms) + 1}")
        return p.AtomRef(ident)

    def condition(self, node: ast.Condition, scope: _Scope) -> p.Expr:
        if isinstance(node, ast.And):
            return p.And(tuple(self.condition(item, scope) for item in node.items))
        if isinstance(node, ast.Or):
            return p.Or(tuple(self.condition(item, scope) for item in node.items))
        if isinstance(node, ast.Not):
            return p.Not(self.condition(node.item, scope))
        if isinstance(node, ast.InList):
            return p.RuleRef(p.list_key(node.name))
        if isinstance(node, ast.Had):
            return self.had(node, scope)
        if isinstance(node, ast.Quantified):
            return self.quantified(node, scope)
        field = self.field(node.ref, scope)
        atom = _Lowering(self.calendar, field, node).atom()
        return self.atom(attrs.evolve(atom, text=condition_text(node)))

    def field(self, ref: ast.Ref, scope: _Scope) -> p.Field:
        if scope.event is not None:
            event = self.schema.event(scope.event)
            prop = event.fields.get(ref.name) if event else None
            return p.Field(p.EventRow(scope.event), ref.name, _typed(prop, ref))
        if ref.object is None:
            prop = self.property(scope.object, ref.name)
            return p.Field(p.Own(scope.object), ref.name, _typed(prop, ref))
        target = self.object_name(ref.object)
        prop = self.property(target, ref.name)
        return p.Field(p.Primary(scope.object, target), ref.name, _typed(prop, ref))

    def property(self, object: str, name: str) -> Property | None:
        found = self.schema.object(object)
        prop = found.property(name) if found else None
        if prop is None and object == "contact":
            prop = SEQUENCE_PROPERTIES.get(name)
        return prop

    def object_name(self, word: str) -> str:
        """The object a word names, plural or not (`deals`, `companies`)."""
        for name in (word, word.removesuffix("s"), word.removesuffix("ies") + "y"):
            if name in self.schema.objects:
                return name
        raise CompileError(f"internal error: unknown object `{word}`")

    def had(self, node: ast.Had, scope: _Scope) -> p.Expr:
        event_scope = _Scope(scope.object, event=node.event)
        where = self.condition(node.where, event_scope) if node.where else None
        window = self.window(node.window, scope)
        count = p.EventCount(scope.object, node.event, window, where)
        ident = self.events.setdefault(count, f"e{len(self.events) + 1}")

        kind, times = ast.CountKind.AT_LEAST, 1
        if node.count is not None:
            kind, times = node.count.kind, node.count.times
        op = _COUNTS[kind][1 if node.negated else 0]
        return self.atom(p.CountTest(ident, op, times, text=condition_text(node)))

    def window(self, window: ast.Window | None, scope: _Scope) -> p.Window:
        if window is None:
            return p.Window()
        if isinstance(window, ast.SinceEnrolled):
            if scope.workflow is None:
                raise CompileError(
                    "internal error: `since enrolled` outside a workflow"
                )
            return p.Window(enrolled_in=scope.workflow)
        return p.Window(since=_window_start(window.duration))

    def quantified(self, node: ast.Quantified, scope: _Scope) -> p.Expr:
        target = self.object_name(node.object)
        where = self.condition(node.where, _Scope(target))
        matches = p.AssocCount(scope.object, target, where)
        total = p.AssocCount(scope.object, target)
        ids = [
            self.assocs.setdefault(c, f"q{len(self.assocs) + 1}")
            for c in (matches, total)
        ]
        text = condition_text(node)
        return self.atom(p.QuantTest(node.quantifier, ids[0], ids[1], node.times, text))


def _any(items: tuple[p.Expr, ...]) -> p.Expr:
    return items[0] if len(items) == 1 else p.Or(items)


def _typed(prop: Property | None, ref: ast.Ref) -> Type:
    if prop is None:
        raise CompileError(f"internal error: unknown property `{ref.text()}`")
    return prop.type


def _seconds(duration: ast.Duration) -> int:
    per_unit = {ast.Unit.MINUTES: 60, ast.Unit.HOURS: 3600}
    return duration.amount * per_unit[duration.unit]


def _days(duration: ast.Duration) -> int:
    if duration.unit is ast.Unit.BUSINESS_DAYS:
        raise CompileError("internal error: business days in a relative window")
    return duration.amount * (7 if duration.unit is ast.Unit.WEEKS else 1)


def _is_days(duration: ast.Duration) -> bool:
    return duration.unit not in (ast.Unit.MINUTES, ast.Unit.HOURS)


def _window_start(duration: ast.Duration) -> p.Param:
    """Where `in last <duration>` starts: a midnight for days, elapsed time else."""
    if _is_days(duration):
        return p.Param(p.ParamKind.DAY_START, -_days(duration))
    return p.Param(p.ParamKind.ELAPSED, -_seconds(duration))


# ---------------------------------------------------------------- property tests


@attrs.frozen
class _Day:
    """A date literal read against a datetime property: the whole local day."""

    start: dt.datetime
    end: dt.datetime


class _Lowering:
    """One property test lowered to one atom of the plan's core tests."""

    def __init__(self, calendar: Calendar, field: p.Field, node: ast.PropertyTest):
        self.calendar = calendar
        self.field = field
        self.node = node
        self.kind = field.kind

    def atom(self) -> p.Atom:
        op, field = self.node.op, self.field
        values = tuple(self.constant(v) for v in self.node.values)
        if op in (Op.EVER_BEEN, Op.NEVER_BEEN):
            return p.EverBeen(field, values, negate=op is Op.NEVER_BEEN)
        if op is Op.UPDATED_IN_LAST:
            return p.UpdatedSince(field, _window_start(self.duration()))
        if op in ast.CHANGE_OPS:
            if op is Op.CHANGED_FROM_TO:
                return p.Changed(field, to=values[1], before=values[0])
            return p.Changed(field, to=values[0] if values else None)
        return p.ValueAtom(field, self.test())

    def duration(self) -> ast.Duration:
        if self.node.duration is None:
            raise CompileError(
                f"internal error: `{self.node.op.value}` needs a duration"
            )
        return self.node.duration

    def test(self) -> p.Test:
        op = self.node.op
        if op in (Op.IS_KNOWN, Op.IS_UNKNOWN):
            return p.Known(negate=op is Op.IS_UNKNOWN)
        if op in _RELATIVE:
            return self.relative(op, self.duration())
        if self.kind is Kind.SET:
            if op not in _SET_MODES:
                raise CompileError(f"internal error: `{op.value}` on a set")
            return p.SetMatch(_SET_MODES[op], tuple(map(self.text, self.node.values)))
        if op in _TEXT_MODES or (op in (Op.CONTAINS_ANY, Op.CONTAINS_NONE)):
            mode, negate = _TEXT_MODES.get(
                op, (p.TextMode.CONTAINS, op is Op.CONTAINS_NONE)
            )
            return p.TextMatch(mode, tuple(map(self.text, self.node.values)), negate)
        if self.kind is Kind.DATETIME:
            return self.instant_test(op)
        return self.value_test(op)

    def value_test(self, op: Op) -> p.Test:
        values = tuple(self.constant(v) for v in self.node.values)
        if op in (Op.IS, Op.IS_ANY_OF, Op.ON):
            return p.OneOf(values)
        if op in (Op.IS_NOT, Op.IS_NONE_OF):
            return p.OneOf(values, negate=True)
        if op in (Op.BETWEEN, Op.NOT_BETWEEN):
            return p.InRange(values[0], values[1], negate=op is Op.NOT_BETWEEN)
        if self.kind is Kind.ENUM:
            return p.OneOf(self.enum_positions(op, str(values[0])))
        return _compare(_BEFORE_AFTER.get(op, op), values[0])

    def enum_positions(self, op: Op, value: str) -> tuple[Constant, ...]:
        """An ordered-enum comparison as the set of options that satisfy it."""
        options = self.field.type.options
        pivot = self.field.type.position(value)
        ranges = {
            Op.LT: range(pivot),
            Op.LE: range(pivot + 1),
            Op.GT: range(pivot + 1, len(options)),
            Op.GE: range(pivot, len(options)),
        }
        return tuple(options[i].value for i in ranges[op])

    def instant_test(self, op: Op) -> p.Test:
        """A datetime test; a date literal stands for its whole local day."""
        values = [self.instant(v) for v in self.node.values]
        first = values[0]
        if op is Op.ON and isinstance(first, dt.datetime):
            first = self.day(self.calendar.local_date(first))
        if not isinstance(first, _Day) and op in (Op.IS, Op.IS_NOT):
            return p.OneOf((first,), negate=op is Op.IS_NOT)
        if op in (Op.BETWEEN, Op.NOT_BETWEEN):
            low, high = values
            start = low.start if isinstance(low, _Day) else low
            end = high.end if isinstance(high, _Day) else high
            open_end = isinstance(high, _Day)
            return p.InRange(
                start, end, high_open=open_end, negate=op is Op.NOT_BETWEEN
            )
        if isinstance(first, _Day):
            return _day_compare(_BEFORE_AFTER.get(op, op), first)
        return _compare(_BEFORE_AFTER.get(op, op), first)

    def instant(self, value: ast.Value) -> dt.datetime | _Day:
        if isinstance(value, ast.DateValue):
            return self.day(value.value)
        constant = self.constant(value)
        if not isinstance(constant, dt.datetime):
            raise CompileError(f"internal error: {value!r} is not an instant")
        return constant

    def day(self, day: dt.date) -> _Day:
        start = self.calendar.start_of_day(day)
        return _Day(start, self.calendar.start_of_day(day + dt.timedelta(days=1)))

    def relative(self, op: Op, duration: ast.Duration) -> p.InRange:
        """`in last`, `in next`, `more than ... ago / from now` as a range."""
        if self.kind is Kind.DATE:
            if not _is_days(duration):
                raise CompileError("internal error: a date window finer than a day")
            days = _days(duration)
            start = p.Param(p.ParamKind.DATE, -days if op in _PAST else days)
            today = p.Param(p.ParamKind.DATE, 0)
        elif _is_days(duration):
            days = _days(duration)
            start = p.Param(p.ParamKind.DAY_START, -days if op in _PAST else days + 1)
            today = p.NOW
        else:
            seconds = _seconds(duration)
            start = p.Param(p.ParamKind.ELAPSED, -seconds if op in _PAST else seconds)
            today = p.NOW
        # for days, the future edge is the midnight after the last day: exclusive
        open_edge = self.kind is Kind.DATETIME and _is_days(duration)
        if op is Op.IN_LAST:
            return p.InRange(start, today)
        if op is Op.MORE_THAN_AGO:
            return p.InRange(high=start, high_open=True)
        if op is Op.IN_NEXT:
            return p.InRange(today, start, high_open=open_edge)
        return p.InRange(low=start, low_open=not open_edge)

    def constant(self, value: ast.Value) -> Constant:
        constant = convert(value, self.field.type, self.calendar.zone)
        if isinstance(constant, LiteralError):
            raise CompileError(f"internal error: {constant.message}")
        if self.kind.is_textual and isinstance(constant, str):
            return constant.lower()
        return constant

    def text(self, value: ast.Value) -> str:
        return str(self.constant(value))


_PAST = frozenset({Op.IN_LAST, Op.MORE_THAN_AGO})
_BEFORE_AFTER = {Op.BEFORE: Op.LT, Op.AFTER: Op.GT}


def _compare(op: Op, value: p.Operand) -> p.InRange:
    if op is Op.LT:
        return p.InRange(high=value, high_open=True)
    if op is Op.LE:
        return p.InRange(high=value)
    if op is Op.GT:
        return p.InRange(low=value, low_open=True)
    if op is Op.GE:
        return p.InRange(low=value)
    raise CompileError(f"internal error: `{op.value}` is not a comparison")


def _day_compare(op: Op, day: _Day) -> p.InRange:
    if op in (Op.IS, Op.ON, Op.IS_NOT):
        return p.InRange(day.start, day.end, high_open=True, negate=op is Op.IS_NOT)
    if op is Op.LT:
        return p.InRange(high=day.start, high_open=True)
    if op is Op.LE:
        return p.InRange(high=day.end, high_open=True)
    if op is Op.GT:
        return p.InRange(low=day.end)
    return _compare(op, day.start)


# ---------------------------------------------------------------- condition text


def condition_text(node: ast.Condition) -> str:
    """A condition as it reads in a rule file (canonical spelling)."""
    if isinstance(node, ast.And | ast.Or):
        word = " and " if isinstance(node, ast.And) else " or "
        return word.join(_nested(item, node) for item in node.items)
    if isinstance(node, ast.Not):
        return f"not {_nested(node.item, node)}"
    if isinstance(node, ast.InList):
        return f'in list "{node.name}"'
    if isinstance(node, ast.Had):
        return _had_text(node)
    if isinstance(node, ast.Quantified):
        return _quantified_text(node)
    return f"{node.ref.text()} {_test_text(node)}"


def _nested(item: ast.Condition, parent: ast.Condition) -> str:
    text = condition_text(item)
    simple = not isinstance(item, ast.And | ast.Or)
    if simple or (isinstance(item, ast.And) and isinstance(parent, ast.Or)):
        return text
    return f"({text})"


def _had_text(node: ast.Had) -> str:
    words = ["had", "no" if node.negated else "", node.event]
    if node.count is not None:
        words.append(f"{node.count.kind.value} {node.count.times} times")
    if node.where is not None:
        words.append(f"where {condition_text(node.where)}")
    if isinstance(node.window, ast.LastWindow):
        words.append(f"in last {node.window.duration.text()}")
    elif isinstance(node.window, ast.SinceEnrolled):
        words.append("since enrolled")
    return " ".join(word for word in words if word)


def _quantified_text(node: ast.Quantified) -> str:
    head = node.quantifier.value
    if node.quantifier is ast.Quantifier.AT_LEAST:
        head = f"at least {node.times}"
    return f"{head} {node.object} where {condition_text(node.where)}"


def _test_text(node: ast.PropertyTest) -> str:
    op, values = node.op, [_value_text(v) for v in node.values]
    duration = node.duration.text() if node.duration else ""
    special: Mapping[Op, str] = {
        Op.MORE_THAN_AGO: f"is more than {duration} ago",
        Op.MORE_THAN_AHEAD: f"is more than {duration} from now",
    }
    if op in special:
        return special[op]
    if op in ast.DURATION_OPS:
        return f"{op.value} {duration}"
    if op in ast.LIST_OPS:
        return f"{op.value} [{', '.join(values)}]"
    if op in (Op.BETWEEN, Op.NOT_BETWEEN):
        return f"{op.value} {values[0]} and {values[1]}"
    if op is Op.CHANGED_FROM_TO:
        return f"changed from {values[0]} to {values[1]}"
    return " ".join([op.value, *values])


def _value_text(value: ast.Value) -> str:
    if isinstance(value, ast.StringValue):
        escaped = value.text.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    if isinstance(value, ast.WordValue):
        return value.name
    if isinstance(value, ast.BoolValue):
        return "true" if value.value else "false"
    if isinstance(value, ast.DateValue):
        return value.value.isoformat()
    return value.text
