"""Engine stage, reference: evaluate a plan in plain Python, one record at a time.

This engine states the semantics as directly as Python allows; the tests hold the
DuckDB engine to it, and `explain` reads what it observed. It fetches the rows of
the records it is asked about (the record, its primary associated records, its
associated records, events, history, memberships) and evaluates each atom from
them. It is never the batch path: asked for every record, it reads every table
into memory.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs
import duckdb
from sqlglot import exp

from seqdsl import plan as p
from seqdsl.engine import EngineError, Run, rule_expr, sql
from seqdsl.engine.sql import (
    Sql,
    cast,
    col,
    create_statement,
    func,
    named,
    table,
)
from seqdsl.literals import Constant
from seqdsl.schema import Kind, Type

__all__ = ["Facts", "Observation", "RecordEvaluator", "ReferenceEngine", "load_facts"]

log = logging.getLogger("seqdsl.engine.reference")

Row = Mapping[str, Any]
# history text is read with the same patterns as in SQL
_NUMBER_TEXT = re.compile(sql.NUMBER_TEXT)
_DATE_TEXT = re.compile(sql.DATE_TEXT)
_INSTANT_TEXT = re.compile(sql.INSTANT_TEXT)
_OFFSET_INSTANT_TEXT = re.compile(sql.INSTANT_TEXT + sql.OFFSET_TEXT)
_MISSING_INPUT = (duckdb.CatalogException, duckdb.BinderException)


# ---------------------------------------------------------------- facts


@attrs.frozen
class Facts:
    """Everything the rules of one record read."""

    object: str
    id: str
    row: Row
    primary: Mapping[str, Row | None]
    primary_id: Mapping[str, str | None]
    associated: Mapping[str, tuple[Row, ...]]
    events: tuple[Row, ...]
    history: Mapping[tuple[str, str, str], tuple[tuple[dt.datetime, str | None], ...]]
    manual: frozenset[str]
    static: frozenset[str]
    enrolled: Mapping[str, dt.datetime]


@attrs.frozen
class _Wants:
    """What the rules of one object read besides the record's row."""

    primaries: frozenset[str]
    quantified: frozenset[str]
    events: frozenset[str]
    history: frozenset[tuple[str, str]]  # (object type, property)
    manual: frozenset[str]


def _wants(plan: p.Plan, object: str) -> _Wants:
    primaries, history = set(), set()
    for atom in plan.atoms.values():
        field = getattr(atom, "field", None)
        if not isinstance(field, p.Field) or isinstance(field.source, p.EventRow):
            continue
        if isinstance(field.source, p.Primary) and field.source.object == object:
            primaries.add(field.source.target)
        if isinstance(atom, p.EverBeen | p.UpdatedSince | p.Changed):
            history.add((field.object_type(), field.name))
    return _Wants(
        frozenset(primaries),
        frozenset(c.target for c in plan.assoc_counts.values() if c.object == object),
        frozenset(c.event for c in plan.event_counts.values() if c.object == object),
        frozenset(history),
        frozenset(
            a.list
            for a in plan.atoms.values()
            if isinstance(a, p.Stored) and a.kind is p.StoredKind.MANUAL
        ),
    )


class _Reader:
    """Fetches rows with sqlglot-built queries; ids are bound as a parameter."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def rows(self, query: exp.Select, ids: Sequence[str] | None = None) -> list[Row]:
        values = {"ids": list(ids)} if ids is not None else {}
        try:
            cursor = self.con.execute(query.sql(dialect="duckdb"), values)
        except _MISSING_INPUT as error:
            raise EngineError(f"cannot read the inputs: {error}") from error
        names = [d[0] for d in cursor.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    @staticmethod
    def among(column: Sql, ids: Sequence[str] | None) -> Sql:
        if ids is None:
            return exp.true()
        listed = cast(exp.Placeholder(this="ids"), "VARCHAR[]")
        return exp.func("list_contains", listed, column)


History = Mapping[tuple[str, str, str], tuple[tuple[dt.datetime, str | None], ...]]
Links = Mapping[tuple[str, str], list[tuple[str, bool]]]


@attrs.frozen(kw_only=True)
class _Loaded:
    """The rows read for a batch of records, grouped for per-record lookups."""

    object: str
    wants: _Wants
    links: Links
    primary_ids: Mapping[str, Mapping[str, str | None]]
    others: Mapping[tuple[str, str], Row]
    events: Mapping[str, list[Row]]
    history: History
    manual: Mapping[str, set[str]]
    static: Mapping[str, set[str]]
    enrolled: Mapping[str, dict[str, dt.datetime]]

    def facts(self, row: Row) -> Facts:
        rid = str(row["id"])
        chosen = {t: self.primary_ids[t][rid] for t in self.wants.primaries}
        return Facts(
            object=self.object,
            id=rid,
            row=row,
            primary={
                t: self.others.get((t, i)) if i else None for t, i in chosen.items()
            },
            primary_id=chosen,
            associated={t: self.associated(rid, t) for t in self.wants.quantified},
            events=tuple(self.events.get(rid, [])),
            history=self.history,
            manual=frozenset(self.manual.get(rid, set())),
            static=frozenset(self.static.get(rid, set())),
            enrolled={
                w: by_id[rid] for w, by_id in self.enrolled.items() if rid in by_id
            },
        )

    def associated(self, rid: str, target: str) -> tuple[Row, ...]:
        """Distinct associated records of `target` that exist, by id."""
        others = sorted({other for other, _ in self.links.get((rid, target), [])})
        return tuple(
            self.others[(target, o)] for o in others if (target, o) in self.others
        )


def load_facts(
    plan: p.Plan,
    con: duckdb.DuckDBPyConnection,
    object: str,
    run: Run,
    ids: Sequence[str] | None = None,
) -> dict[str, Facts]:
    """The facts of the records of `object` with `ids` (all records when None)."""
    con.execute("SET TimeZone = 'UTC'")
    reader = _Reader(con)
    wants = _wants(plan, object)
    query = exp.select("*").from_(table(f"obj_{object}"))
    records = reader.rows(query.where(reader.among(col("id"), ids)), ids)
    found = [str(row["id"]) for row in records]

    links = _links(reader, object, wants.primaries | wants.quantified, found)
    primary_ids = {
        target: {rid: _primary(links.get((rid, target), [])) for rid in found}
        for target in wants.primaries
    }
    loaded = _Loaded(
        object=object,
        wants=wants,
        links=links,
        primary_ids=primary_ids,
        others=_other_rows(reader, links),
        events=_grouped(_events(reader, wants.events, found), "record_id"),
        history=_history(reader, wants.history, found, primary_ids),
        manual=_lists(reader, "list_memberships", wants.manual, found),
        static=_static(reader, run, found),
        enrolled=_enrolled(reader, run, found),
    )
    return {str(row["id"]): loaded.facts(row) for row in records}


def _links(
    reader: _Reader, object: str, targets: Iterable[str], ids: Sequence[str]
) -> dict[tuple[str, str], list[tuple[str, bool]]]:
    """(record, target) -> [(other id, primary)], in either direction."""
    wanted = sorted(targets)
    if not wanted:
        return {}
    kinds = [exp.Literal.string(t) for t in wanted]
    sides = [
        exp.and_(
            col(f"{mine}_type").eq(exp.Literal.string(object)),
            col(f"{theirs}_type").isin(*kinds),
            reader.among(col(f"{mine}_id"), ids),
        )
        for mine, theirs in (("from", "to"), ("to", "from"))
    ]
    query = exp.select("*").from_(table("associations")).where(exp.or_(*sides))
    known = set(ids)
    found: dict[tuple[str, str], list[tuple[str, bool]]] = {}
    for row in reader.rows(query, ids):
        for mine, theirs in (("from", "to"), ("to", "from")):
            rid, target = row[f"{mine}_id"], row[f"{theirs}_type"]
            if row[f"{mine}_type"] == object and target in wanted and rid in known:
                pair = (str(row[f"{theirs}_id"]), bool(row["primary"]))
                found.setdefault((rid, target), []).append(pair)
    return found


def _primary(links: Sequence[tuple[str, bool]]) -> str | None:
    """The primary associated id: the least marked primary, else the only one."""
    marked = [other for other, primary in links if primary]
    if marked:
        return min(marked)
    others = {other for other, _ in links}
    return others.pop() if len(others) == 1 else None


def _other_rows(
    reader: _Reader, links: Mapping[tuple[str, str], list[tuple[str, bool]]]
) -> dict[tuple[str, str], Row]:
    wanted: dict[str, set[str]] = {}
    for (_, target), pairs in links.items():
        wanted.setdefault(target, set()).update(other for other, _ in pairs)
    found: dict[tuple[str, str], Row] = {}
    for target, others in wanted.items():
        ids = sorted(others)
        query = exp.select("*").from_(table(f"obj_{target}"))
        for row in reader.rows(query.where(reader.among(col("id"), ids)), ids):
            found[(target, str(row["id"]))] = row
    return found


def _events(reader: _Reader, types: frozenset[str], ids: Sequence[str]) -> list[Row]:
    if not types:
        return []
    kinds = [exp.Literal.string(t) for t in sorted(types)]
    query = (
        exp.select("*")
        .from_(table("events"))
        .where(col("type").isin(*kinds))
        .where(reader.among(col("record_id"), ids))
    )
    return reader.rows(query, ids)


def _grouped(rows: Iterable[Row], key: str) -> dict[str, list[Row]]:
    found: dict[str, list[Row]] = {}
    for row in rows:
        found.setdefault(str(row[key]), []).append(row)
    return found


def _history(
    reader: _Reader,
    wanted: frozenset[tuple[str, str]],
    ids: Sequence[str],
    primary_ids: Mapping[str, Mapping[str, str | None]],
) -> dict[tuple[str, str, str], tuple[tuple[dt.datetime, str | None], ...]]:
    if not wanted:
        return {}
    records = set(ids) | {
        i for by_id in primary_ids.values() for i in by_id.values() if i
    }
    listed = sorted(records)
    names = [exp.Literal.string(name) for name in sorted({n for _, n in wanted})]
    query = (
        exp.select("object_type", "record_id", "property", "value", "changed_at")
        .from_(table("property_history"))
        .where(col("property").isin(*names))
        .where(reader.among(col("record_id"), listed))
    )
    found: dict[tuple[str, str, str], list[tuple[dt.datetime, str | None]]] = {}
    for row in reader.rows(query, listed):
        if (row["object_type"], row["property"]) in wanted and row["changed_at"]:
            key = (row["object_type"], str(row["record_id"]), row["property"])
            found.setdefault(key, []).append((row["changed_at"], row["value"]))
    return {key: tuple(rows) for key, rows in found.items()}


def _lists(
    reader: _Reader, relation: str, lists: Iterable[str], ids: Sequence[str]
) -> dict[str, set[str]]:
    names = [exp.Literal.string(name) for name in sorted(lists)]
    if not names:
        return {}
    query = (
        exp.select("list", "record_id")
        .from_(table(relation))
        .where(col("list").isin(*names))
        .where(reader.among(col("record_id"), ids))
    )
    found: dict[str, set[str]] = {}
    for row in reader.rows(query, ids):
        found.setdefault(str(row["record_id"]), set()).add(row["list"])
    return found


def _static(reader: _Reader, run: Run, ids: Sequence[str]) -> dict[str, set[str]]:
    if run.stored is None:
        return {}
    return _lists(reader, run.stored.relation, run.stored.lists, ids)


def _enrolled(
    reader: _Reader, run: Run, ids: Sequence[str]
) -> dict[str, dict[str, dt.datetime]]:
    """Per workflow, each record's latest enrollment time."""
    found: dict[str, dict[str, dt.datetime]] = {}
    for workflow, relation in run.enrolled.items():
        query = (
            exp.select("record_id", "enrolled_at")
            .from_(table(relation))
            .where(reader.among(col("record_id"), ids))
        )
        latest: dict[str, dt.datetime] = {}
        for row in reader.rows(query, ids):
            rid, at = str(row["record_id"]), row["enrolled_at"]
            if at is not None and (rid not in latest or at > latest[rid]):
                latest[rid] = at
        found[workflow] = latest
    return found


# ---------------------------------------------------------------- values


def normalise(value: Any, kind: Kind) -> Any:
    """A stored value as tests compare it: text lower-cased, empty text and sets
    unknown, numbers as floats."""
    if value is None:
        return None
    if kind.is_textual:
        return value.lower() if value != "" else None
    if kind is Kind.ENUM:
        return value if value != "" else None
    if kind is Kind.SET:
        return list(value) or None
    if kind is Kind.NUMBER:
        return float(value)
    return value


def history_value(text: str | None, type_: Type, zone: str) -> Any:
    """A history row's text read as the property's type (see the SQL half)."""
    kind = type_.kind
    if text is None or kind.is_textual or kind is Kind.ENUM:
        return normalise(text, kind)
    if kind is Kind.NUMBER:
        return float(text.strip(" ")) if _NUMBER_TEXT.fullmatch(text) else None
    if kind is Kind.BOOL:
        word = text.strip(" ").lower()
        return (
            True
            if word in sql.TRUE_WORDS
            else False
            if word in sql.FALSE_WORDS
            else None
        )
    if kind is Kind.DATE:
        return _date(text) if _DATE_TEXT.fullmatch(text) else None
    if kind is Kind.DATETIME:
        return _instant(text, zone)
    items = sorted({item.strip(" ") for item in text.split(";")} - {""})
    return items or None


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _instant(text: str, zone: str) -> dt.datetime | None:
    if _OFFSET_INSTANT_TEXT.fullmatch(text):
        aware = True
    elif _INSTANT_TEXT.fullmatch(text):
        aware = False
    else:
        return None
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if not aware:
        parsed = parsed.replace(tzinfo=zoneinfo.ZoneInfo(zone))
    return parsed.astimezone(dt.UTC)


def held(value: Any, values: Sequence[Constant], kind: Kind) -> bool:
    """A normalised value is one of `values`; a set holds one of them."""
    if value is None:
        return False
    if kind is Kind.SET:
        return any(v in value for v in values)
    return value in values


def holds(test: p.Test, kind: Kind, value: Any, params: Mapping[str, Any]) -> bool:
    """A value test on a normalised value; unknown fails all but `is unknown`."""
    if isinstance(test, p.Known):
        return (value is not None) != test.negate
    if value is None:
        return False
    if isinstance(test, p.SetMatch):
        return _set_holds(test, set(value))
    if isinstance(test, p.OneOf):
        inside = value in [_operand(v, params) for v in test.values]
    elif isinstance(test, p.InRange):
        inside = _in_range(test, value, params)
    else:
        inside = any(_text_holds(test.mode, value, text) for text in test.values)
    return inside != test.negate


def _operand(value: p.Operand, params: Mapping[str, Any]) -> Any:
    return params[value.name] if isinstance(value, p.Param) else value


def _in_range(test: p.InRange, value: Any, params: Mapping[str, Any]) -> bool:
    if test.low is not None:
        low = _operand(test.low, params)
        if value < low or (test.low_open and value == low):
            return False
    if test.high is not None:
        high = _operand(test.high, params)
        if value > high or (test.high_open and value == high):
            return False
    return True


def _text_holds(mode: p.TextMode, value: str, text: str) -> bool:
    if mode is p.TextMode.CONTAINS:
        return text in value
    if mode is p.TextMode.STARTS:
        return value.startswith(text)
    return value.endswith(text)


def _set_holds(test: p.SetMatch, items: set[Any]) -> bool:
    wanted = set(test.values)
    if test.mode is p.SetMode.ANY:
        return bool(items & wanted)
    if test.mode is p.SetMode.ALL:
        return wanted <= items
    if test.mode is p.SetMode.NONE:
        return not items & wanted
    return items == wanted


# ---------------------------------------------------------------- evaluation


@attrs.frozen
class Observation:
    """An atom's truth for one record and what it saw, for explanations.

    `seen` is the raw value (value tests), `(history values, current value)` (ever
    been), the last change time (updated), the change found as `(at, before,
    after)` (changed), the count or None (events), `(matches, total)`
    (associations) or the membership (stored lists).
    """

    passed: bool
    seen: Any = None


class RecordEvaluator:
    """The rules and atoms of one record, each evaluated at most once."""

    def __init__(
        self, plan: p.Plan, run: Run, params: Mapping[str, Any], facts: Facts
    ) -> None:
        self.plan = plan
        self.run = run
        self.params = params
        self.facts = facts
        self.observed: dict[str, Observation] = {}
        self.rules: dict[str, bool] = {}
        self.rows: dict[p.Source, Row | None] = {p.Own(facts.object): facts.row}
        for target, row in facts.primary.items():
            self.rows[p.Primary(facts.object, target)] = row

    def rule(self, key: str) -> bool:
        if key not in self.rules:
            self.rules[key] = self.expr(rule_expr(self.plan.rules[key], self.run))
        return self.rules[key]

    def expr(self, expr: p.Expr) -> bool:
        return _truth(expr, self.atom_passed, self.rule)

    def atom_passed(self, ident: str) -> bool:
        return self.atom(ident).passed

    def atom(self, ident: str) -> Observation:
        if ident not in self.observed:
            self.observed[ident] = self._observe(self.plan.atoms[ident])
        return self.observed[ident]

    def _observe(self, atom: p.Atom) -> Observation:
        if isinstance(atom, p.ValueAtom):
            raw = _read(self.rows, atom.field)
            value = normalise(raw, atom.field.kind)
            return Observation(
                holds(atom.test, atom.field.kind, value, self.params), raw
            )
        if isinstance(atom, p.EverBeen):
            return self._ever_been(atom)
        if isinstance(atom, p.UpdatedSince):
            times = [t for t, _ in self._history(atom.field)]
            last = max(times, default=None)
            since = self.params[atom.since.name]
            return Observation(last is not None and last >= since, last)
        if isinstance(atom, p.Changed):
            change = self._change(atom)
            return Observation(change is not None, change)
        if isinstance(atom, p.CountTest):
            count = self.count(self.plan.event_counts[atom.count])
            passed = count is not None and atom.op.holds(count, atom.times)
            return Observation(passed, count)
        if isinstance(atom, p.QuantTest):
            return self._quantified(atom)
        return self._stored(atom)

    def _history(self, field: p.Field) -> list[tuple[dt.datetime, str | None]]:
        """The field's history rows up to now, oldest first."""
        if isinstance(field.source, p.Primary):
            record = self.facts.primary_id.get(field.source.target)
        else:
            record = self.facts.id
        if record is None:
            return []
        rows = self.facts.history.get((field.object_type(), record, field.name), ())
        now = self.params["now"]
        kept = [(t, v) for t, v in rows if t <= now]
        return sorted(kept, key=lambda r: (r[0], r[1] is None, r[1] or ""))

    def _ever_been(self, atom: p.EverBeen) -> Observation:
        zone, kind = self.plan.calendar.zone, atom.field.kind
        past = [
            history_value(v, atom.field.type, zone)
            for _, v in self._history(atom.field)
        ]
        raw = _read(self.rows, atom.field)
        current = normalise(raw, kind)
        ever = held(current, atom.values, kind) or any(
            held(v, atom.values, kind) for v in past
        )
        return Observation(ever != atom.negate, (past, raw))

    def _change(self, atom: p.Changed) -> tuple[dt.datetime, Any, Any] | None:
        """The first change after the previous run that fits `atom`, if any."""
        previous = self.params.get("previous_run")
        kind, before = atom.field.kind, None
        for at, text in self._history(atom.field):
            after = history_value(text, atom.field.type, self.plan.calendar.zone)
            fits = (atom.to is None or held(after, [atom.to], kind)) and (
                atom.before is None or held(before, [atom.before], kind)
            )
            if after != before and (previous is None or at > previous) and fits:
                return (at, before, after)
            before = after
        return None

    def count(self, count: p.EventCount) -> int | None:
        """Events of the count's type and filter in its window; None when the
        window is `since enrolled` and the record has no enrollment."""
        since = None
        if count.window.since is not None:
            since = self.params[count.window.since.name]
        if count.window.enrolled_in is not None:
            since = self.facts.enrolled.get(count.window.enrolled_in)
            if count.window.enrolled_in not in self.run.enrolled or since is None:
                return None
        now, source = self.params["now"], p.EventRow(count.event)
        found = 0
        for event in self.facts.events:
            at = event["occurred_at"]
            if event["type"] != count.event or at is None or at > now:
                continue
            if since is not None and at < since:
                continue
            if count.filter is None or self.row_expr(count.filter, {source: event}):
                found += 1
        return found

    def _quantified(self, atom: p.QuantTest) -> Observation:
        count = self.plan.assoc_counts[atom.matches]
        rows = self.facts.associated.get(count.target, ())
        source = p.Own(count.target)
        matches = sum(
            1
            for row in rows
            if count.filter is None or self.row_expr(count.filter, {source: row})
        )
        total = len(rows)
        if atom.quantifier.value == "no":
            passed = matches == 0
        elif atom.quantifier.value == "all":
            passed = total >= 1 and matches == total
        else:
            passed = matches >= atom.times
        return Observation(passed, (matches, total))

    def _stored(self, atom: p.Stored) -> Observation:
        if atom.kind is p.StoredKind.MANUAL:
            member = atom.list in self.facts.manual
        else:
            member = self.run.stored is not None and atom.list in self.facts.static
        return Observation(member, member)

    def row_expr(self, expr: p.Expr, rows: Mapping[p.Source, Row | None]) -> bool:
        """A filter over one event or associated record."""

        def atom_passed(ident: str) -> bool:
            atom = self.plan.atoms[ident]
            if not isinstance(atom, p.ValueAtom):
                raise ValueError(f"internal error: atom {ident} inside a filter")
            value = normalise(_read(rows, atom.field), atom.field.kind)
            return holds(atom.test, atom.field.kind, value, self.params)

        return _truth(expr, atom_passed, self.rule)


def _read(rows: Mapping[p.Source, Row | None], field: p.Field) -> Any:
    row = rows.get(field.source)
    return None if row is None else row.get(field.name)


def _truth(expr: p.Expr, atom: Any, rule: Any) -> bool:
    if isinstance(expr, p.AtomRef):
        return bool(atom(expr.id))
    if isinstance(expr, p.RuleRef):
        return bool(rule(expr.key))
    if isinstance(expr, p.Literal):
        return expr.value
    if isinstance(expr, p.Not):
        return not _truth(expr.item, atom, rule)
    if isinstance(expr, p.And):
        return all(_truth(item, atom, rule) for item in expr.items)
    return any(_truth(item, atom, rule) for item in expr.items)


# ---------------------------------------------------------------- the engine


class ReferenceEngine:
    """The oracle: every record evaluated in Python (small inputs only)."""

    name = "reference"

    def evaluate_outputs(
        self,
        plan: p.Plan,
        con: duckdb.DuckDBPyConnection,
        run: Run,
        *,
        object: str,
        outputs: Mapping[str, p.Expr],
        table: str,
    ) -> None:
        params = plan.resolve(run.now, run.previous_run_at)
        rows = []
        for record_id, facts in sorted(load_facts(plan, con, object, run).items()):
            evaluator = RecordEvaluator(plan, run, params, facts)
            rows.append((record_id, *map(evaluator.expr, outputs.values())))
        _write(con, table, list(outputs), rows)
        log.debug("%s: %d records", table, len(rows))


def _write(
    con: duckdb.DuckDBPyConnection,
    name: str,
    keys: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
) -> None:
    """Create table `name` (id, then one BOOLEAN per key) in one statement: each
    column is bound as a list and unnested."""
    columns = [
        named(func("unnest", cast(exp.Placeholder(this="c0"), "VARCHAR[]")), "id")
    ]
    for index, key in enumerate(keys, 1):
        bound = cast(exp.Placeholder(this=f"c{index}"), "BOOLEAN[]")
        columns.append(named(func("unnest", bound), key))
    query = exp.select(*columns)
    values = {f"c{i}": [row[i] for row in rows] for i in range(len(keys) + 1)}
    con.execute(create_statement(name, query).sql(dialect="duckdb"), values)
