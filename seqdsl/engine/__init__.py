"""Engine stage: evaluate a plan over the loaded input tables for one run.

Every engine reads the tables of :mod:`seqdsl.data` in one DuckDB connection and
writes its answer there too: a table `truths_<object>` per object, with the record
`id` and one BOOLEAN column per rule key. The batch default is
:class:`~seqdsl.engine.duckdb.DuckDBEngine`; the per-record
:class:`~seqdsl.engine.reference.ReferenceEngine` is the oracle for tests and
powers `explain`.

A run is fixed by :class:`Run`: its now, the previous run's time (for `changed`),
enrollment times per workflow (for `since enrolled`) and the stored members of
static lists.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Protocol

import attrs
import duckdb
from sqlglot import exp

from seqdsl.plan import AtomRef, Expr, Plan, Rule, RuleRef

__all__ = [
    "ENGINES",
    "Engine",
    "EngineError",
    "Run",
    "SplitEvents",
    "StoredLists",
    "Truths",
    "column_names",
    "evaluate",
    "get_engine",
    "rule_expr",
    "rule_outputs",
]

log = logging.getLogger("seqdsl.engine")

TRUTHS_PREFIX = "truths_"


class EngineError(Exception):
    """An evaluation that cannot run: a missing input table or a bad run input."""


@attrs.frozen
class StoredLists:
    """Stored members of static lists: `relation` has columns `list`, `record_id`.

    Only the lists named in `lists` are read from it; other static lists are
    computed from their condition (their first evaluation).
    """

    relation: str
    lists: frozenset[str]


def _utc(value: dt.datetime) -> dt.datetime:
    if value.utcoffset() is None:
        raise EngineError(f"`{value.isoformat()}` has no time zone")
    return value.astimezone(dt.UTC)


def _optional_utc(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else _utc(value)


def _frozen(mapping: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(mapping))


@attrs.frozen
class SplitEvents:
    """Event counts as a sum of two parts, for many copies of few records.

    When the records are copies (one per instant) of fewer real records, the
    events all copies of a record share are counted once: `base` holds the
    shared events under the real `record_id`, `delta` each copy's own events
    under the copy's id, and `copies` maps each copy's `sid` to its `record_id`.
    The `events` table stays whole for the counts that need it (`since
    enrolled`).
    """

    base: str
    delta: str
    copies: str


@attrs.frozen
class Run:
    """The inputs of one evaluation besides the data tables.

    `enrolled` maps a workflow name to a relation with columns `record_id` and
    `enrolled_at` (the latest row per record counts); without one, `since
    enrolled` conditions of that workflow are false. `previous_run_at` bounds
    `changed` tests from below; None (a first run) lets every change up to now
    count.
    """

    now: dt.datetime = attrs.field(converter=_utc)
    previous_run_at: dt.datetime | None = attrs.field(
        default=None, converter=_optional_utc
    )
    enrolled: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen)
    stored: StoredLists | None = None
    prefix: str = TRUTHS_PREFIX
    only: frozenset[str] | None = None
    split: SplitEvents | None = None

    def wants(self, rule: Rule) -> bool:
        return self.only is None or rule.key in self.only

    def table(self, object: str) -> str:
        return f"{self.prefix}{object}"


def rule_expr(rule: Rule, run: Run) -> Expr:
    """What decides a rule in this run: a static list with stored members reads them."""
    stored = run.stored
    if rule.stored is not None and stored is not None and rule.name in stored.lists:
        return AtomRef(rule.stored)
    return rule.expr


@attrs.frozen
class Truths:
    """Where an evaluation left its answer: one table per object, one column per
    rule (named by its key; see :func:`column_names`)."""

    tables: Mapping[str, str]
    keys: Mapping[str, str]  # rule key -> object
    columns: Mapping[str, str]  # rule key -> column

    def table_of(self, key: str) -> str:
        return self.tables[self.keys[key]]

    def column_of(self, key: str) -> str:
        return self.columns[key]

    def members_query(self, plan: Plan) -> str:
        """SQL for `list,record_id` of every member of every list, for COPY."""
        parts = []
        for key, object in self.keys.items():
            rule = plan.rules[key]
            if not rule.is_list:
                continue
            name = exp.Literal.string(rule.name).as_("list")
            select = (
                exp.select(name, exp.column("id").as_("record_id"))
                .from_(
                    exp.Table(this=exp.to_identifier(self.tables[object], quoted=True)),
                    copy=False,
                )
                .where(exp.column(self.columns[key], quoted=True))
            )
            parts.append(select)
        if not parts:
            empty = exp.select(
                exp.cast(exp.null(), "VARCHAR").as_("list"),
                exp.cast(exp.null(), "VARCHAR").as_("record_id"),
                copy=False,
            ).where(exp.false())
            return empty.sql(dialect="duckdb")
        union: exp.Query = parts[0]
        for part in parts[1:]:
            union = exp.union(union, part, distinct=False)
        ordered = exp.select("*").from_(union.subquery()).order_by("list", "record_id")
        return ordered.sql(dialect="duckdb")


class Engine(Protocol):
    """An engine computes named boolean expressions of a plan per record."""

    name: str

    def evaluate_outputs(
        self,
        plan: Plan,
        con: duckdb.DuckDBPyConnection,
        run: Run,
        *,
        object: str,
        outputs: Mapping[str, Expr],
        table: str,
    ) -> None:
        """Write `table`: `id` and one BOOLEAN column per output, per record."""
        ...


def get_engine(name: str) -> Engine:
    if name not in ENGINES:
        known = ", ".join(sorted(ENGINES))
        raise EngineError(f"unknown engine `{name}`; expected one of {known}")
    return ENGINES[name]


def column_names(plan: Plan) -> dict[str, str]:
    """The truth column of each rule: its key, made unique ignoring case (DuckDB
    matches quoted names without case) by a ` (2)`-style suffix, in plan order."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    for key in plan.rules:
        name, number = key, 1
        while name.casefold() in taken:
            number += 1
            name = f"{key} ({number})"
        taken.add(name.casefold())
        names[key] = name
    return names


def rule_outputs(plan: Plan, object: str, run: Run | None) -> dict[str, Expr]:
    """The rules of `object` a run asks for, by column name."""
    names = column_names(plan)
    return {
        names[rule.key]: RuleRef(rule.key)
        for rule in plan.rules_of(object)
        if run is None or run.wants(rule)
    }


def evaluate(
    plan: Plan,
    con: duckdb.DuckDBPyConnection,
    now: dt.datetime,
    *,
    engine: str = "duckdb",
    previous_run_at: dt.datetime | None = None,
    enrolled: Mapping[str, str] | None = None,
    stored: StoredLists | None = None,
    only: Iterable[str] | None = None,
    prefix: str = TRUTHS_PREFIX,
    split: SplitEvents | None = None,
) -> Truths:
    """Evaluate every rule of `plan` (or those in `only`) for a run at `now`.

    Each object's rules land in the table `<prefix><object>`. With `split`, an
    engine may count events in two parts (see :class:`SplitEvents`); the truths
    are the same.
    """
    chosen = get_engine(engine)
    wanted = None if only is None else frozenset(only)
    run = Run(now, previous_run_at, enrolled or {}, stored, prefix, wanted, split)
    con.execute("SET TimeZone = 'UTC'")
    tables: dict[str, str] = {}
    keys: dict[str, str] = {}
    for object in plan.objects:
        outputs = rule_outputs(plan, object, run)
        if not outputs:
            continue
        started = time.perf_counter()
        chosen.evaluate_outputs(
            plan, con, run, object=object, outputs=outputs, table=run.table(object)
        )
        elapsed = (time.perf_counter() - started) * 1e3
        log.debug("%s %s: %.1f ms", chosen.name, run.table(object), elapsed)
        tables[object] = run.table(object)
        keys.update(
            (ref.key, object) for ref in outputs.values() if isinstance(ref, RuleRef)
        )
    names = column_names(plan)
    return Truths(tables, keys, {key: names[key] for key in keys})


def _engines() -> dict[str, Engine]:
    from seqdsl.engine.duckdb import DuckDBEngine
    from seqdsl.engine.reference import ReferenceEngine

    return {"duckdb": DuckDBEngine(), "reference": ReferenceEngine()}


ENGINES: Mapping[str, Engine] = _engines()
