"""Tests for the runtime's state file, its versioning, and exactly-once outboxes."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from runtime_kit import Workspace, at, contact, make

from seqdsl.cli import main
from seqdsl.runtime import ACTION_COLUMNS, RunError, StateError, actions_csv, run
from seqdsl.runtime import state as st

RULES = """
list "Leads" active { lifecyclestage is lead }
workflow "Nurture" on contact {
  enroll when in list "Leads"
  set hs_lead_status = OPEN
}
"""


def _workspace(tmp_path: Path) -> Workspace:
    rows = [
        contact("c1", lifecyclestage="lead"),
        contact("c2", lifecyclestage="customer"),
    ]
    return make(tmp_path / "ws", RULES, rows)


def _outbox(path: Path) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(
            "SELECT action_id, kind, record_id FROM outbox ORDER BY run_id, position"
        ).fetchall()
    finally:
        con.close()


def test_first_run_creates_a_versioned_state_file(tmp_path: Path) -> None:
    """The state file is made on first use and stamped with the schema version."""
    ws = _workspace(tmp_path)
    assert not ws.state.exists()
    ws.run("2026-12-01T12:00")
    con = duckdb.connect(str(ws.state), read_only=True)
    version = con.execute(
        "SELECT value FROM seqdsl_meta WHERE key = 'schema_version'"
    ).fetchone()
    con.close()
    assert version == (str(st.SCHEMA_VERSION),)


def test_a_newer_state_version_is_refused_and_left_alone(tmp_path: Path) -> None:
    """A file from a newer seqdsl gives a clear error and is not written to."""
    ws = _workspace(tmp_path)
    ws.run("2026-12-01T12:00")
    con = duckdb.connect(str(ws.state))
    con.execute("UPDATE seqdsl_meta SET value = '99' WHERE key = 'schema_version'")
    con.close()
    before = ws.state.read_bytes()
    with pytest.raises(StateError, match="newer seqdsl"):
        ws.run("2026-12-02T12:00")
    assert ws.state.read_bytes() == before


def test_a_corrupted_state_file_is_refused_and_left_alone(tmp_path: Path) -> None:
    """Bytes DuckDB cannot read give a StateError; the file keeps its bytes."""
    ws = _workspace(tmp_path)
    ws.state.parent.mkdir(parents=True)
    ws.state.write_bytes(b"not a database" * 512)
    with pytest.raises(StateError, match="cannot open the state file"):
        ws.run("2026-12-01T12:00")
    assert ws.state.read_bytes() == b"not a database" * 512


def test_the_cli_shows_a_state_error_verbatim(tmp_path: Path) -> None:
    """`seqdsl run` on a corrupted state exits 2 and prints the hint as written
    (the `[state]` table name is not swallowed as terminal markup)."""
    ws = _workspace(tmp_path)
    ws.state.parent.mkdir(parents=True)
    ws.state.write_bytes(b"not a database" * 512)
    result = CliRunner().invoke(
        main, ["run", str(ws.root), "--as-of", "2026-12-01T12:00:00Z"]
    )
    assert result.exit_code == 2
    assert "under [state] in seqdsl.toml" in result.output
    assert "Traceback" not in result.output


def test_a_foreign_duckdb_file_is_refused(tmp_path: Path) -> None:
    """A DuckDB file without the seqdsl tables is not taken for a state file."""
    ws = _workspace(tmp_path)
    ws.state.parent.mkdir(parents=True)
    con = duckdb.connect(str(ws.state))
    con.execute("CREATE TABLE sales (amount INTEGER)")
    con.close()
    with pytest.raises(StateError, match="not a seqdsl state file"):
        ws.run("2026-12-01T12:00")


def test_an_as_of_before_the_last_run_is_refused(tmp_path: Path) -> None:
    """Runs move forward; an earlier as-of names both instants."""
    ws = _workspace(tmp_path)
    ws.run("2026-12-02T12:00")
    with pytest.raises(RunError, match="before the last run"):
        ws.run("2026-12-01T12:00")


def test_rerunning_the_same_as_of_adds_nothing(tmp_path: Path) -> None:
    """The same as-of again returns the same actions and leaves the outbox as is."""
    ws = _workspace(tmp_path)
    first = ws.run("2026-12-01T12:00")
    outbox = _outbox(ws.state)
    again = ws.run("2026-12-01T12:00")
    assert again.replayed and not first.replayed
    assert again.actions == first.actions
    assert _outbox(ws.state) == outbox
    assert [a.kind for a in first.actions] == ["enroll", "set_property"]


def test_action_ids_are_deterministic(tmp_path: Path) -> None:
    """Two separate states given the same inputs give the same action ids."""
    one = _workspace(tmp_path / "a").run("2026-12-01T12:00")
    two = _workspace(tmp_path / "b").run("2026-12-01T12:00")
    assert [a.action_id for a in one.actions] == [a.action_id for a in two.actions]
    assert len({a.action_id for a in one.actions}) == len(one.actions)


def test_a_failed_run_leaves_the_state_as_it_was(tmp_path: Path) -> None:
    """An error before the commit writes nothing to the state file."""
    ws = _workspace(tmp_path)
    ws.run("2026-12-01T12:00")
    before = _outbox(ws.state)
    ws.con.execute("DROP TABLE events")
    with pytest.raises(RunError, match="missing table"):
        ws.run("2026-12-03T12:00")
    assert _outbox(ws.state) == before


def test_actions_csv_has_the_contract_columns(tmp_path: Path) -> None:
    """`actions.csv` starts with the contract header and has one row per action."""
    result = _workspace(tmp_path).run("2026-12-01T12:00")
    lines = actions_csv(result.actions).splitlines()
    assert lines[0] == ",".join(ACTION_COLUMNS)
    assert len(lines) == 1 + len(result.actions)
    assert lines[1].split(",")[1] == "2026-12-01T12:00:00Z"


def test_runs_need_an_aware_as_of(tmp_path: Path) -> None:
    """A naive as-of is an error, not a guess about its zone."""
    ws = _workspace(tmp_path)
    with pytest.raises(RunError, match="no time zone"):
        run(ws.checked, ws.con, at("2026-12-01T12:00").replace(tzinfo=None))
