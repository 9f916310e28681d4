"""The `seqdsl` command end to end: what a user sees, and the exit codes."""

from __future__ import annotations

import csv
import os
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from seqdsl.cli import main

EXAMPLE = Path(__file__).parent.parent / "examples" / "webinar"
HELP = Path(__file__).parent / "cli" / "help.txt"
AS_OF = "2026-12-03T15:00:00Z"
ACTION_COLUMNS = "action_id,due_at,record_id,source,kind,step,detail,reason"


def invoke(*args: str) -> Result:
    return CliRunner().invoke(
        main, list(args), prog_name="seqdsl", catch_exceptions=False
    )


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A private copy of the example workspace, so runs never touch the repo."""
    target = tmp_path / "webinar"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns(".seqdsl"))
    return target


def test_help_lists_every_command() -> None:
    """`seqdsl --help` is pinned: a changed command list is a visible change."""
    result = invoke("--help")
    if os.environ.get("SEQDSL_UPDATE_SNAPSHOTS"):
        HELP.parent.mkdir(exist_ok=True)
        HELP.write_text(result.output, encoding="utf-8")
    assert result.exit_code == 0
    assert result.output == HELP.read_text(encoding="utf-8")


def test_check_exit_codes(tmp_path: Path) -> None:
    """0 for clean rules, 1 for errors, 2 for a path that does not exist."""
    assert invoke("check", str(EXAMPLE)).exit_code == 0

    broken = tmp_path / "broken.seq"
    broken.write_text('list "A" active { x is }\n', encoding="utf-8")
    result = invoke("check", str(broken))
    assert result.exit_code == 1
    assert "broken.seq:1:" in result.output
    assert "E001" in result.output

    assert invoke("check", str(tmp_path / "missing")).exit_code == 2


def test_check_github_format_annotates_lines(tmp_path: Path) -> None:
    """`--format github` prints one workflow command per finding."""
    broken = tmp_path / "broken.seq"
    broken.write_text('list "A" active { x is 1 }\n', encoding="utf-8")
    result = invoke("check", "--format", "github", str(broken))
    assert result.output.startswith("::error file=broken.seq,line=1,col=6,title=E102::")


def test_fmt_check_reports_without_writing(tmp_path: Path) -> None:
    """`fmt --check` exits 1 and leaves the file; `fmt` rewrites it once."""
    path = tmp_path / "messy.seq"
    messy = 'list  "A"   active {x is   1}\n'
    path.write_text(messy, encoding="utf-8")

    assert invoke("fmt", "--check", str(path)).exit_code == 1
    assert path.read_text(encoding="utf-8") == messy
    assert invoke("fmt", str(path)).exit_code == 0
    assert invoke("fmt", "--check", str(path)).exit_code == 0


def test_run_writes_the_csv_contracts(workspace: Path, tmp_path: Path) -> None:
    """`run` writes memberships.csv and actions.csv with the documented columns."""
    out = tmp_path / "out"
    result = invoke("run", str(workspace), "--as-of", AS_OF, "--out", str(out))
    assert result.exit_code == 0, result.output

    memberships = (out / "memberships.csv").read_text(encoding="utf-8").splitlines()
    assert memberships[0] == "list,record_id"
    assert any(line.startswith("Webinar registrants,") for line in memberships)
    with (out / "actions.csv").open(encoding="utf-8") as handle:
        actions = list(csv.reader(handle))
    assert ",".join(actions[0]) == ACTION_COLUMNS
    assert {row[4] for row in actions[1:]} >= {"enroll", "send_email"}
    due = [row[1] for row in actions[1:]]
    assert due == sorted(due)


def test_rerun_adds_nothing_and_earlier_as_of_is_refused(
    workspace: Path, tmp_path: Path
) -> None:
    """The same as-of twice decides nothing new; going back in time is refused."""
    out = str(tmp_path / "out")
    assert invoke("run", str(workspace), "--as-of", AS_OF, "--out", out).exit_code == 0
    first = (tmp_path / "out" / "actions.csv").read_text(encoding="utf-8")

    again = invoke("run", str(workspace), "--as-of", AS_OF, "--out", out)
    assert again.exit_code == 0
    assert (tmp_path / "out" / "actions.csv").read_text(encoding="utf-8") == first

    earlier = invoke("run", str(workspace), "--as-of", "2026-12-01T00:00:00Z")
    assert earlier.exit_code == 2
    assert "Traceback" not in earlier.output


def test_a_run_at_the_current_time_can_be_named_again(
    workspace: Path, tmp_path: Path
) -> None:
    """Without --as-of a run is at the current second; the as-of it prints, given
    back, is the same run (no fraction of a second makes it an earlier one)."""
    out = str(tmp_path / "out")
    first = invoke("run", str(workspace), "--out", out)
    assert first.exit_code == 0
    match = re.search(r"run 1 as of (\S+)", first.output)
    assert match is not None
    assert "." not in match.group(1)

    again = invoke("run", str(workspace), "--as-of", match.group(1), "--out", out)
    assert again.exit_code == 0
    assert "already run: nothing new" in again.output


def test_bad_data_names_file_row_and_column(workspace: Path, tmp_path: Path) -> None:
    """A broken data cell ends the run with exit 2 and a located message."""
    companies = workspace / "data" / "companies.csv"
    lines = companies.read_text(encoding="utf-8").splitlines()
    lines[4] = lines[4].replace(",240,", ",about 240,")
    companies.write_text("\n".join(lines) + "\n", encoding="utf-8")

    result = invoke("run", str(workspace), "--as-of", AS_OF, "--out", str(tmp_path))
    assert result.exit_code == 2
    assert "data/companies.csv:4" in result.output
    assert "Number of Employees" in result.output
    assert "about 240" in result.output
    assert not (tmp_path / "actions.csv").exists()


def test_explain_and_plan_speak_business_words(workspace: Path) -> None:
    """`explain` shows each condition with the record's value; `plan` the rules."""
    explained = invoke(
        "explain", "102", "--list", "No-shows", "--as-of", AS_OF, "-C", str(workspace)
    )
    assert explained.exit_code == 0, explained.output
    assert "record 102 meets list:No-shows" in explained.output
    assert "0 matching webinar_attended in the last 30 days" in explained.output

    planned = invoke("plan", "No-shows", "--no-sql", "-C", str(workspace))
    assert "list:No-shows (active list on contact" in planned.output
    assert "Enterprise accounts" not in planned.output


def test_history_after_a_run(workspace: Path, tmp_path: Path) -> None:
    """`history` lists what the run decided for a record, newest first."""
    out = str(tmp_path / "out")
    assert invoke("run", str(workspace), "--as-of", AS_OF, "--out", out).exit_code == 0
    result = invoke("history", "101", "-C", str(workspace))
    assert result.exit_code == 0
    assert "history of record 101" in result.output
    assert "Route webinar attendees" in result.output


def test_simulate_writes_csv_and_html(workspace: Path, tmp_path: Path) -> None:
    """`simulate` reports per day and writes a standalone HTML page with charts."""
    out = tmp_path / "sim"
    result = invoke(
        "simulate",
        "--from",
        "2026-12-03T09:00:00Z",
        "--to",
        "2026-12-08T09:00:00Z",
        "--out",
        str(out),
        "-C",
        str(workspace),
    )
    assert result.exit_code == 0, result.output
    assert "sends per sender against their limits" in result.output
    assert "/ 200" in result.output  # the sequence's email limit per sender
    page = (out / "simulation.html").read_text(encoding="utf-8")
    assert page.count("<svg") >= 3
    assert "Senders against their limits" in page
    assert "/ 200</td>" in page
    assert (out / "simulation.csv").read_text(encoding="utf-8").startswith("section,")
    assert not (workspace / ".seqdsl" / "state.duckdb").exists()


def test_schema_infer_prints_an_object_block(tmp_path: Path) -> None:
    """`schema infer` proposes a formatted object block from a CSV file."""
    result = invoke("schema", "infer", str(EXAMPLE / "data" / "deals.csv"))
    assert result.exit_code == 0
    assert result.output.startswith("object deal {")
    assert "amount: number" in result.output
