"""Demo data, top step: builds the tables and writes the workspace folder.

:func:`generate` runs the SQL of :mod:`~seqdsl.demo.draw_sql` and
:mod:`~seqdsl.demo.output_sql` in a fresh DuckDB connection, writes each output
table as a data file, then the `seqdsl.toml`, `schema.seq` and `rules.seq` that go
with them.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Sequence
from pathlib import Path

import duckdb
import holidays

from seqdsl.demo.draw_sql import (
    COMPANIES,
    CONTACTS_DRAWN,
    DEAL_CONTACTS,
    DEALS,
    EVENTS_DRAWN,
    MACROS,
)
from seqdsl.demo.output_sql import (
    ASSOCIATIONS,
    COMPANIES_OUT,
    CONTACTS_OUT,
    DEALS_OUT,
    EVENTS_OUT,
    HISTORY,
    MEMBERSHIPS,
    PEOPLE,
)
from seqdsl.demo.rules import demo_rules
from seqdsl.demo.schema import FILES, schema_text
from seqdsl.demo.spec import MARKER, DemoError, DemoSpec, GenerateReport
from seqdsl.demo.vocabulary import COUNTRIES, variables

log = logging.getLogger("seqdsl.demo")

#: Each step reads only tables made by the steps before it. Working tables are
#: `w_<name>`; the files are written from `out_<table>`.
_BEFORE_EVENTS = (COMPANIES, CONTACTS_DRAWN, DEALS, DEAL_CONTACTS)
_FROM_EVENTS = (EVENTS_DRAWN, EVENTS_OUT, PEOPLE, CONTACTS_OUT, COMPANIES_OUT)
_LAST = (DEALS_OUT, ASSOCIATIONS, HISTORY, MEMBERSHIPS)


def _build(con: duckdb.DuckDBPyConnection, spec: DemoSpec) -> None:
    """Create the output tables `out_<table>` in an empty connection."""
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    for name, value in variables(spec).items():
        con.execute(f"SET VARIABLE {name} = ?", [value])
    con.execute(MACROS)
    for step in _BEFORE_EVENTS:
        con.execute(step)

    # about 0.1% of the events belong to no contact
    (regular,) = _one(con, "SELECT coalesce(sum(n_events), 0) FROM w_contacts")
    con.execute("SET VARIABLE n_orphans = ?", [round(regular / 1000)])
    for step in (*_FROM_EVENTS, *_LAST):
        con.execute(step)


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[int, ...]:
    """The single row of an aggregate query."""
    return tuple(con.execute(sql).fetchall()[0])


def _export(
    con: duckdb.DuckDBPyConnection, table: str, columns: Sequence[str], path: Path
) -> int:
    """Write a table's declared columns; CSV gets ISO instants and `;` sets."""
    if path.suffix == ".parquet":
        projection = ", ".join(_quote(c) for c in columns)
        con.sql(f"SELECT {projection} FROM out_{table}").write_parquet(str(path))
    else:
        stored = con.table(f"out_{table}")
        types = dict(zip(stored.columns, stored.types, strict=True))
        projection = ", ".join(_csv_column(c, str(types[c])) for c in columns)
        relation = con.sql(f"SELECT {projection} FROM out_{table}")
        relation.write_csv(str(path), header=True, timestamp_format=_ISO_UTC)
    (count,) = _one(con, f"SELECT count(*) FROM out_{table}")
    return count


_ISO_UTC = "%Y-%m-%dT%H:%M:%SZ"


def _quote(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def _csv_column(column: str, kind: str) -> str:
    name = _quote(column)
    if kind == "TIMESTAMP WITH TIME ZONE":
        # as a plain UTC timestamp the CSV writer formats it without zone work
        return f"make_timestamp(epoch_us({name})) AS {name}"
    if kind.endswith("[]"):
        return f"array_to_string({name}, ';') AS {name}"
    return name


def generate(out_dir: Path, spec: DemoSpec) -> GenerateReport:
    """Write a complete demo workspace into `out_dir` (new, empty or a demo)."""
    started = time.perf_counter()
    try:
        rows = _write(out_dir, spec)
    except (OSError, duckdb.IOException) as error:
        reason = getattr(error, "strerror", None) or error
        raise DemoError(
            f"cannot write the demo workspace `{out_dir}`: {reason}"
        ) from None
    seconds = time.perf_counter() - started
    log.info("demo workspace %s written in %.1f s", out_dir, seconds)
    return GenerateReport(out_dir, rows, seconds)


def _write(out_dir: Path, spec: DemoSpec) -> dict[str, int]:
    _claim(out_dir)
    (out_dir / "data").mkdir(exist_ok=True)

    rows: dict[str, int] = {}
    with duckdb.connect() as con:
        _build(con, spec)
        for table, columns in FILES.values():
            relative = f"data/{table}.{spec.format}"
            rows[relative] = _export(con, table, columns, out_dir / relative)
            log.debug("wrote %s rows to %s", rows[relative], relative)

    (out_dir / "seqdsl.toml").write_text(settings_text(spec), encoding="utf-8")
    (out_dir / "schema.seq").write_text(schema_text(), encoding="utf-8")
    (out_dir / "rules.seq").write_text(demo_rules(spec.as_of), encoding="utf-8")
    return rows


def _claim(out_dir: Path) -> None:
    """Make `out_dir` a demo workspace; refuse folders holding anything else."""
    if out_dir.exists() and not out_dir.is_dir():
        raise DemoError(f"`{out_dir}` exists and is not a folder")
    marker = out_dir / MARKER
    if out_dir.exists() and any(out_dir.iterdir()) and not marker.exists():
        raise DemoError(
            f"`{out_dir}` is not empty and is not a demo workspace (no `{MARKER}` "
            "file); choose a new or empty folder"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    marker.write_text("A seqdsl demo workspace; `seqdsl demo-data` rewrites it.\n")

    # files of an earlier run in the other format would be stale
    for table, _ in FILES.values():
        for old in (out_dir / "data").glob(f"{table}.*"):
            if old.suffix in (".csv", ".parquet"):
                old.unlink()


def _holidays(spec: DemoSpec) -> list[dt.date]:
    """Public holidays in the 120 days after `as_of`, of the workspace zone's country
    (US when the zone is not one of the demo countries)."""
    zones = {zone: code for code, c in COUNTRIES.items() for zone in c[2].split()}
    country = zones.get(spec.timezone, "US")
    start = spec.as_of.date()
    calendar = holidays.country_holidays(country, years=[start.year, start.year + 1])
    end = start + dt.timedelta(days=120)
    return sorted(day for day in calendar if start <= day <= end)


def settings_text(spec: DemoSpec) -> str:
    """The `seqdsl.toml` of a demo workspace."""
    dates = ", ".join(f'"{day.isoformat()}"' for day in _holidays(spec))
    lines = [
        f"# Demo workspace: seed {spec.seed}, data as of {_instant(spec.as_of)}.",
        "",
        "[workspace]",
        f'timezone = "{spec.timezone}"',
        'business_days = ["mon", "tue", "wed", "thu", "fri"]',
        f"holidays = [{dates}]",
        "",
        "[data]",
    ]
    for key, (table, _) in FILES.items():
        lines.append(f'{key} = "data/{table}.{spec.format}"')
    lines += ["", "[state]", 'path = ".seqdsl/state.duckdb"']
    return "\n".join(lines) + "\n"


def _instant(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime(_ISO_UTC)
