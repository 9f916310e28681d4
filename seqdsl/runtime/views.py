"""Runtime stage, evaluation views: the SQL that shows the engine past data.

:class:`~seqdsl.runtime.snapshot.Snapshots` replaces the data tables the engine
reads (`obj_<object>`, `events`, `property_history`, `associations`,
`list_memberships`) with TEMP views of the data as it stood at some instants. This
module writes those views: :class:`WholeViews` show every record at the instant in
`rt_clock`; :class:`PointViews` show one copy of a record per point of `rt_points`
(under a made-up id), each as of its own instant. Both replay the property history
and the run's own overrides, list changes, enrollments and sequence properties.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

from sqlglot import exp

from seqdsl.engine.sql import history_value_sql
from seqdsl.runtime.sqltext import name_sql, text_sql, texts_sql
from seqdsl.schema import SEQUENCE_PROPERTIES, Kind, Type

if TYPE_CHECKING:
    from seqdsl.runtime.snapshot import Snapshots

__all__ = ["CLOCK", "FIRST", "PointViews", "Views", "WholeViews"]

#: the instant of a whole evaluation, and the first instant of a batch of points
CLOCK = "(SELECT t FROM rt_clock)"
FIRST = "(SELECT lo FROM rt_clock)"
_TEXTUAL = frozenset({Kind.STRING, Kind.OWNER, Kind.TIMEZONE})


class Views:
    """The SQL of one set of views. Each view has one row per *record copy*: a
    record at an instant (`at`), under an id (`key`)."""

    key = "d.id"
    at = CLOCK

    def __init__(self, snapshots: Snapshots) -> None:
        self.snap = snapshots

    def all(self) -> Iterator[tuple[str, str]]:
        yield from self.shared()
        yield from self.memberships()
        yield from self.enrolled()
        for object in self.snap.objects:
            yield from self.object(object)

    def shared(self) -> Iterator[tuple[str, str]]:
        raise NotImplementedError

    def records(self, object: str) -> str:
        """FROM the copies of `object` records, with the data row as `d`."""
        raise NotImplementedError

    def copies(self, relation: str, alias: str, object: str | None = None) -> str:
        """FROM `relation` (keyed by `record_id`) joined to the record copies."""
        raise NotImplementedError

    def copy_key(self, alias: str) -> str:
        raise NotImplementedError

    # -- records

    def object(self, object: str) -> Iterator[tuple[str, str]]:
        """`obj_<object>` as of the instant: history and overrides replayed."""
        properties = self.snap.replayed(object)
        if properties:
            yield f"rt_asof_{object}", self.asof(object, properties)
        select, joins = self.record_select(object, properties)
        yield f"obj_{object}", f"SELECT {select} {self.records(object)}{joins}"

    def record_select(self, object: str, properties: Sequence[str]) -> tuple[str, str]:
        props = self.snap.schema.object(object)
        zone = self.snap.plan.calendar.zone
        replaced = [] if self.key == "d.id" else [f"{self.key} AS id"]
        for name in properties:
            prop = props.property(name) if props else None
            if prop is not None:
                column, is_set = name_sql(name), name_sql(f"{name}__set")
                value = _typed(f"a.{column}", prop.type, zone)
                chosen = f"CASE WHEN a.{is_set} THEN {value} ELSE d.{column} END"
                replaced.append(f"{chosen} AS {column}")
        select = f"d.* REPLACE ({', '.join(replaced)})" if replaced else "d.*"
        joins = ""
        if properties:
            joins = f" LEFT JOIN rt_asof_{object} a ON a.sid = {self.key}"
        if object == "contact":
            select, extra = self.sequence_columns(select, self.snap.columns(object))
            joins += extra
        return select, joins

    def asof(self, object: str, properties: Sequence[str]) -> str:
        """Per record copy, the properties whose value at its instant is not the
        current one, and that value as text."""
        rows = (
            "(SELECT record_id, property, value, changed_at AS at_, 1 AS rank_, "
            "0 AS seq FROM rt_data_property_history "
            f"WHERE object_type = {text_sql(object)} "
            "UNION ALL SELECT record_id, property, value, set_at, 0, seq "
            f"FROM rt_overrides WHERE object_type = {text_sql(object)})"
        )
        key = self.copy_key("r")
        touched = (
            f"SELECT {key} AS sid, r.property, "
            f"bool_or(r.at_ > {self.at} AND r.rank_ = 1) AS later, "
            "arg_max_null(r.value, (r.at_, r.rank_, r.seq)) "
            f"FILTER (WHERE r.at_ <= {self.at}) AS value, "
            "arg_max(r.rank_, (r.at_, r.rank_, r.seq)) "
            f"FILTER (WHERE r.at_ <= {self.at}) AS last_rank "
            f"{self.copies(rows, 'r', object)} GROUP BY {key}, r.property"
        )
        pivot = ", ".join(
            f"max(value) FILTER (WHERE property = {text_sql(n)}) AS {name_sql(n)}, "
            f"bool_or(property = {text_sql(n)}) AS {name_sql(f'{n}__set')}"
            for n in properties
        )
        return (
            f"SELECT sid, {pivot} FROM ({touched}) "
            "WHERE later OR last_rank = 0 GROUP BY sid"
        )

    def sequence_columns(
        self, select: str, columns: Mapping[str, str]
    ) -> tuple[str, str]:
        """The runtime's sequence properties as of the instant replace any data
        columns of the same names."""
        names = list(SEQUENCE_PROPERTIES)
        present = [n for n in names if n in columns]
        if present:
            dropped = ", ".join(name_sql(n) for n in present)
            select = select.replace("d.*", f"d.* EXCLUDE ({dropped})", 1)
        first, *rest = names
        added = [f"coalesce(q.{name_sql(first)}, false) AS {name_sql(first)}"]
        added += [f"q.{name_sql(n)}" for n in rest]
        key = self.copy_key("q")
        latest = ", ".join(
            f"arg_max_null(q.{name_sql(n)}, q.since) AS {name_sql(n)}" for n in names
        )
        query = (
            f"SELECT {key} AS sid, {latest} "
            f"{self.copies('rt_sequence_props', 'q', 'contact')} "
            f"WHERE q.since <= {self.at} GROUP BY {key}"
        )
        return f"{select}, {', '.join(added)}", (
            f" LEFT JOIN ({query}) q ON q.sid = {self.key}"
        )

    # -- memberships and enrollments

    def memberships(self) -> Iterator[tuple[str, str]]:
        key = self.copy_key("c")
        yield (
            "rt_latest",
            f"SELECT {key} AS sid, c.list, "
            "arg_max(c.member, (c.since, c.seq)) AS member "
            f"{self.copies('rt_list_changes', 'c')} WHERE c.since <= {self.at} "
            f"GROUP BY {key}, c.list",
        )
        key = self.copy_key("m")
        yield (
            "list_memberships",
            f"SELECT m.list, {key} AS record_id "
            f"{self.copies('rt_data_list_memberships', 'm')} "
            "WHERE NOT EXISTS (SELECT 1 FROM rt_latest c WHERE c.list = m.list "
            f"AND c.sid = {key} AND NOT c.member) "
            "UNION SELECT list, sid FROM rt_latest WHERE member AND list IN "
            f"({texts_sql(self.snap.manual_lists)})",
        )
        yield (
            "rt_static_now",
            "SELECT list, sid AS record_id FROM rt_latest WHERE member AND list IN "
            f"({texts_sql(self.snap.static_lists)})",
        )

    def enrolled(self) -> Iterator[tuple[str, str]]:
        key = self.copy_key("e")
        for number, workflow in enumerate(self.snap.workflows, 1):
            query = (
                f"SELECT {key} AS record_id, "
                f"max(e.enrolled_at) FILTER (WHERE e.enrolled_at <= {self.at}) "
                "AS enrolled_at, "
                f"max(e.left_at) FILTER (WHERE e.left_at <= {self.at}) AS left_at "
                f"{self.copies('rt_enrolled', 'e')} "
                f"WHERE e.workflow = {text_sql(workflow)} GROUP BY {key}"
            )
            yield (
                f"rt_enrolled_{number}",
                f"SELECT record_id, enrolled_at FROM ({query}) "
                "WHERE enrolled_at IS NOT NULL "
                "AND (left_at IS NULL OR left_at < enrolled_at)",
            )


class WholeViews(Views):
    """Every record, as of the instant in `rt_clock`."""

    def shared(self) -> Iterator[tuple[str, str]]:
        yield "events", f"SELECT * FROM rt_data_events WHERE occurred_at <= {CLOCK}"
        yield (
            "property_history",
            "SELECT * FROM (SELECT * FROM rt_data_property_history UNION ALL "
            "SELECT object_type, record_id, property, value, set_at "
            f"FROM rt_overrides) WHERE changed_at <= {CLOCK}",
        )
        yield "associations", "SELECT * FROM rt_data_associations"

    def records(self, object: str) -> str:
        return f'FROM "rt_data_obj_{object}" d'

    def copies(self, relation: str, alias: str, object: str | None = None) -> str:
        return f"FROM {relation} {alias}"

    def copy_key(self, alias: str) -> str:
        return f"{alias}.record_id"


class PointViews(Views):
    """One copy of a record per point it appears in, as of the point's instant."""

    key = "s.sid"
    at = "s.t"

    def shared(self) -> Iterator[tuple[str, str]]:
        yield (
            "events",
            "SELECT e.* REPLACE (s.sid AS record_id) FROM rt_point_rows s "
            "JOIN rt_data_events e ON e.record_id = s.record_id "
            "AND e.occurred_at <= s.t WHERE s.sid = s.pid",
        )
        moved = f"h.changed_at >= {FIRST} AND h.changed_at < s.t"
        rank = (
            f"row_number() OVER (PARTITION BY s.sid, ({moved}) "
            "ORDER BY h.changed_at DESC, h.seq DESC)"
        )
        yield (
            "property_history",
            "SELECT h.object_type, s.sid AS record_id, h.property, h.value, "
            f"CASE WHEN {moved} THEN {FIRST} - to_microseconds({rank}) "
            "ELSE h.changed_at END AS changed_at FROM rt_point_rows s JOIN ("
            "SELECT *, 0 AS seq FROM rt_data_property_history UNION ALL "
            "SELECT object_type, record_id, property, value, set_at, seq "
            "FROM rt_overrides) h ON h.record_id = s.record_id "
            "AND h.object_type = s.object_type AND h.changed_at <= s.t",
        )
        yield "associations", "SELECT * FROM rt_point_links"
        # event counts in two parts (see SplitEvents): the events before the
        # batch's first instant once per record, then each point's own
        yield (
            "rt_point_copies",
            "SELECT sid, record_id FROM rt_point_rows WHERE sid = pid",
        )
        yield (
            "rt_events_base",
            f"SELECT * FROM rt_data_events WHERE occurred_at < {FIRST} "
            "AND record_id IN (SELECT record_id FROM rt_point_copies)",
        )
        yield (
            "rt_events_delta",
            "SELECT e.* REPLACE (s.sid AS record_id) FROM rt_point_rows s "
            f"JOIN rt_data_events e ON e.record_id = s.record_id "
            f"AND e.occurred_at >= {FIRST} AND e.occurred_at <= s.t "
            "WHERE s.sid = s.pid",
        )

    def records(self, object: str) -> str:
        return (
            f'FROM rt_point_rows s JOIN "rt_data_obj_{object}" d '
            f"ON d.id = s.record_id AND s.object_type = {text_sql(object)}"
        )

    def copies(self, relation: str, alias: str, object: str | None = None) -> str:
        kind = f" AND s.object_type = {text_sql(object)}" if object else ""
        return (
            f"FROM rt_point_rows s JOIN {relation} {alias} "
            f"ON {alias}.record_id = s.record_id{kind}"
        )

    def copy_key(self, alias: str) -> str:
        return "s.sid"


def _typed(value: str, type_: Type, zone: str) -> str:
    """SQL reading a history text as the stored type of its property."""
    if type_.kind in _TEXTUAL:
        return f"NULLIF({value}, '')"
    return _cast_sql(type_, zone).replace('"v__"', value)


@functools.lru_cache(maxsize=256)
def _cast_sql(type_: Type, zone: str) -> str:
    tree = history_value_sql(exp.column("v__", quoted=True), type_, zone)
    return tree.sql(dialect="duckdb")
