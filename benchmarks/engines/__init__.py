"""Engines under benchmark: one runner per engine, all with the same three steps.

`load` reads the data (not timed as evaluation), `evaluate` computes every list of the
case (timed, repeated), `members` turns a result into record ids per list (not timed)
so that the runner can check that every engine found the same members; `details`
adds counts that describe a result (a runtime run's enrollments and actions).
"""

from __future__ import annotations

import abc
import importlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

import pyarrow as pa

from benchmarks.cases import Case, Clock

R = TypeVar("R")

#: Engine names, in table order; the first is the one every ratio divides by.
ENGINES = ("seqdsl", "duckdb-sql", "polars", "python-per-record", "zen-engine")


class NotAvailable(Exception):
    """The engine cannot run this case (yet); the message says why."""


class Runner(abc.ABC, Generic[R]):
    """Loads a workspace's data once, then evaluates one case's lists on demand."""

    name: ClassVar[str]

    def __init__(self, root: Path, case: Case, clock: Clock, limit: int | None):
        self.root = root
        self.case = case
        self.clock = clock
        #: evaluate only contacts 1..limit (for engines too slow for every record)
        self.limit = limit

    @abc.abstractmethod
    def load(self) -> None:
        """Read the inputs into the engine's own form."""

    def reset(self) -> None:
        """Put back what an evaluation changed; runs before each one, not timed."""

    @abc.abstractmethod
    def evaluate(self) -> R:
        """Compute every list of the case for every loaded contact."""

    def details(self, result: R) -> dict[str, int]:
        """Counts that describe `result` besides its members (not timed); read
        before `members`."""
        return {}

    @abc.abstractmethod
    def members(self, result: R) -> Mapping[str, pa.Array]:
        """The ids of each list's members in `result`."""

    def close(self) -> None:
        """Remove what the runner left on disk; runs last, also after a failure."""


#: Where each engine's runner lives; imported only when asked for (each has its deps).
_RUNNERS = {
    "seqdsl": ("benchmarks.engines.seqdsl_api", "SeqdslRunner"),
    "duckdb-sql": ("benchmarks.engines.duckdb_sql", "DuckdbRunner"),
    "polars": ("benchmarks.engines.polars_lazy", "PolarsRunner"),
    "python-per-record": ("benchmarks.engines.python_records", "PythonRunner"),
    "zen-engine": ("benchmarks.engines.zen_rules", "ZenRunner"),
}


def runner_class(engine: str) -> type[Runner[Any]]:
    """The runner class of an engine; NotAvailable when its package is missing."""
    if engine not in _RUNNERS:
        raise NotAvailable(f"unknown engine `{engine}`")
    module_name, class_name = _RUNNERS[engine]
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        message = f"cannot import {error.name} (pip install -e .[bench])"
        raise NotAvailable(message) from error
    found: type[Runner[Any]] = getattr(module, class_name)
    return found
