"""Load stage, data half: the DuckDB session a load runs in, and its error type.

A :class:`Session` keeps user values out of the SQL text (each is a named
parameter), turns DuckDB's complaints about a data file into a :class:`DataError`
that names the file, and drops the text tables that files were staged in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb

_Cursor = duckdb.DuckDBPyConnection

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


class Session:
    """A connection set up for loading, with the parameters its SQL uses."""

    def __init__(self, con: duckdb.DuckDBPyConnection, timezone: str) -> None:
        for statement in _SESSION:
            con.execute(statement)

        self.con = con
        self.params: dict[str, object] = {}
        self.stages: list[str] = []
        self.zone = self.param(timezone)

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
        return one(self.sql(text, file))

    def describe(self, relation: str, file: Path | None = None) -> dict[str, str]:
        rows = self.sql(f"DESCRIBE SELECT * FROM {relation}", file).fetchall()
        return {str(row[0]): str(row[1]) for row in rows}

    def lookup(self, mapping: Mapping[str, str]) -> str:
        """A MAP, from parameters, of folded text to the stored value."""
        keys = self.param(list(mapping))
        values = self.param(list(mapping.values()))
        return f"map({keys}::VARCHAR[], {values}::VARCHAR[])"

    def drop_stages(self) -> None:
        while self.stages:
            self.sql(f"DROP TABLE IF EXISTS {ident(self.stages.pop())}")


def one(cursor: duckdb.DuckDBPyConnection) -> tuple[Any, ...]:
    row = cursor.fetchone()
    assert row is not None, "internal error: a query found no row"
    return row


def ident(name: str) -> str:
    """Quote an identifier that may come from a user's file."""
    return '"' + name.replace('"', '""') + '"'


def _duckdb_message(error: Exception) -> str:
    """DuckDB's reason for refusing a file, without its advice on options."""
    kept = []
    for line in str(error).splitlines():
        if not line.strip() or line.startswith(("Possible", "LINE ")):
            break
        kept.append(line.strip()[:160])
    reason = re.sub(r"^[A-Za-z ]+ Error: ", "", "; ".join(kept))
    return f"cannot read the file: {reason}"
