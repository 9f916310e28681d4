"""Explain of static lists: the members a run froze decide, not the condition."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner, Result
from runtime_kit import at, contact, make

from seqdsl.check import check_workspace
from seqdsl.compile import compile_workspace
from seqdsl.data import load_data
from seqdsl.explain import Explanation, explain_record, read_frozen_lists
from seqdsl.plan import Plan
from seqdsl.runtime.state import StateError
from seqdsl.workspace import load_workspace

RULES = """
list "Imported" static { lifecyclestage is lead }
list "Hot" active { in list "Imported" and score >= 50 }
workflow "Tag" on contact {
  enroll when score >= 90
  add to list "Imported"
}
workflow "Untag" on contact {
  enroll when hs_lead_status is UNQUALIFIED
  remove from list "Imported"
}
"""
FROZE = "2026-11-02T09:00:00Z"
ACTED = "2026-11-03T09:00:00Z"
NOW = "2026-11-04T09:00:00Z"
BEFORE = "2026-11-01T09:00:00Z"

# at the freeze only c1 and c4 are leads
FIRST = [
    contact("c1", lifecyclestage="lead", score=60),
    contact("c2", lifecyclestage="customer", score=70),
    contact("c3", lifecyclestage="customer", score=10),
    contact("c4", lifecyclestage="lead", score=20),
]
# then c1 stops and c2 starts being a lead; actions add c3 and remove c4
LATER = [
    contact("c1", lifecyclestage="customer", score=60),
    contact("c2", lifecyclestage="lead", score=70),
    contact("c3", lifecyclestage="customer", score=95),
    contact("c4", lifecyclestage="lead", hs_lead_status="UNQUALIFIED"),
]


def invoke(*args: str) -> Result:
    from seqdsl.cli import main

    return CliRunner().invoke(
        main, list(args), prog_name="seqdsl", catch_exceptions=False
    )


def write(root: Path, contacts: list[dict[str, object]]) -> None:
    """Write the workspace with these contacts; the state file is kept."""
    make(root, RULES, contacts).con.close()


@pytest.fixture(scope="module")
def frozen(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace whose static list froze, then changed data and list actions,
    and a last run (with nothing to do) whose memberships.csv is the oracle."""
    root = tmp_path_factory.mktemp("explain") / "ws"
    write(root, FIRST)
    out = str(root / "out")
    for when in (FROZE, ACTED, NOW):
        ran = invoke("run", str(root), "--as-of", when, "--out", out)
        assert ran.exit_code == 0, ran.output
        if when == FROZE:
            write(root, LATER)
    return root


@pytest.fixture
def session(frozen: Path) -> Iterator[tuple[Plan, duckdb.DuckDBPyConnection, Path]]:
    """The frozen workspace's plan, its data in a connection, its state path."""
    checked = check_workspace(load_workspace(frozen)).workspace
    assert checked is not None
    con = duckdb.connect()
    load_data(con, checked.settings, checked.schema)
    yield compile_workspace(checked), con, checked.settings.state_path
    con.close()


def explain(
    session: tuple[Plan, duckdb.DuckDBPyConnection, Path], record: str, key: str
) -> Explanation:
    plan, con, state = session
    lists = read_frozen_lists(con, state, plan, at(NOW))
    return explain_record(plan, con, record, key, at(NOW), frozen=lists)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_frozen_members_decide_against_the_condition_now(
    session: tuple[Plan, duckdb.DuckDBPyConnection, Path],
) -> None:
    """c1 stays in though no longer a lead; c2 stays out though a lead now."""
    kept = explain(session, "c1", "list:Imported")
    assert kept.passed
    assert kept.root.detail == (
        "static list, members frozen at 2026-11-02 09:00 UTC; the record was a member"
    )
    (now,) = kept.root.children
    assert not now.passed
    assert now.text == "condition now, for information only: lifecyclestage is lead"

    left_out = explain(session, "c2", "list:Imported")
    assert not left_out.passed
    assert left_out.root.detail.endswith("; the record was not a member")
    assert left_out.root.children[0].passed


def test_in_list_of_a_static_list_reads_the_frozen_members(
    session: tuple[Plan, duckdb.DuckDBPyConnection, Path],
) -> None:
    """`in list "Imported"` inside another list follows the stored members."""
    assert explain(session, "c1", "list:Hot").passed
    outside = explain(session, "c2", "list:Hot")
    assert not outside.passed
    reference = outside.root.children[0]
    assert reference.text == 'in list "Imported"'
    assert not reference.passed
    assert "members frozen at 2026-11-02 09:00 UTC" in reference.detail


def test_list_actions_after_the_freeze_are_named(
    session: tuple[Plan, duckdb.DuckDBPyConnection, Path],
) -> None:
    """Records added or removed by list actions say so, with the time."""
    added = explain(session, "c3", "list:Imported")
    assert added.passed
    assert added.root.detail.endswith(
        "the record was added by a list action at 2026-11-03 09:00 UTC"
    )
    removed = explain(session, "c4", "list:Imported")
    assert not removed.passed
    assert removed.root.detail.endswith(
        "the record was removed by a list action at 2026-11-03 09:00 UTC"
    )


def test_explain_agrees_with_the_memberships_of_the_run(
    frozen: Path, session: tuple[Plan, duckdb.DuckDBPyConnection, Path]
) -> None:
    """For each record and list, explain's verdict is what `seqdsl run` wrote."""
    with (frozen / "out" / "memberships.csv").open(encoding="utf-8") as rows:
        written = {(r["list"], r["record_id"]) for r in csv.DictReader(rows)}
    found = {
        (name, record)
        for name in ("Imported", "Hot")
        for record in ("c1", "c2", "c3", "c4")
        if explain(session, record, f"list:{name}").passed
    }
    assert found == written
    assert ("Imported", "c1") in found and ("Imported", "c2") not in found


def test_before_the_freeze_the_condition_decides(
    session: tuple[Plan, duckdb.DuckDBPyConnection, Path],
) -> None:
    """As of an instant before the first run, the condition decides."""
    plan, con, state = session
    lists = read_frozen_lists(con, state, plan, at(BEFORE))
    assert lists is not None and not lists.stored.lists
    key = "list:Imported"
    found = explain_record(plan, con, "c2", key, at(BEFORE), frozen=lists)
    assert found.passed
    assert found.root.detail.startswith("static list frozen later, at 2026-11-02")


def test_without_state_explain_previews_the_first_run(tmp_path: Path) -> None:
    """No state file: the condition decides, it is called a preview, and explain
    creates no state."""
    root = tmp_path / "ws"
    write(root, LATER)
    result = invoke("explain", "c2", "--list", "Imported", "-C", str(root))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[:2] == [
        "record c2 meets list:Imported",
        '  [yes] in list "Imported": static list that has not run yet: '
        "preview of its first run",
    ]
    assert not (root / ".seqdsl").exists()


def test_cli_explain_reads_the_state_and_leaves_it(frozen: Path) -> None:
    """`seqdsl explain` gives the stored verdicts and never writes the state."""
    state = frozen / ".seqdsl" / "state.duckdb"
    before = digest(state)
    kept = invoke(
        "explain", "c1", "--list", "Imported", "--as-of", NOW, "-C", str(frozen)
    )
    assert kept.exit_code == 0, kept.output
    assert kept.output.startswith("record c1 meets list:Imported\n")
    assert "members frozen at 2026-11-02 09:00 UTC" in kept.output

    hot = invoke("explain", "c2", "--list", "Hot", "--as-of", NOW, "-C", str(frozen))
    assert hot.output.startswith("record c2 does not meet list:Hot\n")
    assert digest(state) == before
    assert sorted(p.name for p in state.parent.iterdir()) == ["state.duckdb"]


def test_near_misses_follow_the_frozen_members(frozen: Path) -> None:
    """Near misses of a list over a static one count stored members; a frozen
    static list has none to show."""
    args = ("--as-of", NOW, "--near-misses", "-C", str(frozen))
    hot = invoke("explain", "c2", "--list", "Hot", *args)
    assert 'fails only: in list "Imported"\n    c2\n' in hot.output
    static = invoke("explain", "c2", "--list", "Imported", *args)
    assert "list:Imported is a static list with frozen members" in static.output


@pytest.mark.parametrize("damage", ["corrupt", "newer"])
def test_unusable_state_is_a_clear_error(tmp_path: Path, damage: str) -> None:
    """A corrupt or newer state file ends explain with exit 2, no traceback, and
    the file as it was."""
    root = tmp_path / "ws"
    write(root, LATER)
    state = root / ".seqdsl" / "state.duckdb"
    state.parent.mkdir()
    if damage == "corrupt":
        state.write_bytes(b"not a database")
    else:
        con = duckdb.connect(str(state))
        con.execute("CREATE TABLE seqdsl_meta (key VARCHAR, value VARCHAR)")
        con.execute("INSERT INTO seqdsl_meta VALUES ('schema_version', '99')")
        con.close()
    before = digest(state)

    result = invoke("explain", "c1", "--list", "Imported", "-C", str(root))
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    wanted = "cannot open the state" if damage == "corrupt" else "newer seqdsl"
    assert wanted in " ".join(result.output.split())
    assert digest(state) == before


def test_library_raises_the_runtimes_state_error(tmp_path: Path) -> None:
    """`read_frozen_lists` raises StateError for a file that is no state."""
    root = tmp_path / "ws"
    write(root, LATER)
    checked = check_workspace(load_workspace(root)).workspace
    assert checked is not None
    state = tmp_path / "other.duckdb"
    duckdb.connect(str(state)).execute("CREATE TABLE t (x INT)").close()
    con = duckdb.connect()
    with pytest.raises(StateError, match="not a seqdsl state file"):
        read_frozen_lists(con, state, compile_workspace(checked), at(NOW))
    con.close()
