"""Crash tests: a run killed (SIGKILL) at any point and run again gives the same
outbox as a run that was never interrupted."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from runtime_kit import Workspace, at, contact, make

from seqdsl.runtime import run
from seqdsl.runtime.state import KILL_ENV

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
