"""One measurement in a fresh process: load, evaluate several times, report as JSON.

The parent (`benchmarks/run.py`) starts one worker per (case, engine, size) so that
the peak resident memory (`ru_maxrss`) belongs to that engine alone, native memory
of DuckDB and Polars included. The members found are written to a Parquet file for
the parent's agreement check; that happens after the peak is read.
"""

from __future__ import annotations

import argparse
import json
import resource
import signal
import statistics
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.cases import Clock, case_named
from benchmarks.datasets import workspace
from benchmarks.engines import NotAvailable, Runner, runner_class

#: runs taken even when they overrun the budget, so that a median means something
_MIN_RUNS = 3
#: seconds a runtime case may take in all when the parent does not say
_RUNTIME_TIMEOUT = 1800


class _TimedOut(Exception):
    """The measurement ran past its `--timeout`."""


def _alarm(signum: int, frame: object) -> None:
    raise _TimedOut


def _peak_mb() -> float:
    # linux reports kilobytes
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engine", required=True)
    parser.add_argument("--case", required=True)
    parser.add_argument("--contacts", type=int, required=True)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--budget", type=float, default=60.0)
    parser.add_argument("--members", type=Path, required=True)
    parser.add_argument("--timeout", type=int, help="give up after this many seconds")
    return parser.parse_args(argv)


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Load once, then evaluate `repeats` times (at least 3; fewer than `repeats`
    once the runs took `budget` seconds)."""
    base_mb = _peak_mb()
    case = case_named(args.case)
    runner = runner_class(args.engine)(
        workspace(args.contacts), case, Clock(), args.limit
    )
    try:
        return _measured(runner, args) | {"base_mb": base_mb}
    finally:
        runner.close()


def _measured(runner: Runner[Any], args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    runner.load()
    load_seconds = time.perf_counter() - started

    times: list[float] = []
    result = None
    while len(times) < args.repeats:
        runner.reset()
        started = time.perf_counter()
        result = runner.evaluate()
        times.append(time.perf_counter() - started)
        if len(times) >= _MIN_RUNS and sum(times) > args.budget:
            break
    peak_mb = _peak_mb()

    details = runner.details(result)
    counts = _write_members(runner.members(result), args.members)
    return {
        "status": "ok",
        "load_seconds": load_seconds,
        "times": times,
        "seconds": statistics.median(times),
        "peak_mb": peak_mb,
        "members": counts,
        "details": details,
    }


def _write_members(found: dict[str, pa.Array] | Any, path: Path) -> dict[str, int]:
    names, ids = [], []
    for name, found_ids in found.items():
        members = (
            found_ids.combine_chunks()
            if isinstance(found_ids, pa.ChunkedArray)
            else found_ids
        )
        names.append(pa.array([name] * len(members), pa.string()))
        ids.append(members.cast(pa.int64()))
    table = pa.table(
        {
            "list": pa.concat_arrays(names) if names else pa.array([], pa.string()),
            "record_id": pa.concat_arrays(ids) if ids else pa.array([], pa.int64()),
        }
    )
    pq.write_table(table, path)
    return {name: len(members) for name, members in found.items()}


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    timeout = args.timeout
    if timeout is None and case_named(args.case).runtime:
        timeout = _RUNTIME_TIMEOUT
    deadline = time.monotonic() + (timeout or 0)
    if timeout:
        signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(timeout)
    timed_out = {
        "status": "timed out",
        "reason": f"stopped after {timeout} s (load, the runs before, the timed runs)",
    }
    try:
        report = measure(args)
    except _TimedOut:
        report = timed_out
    except NotAvailable as reason:
        report = {"status": "not available", "reason": str(reason)}
    except Exception as error:  # reported to the parent, which shows it in the table
        # duckdb turns the alarm into its own "interrupted" error
        if timeout and time.monotonic() >= deadline:
            report = timed_out
        else:
            traceback.print_exc()
            report = {"status": "error", "reason": f"{type(error).__name__}: {error}"}
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
