"""Runtime stage, helpers: names and values as SQL text, rendered by sqlglot.

The runtime's statements bind values as parameters wherever DuckDB takes them. A view
body takes none, so there a value (a list, workflow or wait label from the rule
files) is rendered as a literal by sqlglot, which quotes and escapes it; names of
columns made from rule keys are rendered as quoted identifiers the same way.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from sqlglot import exp

__all__ = ["name_sql", "text_sql", "texts_sql"]

_DIALECT = "duckdb"


@functools.lru_cache(maxsize=4096)
def name_sql(name: str) -> str:
    """A quoted SQL identifier: `workflow:A "B":enroll` as one column name."""
    return exp.to_identifier(name, quoted=True).sql(dialect=_DIALECT)


@functools.lru_cache(maxsize=4096)
def text_sql(value: str) -> str:
    """A SQL string literal of `value`."""
    return exp.Literal.string(value).sql(dialect=_DIALECT)


def texts_sql(values: Iterable[str]) -> str:
    """Comma-separated literals for `IN (...)`, in sorted order; `NULL` when there
    are none (so `x IN (NULL)` holds for no row)."""
    items = [text_sql(v) for v in sorted(values)]
    return ", ".join(items) if items else "NULL"
