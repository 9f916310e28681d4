"""The benchmark driver: every case through every engine, checked, then reported.

Each measurement runs in its own worker process (see `benchmarks.worker`). After all
engines of a case and size have run, their members are compared with seqdsl's (or,
while seqdsl cannot run, with the hand-written DuckDB query's), restricted to the
contacts an engine evaluated. Engines too slow for every contact evaluate the first
`limit` contacts and their time is scaled up linearly, marked as extrapolated.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import duckdb
import pyarrow.compute as pc

from benchmarks.cases import CASES, Case
from benchmarks.datasets import parquet, read, workspace
from benchmarks.engines import ENGINES
from benchmarks.engines.records import EVENT_SHAPES

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
Record = dict[str, Any]
#: What a runtime case's record says besides time and memory: contacts actively
#: enrolled in a sequence after the timed run, and the actions that run produced.
RUNTIME_DETAILS = ("enrolled", "actions")


@attrs.frozen
class Mode:
    """How much to measure: sizes, repeats, and the per-record engines' caps."""

    name: str
    sizes: tuple[int, ...]
    repeats: int
    #: stop repeating a measurement once its evaluations took this many seconds
    budget: float
    zen_limit: int
    #: contacts for python-per-record on event cases above this size
    python_event_limit: int | None
    #: seconds a runtime case's worker may take: load, the runs before the timed
    #: one, at least 3 timed runs
    runtime_timeout: float

    def limit(self, engine: str, case: Case, contacts: int) -> int | None:
        """How many contacts `engine` evaluates; None means all of them."""
        if engine == "zen-engine":
            return min(self.zen_limit, contacts)
        reads_events = any(spec.shape in EVENT_SHAPES for spec in case.lists)
        cap = self.python_event_limit
        if engine == "python-per-record" and reads_events and cap and contacts > cap:
            return cap
        return None


QUICK = Mode("quick", (20_000,), 3, 10.0, 2_000, None, 300.0)
# at 1,000,000 contacts the run a day before takes about 70 s; this leaves room for
# an untimed daily run and three timed ones of several minutes each
FULL = Mode("full", (100_000, 1_000_000), 5, 60.0, 20_000, 200_000, 1800.0)


def _load_average() -> float:
    return os.getloadavg()[0]


def _worker(
    engine: str,
    case: Case,
    contacts: int,
    *,
    limit: int | None,
    mode: Mode,
    out: Path,
) -> Record:
    """Run one measurement in a fresh interpreter and read its JSON report."""
    command = [
        sys.executable,
        "-m",
        "benchmarks.worker",
        "--engine",
        engine,
        "--case",
        case.name,
        "--contacts",
        str(contacts),
        "--repeats",
        str(mode.repeats),
        "--budget",
        str(mode.budget),
        "--members",
        str(out),
    ]
    if limit is not None:
        command += ["--limit", str(limit)]
    # the worker stops itself at its timeout; this one is a backstop
    timeout = mode.runtime_timeout + 60 if case.runtime else None
    if case.runtime:
        command += ["--timeout", f"{mode.runtime_timeout:.0f}"]
    done = _run_in_session(command, timeout)
    if done is None:
        reason = f"killed after {timeout:.0f} s (load, the runs before, the timed runs)"
        return {"status": "timed out", "reason": reason}
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = done.stderr.strip().splitlines()[-3:]
        return {"status": "error", "reason": " | ".join(tail) or "worker failed"}
    report: Record = json.loads(lines[-1])
    if report["status"] == "error":
        print(done.stderr, file=sys.stderr)
    return report


def _run_in_session(
    command: list[str], timeout: float | None
) -> subprocess.CompletedProcess[str] | None:
    """Run a worker in a session of its own; None when it was killed at `timeout`.

    At the timeout or an interrupt the whole session is killed, so the worker's
    own child (a runtime case's earlier runs) goes with it.
    """
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    worker = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = worker.communicate(timeout=timeout)
    except BaseException as error:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.communicate()
        if isinstance(error, subprocess.TimeoutExpired):
            return None
        raise
    return subprocess.CompletedProcess(command, worker.returncode, stdout, stderr)


def measure(case: Case, engine: str, contacts: int, mode: Mode, folder: Path) -> Record:
    """One row of the results: time, memory and what was evaluated."""
    record: Record = {"case": case.name, "engine": engine, "contacts": contacts}
    if case.runtime and engine != "seqdsl":
        reason = "no hand-written workflow and sequence runtime for this engine"
        return record | {"status": "not available", "reason": reason}

    limit = mode.limit(engine, case, contacts)
    members = folder / f"{case.name}-{engine}-{contacts}.parquet"
    load_before = _load_average()
    report = _worker(engine, case, contacts, limit=limit, mode=mode, out=members)
    record |= {"load_average": max(load_before, _load_average())}
    if report["status"] != "ok":
        return record | {"status": report["status"], "reason": report["reason"]}

    evaluated = limit or contacts
    scale = contacts / evaluated
    return record | {
        "status": "ok",
        "seconds": report["seconds"] * scale,
        "peak_mb": report["peak_mb"],
        "load_seconds": report["load_seconds"],
        "end_to_end_seconds": report["load_seconds"] + report["seconds"] * scale,
        "runs": len(report["times"]),
        "extrapolated": scale != 1,
        "evaluated_contacts": evaluated,
        "members_file": str(members),
        "member_counts": report["members"],
        **{key: report["details"].get(key) for key in RUNTIME_DETAILS if case.runtime},
    }


def _disagreements(reference: Record, other: Record) -> list[str]:
    """Lists whose members differ, over the contacts both evaluated."""
    bound = min(reference["evaluated_contacts"], other["evaluated_contacts"])
    query = """
        WITH a AS (SELECT * FROM read_parquet($ref) WHERE record_id <= $bound),
             b AS (SELECT * FROM read_parquet($other) WHERE record_id <= $bound),
             d AS ((SELECT * FROM a EXCEPT SELECT * FROM b)
                   UNION ALL (SELECT * FROM b EXCEPT SELECT * FROM a))
        SELECT list, count(*) FROM d GROUP BY list ORDER BY list
    """
    params = {
        "ref": reference["members_file"],
        "other": other["members_file"],
        "bound": bound,
    }
    rows = duckdb.execute(query, params).fetchall()
    return [f"{name}: {count} records differ" for name, count in rows]


def check_agreement(records: list[Record]) -> list[str]:
    """Mark each row `agrees`; return one line per disagreeing engine."""
    ok = {r["engine"]: r for r in records if r["status"] == "ok"}
    reference = ok.get("seqdsl") or ok.get("duckdb-sql")
    problems = []
    for record in records:
        if record["status"] != "ok" or reference is None:
            continue
        record["checked_against"] = reference["engine"]
        differing = _disagreements(reference, record)
        record["agrees"] = not differing
        if differing:
            where = f"{record['case']} at {record['contacts']}: {record['engine']}"
            problems.append(f"{where} disagrees: {'; '.join(differing[:5])}")
    return problems


def add_ratios(records: list[Record]) -> None:
    """`ratio`: the engine's seconds over seqdsl's for the same case and size."""
    base = {
        (r["case"], r["contacts"]): r["seconds"]
        for r in records
        if r["engine"] == "seqdsl" and r["status"] == "ok"
    }
    for record in records:
        seqdsl = base.get((record["case"], record["contacts"]))
        seconds = record.get("seconds")
        record["ratio"] = (
            None if seqdsl is None or seconds is None else seconds / seqdsl
        )
        record.setdefault("seconds", None)
        record.setdefault("peak_mb", None)


def scan_floor(contacts: int, repeats: int = 15) -> dict[str, float]:
    """Seconds to test one numeric column of every contact: numpy and DuckDB."""
    # numpy comes with the bench extra; the harness's tests run without it
    import numpy as np  # type: ignore[import-not-found, unused-ignore]

    root = workspace(contacts)
    column = read(root, "contacts").column("numberofemployees")
    values = pc.fill_null(column, -1).to_numpy()

    def timed(run: Any) -> float:
        spent = []
        for _ in range(repeats):
            started = time.perf_counter()
            run()
            spent.append(time.perf_counter() - started)
        return statistics.median(spent)

    con = duckdb.connect()
    con.execute(
        "CREATE TABLE t AS SELECT numberofemployees FROM read_parquet(?)",
        [str(parquet(root, "contacts"))],
    )
    query = "SELECT count(*) FROM t WHERE numberofemployees >= 50"
    return {
        "numpy": timed(lambda: np.count_nonzero(values >= 50)),
        "duckdb": timed(lambda: con.execute(query).fetchall()),
        "megabytes": values.nbytes / 1e6,
    }


def run_all(
    mode: Mode, cases: Sequence[Case] = CASES, engines: Sequence[str] = ENGINES
) -> tuple[list[Record], list[str]]:
    """Measure every case with every engine at every size of the mode."""
    records: list[Record] = []
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="seqdsl-bench-") as folder:
        for contacts in mode.sizes:
            workspace(contacts)
            for case in cases:
                rows = []
                for engine in engines:
                    row = measure(case, engine, contacts, mode, Path(folder))
                    _progress(row)
                    rows.append(row)
                problems += check_agreement(rows)
                records += rows
    add_ratios(records)
    for record in records:
        record.pop("members_file", None)
    return records, problems


def _progress(row: Record) -> None:
    shown = f"{row['seconds']:.3f} s" if row["status"] == "ok" else row["status"]
    print(
        f"  {row['contacts']:>9,} {row['case']:<13} {row['engine']:<18} {shown}",
        file=sys.stderr,
        flush=True,
    )
