"""Tests for `seqdsl diff`: two versions of a workspace over the same data."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from seqdsl.check import check_workspace
from seqdsl.runtime import run
from seqdsl.testing import cli
from seqdsl.workspace import load_workspace

AS_OF = "2026-12-01T12:00:00Z"

SCHEMA = """
object contact {
  email: string
  score: number
  hubspot_owner_id: owner
}
"""

BASE_RULES = """
list "Hot" active { score >= 50 }
list "Cold" active { score < 50 }

workflow "Call hot leads" on contact {
  enroll when in list "Hot"
  enroll in sequence "Reach out" sender owner
}

sequence "Reach out" {
  sender owner
  follow up on every day
  limit 20 emails per day per sender
  step "hello" email "hello"
  step "nudge" after 2 days email "nudge"
  step "call" after 1 day call "Call them"
  step "bye" after 1 day email "bye"
  step "extra" after 1 day task "Extra"
}
"""

CONTACTS = """id,email,score,hubspot_owner_id
c1,c1@example.com,90,o1
c2,c2@example.com,60,o1
c3,c3@example.com,40,o1
c4,c4@example.com,10,o1
"""


def _write(root: Path, rules: str) -> Path:
    (root / "data").mkdir(parents=True, exist_ok=True)
    (root / "seqdsl.toml").write_text(
        '[workspace]\ntimezone = "UTC"\n[data]\ncontacts = "data/contacts.csv"\n'
    )
    (root / "data" / "contacts.csv").write_text(CONTACTS)
    (root / "schema.seq").write_text(SCHEMA)
    (root / "rules.seq").write_text(rules)
    return root


HEAD_STEPS = """
  step "hello" email "hello"
  step "bye" after 1 day email "bye"
  step "nudge" after 3 days email "nudge"
  step "phone" after 1 day call "Call them"
}
"""


def _head_rules() -> str:
    """Hot from 30; `bye` comes before a slower `nudge`; `call` is renamed to
    `phone`; `extra` is gone; a higher limit."""
    steps = BASE_RULES.index('  step "hello"')
    return BASE_RULES[:steps].replace("score >= 50", "score >= 30").replace(
        "score < 50", "score < 30"
    ).replace("limit 20 emails", "limit 30 emails") + HEAD_STEPS.lstrip("\n")


def _diff(*args: str | Path, cwd: Path | None = None) -> Result:
    arguments = [str(a) for a in args]
    if cwd is not None:
        arguments += ["--workspace", str(cwd)]
    return CliRunner().invoke(cli.diff_command, [*arguments, "--as-of", AS_OF])


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    base = _write(tmp_path / "base", BASE_RULES)
    head = _write(tmp_path / "head", _head_rules())
    return base, head


def test_diff_of_two_folders_counts_who_enters_and_leaves(
    folders: tuple[Path, Path],
) -> None:
    """Lowering the bar moves c3 from Cold to Hot, and into the workflow."""
    base, head = folders
    result = _diff(base, head)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert 'list "Hot": 2 -> 3 (+1 -0)' in lines
    assert 'list "Cold": 2 -> 1 (+0 -1)' in lines
    assert 'workflow "Call hot leads" enroll when: 2 -> 3 (+1 -0)' in lines
    assert lines[lines.index('list "Hot": 2 -> 3 (+1 -0)') + 1] == "  entered: c3"


def test_sequence_steps_are_compared_by_name(
    folders: tuple[Path, Path],
) -> None:
    """A removed step, a rename (same action), a new delay, a change of order and
    a changed limit are each reported."""
    base, head = folders
    output = _diff(base, head).output
    prefix = 'sequence "Reach out": '
    found = [line[len(prefix) :] for line in output.splitlines() if prefix in line]
    assert found == [
        "limit of emails: `limit 20 emails per day per sender` -> "
        "`limit 30 emails per day per sender`",
        'step "call" renamed to "phone"; in-flight contacts leave',
        'step "extra" removed',
        'step "nudge": delay 2 days -> 3 days',
        'step "nudge": moved from step 2 to step 3',
        'step "bye": moved from step 4 to step 2',
    ]


def test_markdown_is_a_table_ready_for_a_pull_request(
    folders: tuple[Path, Path],
) -> None:
    """Markdown output has a heading, a row per changed rule with example ids, and
    a row per sequence change."""
    base, head = folders
    result = _diff(base, head, "--format", "markdown", "--examples", "1")
    lines = result.output.splitlines()
    assert lines[0].startswith("### seqdsl diff `")
    assert "| rule | before | after | entered | left | examples |" in lines
    assert '| list "Hot" | 2 | 3 | +1 | 0 | entered: `c3` |' in lines
    assert '| list "Cold" | 2 | 1 | 0 | -1 | left: `c3` |' in lines
    assert '| Reach out | step "extra" removed |' in lines


def test_in_flight_contacts_are_counted_from_the_state(
    folders: tuple[Path, Path],
) -> None:
    """With a state file, the contacts waiting for a changed step are counted."""
    base, head = folders
    checked = check_workspace(load_workspace(base)).workspace
    assert checked is not None
    run(checked, None, dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC))
    result = _diff(base, head, "--data", base)
    nudge = [line for line in result.output.splitlines() if "delay 2 days" in line]
    assert nudge == [
        'sequence "Reach out": step "nudge": delay 2 days -> 3 days (2 contact(s) '
        "in flight wait for it, due 2026-12-02T12:00:00Z to 2026-12-02T12:00:00Z)"
    ]


def test_rules_with_errors_stop_the_diff(folders: tuple[Path, Path]) -> None:
    """A version whose rules do not check is named with its errors; exit 2."""
    base, head = folders
    (head / "rules.seq").write_text(_head_rules().replace("score >=", "scor >="))
    result = _diff(base, head)
    assert result.exit_code == 2
    assert f"error: the rules of `{head}` have errors:" in result.output
    assert "rules.seq:2:" in result.output
    assert "Traceback" not in result.output


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_diff_of_two_git_revisions_leaves_the_working_tree_alone(
    tmp_path: Path,
) -> None:
    """Revisions are read with git archive; an uncommitted edit stays as it was."""
    repo = tmp_path / "repo"
    workspace = _write(repo / "revops", BASE_RULES)
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "base")
    (workspace / "rules.seq").write_text(_head_rules())
    _git(repo, "commit", "-qam", "head")
    edited = BASE_RULES.replace("score >= 50", "score >= 0")
    (workspace / "rules.seq").write_text(edited)
    status = _git(repo, "status", "--porcelain")

    result = _diff("HEAD~1", "HEAD", cwd=workspace)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("seqdsl diff HEAD~1 -> HEAD")
    assert 'list "Hot": 2 -> 3 (+1 -0)' in result.output
    assert (workspace / "rules.seq").read_text() == edited
    assert _git(repo, "status", "--porcelain") == status

    against_tree = _diff("HEAD", workspace, cwd=workspace)
    assert 'list "Hot": 3 -> 4 (+1 -0)' in against_tree.output


def test_an_unknown_revision_is_a_usage_error(tmp_path: Path) -> None:
    """Neither a folder nor a revision: exit 2 with a message, no traceback."""
    workspace = _write(tmp_path / "ws", BASE_RULES)
    result = _diff("no-such-rev", workspace, cwd=workspace)
    assert result.exit_code == 2
    assert "`no-such-rev`" in result.output
    assert "Traceback" not in result.output
