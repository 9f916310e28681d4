"""Runtime stage, evaluation: the data as it stood at some instants, for the engine.

The runtime asks what the rules say about records at instants (an event's time, a
wait's end, the run's now). The engine reads the data tables by name, so for the
length of a run :class:`Snapshots` renames the tables it must reshape
(`obj_<object>`, `events`, `property_history`, `associations`, `list_memberships`)
to `rt_data_*` and puts TEMP views with the original names in their place
(:mod:`~seqdsl.runtime.views` writes them). The views come in two sets:

- *whole*: every record at one instant, the one in the one-row table `rt_clock`;
- *points*: one row per point `(record, instant)` of `rt_points`, under a made-up id,
  with copies of the point's associated records. Many points, at different instants
  and several per record, are then evaluated by one engine call.

Either way, at instant `t`:

- a property holds the value of its last history row at or before `t` when the
  history has a later row (and is unknown when it has no earlier one); otherwise the
  current value. Values set or cleared by actions (`rt_overrides`) count as history
  rows, and a data history row at or after the action's time supersedes it;
- only events and history rows up to `t` are seen;
- manual list memberships are the data's, changed by list actions up to `t`; static
  lists are the stored members (`rt_list_changes`) up to `t`;
- `since enrolled` reads the enrollments in `rt_enrolled` up to `t`;
- contacts carry the sequence properties (`currently_in_sequence`, ...) of
  `rt_sequence_props` as of `t`.

The engine's run parameters are shared by one call, so points are only evaluated
together when that changes nothing (:meth:`Snapshots.batch_key`): on one workspace
day when the plan's parameters are all whole days, else at one instant. For
`changed`, history rows of a point's record after the batch's first instant and
before the point's own instant are moved just before the batch (in order), so each
point sees only the changes at its own instant.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from types import TracebackType

import duckdb
import pyarrow as pa

from seqdsl import plan as p
from seqdsl.engine import (
    SplitEvents,
    StoredLists,
    column_names,
    evaluate,
    get_engine,
)
from seqdsl.runtime.errors import RunError
from seqdsl.runtime.sqltext import name_sql
from seqdsl.runtime.views import PointViews, WholeViews
from seqdsl.schema import Schema

__all__ = ["EPSILON", "Point", "Snapshots"]

log = logging.getLogger("seqdsl.runtime.snapshot")

#: The gap below an instant that makes `changed` see only changes at that instant.
EPSILON = dt.timedelta(microseconds=1)

#: One point: (object, record id, instant).
Point = tuple[str, str, dt.datetime]

_SHADOWED = ("events", "property_history", "associations", "list_memberships")
_TRUTHS = "rt_truths_"
_POINT_TRUTHS = "rt_point_truths_"
# the truths just before a midnight and at it, compared by `turning_at`
_BEFORE, _AFTER = "rt_before_", "rt_after_"
_SPLIT = SplitEvents("rt_events_base", "rt_events_delta", "rt_point_copies")
# keys per BIGINT bit mask when truths are fetched (the sign bit stays clear)
_MASK_BITS = 63
_SEP = "chr(31)"
# a point too close after midnight is evaluated alone, so moved history rows
# never cross into the previous day
_DAY_MARGIN = dt.timedelta(seconds=1)

# the runtime's own inputs to every evaluation; the run fills them as it goes
_RUNTIME_TABLES = {
    "rt_clock": "t TIMESTAMPTZ, lo TIMESTAMPTZ",
    "rt_overrides": (
        "object_type VARCHAR, record_id VARCHAR, property VARCHAR, value VARCHAR, "
        "set_at TIMESTAMPTZ, seq BIGINT"
    ),
    "rt_list_changes": (
        "list VARCHAR, record_id VARCHAR, member BOOLEAN, since TIMESTAMPTZ, seq BIGINT"
    ),
    "rt_enrolled": (
        "workflow VARCHAR, record_id VARCHAR, enrolled_at TIMESTAMPTZ, "
        "left_at TIMESTAMPTZ"
    ),
    "rt_sequence_props": (
        "record_id VARCHAR, since TIMESTAMPTZ, currently_in_sequence BOOLEAN, "
        "last_sequence_enrolled VARCHAR, last_sequence_enrolled_date TIMESTAMPTZ, "
        "last_sequence_ended_date TIMESTAMPTZ"
    ),
    "rt_points": "pid VARCHAR, object_type VARCHAR, record_id VARCHAR, t TIMESTAMPTZ",
    "rt_point_rows": (
        "sid VARCHAR, object_type VARCHAR, record_id VARCHAR, t TIMESTAMPTZ, "
        "pid VARCHAR"
    ),
    "rt_point_links": (
        'from_type VARCHAR, from_id VARCHAR, to_type VARCHAR, to_id VARCHAR, "primary" '
        "BOOLEAN"
    ),
}
_WHOLE, _POINTS = "whole", "points"


class Snapshots:
    """Evaluate the plan at instants, over the data as it stood then.

    Use as a context manager: entering renames the data tables, leaving restores
    them. `static_stored` names the static lists whose members are stored (the
    others are computed from their condition, as on their first run); set it
    before the first evaluation.
    """

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        plan: p.Plan,
        schema: Schema,
        *,
        engine: str = "duckdb",
        extra_objects: Iterable[str] = (),
    ) -> None:
        self.con = con
        self.plan = plan
        self.schema = schema
        self.engine = get_engine(engine).name
        self.static_stored: frozenset[str] = frozenset()
        self.calls = 0
        self.seconds = 0.0
        # the objects with rules, and those whose records rules read through
        # associations: their history is replayed too
        read = sorted(plan.needed_columns())
        self.objects = tuple(dict.fromkeys((*plan.objects, *read, *extra_objects)))
        rules = plan.rules.values()
        self.static_lists = frozenset(
            r.name for r in rules if r.kind is p.RuleKind.STATIC_LIST
        )
        self.manual_lists = frozenset(
            r.name for r in rules if r.kind is p.RuleKind.MANUAL_LIST
        )
        self.workflows = tuple(sorted({r.workflow for r in rules if r.workflow}))
        self.by_day = _whole_days(plan)
        # truth columns are rule keys, suffixed where keys differ only in case
        self._columns = column_names(plan)
        self._key_of = {column: key for key, column in self._columns.items()}
        # whether any rule reads an associated record (else points need no copies)
        self.linked = _reads_associations(plan)
        self._renamed: list[str] = []
        self._pending: dict[str, list[tuple[object, ...]]] = {}
        self._mode: str | None = None
        self._properties: dict[str, tuple[str, ...]] = {}
        self._keys: dict[dt.datetime, object] = {}

    # -- the session

    def __enter__(self) -> Snapshots:
        for name, columns in _RUNTIME_TABLES.items():
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} ({columns})")
        self.con.execute("INSERT INTO rt_clock VALUES (NULL, NULL)")
        try:
            for name in self._data_tables():
                renamed = name_sql(f"rt_data_{name}")
                self.con.execute(f"ALTER TABLE {name_sql(name)} RENAME TO {renamed}")
                self._renamed.append(name)
        except BaseException:
            self._restore()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        try:
            if kind is None:
                self.flush()
        finally:
            self._restore()

    def _data_tables(self) -> list[str]:
        present = {
            str(row[0])
            for row in self.con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE temporary"
            ).fetchall()
        }
        wanted = [f"obj_{o}" for o in self.objects] + list(_SHADOWED)
        missing = [name for name in wanted if name not in present]
        if missing:
            raise RunError(
                "the data is not loaded: missing table(s) "
                + ", ".join(f"`{m}`" for m in missing)
            )
        return wanted

    def _restore(self) -> None:
        while self._renamed:
            name = self._renamed.pop()
            self.con.execute(f"DROP VIEW IF EXISTS {name_sql(name)}")
            self.con.execute(
                f"ALTER TABLE {name_sql(f'rt_data_{name}')} RENAME TO {name_sql(name)}"
            )

    # -- inputs the run adds

    def add_rows(self, table: str, rows: Sequence[tuple[object, ...]]) -> None:
        """Append rows to one of the runtime tables (`rt_overrides`, ...); they
        are written in bulk before the next evaluation (or :meth:`flush`)."""
        self._pending.setdefault(table, []).extend(rows)

    def flush(self) -> None:
        """Write the rows added since the last flush."""
        pending, self._pending = self._pending, {}
        for table, rows in pending.items():
            if rows:
                self._insert(table, rows)

    def _insert(self, table: str, rows: Sequence[tuple[object, ...]]) -> None:
        names = [c.split()[0].strip('"') for c in _RUNTIME_TABLES[table].split(", ")]
        columns = list(zip(*rows, strict=True))
        batch = pa.table(  # noqa: F841 - read by the SQL below
            {n: pa.array(list(v)) for n, v in zip(names, columns, strict=True)}
        )
        self.con.execute(f"INSERT INTO {table} SELECT * FROM batch")
        if table == "rt_overrides" and self._replayed_changed():
            self._mode = None

    def replace_rows(self, table: str, relation: str) -> None:
        self.flush()
        self.con.execute(f"DELETE FROM {table}")
        self.con.execute(f"INSERT INTO {table} SELECT * FROM {relation}")
        if table == "rt_overrides" and self._replayed_changed():
            self._mode = None

    # -- evaluating

    def column(self, key: str) -> str:
        """The quoted truth column of rule `key` in the truth tables."""
        return name_sql(self._columns[key])

    def batch_key(self, at: dt.datetime) -> object:
        """Points with equal keys may be evaluated in one call: the same workspace
        day when the plan's parameters are whole days, else the same instant."""
        if not self.by_day:
            return at
        found = self._keys.get(at)
        if found is None:
            calendar = self.plan.calendar
            day = calendar.local_date(at)
            close = at - calendar.start_of_day(day) < _DAY_MARGIN
            found = self._keys[at] = at if close else day
        return found

    def evaluate_all(
        self, at: dt.datetime, previous: dt.datetime | None
    ) -> Mapping[str, str]:
        """Evaluate every rule for every record at `at`; returns, per object, the
        TEMP table of truths (`id` and a column per key)."""
        self.flush()
        self._use(_WHOLE)
        self.con.execute("UPDATE rt_clock SET t = ?, lo = ?", [at, at])
        return self._run_engine(at, previous)

    def turning_at(self, at: dt.datetime, keys: Sequence[str]) -> list[Point]:
        """The records for which a rule of `keys` differs just before `at` and at
        `at`, as points at `at`. Called at a workspace midnight with no data
        point in between, this finds the truths that time alone turns: an event
        leaving an `in last N days` window, a date coming into `in next N days`.
        """
        if not keys:
            return []
        self.flush()
        self._use(_WHOLE)
        tables = []
        for moment, prefix in ((at - EPSILON, _BEFORE), (at, _AFTER)):
            self.con.execute("UPDATE rt_clock SET t = ?, lo = ?", [moment, moment])
            tables.append(self._run_engine(moment, moment - EPSILON, prefix, keys))
        before, after = tables
        found: list[Point] = []
        for object, table in after.items():
            columns = [name_sql(c) for c in self._names(table)]
            if object not in before or not columns:
                continue
            differs = " OR ".join(f"a.{c} IS DISTINCT FROM b.{c}" for c in columns)
            rows = self.con.execute(
                f"SELECT b.id FROM {name_sql(before[object])} a "
                f"JOIN {name_sql(table)} b ON a.id = b.id WHERE {differs} ORDER BY 1"
            ).fetchall()
            found += [(object, str(row[0]), at) for row in rows]
        return found

    def evaluate_points(
        self, points: Sequence[Point], every_change: bool = False
    ) -> dict[Point, frozenset[str]]:
        """Evaluate every rule at each point (one batch: see :meth:`batch_key`);
        returns each point's true keys.

        `changed` sees the changes at each point's instant, or with
        `every_change` (a first run) every change up to it.
        """
        first = min(point[2] for point in points)
        previous = None if every_change else first - EPSILON
        ids, tables = self._at_points(points, previous)
        found = {point: frozenset[str]() for point in points}
        among = " WHERE id IN (SELECT pid FROM rt_points)"
        for _, pid, keys in self._fetch(tables, among, {}):
            found[ids[pid]] = keys
        return found

    def refresh(
        self,
        tables: Mapping[str, str],
        records: Sequence[tuple[str, str]],
        at: dt.datetime,
        previous: dt.datetime | None,
    ) -> None:
        """Evaluate `records`, and the records associated with them, again at `at`
        and write their truths into the whole-evaluation `tables` (after actions
        at `at` changed what the rules read for them)."""
        if not records:
            return
        self.flush()
        points = [(o, i, at) for o, i in self._with_associated(records)]
        _, found = self._at_points(points, previous)
        for object, whole in tables.items():
            point_table = found.get(object)
            if point_table is None:
                continue
            present = set(self._names(point_table))
            columns = [c for c in self._names(whole) if c in present]
            if not columns:
                continue
            assigned = ", ".join(f"{name_sql(c)} = p.{name_sql(c)}" for c in columns)
            self.con.execute(
                f"UPDATE {name_sql(whole)} AS w SET {assigned} "
                f"FROM {name_sql(point_table)} p "
                "JOIN rt_points q ON q.pid = p.id "
                "WHERE w.id = q.record_id AND q.object_type = $o",
                {"o": object},
            )

    def _with_associated(
        self, records: Sequence[tuple[str, str]]
    ) -> list[tuple[str, str]]:
        """`records` and the records of other objects associated with them."""
        found = dict.fromkeys(records)
        rows = self.con.execute(
            "SELECT to_type, to_id FROM rt_data_associations "
            "WHERE (from_type, from_id) IN (SELECT unnest($o), unnest($i)) "
            "UNION SELECT from_type, from_id FROM rt_data_associations "
            "WHERE (to_type, to_id) IN (SELECT unnest($o), unnest($i))",
            {"o": [o for o, _ in records], "i": [i for _, i in records]},
        ).fetchall()
        found.update(
            ((str(o), str(i)), None) for o, i in rows if str(o) in self.objects
        )
        return sorted(found)

    def _at_points(
        self, points: Sequence[Point], previous: dt.datetime | None
    ) -> tuple[dict[str, Point], dict[str, str]]:
        """Evaluate the rules at points; returns the points by made-up id, and
        per object the truth table (keyed by those ids)."""
        self.flush()
        self._use(_POINTS)
        ids = {point_id(point): point for point in points}
        self.con.execute("DELETE FROM rt_points")
        self.con.execute(
            "INSERT INTO rt_points SELECT unnest($p), unnest($o), unnest($r), "
            "unnest($t)",
            {
                "p": list(ids),
                "o": [point[0] for point in ids.values()],
                "r": [point[1] for point in ids.values()],
                "t": [point[2] for point in ids.values()],
            },
        )
        self._point_rows()
        first = min(point[2] for point in points)
        last = max(point[2] for point in points)
        self.con.execute("UPDATE rt_clock SET t = ?, lo = ?", [last, first])
        return ids, self._run_engine(last, previous, _POINT_TRUTHS, split=_SPLIT)

    def _run_engine(
        self,
        at: dt.datetime,
        previous: dt.datetime | None,
        prefix: str = _TRUTHS,
        only: Sequence[str] | None = None,
        split: SplitEvents | None = None,
    ) -> dict[str, str]:
        started = time.perf_counter()
        stored = None
        if self.static_stored:
            stored = StoredLists("rt_static_now", self.static_stored)
        enrolled = {w: f"rt_enrolled_{n}" for n, w in enumerate(self.workflows, 1)}
        truths = evaluate(
            self.plan,
            self.con,
            at,
            engine=self.engine,
            previous_run_at=previous,
            enrolled=enrolled,
            stored=stored,
            prefix=prefix,
            only=only,
            split=split,
        )
        self.calls += 1
        self.seconds += time.perf_counter() - started
        return dict(truths.tables)

    def fetch(
        self,
        tables: Mapping[str, str],
        ids: Iterable[str] | None = None,
        keys: Sequence[str] | None = None,
    ) -> Iterator[tuple[str, str, frozenset[str]]]:
        """(object, id, true keys) for the rows of the truth tables; with `ids`,
        for those ids only."""
        if ids is None:
            return self._fetch(tables, "", {}, keys)
        among = " WHERE id IN (SELECT unnest($ids))"
        return self._fetch(tables, among, {"ids": list(ids)}, keys)

    def _fetch(
        self,
        tables: Mapping[str, str],
        where: str,
        params: Mapping[str, object],
        keys: Sequence[str] | None = None,
    ) -> Iterator[tuple[str, str, frozenset[str]]]:
        """DuckDB packs each row's truths into bit masks of up to 63 keys; rows
        with the same masks share one frozenset (records fall into few
        patterns)."""
        for kind, name in tables.items():
            columns = [
                c
                for c in self._names(name)
                if keys is None or self._key_of.get(c, c) in keys
            ]
            if not columns:
                continue
            chunks = [
                columns[i : i + _MASK_BITS] for i in range(0, len(columns), _MASK_BITS)
            ]
            key_chunks = [[self._key_of.get(c, c) for c in chunk] for chunk in chunks]
            masks = ", ".join(
                " + ".join(
                    f"CASE WHEN {name_sql(c)} THEN {1 << bit} ELSE 0 END"
                    for bit, c in enumerate(chunk)
                )
                for chunk in chunks
            )
            query = f"SELECT id, {masks} FROM {name_sql(name)}{where}"
            patterns: dict[tuple[int, ...], frozenset[str]] = {}
            for record_id, *packed in self.con.execute(query, params).fetchall():
                pattern = tuple(packed)
                found = patterns.get(pattern)
                if found is None:
                    found = patterns[pattern] = _unpacked(key_chunks, pattern)
                yield kind, str(record_id), found

    def _names(self, table: str) -> list[str]:
        """The truth columns of a truth table (all but `id`)."""
        rows = self.con.execute(f"DESCRIBE {name_sql(table)}").fetchall()
        return [str(row[0]) for row in rows if row[0] != "id"]

    def values_at(
        self,
        object: str,
        pairs: Sequence[tuple[str, dt.datetime]],
        columns: Sequence[str],
    ) -> dict[tuple[str, dt.datetime], dict[str, str | None]]:
        """Property values (as text) of records at instants, history and actions
        replayed as in the views; for `(id, instant)` pairs."""
        if not pairs or not columns:
            return {}
        self.flush()
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE rt_pairs AS "
            "SELECT unnest($i) AS id, unnest($t) AS at_",
            {"i": [i for i, _ in pairs], "t": [t for _, t in pairs]},
        )
        found: dict[tuple[str, dt.datetime], dict[str, str | None]] = {}
        replayed = self.replayed(object)
        for column in [c for c in columns if c in replayed]:
            for record_id, at, value in self._value_at(object, column):
                found.setdefault((record_id, at), {})[column] = value
        plain = [c for c in columns if c not in replayed]
        if plain:
            current = self._current(object, plain)
            for record_id, at in pairs:
                found.setdefault((record_id, at), {}).update(current.get(record_id, {}))
        return found

    def _current(
        self, object: str, columns: Sequence[str]
    ) -> dict[str, dict[str, str | None]]:
        """Current values (as text) of properties no history or action changes."""
        names = ", ".join(f"CAST({name_sql(c)} AS VARCHAR)" for c in columns)
        rows = self.con.execute(
            f'SELECT id, {names} FROM "rt_data_obj_{object}" '
            "WHERE id IN (SELECT DISTINCT id FROM rt_pairs)"
        ).fetchall()
        return {str(row[0]): dict(zip(columns, row[1:], strict=True)) for row in rows}

    def _value_at(
        self, object: str, column: str
    ) -> list[tuple[str, dt.datetime, str | None]]:
        rows = (
            "SELECT record_id, value, changed_at AS at_, 1 AS rank_, 0 AS seq "
            "FROM rt_data_property_history WHERE object_type = $o AND property = $c "
            "UNION ALL SELECT record_id, value, set_at, 0, seq FROM rt_overrides "
            "WHERE object_type = $o AND property = $c"
        )
        query = (
            "WITH r AS (" + rows + "), a AS ("
            "SELECT q.id, q.at_, bool_or(r.at_ > q.at_ AND r.rank_ = 1) AS later, "
            "arg_max_null(r.value, (r.at_, r.rank_, r.seq)) "
            "FILTER (WHERE r.at_ <= q.at_) AS value, "
            "arg_max(r.rank_, (r.at_, r.rank_, r.seq)) "
            "FILTER (WHERE r.at_ <= q.at_) AS last_rank "
            "FROM rt_pairs q LEFT JOIN r ON r.record_id = q.id GROUP BY q.id, q.at_) "
            "SELECT a.id, a.at_, CASE WHEN coalesce(a.later, false) OR a.last_rank = 0 "
            f"THEN a.value ELSE CAST(d.{name_sql(column)} AS VARCHAR) END "
            f"FROM a LEFT JOIN {name_sql(f'rt_data_obj_{object}')} d ON d.id = a.id"
        )
        result = self.con.execute(query, {"o": object, "c": column}).fetchall()
        return [(str(i), t.astimezone(dt.UTC), v) for i, t, v in result]

    # -- the views

    def _use(self, mode: str) -> None:
        """Make the views of `mode` current (if they are not already)."""
        if self._mode == mode:
            return
        views = WholeViews(self) if mode == _WHOLE else PointViews(self)
        for name, query in views.all():
            self.con.execute(f"CREATE OR REPLACE TEMP VIEW {name_sql(name)} AS {query}")
        self._mode = mode

    def _point_rows(self) -> None:
        """The points' records and their associated records, each under a made-up
        id, and the associations between them."""
        pid, other = "p.pid", f"p.pid || {_SEP} || a.to_type || {_SEP} || a.to_id"
        back = f"p.pid || {_SEP} || a.from_type || {_SEP} || a.from_id"
        self.con.execute("DELETE FROM rt_point_rows")
        self.con.execute("DELETE FROM rt_point_links")
        if not self.linked:
            self.con.execute(
                "INSERT INTO rt_point_rows "
                "SELECT pid, object_type, record_id, t, pid FROM rt_points"
            )
            return
        self.con.execute(
            "INSERT INTO rt_point_rows "
            f"SELECT {pid} AS sid, object_type, record_id, t, pid FROM rt_points p "
            f"UNION SELECT {other}, a.to_type, a.to_id, p.t, p.pid FROM rt_points p "
            "JOIN rt_data_associations a ON a.from_type = p.object_type "
            f"AND a.from_id = p.record_id UNION SELECT {back}, a.from_type, "
            "a.from_id, p.t, p.pid FROM rt_points p JOIN rt_data_associations a "
            "ON a.to_type = p.object_type AND a.to_id = p.record_id"
        )
        self.con.execute(
            "INSERT INTO rt_point_links "
            f"SELECT p.object_type AS from_type, {pid} AS from_id, a.to_type, "
            f'{other} AS to_id, a."primary" FROM rt_points p '
            "JOIN rt_data_associations a ON a.from_type = p.object_type "
            f"AND a.from_id = p.record_id UNION ALL SELECT a.from_type, {back}, "
            'p.object_type, p.pid, a."primary" FROM rt_points p '
            "JOIN rt_data_associations a ON a.to_type = p.object_type "
            "AND a.to_id = p.record_id"
        )

    def _replayed_changed(self) -> bool:
        """Whether the properties to replay grew (the object views must change)."""
        found = {o: self._replayed(o) for o in self.objects}
        changed = found != self._properties
        self._properties = found
        return changed

    def replayed(self, object: str) -> tuple[str, ...]:
        if object not in self._properties:
            self._properties[object] = self._replayed(object)
        return self._properties[object]

    def _replayed(self, object: str) -> tuple[str, ...]:
        """The properties of `object` with history rows or overrides."""
        columns = self.columns(object)
        rows = self.con.execute(
            "SELECT DISTINCT property FROM rt_data_property_history "
            "WHERE object_type = $o UNION SELECT DISTINCT property FROM rt_overrides "
            "WHERE object_type = $o",
            {"o": object},
        ).fetchall()
        return tuple(
            sorted(str(r[0]) for r in rows if r[0] in columns and r[0] != "id")
        )

    def columns(self, object: str) -> dict[str, str]:
        return {
            str(row[0]): str(row[1])
            for row in self.con.execute(f'DESCRIBE "rt_data_obj_{object}"').fetchall()
        }


def point_id(point: Point) -> str:
    """The made-up record id of a point."""
    object, record_id, at = point
    return f"{object}\x1f{record_id}\x1f{at.astimezone(dt.UTC).isoformat()}"


def _whole_days(plan: p.Plan) -> bool:
    """Whether every parameter the plan compares values with is a whole day, so
    points of one workspace day can share one evaluation."""
    if any(param.kind is p.ParamKind.ELAPSED for param in plan.params().values()):
        return False
    for atom in plan.atoms.values():
        if not isinstance(atom, p.ValueAtom) or isinstance(
            atom.field.source, p.EventRow
        ):
            continue
        test = atom.test
        bounds: tuple[object, ...] = ()
        if isinstance(test, p.InRange):
            bounds = (test.low, test.high)
        elif isinstance(test, p.OneOf):
            bounds = test.values
        if any(b == p.NOW for b in bounds):
            return False
    return True


def _reads_associations(plan: p.Plan) -> bool:
    """Whether a rule counts associated records or reads a primary one's value."""
    if plan.assoc_counts:
        return True
    fields = (getattr(atom, "field", None) for atom in plan.atoms.values())
    return any(
        isinstance(field, p.Field) and isinstance(field.source, p.Primary)
        for field in fields
    )


def _unpacked(chunks: Sequence[Sequence[str]], masks: Sequence[int]) -> frozenset[str]:
    """The keys whose bits are set in the masks, one mask per chunk of keys."""
    return frozenset(
        key
        for chunk, mask in zip(chunks, masks, strict=True)
        for bit, key in enumerate(chunk)
        if mask >> bit & 1
    )
