"""Test-file reader, data half: a case's records as the CSV files a workspace reads.

A case gives each input (contacts, events, history, ...) as an array of inline
tables or as CSV text in a string. Both become one :class:`Table`: checked
column by column against the schema here, then written as CSV and typed by
:func:`seqdsl.data.load_data` exactly as a workspace's own data files are. Only
what the loader would pass over in silence (an unknown column, an undeclared
event type, a property the schema lacks) is refused here, with the line of the
offending record.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs

from seqdsl import ast
from seqdsl.checked import CheckedWorkspace
from seqdsl.data import ID_HEADERS
from seqdsl.schema import BUILTIN_EVENTS, ObjectSchema

__all__ = ["FIXED_TABLES", "Problem", "Table", "build_table", "data_key"]

#: Case keys of the inputs that are not objects, and their `[data]` keys.
FIXED_TABLES: Mapping[str, str] = {
    "events": "events",
    "history": "property_history",
    "property_history": "property_history",
    "associations": "associations",
    "memberships": "list_memberships",
    "list_memberships": "list_memberships",
}
_REQUIRED: Mapping[str, tuple[str, ...]] = {
    "events": ("record_id", "type", "occurred_at"),
    "property_history": (
        "object_type",
        "record_id",
        "property",
        "value",
        "changed_at",
    ),
    "associations": ("from_type", "from_id", "to_type", "to_id"),
    "list_memberships": ("list", "record_id"),
}
_OPTIONAL: Mapping[str, tuple[str, ...]] = {"associations": ("primary",)}


class Problem(Exception):
    """A record the loader must not see; `row` counts records from 0."""

    def __init__(
        self,
        message: str,
        key: str | None = None,
        row: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.key = key
        self.row = row
        self.hint = hint


@attrs.frozen
class Table:
    """One input of a case as CSV text, and where its records are in the test file.

    `name` is the key the case wrote it under, `key` the `[data]` key it is loaded
    under; `ids` the record ids of an object table; `lines` the test-file line of
    each record, for data errors.
    """

    name: str
    key: str
    text: str
    ids: frozenset[str] = frozenset()
    lines: tuple[int | None, ...] = ()


def data_key(name: str, checked: CheckedWorkspace) -> str | None:
    """The `[data]` key a case key names: an object (`contacts`) or a fixed input."""
    if name in FIXED_TABLES:
        return FIXED_TABLES[name]
    found = checked.schema.object(name)
    if found is None and name in ("contact", "contacts"):
        return "contact"
    return None if found is None else found.name


def build_table(
    name: str,
    key: str,
    value: Any,
    checked: CheckedWorkspace,
    lines: Callable[[int], int | None],
) -> Table:
    """Check the records of one input and render them as CSV.

    `value` is an array of inline tables or CSV text; `lines(n)` gives the test-file
    line of record `n`. Raises :class:`Problem` for the first bad record.
    """
    columns, rows = _rows(value)
    if key not in _REQUIRED:
        columns, rows = _named_ids(columns, rows)
    check = _Checker(checked)
    check.header(key, columns, rows)
    for number, row in enumerate(rows):
        for column in _required(key):
            if not row.get(column):
                raise Problem(f"the record has no `{column}`", column, number)
        check.row(key, row, number)

    ids = frozenset(row.get("id", "") for row in rows) - {""}
    header = list(columns) or ["id"]
    return Table(
        name,
        key,
        _csv(header, rows),
        ids,
        tuple(lines(number) for number in range(len(rows))),
    )


def _named_ids(
    columns: list[str], rows: list[dict[str, str]]
) -> tuple[list[str], list[dict[str, str]]]:
    """Call an export's id column (`Record ID`, `hs_object_id`) `id`."""
    found = next((c for c in columns if c.casefold() in ID_HEADERS), None)
    if found is None or found == "id":
        return columns, rows
    renamed = ["id" if c == found else c for c in columns]
    return renamed, [
        {("id" if c == found else c): v for c, v in r.items()} for r in rows
    ]


def _required(key: str) -> tuple[str, ...]:
    return _REQUIRED.get(key, ("id",))


def _rows(value: Any) -> tuple[list[str], list[dict[str, str]]]:
    """Columns in first-seen order and the records as text cells."""
    if isinstance(value, str):
        return _csv_rows(value)
    if not isinstance(value, list):
        raise Problem("expected an array of inline tables or CSV text in a string")

    columns: dict[str, None] = {}
    rows = []
    for number, record in enumerate(value):
        if not isinstance(record, dict):
            raise Problem("each record must be an inline table `{ ... }`", row=number)
        row = {}
        for column, cell in record.items():
            columns.setdefault(str(column))
            row[str(column)] = _cell(cell, str(column), number)
        rows.append(row)
    return list(columns), rows


def _csv_rows(text: str) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.reader(io.StringIO(text.strip("\n")))
    table = [row for row in reader if row]
    if not table:
        return [], []
    header = [cell.strip() for cell in table[0]]
    rows = []
    for number, cells in enumerate(table[1:]):
        if len(cells) != len(header):
            raise Problem(
                f"the CSV row has {len(cells)} cells, the header {len(header)}",
                row=number,
            )
        rows.append(dict(zip(header, cells, strict=True)))
    return header, rows


def _cell(value: Any, column: str, row: int) -> str:
    """A TOML value as the text a CSV export would hold."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, int | float | str):
        return str(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ";".join(value)
    raise Problem(
        f"`{column}` must be a single value or an array of strings", column, row
    )


def _csv(header: Sequence[str], rows: Iterable[Mapping[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([row.get(column, "") for column in header] for row in rows)
    return out.getvalue()


def _did_you_mean(word: str, known: Iterable[str]) -> str | None:
    close = difflib.get_close_matches(word, list(known), n=1)
    return f"did you mean `{close[0]}`?" if close else None


class _Checker:
    """The columns each input may have, and the checks on each record."""

    def __init__(self, checked: CheckedWorkspace) -> None:
        self.schema = checked.schema
        self.events = {**BUILTIN_EVENTS, **checked.schema.events}
        self.manual = {
            name
            for name, decl in checked.lists.items()
            if decl.kind is ast.ListKind.MANUAL
        }
        self.objects = dict(checked.schema.objects)
        self.objects.setdefault("contact", ObjectSchema("contact", {}))

    def columns(self, key: str) -> list[str]:
        if key == "events":
            fields = {f for e in self.events.values() for f in e.fields}
            return [*_REQUIRED[key], *sorted(fields)]
        if key in _REQUIRED:
            return [*_REQUIRED[key], *_OPTIONAL.get(key, ())]
        obj = self.objects[key]
        labels = [p.label for p in obj.properties.values() if p.label]
        return ["id", *obj.properties, *labels]

    def header(
        self,
        key: str,
        columns: Sequence[str],
        rows: Sequence[Mapping[str, str]],
    ) -> None:
        """Refuse a column the input does not have, at the first record using it."""
        allowed = self.columns(key)
        folded = {column.casefold() for column in allowed}
        for column in columns:
            if column.casefold() in folded:
                continue
            first = next((n for n, row in enumerate(rows) if column in row), None)
            what = "column of" if key in _REQUIRED else "property of"
            raise Problem(
                f"`{column}` is not a {what} `{key}`",
                column,
                first,
                _did_you_mean(column, allowed),
            )

    def row(self, key: str, row: Mapping[str, str], number: int) -> None:
        if key == "events":
            self.event(row, number)
        elif key == "property_history":
            self.change(row, number)
        elif key == "associations":
            for column in ("from_type", "to_type"):
                self.object(row[column], column, number)
        elif key == "list_memberships" and row["list"] not in self.manual:
            raise Problem(
                f'"{row["list"]}" is not a manual list of the workspace',
                "list",
                number,
                _did_you_mean(row["list"], self.manual),
            )

    def event(self, row: Mapping[str, str], number: int) -> None:
        event = self.events.get(row["type"])
        if event is None:
            raise Problem(
                f"`{row['type']}` is not a declared event type",
                "type",
                number,
                _did_you_mean(row["type"], self.events),
            )
        fixed = _REQUIRED["events"]
        for column, cell in row.items():
            if column not in fixed and cell and column not in event.fields:
                raise Problem(
                    f"`{column}` is not a field of event `{event.name}`",
                    column,
                    number,
                    _did_you_mean(column, event.fields),
                )

    def change(self, row: Mapping[str, str], number: int) -> None:
        obj = self.object(row["object_type"], "object_type", number)
        if obj.property(row["property"]) is None:
            raise Problem(
                f"`{row['property']}` is not a property of `{obj.name}`",
                "property",
                number,
                _did_you_mean(row["property"], obj.properties),
            )

    def object(self, name: str, column: str, number: int) -> ObjectSchema:
        found = self.schema.object(name) or (
            self.objects["contact"] if name in ("contact", "contacts") else None
        )
        if found is None:
            raise Problem(
                f"`{name}` is not an object of the schema",
                column,
                number,
                _did_you_mean(name, self.objects),
            )
        return found
