"""Lint stage, the last run's state: list sizes and senders, read only.

Read-only and best effort: a missing, locked or foreign state file, or one without
the tables and columns read here, gives None, and the rules that need it stay
silent. Nothing here ever writes the file.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from seqdsl.plan import list_key

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger("seqdsl.lint.state")

#: Records whose last stored change left them in the list, per list.
_MEMBERS = """
SELECT list, count(*) FROM (
    SELECT list, member, row_number() OVER (
        PARTITION BY list, record_id ORDER BY {order}
    ) AS latest
    FROM list_members
) WHERE latest = 1 AND member GROUP BY list
"""
_NEEDED = frozenset({"seqdsl_meta", "list_members", "truths", "seq_enrollments"})


@attrs.frozen
class StateFacts:
    """Per list, its members at the last run; per sequence, its senders."""

    list_sizes: Mapping[str, int]
    senders: Mapping[str, int]


def read_state(path: Path) -> StateFacts | None:
    """The facts of the state file at `path`; None if there are none."""
    if not path.is_file():
        return None
    # imported here: DuckDB costs a third of `seqdsl check`'s start-up otherwise
    import duckdb

    try:
        with duckdb.connect(str(path), read_only=True) as con:
            return _facts(con)
    except duckdb.Error as error:
        log.debug("state %s not read for lint: %s", path, error)
        return None


def _facts(con: duckdb.DuckDBPyConnection) -> StateFacts | None:
    # only the columns read below are relied on: a state of another version that
    # lacks them fails a query, and the error makes this None
    tables = {str(row[0]) for row in con.execute("SHOW TABLES").fetchall()}
    if not tables >= _NEEDED:
        return None

    # stored members of static lists (the last change of each record decides),
    # and list truths kept for trigger edges
    sizes: dict[str, int] = {}
    stored = con.execute(_MEMBERS.format(order=_order(con))).fetchall()
    prefix = list_key("")
    truths = con.execute(
        "SELECT substr(key, ?), count(DISTINCT record_id) FROM truths "
        "WHERE starts_with(key, ?) GROUP BY 1",
        [len(prefix) + 1, prefix],
    ).fetchall()
    for name, count in [*stored, *truths]:
        sizes[str(name)] = max(sizes.get(str(name), 0), int(count))

    senders = con.execute(
        "SELECT sequence, count(DISTINCT sender) FROM seq_enrollments "
        "WHERE sender IS NOT NULL GROUP BY sequence"
    ).fetchall()
    return StateFacts(sizes, {str(name): int(count) for name, count in senders})


def _order(con: duckdb.DuckDBPyConnection) -> str:
    """Newest change first: by time, then by the change counter where there is one."""
    columns = {
        str(row[0])
        for row in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = ?",
            ["list_members"],
        ).fetchall()
    }
    return "since DESC, seq DESC" if "seq" in columns else "since DESC"
