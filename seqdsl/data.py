"""Load stage, data half: the workspace's data files into typed DuckDB tables.

Every file named in `[data]` becomes a TEMP table whose columns have the types
the schema declares. DuckDB reads, types and checks whole columns at once; only
when a column holds a value it cannot read do we look for the first such row,
so the error names the file, row, column and value. Tables made here:

- `obj_<object>`: `id` plus one column per (needed) property of the object;
- `associations`, `events`, `property_history`, `list_memberships`.
"""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence, Set
from pathlib import Path
from typing import Any

import attrs
import duckdb

from seqdsl.schema import (
    BUILTIN_EVENTS,
    Kind,
    ObjectSchema,
    Option,
    Property,
    Schema,
    Type,
)
from seqdsl.workspace import CONFIG_NAME, DATA_KEYS, Settings

_Cursor = duckdb.DuckDBPyConnection

log = logging.getLogger("seqdsl.data")

#: Header names (case-insensitive) that hold a record's id in any object file.
ID_HEADERS = ("id", "record id", "hs_object_id")

_DUCK_TYPES = {
    Kind.STRING: "VARCHAR",
    Kind.OWNER: "VARCHAR",
    Kind.TIMEZONE: "VARCHAR",
    Kind.NUMBER: "DOUBLE",
    Kind.BOOL: "BOOLEAN",
    Kind.DATE: "DATE",
    Kind.DATETIME: "TIMESTAMPTZ",
    Kind.ENUM: "VARCHAR",
    Kind.SET: "VARCHAR[]",
}
_TEXT = Type(Kind.STRING)
_INSTANT = Type(Kind.DATETIME)
_SHOWN_HEADERS = 12
_EXAMPLES = 5

# how a column Parquet already typed becomes the schema's type; {c} is the column
_NATIVE = {
    (Kind.NUMBER, "number"): "CAST({c} AS DOUBLE)",
    (Kind.BOOL, "bool"): "{c}",
    (Kind.DATE, "date"): "{c}",
    (Kind.DATE, "timestamp"): "CAST({c} AS DATE)",
    (Kind.DATE, "timestamptz"): "CAST(timezone({zone}, {c}) AS DATE)",
    (Kind.DATETIME, "timestamptz"): "{c}",
    (Kind.DATETIME, "timestamp"): "timezone({zone}, CAST({c} AS TIMESTAMP))",
    (Kind.DATETIME, "date"): "timezone({zone}, CAST({c} AS TIMESTAMP))",
}
# instants are UTC; a library draws no progress bars; row numbers in errors
# rely on tables keeping the order in which rows were read
_SESSION = (
    "SET TimeZone = 'UTC'",
    "SET enable_progress_bar = false",
    "SET preserve_insertion_order = true",
)
_FILE_ERRORS = (
    duckdb.IOException,
    duckdb.InvalidInputException,
    duckdb.ConversionException,
)
_QUOTED = re.compile(r"\"(?:[^\"]|\"\")*\"|'(?:[^']|'')*'")
_PARAMETER = re.compile(r"\$(\w+)")
_FAMILIES = {
    "VARCHAR": "text",
    "BOOLEAN": "bool",
    "DATE": "date",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
}


class DataError(Exception):
    """A data file that cannot be loaded; `row` counts data rows from 1."""

    def __init__(
        self,
        file: Path | None,
        message: str,
        *,
        row: int | None = None,
        column: str | None = None,
        value: str | None = None,
    ) -> None:
        super().__init__(message)
        self.file = file
        self.message = message
        self.row = row
        self.column = column
        self.value = value

    def __str__(self) -> str:
        parts = []
        if self.file is not None:
            row = "" if self.row is None else f":{self.row}"
            parts.append(f"{self.file}{row}")
        if self.column is not None:
            parts.append(f"column `{self.column}`")
        return ": ".join([*parts, self.message])


@attrs.frozen
class LoadReport:
    """Rows loaded per table, events of unknown records, and warnings."""

    rows: Mapping[str, int]
    orphan_events: int
    orphan_examples: tuple[str, ...]
    warnings: tuple[str, ...]


def load_data(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    schema: Schema,
    needed: Mapping[str, frozenset[str]] | None = None,
) -> LoadReport:
    """Load every data file of the workspace into typed TEMP tables of `con`.

    `needed` limits each object's table to the properties the rules read; without
    it every declared property is loaded. The session of `con` is set to the UTC
    time zone, no progress bar and insertion order kept.
    """
    for statement in _SESSION:
        con.execute(statement)

    loader = _Loader(con, settings, schema)
    try:
        for obj in loader.objects.values():
            wanted = None if needed is None else needed.get(obj.name, frozenset())
            loader.load_object(obj, wanted)
        loader.load_associations()
        orphans = loader.load_events()
        loader.load_history()
        loader.load_memberships()
    finally:
        loader.drop_stages()
    loader.warn_unused_keys()
    return LoadReport(loader.rows, orphans[0], orphans[1], tuple(loader.warnings))


@attrs.frozen
class _Source:
    """An opened data file: the SQL to scan it and how to number its rows."""

    shown: Path
    relation: str
    row: str
    columns: Mapping[str, str]

    def header(self, name: str) -> str | None:
        """The file's column called `name`, ignoring case."""
        folded = name.casefold()
        return next((h for h in self.columns if h.casefold() == folded), None)


@attrs.frozen
class _Column:
    """One output column: its typed SQL and how to tell an unreadable cell."""

    name: str
    sql: str
    header: str | None = None
    # true when the raw cell holds a value; None when no value can be unreadable
    given: str | None = None
    explain: Callable[[str, Mapping[str, Any]], str] | None = None
    required: bool = False


class _Loader:
    """One run of `load_data`; collects parameters, row counts and warnings."""

    def __init__(
        self, con: duckdb.DuckDBPyConnection, settings: Settings, schema: Schema
    ) -> None:
        self.con = con
        self.settings = settings
        self.params: dict[str, object] = {}
        self.rows: dict[str, int] = {}
        self.warnings: list[str] = []
        self.used_keys: set[str] = set()
        self.stages: list[str] = []
        self.objects = dict(schema.objects)
        self.objects.setdefault("contact", ObjectSchema("contact", {}))
        self.events = {**BUILTIN_EVENTS, **schema.events}
        self.zone = self.param(settings.timezone)

    # -- SQL plumbing

    def param(self, value: object) -> str:
        """A named parameter for `value`; user values never enter the SQL text."""
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f"${name}"

    def sql(self, text: str, file: Path | None = None) -> _Cursor:
        """Run `text`; DuckDB's complaints about `file` become DataErrors."""
        used = set(_PARAMETER.findall(_QUOTED.sub("", text)))
        params = {name: self.params[name] for name in used}
        try:
            return self.con.execute(text, params)
        except _FILE_ERRORS as error:
            if file is None:
                raise
            raise DataError(file, _duckdb_message(error)) from None

    def fetch(self, text: str, file: Path | None = None) -> tuple[Any, ...]:
        return _one(self.sql(text, file))

    # -- files

    def data_file(self, *keys: str) -> Path | None:
        for key in keys:
            if key in self.settings.data:
                self.used_keys.add(key)
                return self.settings.data[key]
        return None

    def open(self, path: Path, stage: str) -> _Source:
        """Scan `path` with DuckDB; CSV and JSON Lines are staged as text."""
        shown = path.relative_to(self.settings.root)
        if not path.is_file():
            raise DataError(shown, "file not found")
        if path.stat().st_size == 0:
            raise DataError(shown, "the file is empty; it needs a header")

        name = path.name.lower()
        file = self.param(_literal(path))
        if name.endswith((".parquet", ".pq")):
            relation = f"read_parquet({file}, file_row_number = true)"
            columns = self.describe(relation, shown)
            columns.pop("file_row_number", None)
            return _Source(shown, relation, "file_row_number", columns)
        if name.endswith((".csv", ".csv.gz")):
            options = "delim = ',', quote = '\"', escape = '\"', comment = ''"
            scan = (
                f"SELECT * FROM read_csv({file}, all_varchar = true, "
                f"header = true, {options})"
            )
        elif name.endswith((".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz")):
            scan = self.json_scan(file, shown)
        else:
            raise DataError(
                shown, "unknown file type; use .csv, .parquet, .jsonl or .ndjson"
            )

        self.stages.append(stage)
        self.sql(f"CREATE OR REPLACE TEMP TABLE {_ident(stage)} AS {scan}", shown)
        columns = self.describe(_ident(stage))
        return _Source(shown, _ident(stage), "rowid", columns)

    def json_scan(self, file: str, shown: Path) -> str:
        """Read JSON Lines as text cells; arrays become `;`-separated text."""
        options = "format = 'newline_delimited', sample_size = -1"
        keys = self.describe(f"read_json({file}, {options})", shown)
        as_json = self.param(dict.fromkeys(keys, "JSON"))
        cells = ", ".join(
            f"CASE json_type({c}) WHEN 'ARRAY' "
            f"THEN array_to_string(json_extract_string({c}, '$[*]'), ';') "
            f"ELSE json_extract_string({c}, '$') END AS {c}"
            for c in map(_ident, keys)
        )
        scan = f"read_json({file}, {options}, columns = {as_json})"
        return f"SELECT {cells} FROM {scan}"

    def describe(self, relation: str, file: Path | None = None) -> dict[str, str]:
        rows = self.sql(f"DESCRIBE SELECT * FROM {relation}", file).fetchall()
        return {str(row[0]): str(row[1]) for row in rows}

    # -- typed tables

    def create(
        self,
        source: _Source,
        table: str,
        columns: Sequence[_Column],
        where: str = "true",
    ) -> None:
        """Create `table` from `source`; fail on the first unreadable cell."""
        select = ", ".join(f"{c.sql} AS {_ident(c.name)}" for c in columns)
        self.sql(
            f"CREATE OR REPLACE TEMP TABLE {_ident(table)} AS "
            f"SELECT {select} FROM {source.relation} WHERE {where}",
            source.shown,
        )

        # a required column must be filled in every row; any other must be filled
        # wherever the file gave a value, which only the file itself can tell
        checked = [c for c in columns if c.given is not None or c.required]
        if not checked:
            return
        counts = ", ".join(f"count({_ident(c.name)})" for c in checked)
        query = f"SELECT count(*), {counts} FROM {_ident(table)}"
        total, *filled = self.fetch(query)
        optional = [c for c in checked if not c.required]
        wanted = dict.fromkeys((c.name for c in checked), total)
        if optional:
            givens = ", ".join(f"count_if({c.given})" for c in optional)
            query = f"SELECT {givens} FROM {source.relation} WHERE {where}"
            found = self.fetch(query, source.shown)
            wanted.update(zip((c.name for c in optional), found, strict=True))

        counted = zip(checked, filled, strict=True)
        failing = [c for c, have in counted if have < wanted[c.name]]
        if failing:
            self.raise_first_failure(source, failing, where)

    def raise_first_failure(
        self, source: _Source, columns: Sequence[_Column], where: str
    ) -> None:
        """Find the first row where a column failed and report its value."""
        firsts = ", ".join(
            f"min({source.row}) FILTER (WHERE {c.sql} IS NULL"
            + ("" if c.required else f" AND {c.given}")
            + ")"
            for c in columns
        )
        scan = f"FROM {source.relation} WHERE {where}"
        found = self.fetch(f"SELECT {firsts} {scan}")
        row, column = min(
            (row, index) for index, row in enumerate(found) if row is not None
        )
        bad = columns[column]

        at = f"{source.row} = {self.param(row)}"
        cursor = self.sql(f"SELECT * FROM {source.relation} WHERE {at}")
        names = [d[0] for d in cursor.description]
        cells = dict(zip(names, _one(cursor), strict=True))
        raw = None if bad.header is None else cells.get(bad.header)
        text = None if raw is None else str(raw)
        if not text or bad.explain is None:
            message = "is empty; every row needs a value"
        else:
            message = bad.explain(text, cells)
        raise DataError(
            source.shown, message, row=row + 1, column=bad.header, value=text
        )

    def typed(
        self,
        name: str,
        type_: Type,
        source: _Source,
        header: str | None,
        *,
        required: bool = False,
    ) -> _Column:
        """The column `name` of `type_` read from the file's column `header`."""
        if header is None:
            return _Column(name, f"CAST(NULL AS {_DUCK_TYPES[type_.kind]})")

        raw = _ident(header)
        family = _family(source.columns[header])
        sql = self.convert(raw, family, type_)
        textual = type_.kind.is_textual
        return _Column(
            name,
            sql,
            header,
            given=None if textual else _given(raw, family),
            explain=_explainer(type_, f"an option of `{name}`"),
            required=required,
        )

    def convert(self, raw: str, family: str, type_: Type) -> str:
        """SQL that reads a raw cell as `type_`; NULL when empty or unreadable."""
        kind = type_.kind
        text = raw if family == "text" else f"CAST({raw} AS VARCHAR)"
        if kind.is_textual:
            return f"NULLIF({text}, '')"
        if native := _NATIVE.get((kind, family)):
            return native.format(c=raw, zone=self.zone)

        cell = f"NULLIF({text}, '')"
        if kind is Kind.NUMBER:
            return f"try_cast({cell} AS DOUBLE)"
        if kind is Kind.BOOL:
            return (
                f"CASE WHEN lower({cell}) IN ('true', 'yes', '1') THEN true "
                f"WHEN lower({cell}) IN ('false', 'no', '0') THEN false END"
            )
        if kind is Kind.DATE:
            day = f"try_cast({cell} AS DATE)"
            return f"CASE WHEN length({cell}) = 10 THEN {day} END"
        if kind is Kind.DATETIME:
            return self.instant(cell)

        options = self.lookup(_option_keys(type_))
        if kind is Kind.ENUM:
            return f"map_extract_value({options}, lower({cell}))"
        items = raw if family == "list" else f"string_split({cell}, ';')"
        return _set_sql(items, lambda e: f"map_extract_value({options}, {e})")

    def instant(self, cell: str) -> str:
        """ISO 8601 text as a UTC instant; without an offset it is local time."""
        return (
            f"CASE WHEN regexp_matches(substr({cell}, 11), '[^0-9:. T]') "
            f"THEN try_cast({cell} AS TIMESTAMPTZ) "
            f"ELSE timezone({self.zone}, try_cast({cell} AS TIMESTAMP)) END"
        )

    def lookup(self, mapping: Mapping[str, str]) -> str:
        """A MAP, from parameters, of folded text to the stored value."""
        keys = self.param(list(mapping))
        values = self.param(list(mapping.values()))
        return f"map({keys}::VARCHAR[], {values}::VARCHAR[])"

    # -- objects

    def load_object(self, obj: ObjectSchema, wanted: Set[str] | None) -> None:
        table = f"obj_{obj.name}"
        properties = [
            prop
            for prop in obj.properties.values()
            if wanted is None or prop.name in wanted
        ]
        path = self.data_file(obj.name, _plural(obj.name))
        if path is None:
            if obj.name == "contact":
                raise DataError(
                    self.settings.root / CONFIG_NAME,
                    "[data] names no `contacts` file; it is required",
                )
            typed = [(prop.name, prop.type) for prop in properties]
            self.empty(table, [("id", _TEXT), *typed])
            if properties:
                self.warnings.append(
                    f"no data file for `{obj.name}` ([data] {_plural(obj.name)}); "
                    "it has no records"
                )
            return

        source = self.open(path, f"_seqdsl_raw_{obj.name}")
        id_header = self.id_header(source, obj.name)
        headers = _match_headers(source, properties, id_header)
        columns = [self.typed("id", _TEXT, source, id_header, required=True)]
        for prop in properties:
            header = headers.get(prop.name)
            if header is None:
                self.warnings.append(
                    f"{source.shown}: no column for property `{prop.name}`; "
                    "it is unknown for every record"
                )
            elif source.header(f"{header}_1"):  # DuckDB renamed a repeated header
                self.warnings.append(
                    f"{source.shown}: more than one column is named `{header}`; "
                    f"`{prop.name}` is read from the first"
                )
            columns.append(self.typed(prop.name, prop.type, source, header))

        self.create(source, table, columns)
        self.check_unique(source, table, columns[0])
        self.sql(f"ALTER TABLE {_ident(table)} ALTER COLUMN id SET NOT NULL")
        self.finish(source, table)

    def id_header(self, source: _Source, obj: str) -> str:
        for name in (*ID_HEADERS, f"{obj} id"):
            if header := source.header(name):
                return header
        names = "`id`, `Record ID`, `hs_object_id`"
        raise DataError(
            source.shown,
            f"no id column; expected one of {names} or `{obj.title()} ID`; "
            f"the file has {_list_headers(source)}",
        )

    def check_unique(self, source: _Source, table: str, ids: _Column) -> None:
        """Fail on the first id that an earlier row already used."""
        (repeats,) = self.fetch(
            f"SELECT count(*) - count(DISTINCT id) FROM {_ident(table)}"
        )
        if not repeats:
            return

        rows = f"SELECT {ids.sql} AS id, {source.row} AS here"
        rows += f" FROM {source.relation}"
        record, here, first = self.fetch(
            "SELECT id, here, first FROM (SELECT id, here, "
            f"min(here) OVER (PARTITION BY id) AS first FROM ({rows})) "
            "WHERE here > first ORDER BY here LIMIT 1"
        )
        raise DataError(
            source.shown,
            f"duplicate id `{record}`; row {first + 1} has the same id",
            row=here + 1,
            column=ids.header,
            value=record,
        )

    def empty(self, table: str, columns: Sequence[tuple[str, Type]]) -> None:
        typed = ", ".join(f"{_ident(n)} {_DUCK_TYPES[t.kind]}" for n, t in columns)
        self.sql(f"CREATE OR REPLACE TEMP TABLE {_ident(table)} ({typed})")
        self.rows[table] = 0

    def finish(self, source: _Source, table: str) -> None:
        """Count the rows loaded and drop the text staging table, if any."""
        (self.rows[table],) = self.fetch(f"SELECT count(*) FROM {_ident(table)}")
        self.drop_stages()
        log.debug("%s: %d rows into %s", source.shown, self.rows[table], table)

    def drop_stages(self) -> None:
        while self.stages:
            self.sql(f"DROP TABLE IF EXISTS {_ident(self.stages.pop())}")

    # -- the fixed tables

    def start(
        self, key: str, spec: Mapping[str, Type], extra: Iterable[tuple[str, Type]]
    ) -> tuple[_Source, dict[str, str], list[_Column]] | None:
        """Open the file of a fixed table and type its required columns.

        Without a file the table is created empty (with `extra` columns too) and
        there is nothing more to do.
        """
        path = self.data_file(key)
        if path is None:
            self.empty(key, [*spec.items(), *extra])
            return None

        source = self.open(path, f"_seqdsl_raw_{key}")
        headers = _require(source, spec)
        columns = [
            self.typed(name, type_, source, headers[name], required=True)
            for name, type_ in spec.items()
        ]
        return source, headers, columns

    def object_type(self) -> Type:
        """Object names as enum options; the plural (`contacts`) is the label."""
        options = (Option(name, _plural(name)) for name in sorted(self.objects))
        return Type(Kind.ENUM, tuple(options))

    def load_associations(self) -> None:
        spec = {
            "from_type": self.object_type(),
            "from_id": _TEXT,
            "to_type": self.object_type(),
            "to_id": _TEXT,
        }
        primary = ("primary", Type(Kind.BOOL))
        if not (started := self.start("associations", spec, [primary])):
            return
        source, _, columns = started

        header = source.header("primary")
        columns.append(self.typed(*primary, source, header))
        self.create(source, "associations", columns)
        unset = '"primary" IS NULL'
        self.sql(f'UPDATE associations SET "primary" = false WHERE {unset}')
        self.finish(source, "associations")

    def event_fields(self) -> dict[str, Property]:
        """The union of every event type's fields; one name, one type."""
        fields: dict[str, tuple[str, Property]] = {}
        for event in self.events.values():
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

    def load_events(self) -> tuple[int, tuple[str, ...]]:
        spec = {"record_id": _TEXT, "type": _TEXT, "occurred_at": _INSTANT}
        fields = self.event_fields()
        extra = [(name, field.type) for name, field in fields.items()]
        if not (started := self.start("events", spec, extra)):
            return 0, ()
        source, headers, columns = started

        found = _match_headers(source, list(fields.values()), *headers.values())
        columns += [
            self.typed(name, field.type, source, found.get(name))
            for name, field in fields.items()
        ]
        known = self.param(sorted(self.events))
        kind = columns[1].sql
        self.warn_skipped(source, kind, known, "events of undeclared types")
        where = f"coalesce(list_contains({known}, {kind}), true)"
        self.create(source, "events", columns, where)
        self.finish(source, "events")
        return self.orphans()

    def warn_skipped(self, source: _Source, key: str, known: str, what: str) -> None:
        """Warn of rows whose `key` is not in `known`; `create` skips them."""
        counts = self.sql(
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
        self.warnings.append(f"{source.shown}: {skipped}")

    def orphans(self) -> tuple[int, tuple[str, ...]]:
        """Events whose record is in no object table: counted, kept, not fatal."""
        ids = " UNION ALL ".join(
            f"SELECT id FROM {_ident('obj_' + name)}" for name in self.objects
        )
        # grouping by record first is cheaper than probing every event
        records = (
            "SELECT record_id, count(*) AS n, min(rowid) AS first "
            "FROM events GROUP BY record_id"
        )
        count, examples = self.fetch(
            "SELECT coalesce(sum(n), 0), "
            f"list(record_id ORDER BY first)[1:{_EXAMPLES}] "
            f"FROM ({records}) e ANTI JOIN ({ids}) o ON o.id = e.record_id"
        )
        return int(count), tuple(examples or ())

    def load_history(self) -> None:
        spec = {
            "object_type": self.object_type(),
            "record_id": _TEXT,
            "property": _TEXT,
            "value": _TEXT,
            "changed_at": _INSTANT,
        }
        if not (started := self.start("property_history", spec, [])):
            return
        source, headers, columns = started

        pair = f"{columns[0].sql} || '.' || {columns[2].sql}"
        columns[3] = self.history_value(source, headers, pair)
        declared = (
            f"{o.name}.{p}" for o in self.objects.values() for p in o.properties
        )
        known = self.param(sorted(declared))
        self.warn_skipped(source, pair, known, "changes of undeclared properties")
        where = f"coalesce(list_contains({known}, {pair}), true)"
        self.create(source, "property_history", columns, where)
        self.finish(source, "property_history")

    def history_value(
        self, source: _Source, headers: Mapping[str, str], pair: str
    ) -> _Column:
        """The changed value as text, with enum and set options made canonical."""
        choices = {
            f"{obj.name}.{prop.name}": prop
            for obj in self.objects.values()
            for prop in obj.properties.values()
            if prop.type.kind in (Kind.ENUM, Kind.SET)
        }
        options = self.lookup(
            {
                f"{key}:{folded}": value
                for key, prop in choices.items()
                for folded, value in _option_keys(prop.type).items()
            }
        )
        enums = [key for key, p in choices.items() if p.type.kind is Kind.ENUM]
        sets = [key for key, p in choices.items() if p.type.kind is Kind.SET]

        raw = _ident(headers["value"])
        cell = f"NULLIF(CAST({raw} AS VARCHAR), '')"
        key = f"{pair} || ':' || "
        items = _set_sql(
            f"string_split({cell}, ';')",
            lambda item: f"map_extract_value({options}, {key}{item})",
        )
        sql = (
            f"CASE WHEN list_contains({self.param(enums)}, {pair}) "
            f"THEN map_extract_value({options}, {key}lower({cell})) "
            f"WHEN list_contains({self.param(sets)}, {pair}) "
            f"THEN array_to_string({items}, ';') "
            f"ELSE NULLIF(CAST({raw} AS VARCHAR), '') END"
        )
        family = _family(source.columns[headers["value"]])

        object_type = self.object_type()

        def explain(value: str, cells: Mapping[str, Any]) -> str:
            option = object_type.option(str(cells[headers["object_type"]]))
            owner = option.value if option else ""
            name = f"{owner}.{cells[headers['property']]}"
            return _explain(choices[name].type, f"an option of `{name}`", value)

        given = _given(raw, family)  # other values are kept, so only options fail
        header = headers["value"]
        return _Column("value", sql, header, given=given, explain=explain)

    def load_memberships(self) -> None:
        spec = {"list": _TEXT, "record_id": _TEXT}
        if started := self.start("list_memberships", spec, []):
            source, _, columns = started
            self.create(source, "list_memberships", columns)
            self.finish(source, "list_memberships")

    def warn_unused_keys(self) -> None:
        known = [*DATA_KEYS, *self.objects, *map(_plural, self.objects)]
        for key in sorted(set(self.settings.data) - self.used_keys):
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"; did you mean `{close[0]}`?" if close else ""
            self.warnings.append(
                f"[data] `{key}` names no object of the schema; its file is not "
                f"read{hint}"
            )


def _one(cursor: duckdb.DuckDBPyConnection) -> tuple[Any, ...]:
    row = cursor.fetchone()
    assert row is not None, "internal error: a query found no row"
    return row


def _literal(path: Path) -> str:
    """The path as a DuckDB file pattern that matches only itself."""
    return re.sub(r"([*?\[])", r"[\1]", str(path))


def _ident(name: str) -> str:
    """Quote an identifier that may come from a user's file."""
    return '"' + name.replace('"', '""') + '"'


def _plural(name: str) -> str:
    if name.endswith("y") and name[-2:-1] not in ("a", "e", "o", "u", ""):
        return name[:-1] + "ies"
    return name + "s"


def _family(duck_type: str) -> str:
    """The broad kind of a DuckDB column type, as far as typing cells goes."""
    if duck_type in _FAMILIES:
        return _FAMILIES[duck_type]
    if duck_type.endswith("[]"):
        return "list"
    if duck_type.startswith("TIMESTAMP"):
        return "timestamp"
    numeric = ("INT", "FLOAT", "DOUBLE", "DECIMAL")
    return "number" if duck_type.startswith(numeric) else "other"


def _option_keys(type_: Type) -> dict[str, str]:
    """Folded option values and labels to the stored value; values win."""
    keys = {o.label.lower(): o.value for o in type_.options if o.label}
    keys.update((o.value.lower(), o.value) for o in type_.options)
    return keys


def _given(raw: str, family: str) -> str:
    """SQL that is true when a raw cell holds a value (empty text is no value)."""
    if family == "text":
        return f"{raw} <> ''"
    return f"{raw} IS NOT NULL"


def _set_sql(items: str, lookup: Callable[[str], str]) -> str:
    """Map each item of a list to its option; NULL when any item is unknown."""
    item = "trim(CAST(e AS VARCHAR))"
    kept = f"list_filter({items}, lambda e: {item} <> '')"
    mapped = f"list_transform({kept}, lambda e: {lookup(f'lower({item})')})"
    return (
        f"CASE WHEN list_position({mapped}, NULL) IS NULL "
        f"THEN list_sort(list_distinct({mapped})) END"
    )


def _explainer(type_: Type, what: str) -> Callable[[str, Mapping[str, Any]], str]:
    """The message for a cell that cannot be read as `type_`."""

    def explain(value: str, _: Mapping[str, Any]) -> str:
        return _explain(type_, what, value)

    return explain


def _explain(type_: Type, what: str, value: str) -> str:
    """Why `value` is not a `type_`; `what` names an enum's or set's options."""
    kind = type_.kind
    if kind in (Kind.ENUM, Kind.SET):
        items = value.split(";") if kind is Kind.SET else [value]
        unknown = (i for i in map(str.strip, items) if i and not type_.option(i))
        bad = next(unknown, value)
        valid = ", ".join(option.value for option in type_.options)
        return f"`{bad}` is not {what}; expected one of: {valid}"
    expected = {
        Kind.NUMBER: "",
        Kind.BOOL: " (expected true/false, yes/no or 1/0)",
        Kind.DATE: " (expected YYYY-MM-DD)",
        Kind.DATETIME: " (expected ISO 8601, such as 2026-01-05T09:30:00Z)",
    }
    return f"cannot read `{value}` as a {kind.value}{expected.get(kind, '')}"


def _match_headers(
    source: _Source, properties: Sequence[Property], *taken: str
) -> dict[str, str]:
    """Properties to file columns: by name, else by label or name in any case."""
    names = {prop.name for prop in properties}
    free = [h for h in source.columns if h not in taken and h not in names]
    found: dict[str, str] = {}
    for prop in properties:
        if prop.name in source.columns and prop.name not in taken:
            found[prop.name] = prop.name
            continue
        for alias in filter(None, (prop.label, prop.name)):
            folded = alias.casefold()
            if match := next((h for h in free if h.casefold() == folded), None):
                found[prop.name] = match
                break
    return found


def _require(source: _Source, spec: Iterable[str]) -> dict[str, str]:
    """The file's columns for a fixed table; each must be there."""
    headers: dict[str, str] = {}
    for name in spec:
        header = source.header(name)
        if header is None:
            raise DataError(
                source.shown,
                f"no `{name}` column; the file has {_list_headers(source)}",
            )
        headers[name] = header
    return headers


def _list_headers(source: _Source) -> str:
    names = [f"`{h}`" for h in source.columns]
    if not names:
        return "no columns"
    more = len(names) - _SHOWN_HEADERS
    shown = ", ".join(names[:_SHOWN_HEADERS])
    return shown + (f" and {more} more" if more > 0 else "")


def _duckdb_message(error: Exception) -> str:
    """DuckDB's reason for refusing a file, without its advice on options."""
    kept = []
    for line in str(error).splitlines():
        if not line.strip() or line.startswith(("Possible", "LINE ")):
            break
        kept.append(line.strip()[:160])
    reason = re.sub(r"^[A-Za-z ]+ Error: ", "", "; ".join(kept))
    return f"cannot read the file: {reason}"
