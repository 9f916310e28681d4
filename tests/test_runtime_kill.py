"""Crash tests: a run killed (SIGKILL) at any point and run again gives the same
outbox as a run that was never interrupted: at each named kill point, and at
moments spread over a real run of the demo workspace."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest
from runtime_kit import Workspace, at, contact, make

from seqdsl.check import check_workspace
from seqdsl.demo import DemoSpec, generate
from seqdsl.runtime import run
from seqdsl.runtime.state import KILL_ENV
from seqdsl.workspace import load_workspace

RULES = """
list "Leads" active { lifecyclestage is lead }
enroll list "Leads" in sequence "S"
workflow "Qualify" on contact {
  enroll when lifecyclestage is lead
  set hs_lead_status = OPEN
  wait 1 day
  create task "Call"
}
sequence "S" {
  sender owner  follow up on every day
  limit 2 emails per day per sender
  step "a" email "a"
  step "b" after 1 day email "b"
}
"""

POINTS = ("loaded", "workflows", "computed", "mid-commit", "before-commit", "committed")

SCRIPT = """
import sys
from pathlib import Path
from seqdsl.check import check_workspace
from seqdsl.runtime import run
from seqdsl.workspace import load_workspace
import datetime as dt

root, state, when = sys.argv[1:4]
checked = check_workspace(load_workspace(Path(root))).workspace
run(checked, None, dt.datetime.fromisoformat(when), state_path=Path(state))
"""

FIRST, SECOND = "2026-12-01T12:00+00:00", "2026-12-03T12:00+00:00"


def _outbox(path: Path) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(
            "SELECT action_id, due_at, record_id, kind, step FROM outbox "
            "ORDER BY due_at, record_id, action_id"
        ).fetchall()
    finally:
        con.close()


def _run(ws: Workspace, state: Path, when: str) -> None:
    run(ws.checked, ws.con, at(when), state_path=state)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, Path, Path]:
    """A workspace, its state after the first run, and the uninterrupted outbox."""
    root = tmp_path_factory.mktemp("kill")
    contacts = [contact(f"c{n}", lifecyclestage="lead") for n in range(1, 5)]
    ws = make(root / "ws", RULES, contacts)
    after_first = root / "after-first.duckdb"
    _run(ws, after_first, FIRST)
    reference = root / "reference.duckdb"
    shutil.copy(after_first, reference)
    _run(ws, reference, SECOND)
    return ws, after_first, reference


@pytest.mark.slow
def test_a_killed_run_reruns_to_the_same_outbox(
    prepared: tuple[Workspace, Path, Path], tmp_path: Path
) -> None:
    """SIGKILL at each kill point of the second run (all at once, one process per
    point), then the run again: the outbox is exactly that of the run that was
    never killed."""
    ws, after_first, reference = prepared
    killed = {}
    for point in POINTS:
        state = tmp_path / f"{point}.duckdb"
        shutil.copy(after_first, state)
        killed[point] = (state, _start(ws, state, point))
    for point, (_, process) in killed.items():
        _, errors = process.communicate(timeout=120)
        assert process.returncode == -signal.SIGKILL, (point, errors.decode())
    for point, (state, _) in killed.items():
        _run(ws, state, SECOND)
        assert _outbox(state) == _outbox(reference), point
    assert len(_outbox(reference)) > len(_outbox(after_first))


def _start(ws: Workspace, state: Path, point: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, KILL_ENV: point}
    command = [sys.executable, "-c", SCRIPT, str(ws.root), str(state), SECOND]
    return subprocess.Popen(command, env=env, stderr=subprocess.PIPE)


# ---------------------------------------------------------------- kills at any time

TIMED_SCRIPT = """
import sys
from pathlib import Path
from seqdsl.check import check_workspace
from seqdsl.runtime import run
from seqdsl.workspace import load_workspace
import datetime as dt

root, state, when = sys.argv[1:4]
checked = check_workspace(load_workspace(Path(root))).workspace
print("ready", flush=True)
run(checked, None, dt.datetime.fromisoformat(when), state_path=Path(state))
print("done", flush=True)
"""

DEMO_FIRST, DEMO_SECOND = "2026-11-30T12:00+00:00", "2026-12-01T12:00+00:00"
KILLS = 10


def _every_row(path: Path) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("SELECT * FROM outbox ORDER BY action_id").fetchall()
    finally:
        con.close()


def _timed_run(root: Path, state: Path, kill_after: float | None) -> float | None:
    """Run the second run in a child; SIGKILL it `kill_after` seconds after its
    workspace is checked. Returns how long the run took from there, or None when
    the kill came first."""
    command = [sys.executable, "-c", TIMED_SCRIPT, str(root), str(state), DEMO_SECOND]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == b"ready"
    started = time.monotonic()
    if kill_after is not None:
        killer = threading.Timer(kill_after, child.send_signal, [signal.SIGKILL])
        killer.start()
    line = child.stdout.readline().strip()
    took = time.monotonic() - started
    if kill_after is not None:
        killer.cancel()
    _, errors = child.communicate(timeout=300)
    if line == b"done":
        return took
    assert child.returncode == -signal.SIGKILL, errors.decode()
    return None


@pytest.mark.slow
def test_kills_at_any_time_rerun_to_the_same_outbox(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The demo workspace's second run, killed at ten moments spread over its
    whole length (loading the data, replaying, deciding, writing), then run
    again: every outbox is row for row that of the run never killed."""
    root = tmp_path_factory.mktemp("demo") / "ws"
    generate(root, DemoSpec(contacts=3_000, seed=11))
    checked = check_workspace(load_workspace(root)).workspace
    assert checked is not None
    first = root / "first.duckdb"
    run(checked, None, at(DEMO_FIRST), state_path=first)

    reference = root / "reference.duckdb"
    shutil.copy(first, reference)
    length = _timed_run(root, reference, None)
    assert length is not None
    expected = _every_row(reference)
    assert len(expected) > len(_every_row(first)) + 100

    outcomes = []
    for n in range(KILLS):
        state = root / f"killed-{n}.duckdb"
        shutil.copy(first, state)
        took = _timed_run(root, state, length * (n + 0.5) / KILLS)
        left = _every_row(state)
        run(checked, None, at(DEMO_SECOND), state_path=state)
        assert _every_row(state) == expected, f"kill {n} of {KILLS}"
        outcomes.append((took is None, left == expected))
    # most kills did land, and some before the run was committed
    assert sum(killed for killed, _ in outcomes) >= KILLS // 2
    assert any(killed and not committed for killed, committed in outcomes)
