"""Tests for the benchmark harness: runtime cases, their runner, report and timeout."""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path

import duckdb

from benchmarks.cases import CASES, Clock, case_named
from benchmarks.engines.seqdsl_api import (
    SeqdslRunner,
    active_enrollments,
    prepare_state,
)
from benchmarks.report import markdown
from benchmarks.suite import _run_in_session
from seqdsl.demo import DemoSpec, generate
from seqdsl.demo.rules import runtime_rules

DAY, HOUR = dt.timedelta(days=1), dt.timedelta(hours=1)
ENVIRONMENT = {"mode": "test", "started": "now"}


def test_runtime_cases_build_on_the_run_a_day_before() -> None:
    """The daily run follows a run a day earlier; the hourly one follows both."""
    daily, hourly = case_named("runtime-daily"), case_named("runtime-hourly")

    assert daily.runs == (-DAY, dt.timedelta(0))
    assert hourly.runs == (*daily.runs, HOUR)
    assert daily.rules == hourly.rules == runtime_rules(workflows=20, sequences=10)
    assert daily.lists == hourly.lists == ()


def test_only_the_runtime_cases_need_the_runtime() -> None:
    """List cases have no runs; every runtime case has at least two."""
    runtime = {case.name for case in CASES if case.runtime}

    assert runtime == {"daily-run", "runtime-daily", "runtime-hourly"}
    assert all(len(case.runs) >= 2 for case in CASES if case.runtime)


def _record(case: str, **fields: object) -> dict[str, object]:
    base = {"case": case, "engine": "seqdsl", "contacts": 20_000, "ratio": 1.0}
    ok = {
        "status": "ok",
        "seconds": 1.5,
        "peak_mb": 300.0,
        "load_seconds": 2.0,
        "extrapolated": False,
    }
    return base | ok | fields


def test_report_shows_what_a_runtime_run_did() -> None:
    """A runtime row gives time, memory, what ran before, enrolled and actions."""
    records = [_record("runtime-daily", enrolled=1234, actions=5678)]

    text = markdown(records, ENVIRONMENT, {})

    row = "| runtime: daily run (20 workflows, 10 sequences) | 1.5 s | 300 | 2 s"
    assert f"{row} | 1,234 | 5,678 |" in text


def test_report_gives_a_failed_runtime_run_its_reason() -> None:
    """A failed run shows its status with a footnote and no counts."""
    failed = {"status": "error", "reason": "RunError: boom\nmore"}
    records = [_record("runtime-hourly") | failed]

    text = markdown(records, ENVIRONMENT, {})

    assert "| error [1] | - | - | - | - |" in text
    assert "[1] RunError: boom  " in text


def test_report_has_no_runtime_table_without_runtime_cases() -> None:
    """List cases alone leave the runtime table out."""
    text = markdown([_record("property")], ENVIRONMENT, {})

    assert "Runtime runs" not in text


def _alive(pid: int) -> bool:
    """Running or sleeping, not gone or a zombie."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "State:\tZ" not in status


def test_the_backstop_kills_the_workers_children(tmp_path: Path) -> None:
    """At the timeout the worker's whole session goes, its own children too."""
    marker = tmp_path / "child.pid"
    script = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen(['sleep', '60'])\n"
        f"open({str(marker)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(60)\n"
    )

    started = time.monotonic()
    done = _run_in_session([sys.executable, "-c", script], timeout=2)
    child = int(marker.read_text())
    time.sleep(0.2)

    assert done is None
    assert time.monotonic() - started < 30
    assert not _alive(child)


def test_active_enrollments_count_contacts_once(tmp_path: Path) -> None:
    """Only active enrollments count, each contact once."""
    state = tmp_path / "state.duckdb"
    rows = [("1", "active"), ("1", "active"), ("2", "ended"), ("3", "active")]
    with duckdb.connect(str(state)) as con:
        con.execute("CREATE TABLE seq_enrollments (record_id VARCHAR, status VARCHAR)")
        con.executemany("INSERT INTO seq_enrollments VALUES (?, ?)", rows)

    assert active_enrollments(state) == 2


def test_preparing_a_missing_workspace_reports_text(tmp_path: Path) -> None:
    """A failure of the runs before comes back as text, not as an exception."""
    state = tmp_path / "state.duckdb"

    problem = prepare_state(tmp_path / "missing", "runtime-daily", Clock().now, state)

    assert problem is not None
    assert not state.exists()


def test_an_hourly_case_runs_on_a_small_workspace(tmp_path: Path) -> None:
    """Two runs prepared in a child, then the timed one at now plus an hour."""
    root = tmp_path / "demo"
    generate(root, DemoSpec(contacts=200))
    case = case_named("runtime-hourly")
    runner = SeqdslRunner(root, case, Clock(), None)

    runner.load()
    runner.reset()
    result = runner.evaluate()
    details = runner.details(result)

    assert result.as_of == Clock().now + HOUR
    assert details["actions"] == len(result.actions)
    assert 0 < details["enrolled"] < 200
    assert _runs(runner.base) == 2
    assert _runs(runner.state) == 3
    runner.close()
    assert not runner.folder.exists()


def _runs(state: Path) -> int:
    with duckdb.connect(str(state), read_only=True) as con:
        return int(con.execute("SELECT count(*) FROM runs").fetchall()[0][0])
