"""seqdsl through its library API: load, check, compile, load data, evaluate.

Loading covers everything before evaluation (workspace, check, compile, data into
DuckDB); evaluation is one call of `seqdsl.engine.evaluate`, which leaves a truth
table with one column per list in the connection.

A runtime case is timed as `seqdsl run` does it: one `seqdsl.runtime.run.run` that
reads the data files itself (only the columns it needs) and the state of the
case's earlier runs. Those earlier runs are made once while loading, in a child
process, so that the peak memory measured here is the timed run's alone; every
timed run starts from a fresh copy of the state they left.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import multiprocessing
import shutil
import tempfile
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from benchmarks.cases import Case, case_named
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


def _checked(root: Path, case: Case) -> Any:
    """The demo workspace's schema with the case's rules, checked."""
    from seqdsl.check import check_workspace
    from seqdsl.workspace import load_workspace

    workspace = load_workspace(root)
    sources = (root / "schema.seq", rule_file(root, case))
    result = check_workspace(attrs.evolve(workspace, sources=sources))
    if result.workspace is None:
        problems = "; ".join(str(d.message) for d in result.errors[:3])
        raise NotAvailable(f"seqdsl check failed: {problems}")
    return result.workspace


def prepare_state(root: Path, name: str, now: dt.datetime, state: Path) -> str | None:
    """Make the runs of case `name` before its timed one into `state`.

    Runs in a child process; returns what went wrong as text (an exception
    need not survive the trip back), or None.
    """
    from seqdsl.runtime.run import run

    try:
        case = case_named(name)
        checked = _checked(root, case)
        for offset in case.runs[:-1]:
            run(checked, None, now + offset, state_path=state)
    except Exception as error:
        # the parent reports the message; the traceback goes to the worker's stderr
        traceback.print_exc()
        return f"{type(error).__name__}: {error}"
    return None


def active_enrollments(state: Path) -> int:
    """Contacts with an active sequence enrollment in a state file."""
    from seqdsl.runtime.tracks import ACTIVE

    query = "SELECT count(DISTINCT record_id) FROM seq_enrollments WHERE status = ?"
    with duckdb.connect(str(state), read_only=True) as con:
        row = con.execute(query, [ACTIVE]).fetchall()[0]
    return int(row[0])


class SeqdslRunner(Runner[Any]):
    """The seqdsl pipeline on the DuckDB engine."""

    name = "seqdsl"

    def load(self) -> None:
        missing = _missing(_NEEDED + (_RUNTIME if self.case.runtime else ()))
        if missing:
            raise NotAvailable(f"seqdsl has no {', '.join(missing)} yet")
        if self.limit is not None:
            raise NotAvailable("seqdsl always evaluates every record")

        from seqdsl.compile import compile_workspace
        from seqdsl.data import load_data

        checked = _checked(self.root, self.case)
        if self.case.runtime:
            self._prepare(checked)
            return
        self.con = duckdb.connect()
        self.plan = compile_workspace(checked)
        needed = self.plan.needed_columns()
        load_data(self.con, checked.settings, checked.schema, needed)

    def close(self) -> None:
        folder = getattr(self, "folder", None)
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)

    def _prepare(self, checked: Any) -> None:
        """The earlier runs, in a child process; their state is where every timed
        run starts."""
        self.checked = checked
        self.folder = Path(tempfile.mkdtemp(prefix="seqdsl-bench-state-"))
        self.base = self.folder / "prepared.duckdb"
        self.runs = 0
        arguments = (self.root, self.case.name, self.clock.now, self.base)
        # leaving the pool (also on the worker's timeout) terminates the child
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            problem = pool.apply(prepare_state, arguments)
        if problem is not None:
            raise RuntimeError(f"the runs before the timed one failed: {problem}")

    def reset(self) -> None:
        if not self.case.runtime:
            return
        self.runs += 1
        self.state = self.folder / f"run-{self.runs}.duckdb"
        for suffix in ("", ".wal"):
            source = Path(f"{self.base}{suffix}")
            if source.exists():
                shutil.copyfile(source, f"{self.state}{suffix}")

    def evaluate(self) -> Any:
        if self.case.runtime:
            from seqdsl.runtime.run import run

            as_of = self.clock.now + self.case.runs[-1]
            return run(self.checked, None, as_of, state_path=self.state)

        from seqdsl.engine import evaluate

        return evaluate(self.plan, self.con, self.clock.now)

    def details(self, result: Any) -> dict[str, int]:
        if not self.case.runtime:
            return {}
        return {
            "enrolled": active_enrollments(self.state),
            "actions": len(result.actions),
        }

    def members(self, result: Any) -> Mapping[str, pa.Array]:
        if self.case.runtime:
            found: dict[str, list[int]] = {}
            for name, record_id in result.memberships:
                if not record_id.isdigit():
                    message = f"the run's members of {name!r} include {record_id!r}"
                    raise RuntimeError(message + ", which is no contact id")
                found.setdefault(name, []).append(int(record_id))
            return {name: pa.array(ids, pa.int64()) for name, ids in found.items()}

        from seqdsl.plan import list_key

        table = self.con.sql(f'SELECT * FROM "{result.tables["contact"]}"')
        truths = table.to_arrow_table()
        ids = truths.column("id").cast(pa.int64())
        return {
            spec.name: pc.filter(ids, truths.column(list_key(spec.name)))
            for spec in self.case.lists
        }
