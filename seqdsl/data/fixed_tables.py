"""Load stage, data half: the tables with fixed columns, after the object tables.

`associations`, `events`, `property_history` and `list_memberships` each come
from one file whose required columns must all be there. Without a file the
table is created empty. Rows of undeclared event types or properties are skipped
with a warning; events of unknown records are kept and counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from seqdsl.data.cells import (
    Column,
    explain_value,
    family_of,
    given_sql,
    option_keys,
    set_sql,
    typed,
)
from seqdsl.data.files import Source, match_headers, open_source, require_headers
from seqdsl.data.loader import Loader
from seqdsl.data.session import DataError, ident
from seqdsl.data.tables import create
from seqdsl.schema import Kind, Property, Type

_TEXT = Type(Kind.STRING)
_INSTANT = Type(Kind.DATETIME)
_EXAMPLES = 5


def _start(
    loader: Loader,
    key: str,
    spec: Mapping[str, Type],
    extra: Iterable[tuple[str, Type]],
) -> tuple[Source, dict[str, str], list[Column]] | None:
    """Open the file of a fixed table and type its required columns.

    Without a file the table is created empty (with `extra` columns too) and
    there is nothing more to do.
    """
    path = loader.data_file(key)
    if path is None:
        loader.empty(key, [*spec.items(), *extra])
        return None

    source = open_source(loader, path, loader.settings.root, f"_seqdsl_raw_{key}")
    headers = require_headers(source, spec)
    columns = [
        typed(loader, name, type_, source, headers[name], required=True)
        for name, type_ in spec.items()
    ]
    return source, headers, columns


def load_associations(loader: Loader) -> None:
    spec = {
        "from_type": loader.object_type(),
        "from_id": _TEXT,
        "to_type": loader.object_type(),
        "to_id": _TEXT,
    }
    primary = ("primary", Type(Kind.BOOL))
    if not (started := _start(loader, "associations", spec, [primary])):
        return
    source, _, columns = started

    header = source.header("primary")
    columns.append(typed(loader, *primary, source, header))
    create(loader, source, "associations", columns)
    unset = '"primary" IS NULL'
    loader.sql(f'UPDATE associations SET "primary" = false WHERE {unset}')
    loader.finish(source, "associations")


def load_events(loader: Loader) -> tuple[int, tuple[str, ...]]:
    """Load the events; return the count and first ids of unknown records."""
    spec = {"record_id": _TEXT, "type": _TEXT, "occurred_at": _INSTANT}
    fields = _event_fields(loader)
    extra = [(name, field.type) for name, field in fields.items()]
    if not (started := _start(loader, "events", spec, extra)):
        return 0, ()
    source, headers, columns = started

    found = match_headers(source, list(fields.values()), *headers.values())
    columns += [
        typed(loader, name, field.type, source, found.get(name))
        for name, field in fields.items()
    ]
    known = loader.param(sorted(loader.events))
    kind = columns[1].sql
    _warn_skipped(loader, source, kind, known, "events of undeclared types")
    where = f"coalesce(list_contains({known}, {kind}), true)"
    create(loader, source, "events", columns, where)
    loader.finish(source, "events")
    return _orphans(loader)


def _event_fields(loader: Loader) -> dict[str, Property]:
    """The union of every event type's fields; one name, one type."""
    fields: dict[str, tuple[str, Property]] = {}
    for event in loader.events.values():
        for field in event.fields.values():
            owner, seen = fields.setdefault(field.name, (event.name, field))
            if seen.type != field.type:
                first = f"{seen.type.describe()} in `{owner}`"
                second = f"{field.type.describe()} in `{event.name}`"
                raise DataError(
                    None,
                    f"event field `{field.name}` is {first} but {second}; "
                    "one field name needs one type across events",
                )
    return {name: prop for name, (_, prop) in fields.items()}


def _warn_skipped(
    loader: Loader, source: Source, key: str, known: str, what: str
) -> None:
    """Warn of rows whose `key` is not in `known`; `create` skips them."""
    counts = loader.sql(
        f"SELECT {key} AS k, count(*) AS n FROM {source.relation} "
        f"WHERE NOT list_contains({known}, {key}) "
        "GROUP BY k ORDER BY n DESC, k"
    ).fetchall()
    if not counts:
        return
    total = sum(n for _, n in counts)
    shown = ", ".join(f"`{k}` ({n})" for k, n in counts[:_EXAMPLES])
    more = ", ..." if len(counts) > _EXAMPLES else ""
    skipped = f"skipped {total} {what}: {shown}{more}"
    loader.warnings.append(f"{source.shown}: {skipped}")


def _orphans(loader: Loader) -> tuple[int, tuple[str, ...]]:
    """Events whose record is in no object table: counted, kept, not fatal."""
    ids = " UNION ALL ".join(
        f"SELECT id FROM {ident('obj_' + name)}" for name in loader.objects
    )
    # grouping by record first is cheaper than probing every event
    records = (
        "SELECT record_id, count(*) AS n, min(rowid) AS first "
        "FROM events GROUP BY record_id"
    )
    count, examples = loader.fetch(
        "SELECT coalesce(sum(n), 0), "
        f"list(record_id ORDER BY first)[1:{_EXAMPLES}] "
        f"FROM ({records}) e ANTI JOIN ({ids}) o ON o.id = e.record_id"
    )
    return int(count), tuple(examples or ())


def load_history(loader: Loader) -> None:
    spec = {
        "object_type": loader.object_type(),
        "record_id": _TEXT,
        "property": _TEXT,
        "value": _TEXT,
        "changed_at": _INSTANT,
    }
    if not (started := _start(loader, "property_history", spec, [])):
        return
    source, headers, columns = started

    pair = f"{columns[0].sql} || '.' || {columns[2].sql}"
    columns[3] = _history_value(loader, source, headers, pair)
    declared = (f"{o.name}.{p}" for o in loader.objects.values() for p in o.properties)
    known = loader.param(sorted(declared))
    _warn_skipped(loader, source, pair, known, "changes of undeclared properties")
    where = f"coalesce(list_contains({known}, {pair}), true)"
    create(loader, source, "property_history", columns, where)
    loader.finish(source, "property_history")


def _history_value(
    loader: Loader, source: Source, headers: Mapping[str, str], pair: str
) -> Column:
    """The changed value as text, with enum and set options made canonical."""
    choices = {
        f"{obj.name}.{prop.name}": prop
        for obj in loader.objects.values()
        for prop in obj.properties.values()
        if prop.type.kind in (Kind.ENUM, Kind.SET)
    }
    options = loader.lookup(
        {
            f"{key}:{folded}": value
            for key, prop in choices.items()
            for folded, value in option_keys(prop.type).items()
        }
    )
    enums = [key for key, p in choices.items() if p.type.kind is Kind.ENUM]
    sets = [key for key, p in choices.items() if p.type.kind is Kind.SET]

    raw = ident(headers["value"])
    cell = f"NULLIF(CAST({raw} AS VARCHAR), '')"
    key = f"{pair} || ':' || "
    items = set_sql(
        f"string_split({cell}, ';')",
        lambda item: f"map_extract_value({options}, {key}{item})",
    )
    sql = (
        f"CASE WHEN list_contains({loader.param(enums)}, {pair}) "
        f"THEN map_extract_value({options}, {key}lower({cell})) "
        f"WHEN list_contains({loader.param(sets)}, {pair}) "
        f"THEN array_to_string({items}, ';') "
        f"ELSE NULLIF(CAST({raw} AS VARCHAR), '') END"
    )
    family = family_of(source.columns[headers["value"]])

    object_type = loader.object_type()

    def explain(value: str, cells: Mapping[str, Any]) -> str:
        option = object_type.option(str(cells[headers["object_type"]]))
        owner = option.value if option else ""
        name = f"{owner}.{cells[headers['property']]}"
        return explain_value(choices[name].type, f"an option of `{name}`", value)

    given = given_sql(raw, family)  # other values are kept, so only options fail
    header = headers["value"]
    return Column("value", sql, header, given=given, explain=explain)


def load_memberships(loader: Loader) -> None:
    spec = {"list": _TEXT, "record_id": _TEXT}
    if started := _start(loader, "list_memberships", spec, []):
        source, _, columns = started
        create(loader, source, "list_memberships", columns)
        loader.finish(source, "list_memberships")
