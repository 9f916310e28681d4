"""Runtime stage, helpers: names and values as SQL text, rendered by sqlglot.

The engine builds its queries as sqlglot trees (:mod:`seqdsl.engine.sql`); the
runtime's own statements are short SQL texts around the engine's tables. They bind
values as parameters wherever DuckDB takes them. A view body takes none, so there a
value (a list or workflow name from the rule files) is a literal rendered from the
engine's tree builders, which quote and escape it; names of columns made from rule
keys are rendered as quoted identifiers the same way.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from seqdsl.engine.sql import ident, text

__all__ = ["name_sql", "text_sql", "texts_sql"]

_DIALECT = "duckdb"


@functools.lru_cache(maxsize=4096)
def name_sql(name: str) -> str:
    """A quoted SQL identifier: `workflow:A "B":enroll` as one column name."""
    return ident(name).sql(dialect=_DIALECT)


@functools.lru_cache(maxsize=4096)
def text_sql(value: str) -> str:
    """A SQL string literal of `value`."""
    return text(value).sql(dialect=_DIALECT)


def texts_sql(values: Iterable[str]) -> str:
    """Comma-separated literals for `IN (...)`, in sorted order; `NULL` when there
    are none (so `x IN (NULL)` holds for no row)."""
    items = [text_sql(v) for v in sorted(values)]
    return ", ".join(items) if items else "NULL"
