"""Load stage, data half: the workspace's data files into typed DuckDB tables.

Every file named in `[data]` becomes a TEMP table whose columns have the types
the schema declares. DuckDB reads, types and checks whole columns at once; only
when a column holds a value it cannot read do we look for the first such row,
so the error names the file, row, column and value. Tables made here:

- `obj_<object>`: `id` plus one column per (needed) property of the object;
- `associations`, `events`, `property_history`, `list_memberships`.

:func:`load_data` runs the steps in that order over one
:class:`~seqdsl.data.loader.Loader`: files are opened by
:mod:`~seqdsl.data.files`, their cells typed by :mod:`~seqdsl.data.cells` and
their tables made by :mod:`~seqdsl.data.tables`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import attrs
import duckdb

from seqdsl.data.fixed_tables import (
    load_associations,
    load_events,
    load_history,
    load_memberships,
)
from seqdsl.data.loader import Loader
from seqdsl.data.objects import ID_HEADERS, load_object
from seqdsl.data.session import DataError
from seqdsl.schema import Schema
from seqdsl.workspace import Settings

__all__ = ["ID_HEADERS", "DataError", "LoadReport", "load_data"]


log = logging.getLogger("seqdsl.data")


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
    loader = Loader(con, settings, schema)
    try:
        for obj in loader.objects.values():
            wanted = None if needed is None else needed.get(obj.name, frozenset())
            load_object(loader, obj, wanted)
        load_associations(loader)
        orphans = load_events(loader)
        load_history(loader)
        load_memberships(loader)
    finally:
        loader.drop_stages()
    loader.warn_unused_keys()
    report = LoadReport(loader.rows, orphans[0], orphans[1], tuple(loader.warnings))
    _log_report(report)
    return report


def _log_report(report: LoadReport) -> None:
    """Say what was loaded but not usable: events of unknown records as a warning
    (shown by default), the loader's notes (missing columns, ...) with `-v`."""
    for note in report.warnings:
        log.info("%s", note)
    if report.orphan_events:
        examples = ", ".join(report.orphan_examples)
        log.warning(
            "%d event(s) belong to no known record (record ids such as %s); "
            "they count for no rule",
            report.orphan_events,
            examples,
        )
