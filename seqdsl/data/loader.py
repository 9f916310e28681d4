"""Load stage, data half: the state of one `load_data` run, shared by its steps.

A :class:`Loader` is the run's :class:`~seqdsl.data.session.Session` plus what the
steps report back: rows per table, warnings, and the `[data]` keys they read.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Sequence
from pathlib import Path

import duckdb

from seqdsl.data.cells import DUCK_TYPES
from seqdsl.data.files import Source
from seqdsl.data.session import Session, ident
from seqdsl.schema import BUILTIN_EVENTS, Kind, ObjectSchema, Option, Schema, Type
from seqdsl.workspace import DATA_KEYS, Settings

log = logging.getLogger("seqdsl.data")


class Loader(Session):
    """One run of `load_data`; collects parameters, row counts and warnings."""

    def __init__(
        self, con: duckdb.DuckDBPyConnection, settings: Settings, schema: Schema
    ) -> None:
        super().__init__(con, settings.timezone)
        self.settings = settings
        self.rows: dict[str, int] = {}
        self.warnings: list[str] = []
        self.used_keys: set[str] = set()
        self.objects = dict(schema.objects)
        self.objects.setdefault("contact", ObjectSchema("contact", {}))
        self.events = {**BUILTIN_EVENTS, **schema.events}

    def data_file(self, *keys: str) -> Path | None:
        for key in keys:
            if key in self.settings.data:
                self.used_keys.add(key)
                return self.settings.data[key]
        return None

    def empty(self, table: str, columns: Sequence[tuple[str, Type]]) -> None:
        typed = ", ".join(f"{ident(n)} {DUCK_TYPES[t.kind]}" for n, t in columns)
        self.sql(f"CREATE OR REPLACE TEMP TABLE {ident(table)} ({typed})")
        self.rows[table] = 0

    def finish(self, source: Source, table: str) -> None:
        """Count the rows loaded and drop the text staging table, if any."""
        (self.rows[table],) = self.fetch(f"SELECT count(*) FROM {ident(table)}")
        self.drop_stages()
        log.debug("%s: %d rows into %s", source.shown, self.rows[table], table)

    def object_type(self) -> Type:
        """Object names as enum options; the plural (`contacts`) is the label."""
        options = (Option(name, plural(name)) for name in sorted(self.objects))
        return Type(Kind.ENUM, tuple(options))

    def warn_unused_keys(self) -> None:
        known = [*DATA_KEYS, *self.objects, *map(plural, self.objects)]
        for key in sorted(set(self.settings.data) - self.used_keys):
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"; did you mean `{close[0]}`?" if close else ""
            self.warnings.append(
                f"[data] `{key}` names no object of the schema; its file is not "
                f"read{hint}"
            )


def plural(name: str) -> str:
    if name.endswith("y") and name[-2:-1] not in ("a", "e", "o", "u", ""):
        return name[:-1] + "ies"
    return name + "s"
