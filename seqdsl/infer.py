"""Schema inference: propose an `object` block from a data file's columns and values.

DuckDB profiles every column in one pass (how many values, how many distinct, and
whether each reads as a number, a boolean, a date or an instant); the rules below turn
the profile into the narrowest type that fits every known value. The result is rule
text for a person to review, not a guess the tool acts on by itself.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Sequence
from pathlib import Path

import attrs
import duckdb

#: Text columns with at most this many distinct values (and few per row) become enums.
ENUM_MAX_OPTIONS = 30
_ID_HEADERS = {"id", "record id", "hs_object_id"}
_TRUE_FALSE = {"true", "false", "yes", "no", "0", "1"}
_DATE = r"^\d{4}-\d{2}-\d{2}$"
_WORD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_KEYWORDS = {"known", "unknown", "any", "none", "all", "no", "true", "false", "not"}


class InferError(Exception):
    """The file cannot be read for inference."""


@attrs.frozen
class Column:
    header: str
    name: str
    kind: str
    options: tuple[str, ...] = ()


def infer_schema(path: Path, object_name: str | None = None) -> str:
    """The `object` block for the file at `path`, as formatted rule text."""
    columns = profile(path)
    name = object_name or _object_name(path)
    lines = [f"object {name} {{"]
    for column in columns:
        lines.append(f"  {_declaration(column)}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def profile(path: Path) -> list[Column]:
    """One inferred column per data column, skipping the id column."""
    con = duckdb.connect()
    try:
        relation = _read(con, path)
        relation.create_view("profiled")
        headers = [h for h in relation.columns if h.strip().lower() not in _ID_HEADERS]
        return [_infer_column(con, header) for header in headers]
    except duckdb.Error as error:
        raise InferError(f"{path}: {error}") from None
    finally:
        con.close()


def _read(con: duckdb.DuckDBPyConnection, path: Path) -> duckdb.DuckDBPyRelation:
    if not path.is_file():
        raise InferError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return con.read_parquet(str(path))
    if suffix in {".jsonl", ".ndjson"}:
        return con.read_json(str(path), format="newline_delimited")
    return con.read_csv(str(path), all_varchar=True, header=True)


def _values(con: duckdb.DuckDBPyConnection, select: str) -> list[str]:
    rows = con.execute(f"SELECT DISTINCT {select} AS v FROM profiled").fetchall()
    return sorted(str(v) for (v,) in rows if v is not None and str(v) != "")


def _infer_column(con: duckdb.DuckDBPyConnection, header: str) -> Column:
    quoted = '"' + header.replace('"', '""') + '"'
    text = f"NULLIF(TRIM(CAST({quoted} AS VARCHAR)), '')"
    row = con.execute(
        f"""
        SELECT count({text}),
        count(DISTINCT {text}),
        count(TRY_CAST({text} AS DOUBLE)),
        count(*) FILTER (WHERE lower({text}) IN {tuple(_TRUE_FALSE)}),
        count(*) FILTER (WHERE regexp_matches({text}, '{_DATE}')),
        count(TRY_CAST({text} AS TIMESTAMPTZ)),
        count(*) FILTER (WHERE contains({text}, ';'))
        FROM profiled
        """
    ).fetchall()[0]
    stats = _Counts(*row)
    known, distinct, multi = stats.known, stats.distinct, stats.multi
    name = _property_name(header)
    kind = _kind(name, stats)
    if kind == "string" and known and multi:
        parts = _values(con, f"TRIM(unnest(string_split({text}, ';')))")
        if 0 < len(parts) <= ENUM_MAX_OPTIONS:
            return Column(header, name, "set", tuple(parts))
    if kind == "string" and _all_zones(_values(con, text)):
        kind = "timezone"
    if kind == "string" and 0 < distinct <= ENUM_MAX_OPTIONS and distinct * 2 <= known:
        return Column(header, name, "enum", tuple(_values(con, text)))
    return Column(header, name, kind)


@attrs.frozen
class _Counts:
    """How many known values a column has, and how many read as each type."""

    known: int
    distinct: int
    numbers: int
    bools: int
    dates: int
    instants: int
    multi: int


def _kind(name: str, counts: _Counts) -> str:
    known = counts.known
    if not known:
        return "string"
    if "owner" in name:
        return "owner"
    if counts.bools == known and counts.distinct <= 2 and counts.numbers < known:
        return "bool"
    if counts.numbers == known:
        return "number"
    if counts.dates == known:
        return "date"
    if counts.instants == known:
        return "datetime"
    return "string"


def _all_zones(values: list[str]) -> bool:
    return bool(values) and all("/" in v and _is_zone(v) for v in values[:200])


def _is_zone(value: str) -> bool:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _declaration(column: Column) -> str:
    kind = column.kind
    if column.options:
        options = ", ".join(_option(o) for o in column.options)
        kind = f"{column.kind} [{options}]"
    label = f' label "{_escape(column.header)}"' if column.header != column.name else ""
    return f"{column.name}: {kind}{label}"


def _option(value: str) -> str:
    if _WORD.match(value) and value.lower() not in _KEYWORDS:
        return value
    return f'"{_escape(value)}"'


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _property_name(header: str) -> str:
    name = re.sub(r"[^0-9A-Za-z]+", "_", header.strip()).strip("_").lower()
    if not name or name[0].isdigit():
        name = f"p_{name}"
    return name


def _object_name(path: Path) -> str:
    stem = _property_name(path.stem)
    if stem.endswith("ies"):
        return stem[:-3] + "y"
    return stem.removesuffix("s") or "contact"


def infer_many(paths: Sequence[Path]) -> str:
    """Object blocks for several files, one after the other."""
    return "\n".join(infer_schema(path) for path in paths)
