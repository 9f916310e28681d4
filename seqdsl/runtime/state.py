"""Runtime stage, durable state: the state file's tables, its version and its commit.

The state lives in one DuckDB file (default `.seqdsl/state.duckdb`). A run attaches it
to the connection that holds the data, reads the previous state into TEMP tables,
computes everything there, and writes the new state, the history and the outbox back
in one transaction (:func:`commit`): a run that dies before the commit leaves the file
as it was, and DuckDB's write-ahead log makes the commit itself all or nothing.

The file carries its schema version. A file written by a newer seqdsl, a file that is
no seqdsl state, or a file DuckDB cannot read is refused with a :class:`StateError`
and never written to.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
from collections.abc import Mapping, Sequence
from pathlib import Path

import attrs
import duckdb

__all__ = [
    "ALIAS",
    "KILL_ENV",
    "SCHEMA_VERSION",
    "TABLES",
    "StateError",
    "StateInfo",
    "attach",
    "commit",
    "detach",
    "kill_point",
]

log = logging.getLogger("seqdsl.runtime.state")

#: The version of the tables below; bump it with a migration when they change.
SCHEMA_VERSION = 1
#: The name the state file is attached under in a run's connection.
ALIAS = "seqdsl_state"
#: Test hook: the name of a kill point at which the process kills itself (SIGKILL).
KILL_ENV = "SEQDSL_TEST_KILL_AT"

_META = "seqdsl_meta"

#: Every table of the state file and its columns. Instants are TIMESTAMPTZ in UTC.
TABLES: Mapping[str, str] = {
    _META: "key VARCHAR PRIMARY KEY, value VARCHAR",
    "runs": (
        "run_id INTEGER PRIMARY KEY, as_of TIMESTAMPTZ NOT NULL, "
        "previous TIMESTAMPTZ, actions INTEGER NOT NULL"
    ),
    # when each workflow, sequence or list was first seen, and its current version
    "rules": (
        "rule VARCHAR PRIMARY KEY, version VARCHAR NOT NULL, "
        "first_seen TIMESTAMPTZ NOT NULL"
    ),
    # the trigger keys true for a record at the last evaluation (for edges)
    "truths": "key VARCHAR NOT NULL, record_id VARCHAR NOT NULL",
    # members of static lists and list changes made by actions
    "list_members": (
        "list VARCHAR NOT NULL, record_id VARCHAR NOT NULL, member BOOLEAN NOT NULL, "
        "since TIMESTAMPTZ NOT NULL, seq BIGINT NOT NULL"
    ),
    # property values set or cleared by actions, until the data records a change
    "overrides": (
        "object_type VARCHAR NOT NULL, record_id VARCHAR NOT NULL, "
        "property VARCHAR NOT NULL, value VARCHAR, set_at TIMESTAMPTZ NOT NULL, "
        "seq BIGINT NOT NULL"
    ),
    "wf_enrollments": (
        "workflow VARCHAR NOT NULL, record_id VARCHAR NOT NULL, "
        "occurrence INTEGER NOT NULL, status VARCHAR NOT NULL, "
        "enrolled_at TIMESTAMPTZ NOT NULL, pc VARCHAR, wake_at TIMESTAMPTZ, "
        "waiting VARCHAR, waited_from TIMESTAMPTZ, ended_at TIMESTAMPTZ, "
        "reason VARCHAR"
    ),
    "seq_enrollments": (
        "record_id VARCHAR NOT NULL, sequence VARCHAR NOT NULL, "
        "occurrence INTEGER NOT NULL, status VARCHAR NOT NULL, "
        "requested_at TIMESTAMPTZ NOT NULL, enrolled_at TIMESTAMPTZ, "
        "sender VARCHAR, zone VARCHAR, source VARCHAR, start_step VARCHAR, "
        "next_step VARCHAR, due_at TIMESTAMPTZ, last_done VARCHAR, "
        "ended_at TIMESTAMPTZ, reason VARCHAR"
    ),
    # what each sender used per sequence and workspace day, for the limits
    "usage": (
        "sequence VARCHAR NOT NULL, sender VARCHAR NOT NULL, day DATE NOT NULL, "
        "kind VARCHAR NOT NULL, used INTEGER NOT NULL"
    ),
    "outbox": (
        "action_id VARCHAR PRIMARY KEY, run_id INTEGER NOT NULL, "
        "position INTEGER NOT NULL, due_at TIMESTAMPTZ NOT NULL, "
        "record_id VARCHAR NOT NULL, source VARCHAR NOT NULL, kind VARCHAR NOT NULL, "
        "step VARCHAR, detail VARCHAR, reason VARCHAR"
    ),
    # every decision, including those that are not actions (skips, deferrals...)
    "history": (
        "run_id INTEGER NOT NULL, position INTEGER NOT NULL, "
        "happened_at TIMESTAMPTZ NOT NULL, "
        "record_id VARCHAR NOT NULL, source VARCHAR NOT NULL, kind VARCHAR NOT NULL, "
        "detail VARCHAR, reason VARCHAR, action_id VARCHAR"
    ),
}

#: Tables a run rewrites whole; the others only grow.
REPLACED = (
    "rules",
    "truths",
    "list_members",
    "overrides",
    "wf_enrollments",
    "seq_enrollments",
    "usage",
)
APPENDED = ("runs", "outbox", "history")


class StateError(Exception):
    """A state file that cannot be used; it is left as it was."""

    def __init__(self, path: Path, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        text = f"{self.path}: {self.message}"
        return f"{text}; {self.hint}" if self.hint else text


@attrs.frozen
class StateInfo:
    """What an attached state file says about the runs so far."""

    path: Path
    runs: int
    last_as_of: dt.datetime | None
    created: bool


def kill_point(name: str) -> None:
    """Kill this process here when the test hook names this point (crash tests)."""
    if os.environ.get(KILL_ENV) == name:
        log.debug("kill point %s reached: killing the process", name)
        os.kill(os.getpid(), signal.SIGKILL)


def attach(
    con: duckdb.DuckDBPyConnection, path: Path, *, read_only: bool = False
) -> StateInfo:
    """Attach the state file at `path` as :data:`ALIAS`, creating it on first use
    (unless `read_only`)."""
    path = Path(path)
    created = not path.exists()
    if created and read_only:
        raise StateError(path, "there is no state file here", "make a run first")
    if created:
        path.parent.mkdir(parents=True, exist_ok=True)
    elif not path.is_file():
        raise StateError(path, "the state path is not a file")

    con.execute("SET TimeZone = 'UTC'")
    mode = " (READ_ONLY)" if read_only else ""
    try:
        con.execute(f"ATTACH {_literal(str(path))} AS {ALIAS}{mode}")
    except duckdb.Error as error:
        raise StateError(
            path,
            f"cannot open the state file: {_first_line(error)}",
            "it was left untouched; restore it from a backup or set "
            "another `path` under [state] in seqdsl.toml",
        ) from None

    try:
        version = _version(con, path)
        if version is None and read_only:
            raise StateError(path, "the state file is empty")
        if version is None:
            _create(con)
            created = True
        else:
            _check_version(path, version)
        return _info(con, path, created)
    except BaseException:
        detach(con)
        raise


def detach(con: duckdb.DuckDBPyConnection) -> None:
    """Detach the state file, if it is attached."""
    attached = con.execute(
        "SELECT count(*) FROM duckdb_databases() WHERE database_name = ?", [ALIAS]
    ).fetchone()
    if attached and attached[0]:
        con.execute(f"DETACH {ALIAS}")


def commit(
    con: duckdb.DuckDBPyConnection,
    replaced: Mapping[str, str],
    appended: Mapping[str, str],
) -> None:
    """Write a run's results in one transaction.

    `replaced` maps state tables to the TEMP relations that become their whole
    content; `appended` maps tables to relations whose rows are added. Outbox rows
    whose id is already there are skipped, so a rerun can never duplicate one.
    """
    unknown = (set(replaced) - set(REPLACED)) | (set(appended) - set(APPENDED))
    assert not unknown, f"internal error: not a state table: {sorted(unknown)}"

    con.execute("BEGIN TRANSACTION")
    try:
        for table, relation in replaced.items():
            con.execute(f"DELETE FROM {ALIAS}.{table}")
            con.execute(f"INSERT INTO {ALIAS}.{table} SELECT * FROM {relation}")
        kill_point("mid-commit")
        for table, relation in appended.items():
            _append(con, table, relation)
        kill_point("before-commit")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _append(con: duckdb.DuckDBPyConnection, table: str, relation: str) -> None:
    if table == "outbox":
        con.execute(
            f"INSERT INTO {ALIAS}.outbox SELECT * FROM {relation} AS r "
            f"WHERE r.action_id NOT IN (SELECT action_id FROM {ALIAS}.outbox)"
        )
    else:
        con.execute(f"INSERT INTO {ALIAS}.{table} SELECT * FROM {relation}")


def _version(con: duckdb.DuckDBPyConnection, path: Path) -> int | None:
    """The file's schema version; None for a new, empty file."""
    tables = {
        str(row[0])
        for row in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = ?", [ALIAS]
        ).fetchall()
    }
    if not tables:
        return None
    if _META not in tables:
        raise StateError(
            path,
            "this DuckDB file is not a seqdsl state file (it has no `seqdsl_meta`)",
            "it was left untouched; point `path` under [state] at another file",
        )
    row = con.execute(
        f"SELECT value FROM {ALIAS}.{_META} WHERE key = 'schema_version'"
    ).fetchone()
    if row is None or not str(row[0]).isdigit():
        raise StateError(path, "the state file has no readable schema version")
    return int(row[0])


def _check_version(path: Path, version: int) -> None:
    if version > SCHEMA_VERSION:
        raise StateError(
            path,
            f"the state file was written by a newer seqdsl (state version {version}; "
            f"this seqdsl reads up to version {SCHEMA_VERSION})",
            "upgrade seqdsl; the file was left untouched",
        )
    if version < SCHEMA_VERSION:  # pragma: no cover - no older version exists yet
        raise StateError(path, f"state version {version} cannot be migrated")


def _create(con: duckdb.DuckDBPyConnection) -> None:
    """Create every table and stamp the version, all in one transaction."""
    con.execute("BEGIN TRANSACTION")
    try:
        for table, columns in TABLES.items():
            con.execute(f"CREATE TABLE {ALIAS}.{table} ({columns})")
        con.execute(
            f"INSERT INTO {ALIAS}.{_META} VALUES "
            "('schema_version', ?), ('created_by', 'seqdsl')",
            [str(SCHEMA_VERSION)],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    log.debug("created state tables (version %d)", SCHEMA_VERSION)


def _info(con: duckdb.DuckDBPyConnection, path: Path, created: bool) -> StateInfo:
    row = con.execute(f"SELECT count(*), max(as_of) FROM {ALIAS}.runs").fetchone()
    assert row is not None
    last = row[1].astimezone(dt.UTC) if row[1] is not None else None
    return StateInfo(path, int(row[0]), last, created)


def copy_to_temp(con: duckdb.DuckDBPyConnection, tables: Sequence[str]) -> None:
    """Copy state tables into TEMP tables `prev_<table>` that a run reads."""
    for table in tables:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE prev_{table} AS "
            f"SELECT * FROM {ALIAS}.{table}"
        )


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _first_line(error: Exception) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__
