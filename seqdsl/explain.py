"""Report stage, explain: why one record meets a rule or not, in business words.

:func:`explain_record` evaluates one rule for one record with the reference engine
and turns what each atom saw into a sentence ("numberofemployees is 42, needs at
least 50"; "2 email_open in the last 14 days, needs at least 3"). It nests like the
condition: every `and`, `or` and `not` is a step whose children are its parts, and
a list reference carries the explanation of that list.

A static list is decided by the members its first run froze, not by its
condition. :func:`read_frozen_lists` reads them, read-only, from the state file
into the explain connection; :func:`explain_record` then says when the list was
frozen, whether the record was a member, and what the condition says now, for
information only. Without a state (the list never ran) the condition decides,
and the explanation says it is a preview of the first run.

:func:`near_misses` finds, in SQL over the truth of each top-level condition of a
list, the records that fail exactly one of them: the ones a small change would
bring in.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import duckdb
from sqlglot import exp

from seqdsl import plan as p
from seqdsl.engine import EngineError, Run, StoredLists, get_engine, rule_expr
from seqdsl.engine.reference import Observation, RecordEvaluator, load_facts
from seqdsl.engine.sql import cast, col, func, named, negate, select, table
from seqdsl.runtime import state as st

__all__ = [
    "Explanation",
    "FrozenLists",
    "Step",
    "explain_record",
    "near_misses",
    "read_frozen_lists",
]

log = logging.getLogger("seqdsl.explain")

_PASS, _FAIL = "yes", "no"


@attrs.frozen
class Step:
    """One condition, whether the record meets it, and what the record has."""

    text: str
    passed: bool
    detail: str = ""
    children: tuple[Step, ...] = ()

    def lines(self, depth: int = 0) -> list[str]:
        mark = _PASS if self.passed else _FAIL
        detail = f": {self.detail}" if self.detail else ""
        found = [f"{'  ' * depth}[{mark}] {self.text}{detail}"]
        for child in self.children:
            found += child.lines(depth + 1)
        return found


@attrs.frozen
class Explanation:
    rule_key: str
    record_id: str
    passed: bool
    root: Step

    def render(self) -> str:
        verdict = "meets" if self.passed else "does not meet"
        head = f"record {self.record_id} {verdict} {self.rule_key}"
        return "\n".join([head, *self.root.lines(1)]) + "\n"


def explain_record(
    plan: p.Plan,
    con: duckdb.DuckDBPyConnection,
    record_id: str,
    rule_key: str,
    now: dt.datetime,
    *,
    previous_run_at: dt.datetime | None = None,
    enrolled: Mapping[str, str] | None = None,
    stored: StoredLists | None = None,
    frozen: FrozenLists | None = None,
) -> Explanation:
    """Explain rule `rule_key` for one record, condition by condition.

    `frozen` (see :func:`read_frozen_lists`) stands in for `stored`: its members
    decide the static lists it names, and the words say when they were frozen.
    """
    if frozen is not None and stored is not None:
        raise ValueError("internal error: pass `frozen` or `stored`, not both")
    rule = _rule(plan, rule_key)
    if frozen is not None:
        stored = frozen.stored
    run = Run(now, previous_run_at, enrolled or {}, stored)
    facts = load_facts(plan, con, rule.object, run, [record_id]).get(record_id)
    if facts is None:
        raise EngineError(f"no {rule.object} has the id `{record_id}`")

    params = plan.resolve(run.now, run.previous_run_at)
    evaluator = RecordEvaluator(plan, run, params, facts)
    if frozen is None:
        words = _Words(plan, params, evaluator)
    else:
        changes = frozen.changes(con, record_id)
        words = _Words(plan, params, evaluator, frozen.frozen_at, changes)
    root = words.rule_step(rule)
    return Explanation(rule_key, record_id, root.passed, root)


def _rule(plan: p.Plan, key: str) -> p.Rule:
    if key not in plan.rules:
        raise EngineError(f"no rule `{key}`; rules look like `list:Name`")
    return plan.rules[key]


class _Words:
    """Steps and sentences for one record's evaluation."""

    def __init__(
        self,
        plan: p.Plan,
        params: Mapping[str, Any],
        evaluator: RecordEvaluator,
        frozen_at: Mapping[str, dt.datetime] | None = None,
        changes: Mapping[str, tuple[bool, dt.datetime]] | None = None,
    ) -> None:
        self.plan = plan
        self.params = params
        self.evaluator = evaluator
        self.zone = zoneinfo.ZoneInfo(plan.calendar.zone)
        # static lists: first run per list, and this record's last stored change
        self.frozen_at = frozen_at or {}
        self.changes = changes or {}

    def rule_step(self, rule: p.Rule) -> Step:
        """The top step of a rule; a static list says what decides it."""
        if rule.kind is p.RuleKind.STATIC_LIST:
            return self.static(rule)
        return self.step(rule_expr(rule, self.evaluator.run))

    def step(self, expr: p.Expr) -> Step:
        text = self.plan.expr_text(expr)
        passed = self.evaluator.expr(expr)
        if isinstance(expr, p.AtomRef):
            atom = self.plan.atoms[expr.id]
            seen = self.evaluator.atom(expr.id)
            return Step(text, passed, self.detail(atom, seen))
        if isinstance(expr, p.RuleRef):
            return self.reference(self.plan.rules[expr.key])
        if isinstance(expr, p.Literal):
            return Step(text, passed)
        items = (expr.item,) if isinstance(expr, p.Not) else expr.items
        children = tuple(self.step(item) for item in items)
        return Step(text, passed, _summary(expr, children), children)

    # -- lists

    def reference(self, rule: p.Rule) -> Step:
        """`in list "L"`: the membership, with the list's explanation inside."""
        if rule.kind is p.RuleKind.STATIC_LIST:
            return self.static(rule)
        passed = self.evaluator.rule(rule.key)
        inner = self.step(rule_expr(rule, self.evaluator.run))
        text = self.plan.expr_text(p.RuleRef(rule.key))
        member = "is a member" if passed else "is not a member"
        return Step(text, passed, member, (inner,))

    def static(self, rule: p.Rule) -> Step:
        """A static list: once frozen its stored members decide, before that its
        condition (a preview of the first run)."""
        text = self.plan.expr_text(p.RuleRef(rule.key))
        passed = self.evaluator.rule(rule.key)
        condition = self.step(rule.expr)
        stored = self.evaluator.run.stored
        if stored is None or rule.name not in stored.lists:
            return Step(text, passed, self.preview(rule.name), (condition,))

        label = f"condition now, for information only: {condition.text}"
        now = attrs.evolve(condition, text=label)
        return Step(text, passed, self.frozen(rule.name, passed), (now,))

    def preview(self, name: str) -> str:
        first = self.frozen_at.get(name)
        if first is None:
            return "static list that has not run yet: preview of its first run"
        return (
            f"static list frozen later, at {self.show(first)}: "
            "its condition decides, as on its first run"
        )

    def frozen(self, name: str, member: bool) -> str:
        first = self.frozen_at.get(name)
        head = "static list, members frozen at " + (
            "its first run" if first is None else self.show(first)
        )
        change = self.changes.get(name)
        if change is not None and first is not None and change[1] > first:
            verb = "added" if change[0] else "removed"
            when = self.show(change[1])
            return f"{head}; the record was {verb} by a list action at {when}"
        return f"{head}; the record {'was' if member else 'was not'} a member"

    # -- one atom

    def detail(self, atom: p.Atom, seen: Observation) -> str:
        if isinstance(atom, p.ValueAtom):
            return self.value(atom, seen.seen)
        if isinstance(atom, p.EverBeen):
            return self.ever_been(atom, seen.seen)
        if isinstance(atom, p.UpdatedSince):
            return self.updated(atom, seen.seen)
        if isinstance(atom, p.Changed):
            return self.changed(atom, seen.seen)
        if isinstance(atom, p.CountTest):
            return self.count(atom, seen.seen)
        if isinstance(atom, p.QuantTest):
            return self.quantified(atom, seen.seen)
        return f'{"is" if seen.passed else "is not"} a stored member of "{atom.list}"'

    def value(self, atom: p.ValueAtom, raw: Any) -> str:
        name, test = atom.field.text(), atom.test
        has = f"{name} is {self.show(raw)}" if _known(raw) else f"{name} is unknown"
        if isinstance(test, p.Known):
            return has
        if not _known(raw):
            return f"{has}, so the test fails"
        return f"{has}, {self.needs(test)}"

    def needs(self, test: p.Test) -> str:
        """What a value test asks for, in words."""
        if isinstance(test, p.OneOf):
            shown = _either(self.show_operand(v) for v in test.values)
            return f"must not be {shown}" if test.negate else f"needs {shown}"
        if isinstance(test, p.InRange):
            return self.range_words(test)
        if isinstance(test, p.TextMatch):
            shown = _either(f'"{v}"' for v in test.values)
            verb = test.mode.value.replace("contains", "contain").replace(
                "s with", " with"
            )
            return (
                f"must not {verb} {shown}"
                if test.negate
                else f"needs to {verb} {shown}"
            )
        if isinstance(test, p.SetMatch):
            return (
                f"needs to be a set that {test.mode.value} [{', '.join(test.values)}]"
            )
        return ""

    def range_words(self, test: p.InRange) -> str:
        low = None if test.low is None else self.show_operand(test.low)
        high = None if test.high is None else self.show_operand(test.high)
        if low is not None and high is not None:
            ends = f"from {low}{' (excluded)' if test.low_open else ''} to {high}"
            ends += " (excluded)" if test.high_open else ""
            return f"must be outside {ends}" if test.negate else f"needs {ends}"
        if low is not None:
            words = f"more than {low}" if test.low_open else f"at least {low}"
        else:
            words = f"less than {high}" if test.high_open else f"at most {high}"
        return f"must not be {words}" if test.negate else f"needs {words}"

    def ever_been(self, atom: p.EverBeen, seen: tuple[list[Any], Any]) -> str:
        past, current = seen
        name = atom.field.text()
        now = (
            f"{name} is {self.show(current)}"
            if _known(current)
            else f"{name} is unknown"
        )
        held = sorted({self.show(v) for v in past if v is not None})
        earlier = f"; history holds {', '.join(held)}" if held else "; no history"
        wanted = _either(self.show(v) for v in atom.values)
        verb = "must never have been" if atom.negate else "needs to have been"
        return f"{now}{earlier}, {verb} {wanted}"

    def updated(self, atom: p.UpdatedSince, last: dt.datetime | None) -> str:
        name = atom.field.text()
        has = (
            "has no recorded change"
            if last is None
            else f"last changed {self.show(last)}"
        )
        return f"{name} {has}, needs a change since {self.show_param(atom.since)}"

    def changed(
        self, atom: p.Changed, change: tuple[dt.datetime, Any, Any] | None
    ) -> str:
        name = atom.field.text()
        previous = self.params.get("previous_run")
        since = "since the previous run" if previous else "in its history"
        if change is None:
            return f"{name} has no matching change {since}"
        at, before, after = change
        old = self.show(before) if _known(before) else "unknown"
        new = self.show(after) if _known(after) else "unknown"
        return f"{name} changed from {old} to {new} at {self.show(at)}"

    def count(self, atom: p.CountTest, count: int | None) -> str:
        events = self.plan.event_counts[atom.count]
        window = self.window(events.window)
        if count is None:
            return f"not enrolled, so {events.event} {window} cannot be counted"
        wanted = {
            p.CountOp.AT_LEAST: "at least",
            p.CountOp.AT_MOST: "at most",
            p.CountOp.EXACTLY: "exactly",
            p.CountOp.FEWER: "fewer than",
            p.CountOp.MORE: "more than",
            p.CountOp.NOT_EXACTLY: "other than",
        }[atom.op]
        where = " matching" if events.filter is not None else ""
        return f"{count}{where} {events.event} {window}, needs {wanted} {atom.times}"

    def window(self, window: p.Window) -> str:
        if window.enrolled_in is not None:
            return "since enrolled"
        if window.since is None:
            return "ever"
        amount = -window.since.amount
        if window.since.kind is p.ParamKind.DAY_START:
            return f"in the last {amount} day{'s' if amount != 1 else ''}"
        return f"since {self.show_param(window.since)}"

    def quantified(self, atom: p.QuantTest, seen: tuple[int, int]) -> str:
        matches, total = seen
        target = self.plan.assoc_counts[atom.matches].target
        found = f"{matches} of {total} associated {target} records match"
        needs = {
            "any": "needs at least 1",
            "no": "needs none",
            "all": "needs all, and at least 1",
            "at least": f"needs at least {atom.times}",
        }[atom.quantifier.value]
        return f"{found}, {needs}"

    # -- values

    def show_operand(self, value: p.Operand) -> str:
        return (
            self.show_param(value) if isinstance(value, p.Param) else self.show(value)
        )

    def show_param(self, param: p.Param) -> str:
        return f"{self.show(self.params[param.name])} ({param.describe()})"

    def show(self, value: Any) -> str:
        if isinstance(value, dt.datetime):
            local = value.astimezone(self.zone)
            return local.strftime("%Y-%m-%d %H:%M:%S %Z").replace(":00 ", " ", 1)
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, float):
            return str(int(value)) if value.is_integer() else str(value)
        if isinstance(value, list | tuple):
            return "[" + ", ".join(map(self.show, value)) + "]"
        if isinstance(value, str):
            return f'"{value}"'
        return str(value)


def _known(value: Any) -> bool:
    return value is not None and value not in ("", [])


def _either(items: Iterable[str]) -> str:
    shown = list(items)
    return shown[0] if len(shown) == 1 else "one of " + ", ".join(shown)


def _summary(expr: p.Expr, children: Sequence[Step]) -> str:
    failed = sum(1 for child in children if not child.passed)
    if isinstance(expr, p.Not):
        return "the condition inside must not hold"
    if isinstance(expr, p.And):
        return "all hold" if not failed else f"{failed} of {len(children)} fail"
    held = len(children) - failed
    return "none holds" if not held else f"{held} of {len(children)} hold"


# ---------------------------------------------------------------- static lists

#: The TEMP table of each record's last stored change per frozen static list.
FROZEN_TABLE = "explain_frozen"
#: The TEMP view of the members in it: the relation the engines read.
FROZEN_MEMBERS = "explain_frozen_members"


@attrs.frozen
class FrozenLists:
    """Static lists as a state file froze them, copied into a connection.

    `frozen_at` is the first run of each static list the state has seen;
    `stored` names those frozen by the explained instant, whose members then
    are in :data:`FROZEN_MEMBERS`.
    """

    frozen_at: Mapping[str, dt.datetime]
    stored: StoredLists

    def changes(
        self, con: duckdb.DuckDBPyConnection, record_id: str
    ) -> dict[str, tuple[bool, dt.datetime]]:
        """Per frozen list: is the record a stored member, and since when."""
        query = f"SELECT list, member, since FROM {FROZEN_TABLE} WHERE record_id = ?"
        rows = con.execute(query, [record_id]).fetchall()
        return {str(name): (bool(is_in), _utc(at)) for name, is_in, at in rows}


def read_frozen_lists(
    con: duckdb.DuckDBPyConnection,
    state_path: Path,
    plan: p.Plan,
    now: dt.datetime,
) -> FrozenLists | None:
    """The plan's static lists that the state file froze, with their members as
    of `now`; None when there is no state file or the plan has no static list.

    The file is attached read-only and detached before returning, so it is never
    created or changed; a file seqdsl cannot read raises the runtime's
    :class:`~seqdsl.runtime.state.StateError`.
    """
    if now.utcoffset() is None:
        raise EngineError(f"`{now.isoformat()}` has no time zone")
    path = Path(state_path)
    names = sorted(
        r.name for r in plan.rules.values() if r.kind is p.RuleKind.STATIC_LIST
    )
    if not names or not path.exists():
        return None

    st.attach(con, path, read_only=True)
    try:
        frozen_at = _first_runs(con, names)
        settled = sorted(n for n, at in frozen_at.items() if at <= now)
        _copy_members(con, settled, now)
    finally:
        st.detach(con)
    log.debug("static lists frozen by %s: %s", now.isoformat(), settled)
    stored = StoredLists(FROZEN_MEMBERS, frozenset(settled))
    return FrozenLists(frozen_at, stored)


def _first_runs(
    con: duckdb.DuckDBPyConnection, names: Sequence[str]
) -> dict[str, dt.datetime]:
    """When a run first saw each of the static lists `names` (and froze it)."""
    rows = con.execute(
        f"SELECT rule, first_seen FROM {st.ALIAS}.rules "
        "WHERE list_contains(CAST(? AS VARCHAR[]), rule)",
        [list(names)],
    ).fetchall()
    return {str(name): _utc(at) for name, at in rows}


def _copy_members(
    con: duckdb.DuckDBPyConnection, names: Sequence[str], now: dt.datetime
) -> None:
    """Each record's last stored change up to `now` in the lists `names`, last
    by time and then by sequence number, as a run reads them."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {FROZEN_TABLE} AS "
        "SELECT list, record_id, arg_max(member, (since, seq)) AS member, "
        f"max(since) AS since FROM {st.ALIAS}.list_members "
        "WHERE since <= ? AND list_contains(CAST(? AS VARCHAR[]), list) "
        "GROUP BY list, record_id",
        [now, list(names)],
    )
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {FROZEN_MEMBERS} AS "
        f"SELECT list, record_id FROM {FROZEN_TABLE} WHERE member"
    )


def _utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC)


# ---------------------------------------------------------------- near misses


def conditions_of(rule: p.Rule, run: Run) -> list[p.Expr]:
    """The top-level conditions of a rule: the parts of its outer `and`."""
    expr = rule_expr(rule, run)
    return list(expr.items) if isinstance(expr, p.And) else [expr]


def near_misses(
    plan: p.Plan,
    con: duckdb.DuckDBPyConnection,
    list_key: str,
    now: dt.datetime,
    *,
    engine: str = "duckdb",
    previous_run_at: dt.datetime | None = None,
    enrolled: Mapping[str, str] | None = None,
    stored: StoredLists | None = None,
    limit: int | None = None,
) -> dict[str, list[str]]:
    """Records that fail exactly one top-level condition of a list, by condition.

    The truth of each condition is computed by `engine` into a table; finding the
    records that fail one of them is a query over that table. With `limit`, at
    most that many ids (the least) per condition.
    """
    rule = _rule(plan, list_key)
    run = Run(now, previous_run_at, enrolled or {}, stored)
    parts = conditions_of(rule, run)
    outputs = {f"c{i}": part for i, part in enumerate(parts)}
    name = "near_misses"
    get_engine(engine).evaluate_outputs(
        plan, con, run, object=rule.object, outputs=outputs, table=name
    )
    query = _single_failures(list(outputs), name, limit)
    found = {
        plan.expr_text(parts[index]): list(ids)
        for index, ids in con.execute(query.sql(dialect="duckdb")).fetchall()
    }
    return dict(sorted(found.items()))


def _single_failures(columns: Sequence[str], name: str, limit: int | None) -> exp.Query:
    """Per failing condition (by index), the sorted ids failing only it."""
    failed = [cast(negate(col(c)), "INTEGER") for c in columns]
    count = failed[0]
    for item in failed[1:]:
        count = exp.Add(this=count, expression=item)
    which = exp.Case()
    for index, column in enumerate(columns):
        which = which.when(negate(col(column)), exp.Literal.number(index), copy=False)
    rows = select(
        [col("id"), named(which, "failed")],
        table(name),
        where=[exp.EQ(this=count, expression=exp.Literal.number(1))],
    )
    ids = func("list_sort", func("list", col("id")))
    if limit is not None:
        ids = func("list_slice", ids, exp.Literal.number(1), exp.Literal.number(limit))
    return select(
        [col("failed"), named(ids, "ids")],
        rows.subquery("r", copy=False),
        group_by=[col("failed")],
    ).order_by(col("failed"), copy=False)
