"""Conformance cases: every engine must give the expected members for every case.

Each file under `tests/conformance/` groups the cases of one feature. A case is
rules, records, events, history, associations and memberships, a run's `now`
(and optionally the previous run, enrollments and stored static members), and the
expected members of some rules. The loader here also serves the other engine tests.
"""

from __future__ import annotations

import datetime as dt
import functools
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from seqdsl.calendar import parse_instant
from seqdsl.check import check_text
from seqdsl.compile import compile_workspace
from seqdsl.engine import StoredLists, Truths, evaluate
from seqdsl.plan import Plan
from seqdsl.schema import Kind, Property, Schema, Type
from seqdsl.workspace import Settings

CASES = Path(__file__).parent / "conformance"
ENGINES = ("duckdb", "reference")

_ARROW_TYPES = {
    Kind.STRING: pa.string(),
    Kind.OWNER: pa.string(),
    Kind.TIMEZONE: pa.string(),
    Kind.NUMBER: pa.float64(),
    Kind.BOOL: pa.bool_(),
    Kind.DATE: pa.date32(),
    Kind.DATETIME: pa.timestamp("us", tz="UTC"),
    Kind.ENUM: pa.string(),
    Kind.SET: pa.list_(pa.string()),
}
_PLURALS = {"contact": "contacts", "company": "companies", "deal": "deals"}


# ---------------------------------------------------------------- loading tables


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _cell(value: Any, type_: Type, zone: str) -> Any:
    """A TOML value as the typed cell `seqdsl.data` would load."""
    if value is None:
        return None
    kind = type_.kind
    if kind is Kind.DATETIME:
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            return value.astimezone(dt.UTC)
        return parse_instant(str(value), zone)
    if kind is Kind.DATE and isinstance(value, str):
        return dt.date.fromisoformat(value)
    if kind is Kind.NUMBER:
        return float(value)
    if kind is Kind.SET:
        return list(value)
    return value


def create_table(
    con: duckdb.DuckDBPyConnection,
    name: str,
    columns: Sequence[tuple[str, Type]],
    rows: Sequence[Mapping[str, Any]],
    zone: str,
) -> None:
    """A typed table of rows (missing cells unknown), registered as an Arrow view."""
    known = {c for c, _ in columns}
    for row in rows:
        extra = set(row) - known
        assert not extra, f"{name}: unknown columns {sorted(extra)}"
    arrays = {
        column: pa.array(
            [_cell(row.get(column), type_, zone) for row in rows],
            type=_ARROW_TYPES[type_.kind],
        )
        for column, type_ in columns
    }
    con.register(name, pa.table(arrays))


_TEXT = Type(Kind.STRING)
_INSTANT = Type(Kind.DATETIME)
_FLAG = Type(Kind.BOOL)


def load_tables(
    con: duckdb.DuckDBPyConnection, schema: Schema, data: Mapping[str, Any], zone: str
) -> None:
    """The input tables of `seqdsl.data`, from a case's rows."""
    con.execute("SET TimeZone = 'UTC'")
    for obj in schema.objects.values():
        columns = [("id", _TEXT), *((n, p.type) for n, p in obj.properties.items())]
        rows = data.get(_PLURALS.get(obj.name, obj.name + "s"), [])
        create_table(con, f"obj_{obj.name}", columns, rows, zone)

    links = [("from_type", _TEXT), ("from_id", _TEXT), ("to_type", _TEXT)]
    links += [("to_id", _TEXT), ("primary", _FLAG)]
    associations = [{"primary": False, **row} for row in data.get("associations", [])]
    create_table(con, "associations", links, associations, zone)

    fields: dict[str, Property] = {}
    for event in schema.events.values():
        fields.update(event.fields)
    fields.setdefault("task", Property("task", _TEXT))
    head = [("record_id", _TEXT), ("type", _TEXT), ("occurred_at", _INSTANT)]
    columns = head + [(n, f.type) for n, f in fields.items()]
    create_table(con, "events", columns, data.get("events", []), zone)

    history = [("object_type", _TEXT), ("record_id", _TEXT), ("property", _TEXT)]
    history += [("value", _TEXT), ("changed_at", _INSTANT)]
    create_table(con, "property_history", history, data.get("history", []), zone)
    members = [("list", _TEXT), ("record_id", _TEXT)]
    create_table(con, "list_memberships", members, data.get("memberships", []), zone)


def load_run_inputs(
    con: duckdb.DuckDBPyConnection, case: Mapping[str, Any], zone: str
) -> tuple[dict[str, str], StoredLists | None]:
    """Enrollment relations per workflow and stored static members, if given."""
    enrolled: dict[str, str] = {}
    for number, (workflow, rows) in enumerate(case.get("enrolled", {}).items()):
        name = f"enrolled_input_{number}"
        columns = [("record_id", _TEXT), ("enrolled_at", _INSTANT)]
        create_table(con, name, columns, rows, zone)
        enrolled[workflow] = name
    stored = None
    if "stored" in case:
        members = case["stored"].get("members", [])
        columns = [("list", _TEXT), ("record_id", _TEXT)]
        create_table(con, "stored_static", columns, members, zone)
        stored = StoredLists("stored_static", frozenset(case["stored"]["lists"]))
    return enrolled, stored


# ---------------------------------------------------------------- running a case


def instant(value: Any, zone: str) -> dt.datetime:
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value
    return parse_instant(str(value), zone)


@functools.cache
def compile_case(text: str, zone: str) -> tuple[Plan, Schema]:
    """Check and compile rule text; a case whose rules do not check is a bug."""
    result = check_text(text, Settings(root=Path.cwd(), timezone=zone))
    messages = [f"{d.code} {d.message}" for d in result.errors]
    assert result.workspace is not None and not messages, messages
    return compile_workspace(result.workspace), result.workspace.schema


def members(con: duckdb.DuckDBPyConnection, truths: Truths, key: str) -> list[str]:
    table, column = _quote(truths.table_of(key)), _quote(truths.column_of(key))
    rows = con.execute(f"SELECT id FROM {table} WHERE {column} ORDER BY id")
    return [str(row[0]) for row in rows.fetchall()]


def all_truths(
    con: duckdb.DuckDBPyConnection, truths: Truths
) -> dict[str, dict[str, bool]]:
    """Every rule's truth for every record, for comparing engines."""
    found: dict[str, dict[str, bool]] = {}
    for key in truths.keys:
        table, column = _quote(truths.table_of(key)), _quote(truths.column_of(key))
        query = f"SELECT id, {column} FROM {table} ORDER BY id"
        found[key] = dict(con.execute(query).fetchall())
    return found


def run_case(
    con: duckdb.DuckDBPyConnection, case: Mapping[str, Any], engine: str
) -> tuple[Plan, Truths]:
    zone = case.get("timezone", "UTC")
    plan, schema = compile_case(case["schema"] + "\n" + case["rules"], zone)
    load_tables(con, schema, case, zone)
    enrolled, stored = load_run_inputs(con, case, zone)
    previous = case.get("previous_run")
    truths = evaluate(
        plan,
        con,
        instant(case["now"], zone),
        engine=engine,
        previous_run_at=instant(previous, zone) if previous else None,
        enrolled=enrolled,
        stored=stored,
        prefix=f"{engine}_truths_",
    )
    return plan, truths


def _cases() -> Iterator[Any]:
    for path in sorted(CASES.glob("*.toml")):
        document = tomllib.loads(path.read_text(encoding="utf-8"))
        defaults = document.get("defaults", {})
        for case in document.get("case", []):
            merged = {**defaults, **case}
            yield pytest.param(merged, id=f"{path.stem}:{case['name']}")


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    yield connection
    connection.close()


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", list(_cases()))
def test_case(
    con: duckdb.DuckDBPyConnection, case: dict[str, Any], engine: str
) -> None:
    """The engine finds exactly the expected members of every rule the case names."""
    _, truths = run_case(con, case, engine)
    for key, expected in case["expect"].items():
        assert members(con, truths, key) == sorted(expected), key


def test_cases_cover_every_operator() -> None:
    """Every operator of the language appears in at least one conformance case."""
    from seqdsl import ast
    from seqdsl.parse import parse_text

    seen: set[ast.Op] = set()
    for param in _cases():
        case = param.values[0]
        module = parse_text(case["rules"]).module
        seen |= {n.op for n in ast.walk(module) if isinstance(n, ast.PropertyTest)}
    assert set(ast.Op) - seen == set()
