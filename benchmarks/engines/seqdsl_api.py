"""seqdsl through its library API: load, check, compile, load data, evaluate.

Loading covers everything before evaluation (workspace, check, compile, data into
DuckDB); evaluation is one call of `seqdsl.engine.evaluate`, which leaves a truth
table with one column per list in the connection.

The daily-run case is one `seqdsl.runtime.run.run` at "now" on top of the state of a
run one day earlier, made while loading; every timed run starts from a fresh copy of
that state, so each is the same daily run.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from benchmarks.datasets import rule_file
from benchmarks.engines import NotAvailable, Runner

#: Modules the evaluation path needs; a missing one makes the engine unavailable.
_NEEDED = ("seqdsl.check", "seqdsl.compile", "seqdsl.data", "seqdsl.engine.duckdb")
_RUNTIME = ("seqdsl.runtime.run",)


def _missing(modules: tuple[str, ...]) -> list[str]:
    missing = []
    for module in modules:
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            missing.append(module)
    return missing


class SeqdslRunner(Runner[Any]):
    """The seqdsl pipeline on the DuckDB engine."""

    name = "seqdsl"

    def load(self) -> None:
        missing = _missing(_NEEDED + (_RUNTIME if self.case.daily else ()))
        if missing:
            raise NotAvailable(f"seqdsl has no {', '.join(missing)} yet")
        if self.limit is not None:
            raise NotAvailable("seqdsl always evaluates every record")

        from seqdsl.compile import compile_workspace
        from seqdsl.data import load_data

        checked = self._checked()
        self.con = duckdb.connect()
        if self.case.daily:
            load_data(self.con, checked.settings, checked.schema)
            self._yesterday(checked)
            return
        self.plan = compile_workspace(checked)
        needed = self.plan.needed_columns()
        load_data(self.con, checked.settings, checked.schema, needed)

    def _checked(self) -> Any:
        from seqdsl.check import check_workspace
        from seqdsl.workspace import load_workspace

        workspace = load_workspace(self.root)
        sources = (self.root / "schema.seq", rule_file(self.root, self.case))
        result = check_workspace(attrs.evolve(workspace, sources=sources))
        if result.workspace is None:
            problems = "; ".join(str(d.message) for d in result.errors[:3])
            raise NotAvailable(f"seqdsl check failed: {problems}")
        return result.workspace

    def _yesterday(self, checked: Any) -> None:
        """Run once a day before now; its state is where every timed run starts."""
        from seqdsl.runtime.run import run

        self.checked = checked
        self.folder = Path(tempfile.mkdtemp(prefix="seqdsl-bench-state-"))
        self.base = self.folder / "yesterday.duckdb"
        day_before = self.clock.now - dt.timedelta(days=1)
        run(checked, self.con, day_before, state_path=self.base)
        self.runs = 0

    def reset(self) -> None:
        if not self.case.daily:
            return
        self.runs += 1
        self.state = self.folder / f"today-{self.runs}.duckdb"
        for suffix in ("", ".wal"):
            source = Path(f"{self.base}{suffix}")
            if source.exists():
                shutil.copyfile(source, f"{self.state}{suffix}")

    def evaluate(self) -> Any:
        if self.case.daily:
            from seqdsl.runtime.run import run

            return run(self.checked, self.con, self.clock.now, state_path=self.state)

        from seqdsl.engine import evaluate

        return evaluate(self.plan, self.con, self.clock.now)

    def members(self, result: Any) -> Mapping[str, pa.Array]:
        if self.case.daily:
            found: dict[str, list[int]] = {}
            for name, record_id in result.memberships:
                found.setdefault(name, []).append(int(record_id))
            shutil.rmtree(self.folder, ignore_errors=True)
            return {name: pa.array(ids, pa.int64()) for name, ids in found.items()}

        from seqdsl.plan import list_key

        table = self.con.sql(f'SELECT * FROM "{result.tables["contact"]}"')
        truths = table.to_arrow_table()
        ids = truths.column("id").cast(pa.int64())
        return {
            spec.name: pc.filter(ids, truths.column(list_key(spec.name)))
            for spec in self.case.lists
        }
