"""Load stage, data half: an object's data file into its table `obj_<object>`.

The table has `id` plus one column per needed property. Columns are matched to
properties by name, else by label or name in any case; ids must be unique.
"""

from __future__ import annotations

from collections.abc import Set

from seqdsl.data.cells import Column, typed
from seqdsl.data.files import Source, list_headers, match_headers, open_source
from seqdsl.data.loader import Loader, plural
from seqdsl.data.session import DataError, ident
from seqdsl.data.tables import create
from seqdsl.schema import Kind, ObjectSchema, Type
from seqdsl.workspace import CONFIG_NAME

#: Header names (case-insensitive) that hold a record's id in any object file.
ID_HEADERS = ("id", "record id", "hs_object_id")

_TEXT = Type(Kind.STRING)


def load_object(loader: Loader, obj: ObjectSchema, wanted: Set[str] | None) -> None:
    """Load the file of `obj`, or make its table empty when there is none."""
    table = f"obj_{obj.name}"
    properties = [
        prop
        for prop in obj.properties.values()
        if wanted is None or prop.name in wanted
    ]
    path = loader.data_file(obj.name, plural(obj.name))
    if path is None:
        if obj.name == "contact":
            raise DataError(
                loader.settings.root / CONFIG_NAME,
                "[data] names no `contacts` file; it is required",
            )
        columns = [(prop.name, prop.type) for prop in properties]
        loader.empty(table, [("id", _TEXT), *columns])
        if properties:
            loader.warnings.append(
                f"no data file for `{obj.name}` ([data] {plural(obj.name)}); "
                "it has no records"
            )
        return

    source = open_source(loader, path, loader.settings.root, f"_seqdsl_raw_{obj.name}")
    id_header = _id_header(source, obj.name)
    headers = match_headers(source, properties, id_header)
    typed_columns = [typed(loader, "id", _TEXT, source, id_header, required=True)]
    for prop in properties:
        header = headers.get(prop.name)
        if header is None:
            loader.warnings.append(
                f"{source.shown}: no column for property `{prop.name}`; "
                "it is unknown for every record"
            )
        elif source.header(f"{header}_1"):  # DuckDB renamed a repeated header
            loader.warnings.append(
                f"{source.shown}: more than one column is named `{header}`; "
                f"`{prop.name}` is read from the first"
            )
        typed_columns.append(typed(loader, prop.name, prop.type, source, header))

    create(loader, source, table, typed_columns)
    _check_unique(loader, source, table, typed_columns[0])
    loader.sql(f"ALTER TABLE {ident(table)} ALTER COLUMN id SET NOT NULL")
    loader.finish(source, table)


def _id_header(source: Source, obj: str) -> str:
    for name in (*ID_HEADERS, f"{obj} id"):
        if header := source.header(name):
            return header
    names = "`id`, `Record ID`, `hs_object_id`"
    raise DataError(
        source.shown,
        f"no id column; expected one of {names} or `{obj.title()} ID`; "
        f"the file has {list_headers(source)}",
    )


def _check_unique(loader: Loader, source: Source, table: str, ids: Column) -> None:
    """Fail on the first id that an earlier row already used."""
    (repeats,) = loader.fetch(
        f"SELECT count(*) - count(DISTINCT id) FROM {ident(table)}"
    )
    if not repeats:
        return

    rows = f"SELECT {ids.sql} AS id, {source.row} AS here"
    rows += f" FROM {source.relation}"
    record, here, first = loader.fetch(
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
