"""Diagnostics as CI reads them: SARIF 2.1.0, GitHub annotations and JSON."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner

from seqdsl.check import check_text
from seqdsl.cli import main
from seqdsl.diagnostics import CODES, Diagnostic, Severity, Sources, diagnostic
from seqdsl.lint import RULES, lint
from seqdsl.report.diagnostics import render
from seqdsl.source import NO_SPAN, Source, Span

SCHEMA = json.loads(
    (Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text("utf-8")
)

RULE_TEXT = """object contact { country: string  n: number  fax: string deprecated }
list "Empty" active { country is any of [] }
list "Old" active {
  fax is known
}
"""


def _validate(log: dict[str, Any]) -> None:
    jsonschema.Draft4Validator(SCHEMA).validate(log)


def _linted() -> tuple[list[Diagnostic], Sources]:
    """Real findings of a small file: L001, L013 (twice) and L014."""
    result = check_text(RULE_TEXT, path="rules.seq")
    assert result.workspace is not None
    return lint(result.workspace, result.sources), result.sources


def _mixed() -> tuple[list[Diagnostic], Sources]:
    """Lint warnings, an error, a note, and a diagnostic with no position."""
    found, sources = _linted()
    error = diagnostic("E101", "unknown property `nope`", Span("rules.seq", 0, 6))
    note = found[0].with_severity(Severity.NOTE)
    nowhere = diagnostic("E401", "invalid settings", NO_SPAN)
    return [*found, error, note, nowhere], sources


# ---------------------------------------------------------------- SARIF


def test_the_vendored_schema_is_the_sarif_2_1_0_schema() -> None:
    """The schema file is a valid draft-04 schema for version 2.1.0 logs."""
    jsonschema.Draft4Validator.check_schema(SCHEMA)
    assert SCHEMA["properties"]["version"]["enum"] == ["2.1.0"]


def test_sarif_output_is_valid_sarif() -> None:
    """Errors, warnings, notes and position-less diagnostics validate."""
    items, sources = _mixed()
    _validate(json.loads(render(items, sources, "sarif")))


def test_an_empty_sarif_log_is_valid() -> None:
    """A clean run is still a valid log, with one run and no results."""
    log = json.loads(render([], Sources(), "sarif"))
    _validate(log)
    assert log["runs"][0]["results"] == []


def test_sarif_rules_name_lint_rules_and_error_codes() -> None:
    """Each code appears once as a rule; lint rules carry their pattern name."""
    items, sources = _mixed()
    run = json.loads(render(items, sources, "sarif"))["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    names = {rule["id"]: rule["name"] for rule in rules}
    assert names == {
        "E101": CODES["E101"],
        "E401": CODES["E401"],
        "L001": RULES["L001"].name,
        "L013": RULES["L013"].name,
        "L014": RULES["L014"].name,
    }
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


def test_sarif_results_carry_level_and_region() -> None:
    """A lint warning is level `warning` with the 1-based region of its span."""
    found, sources = _linted()
    results = json.loads(render(found, sources, "sarif"))["runs"][0]["results"]
    deprecated = next(r for r in results if r["ruleId"] == "L014")
    assert deprecated["level"] == "warning"
    location = deprecated["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "rules.seq"
    assert location["region"] == {
        "startLine": 4,
        "startColumn": 3,
        "endLine": 4,
        "endColumn": 6,
    }


# ---------------------------------------------------------------- GitHub


def test_github_annotations_are_exact_workflow_commands() -> None:
    """One `::level file=,line=,col=,title=::message` line per diagnostic."""
    found, sources = _linted()
    lines = render(found, sources, "github").splitlines()
    hint_l001 = (
        "%0Ahint: unknown values fail every comparison, and the tests here leave no "
        "value that passes them all%0Ahint: check the bounds, dates and values; "
        "remove the condition if it is not needed"
    )
    hint_l013 = (
        "%0Ahint: remove it, or if it is kept for its members (runs write them to "
        "memberships.csv), suppress this with `# seqdsl: ignore[L013]`"
    )
    hint_l014 = (
        "%0Ahint: read or set its replacement instead, or remove `deprecated` from "
        "its declaration if it is still in use"
    )
    assert lines == [
        "::warning file=rules.seq,line=2,col=6,title=L013::no rule reads, changes or "
        'enrolls active list "Empty"' + hint_l013,
        "::warning file=rules.seq,line=2,col=23,title=L001::`country is any of []` "
        "can never be true, so the list is always empty" + hint_l001,
        "::warning file=rules.seq,line=3,col=6,title=L013::no rule reads, changes or "
        'enrolls active list "Old"' + hint_l013,
        "::warning file=rules.seq,line=4,col=3,title=L014::`fax` is marked "
        "`deprecated` in the schema" + hint_l014,
    ]


def test_github_annotations_escape_their_fields() -> None:
    """Newlines and `%` in messages, `:` and `,` in paths are escaped."""
    path = "rules/a,b:c.seq"
    sources = Sources([Source(path, "list\n")])
    item = Diagnostic("E999", "100% wrong\nreally", Span(path, 0, 4), hints=("x",))
    notice = item.with_severity(Severity.NOTE)
    assert render([item, notice], sources, "github").splitlines() == [
        "::error file=rules/a%2Cb%3Ac.seq,line=1,col=1,title=E999::100%25 wrong%0A"
        "really%0Ahint: x",
        "::notice file=rules/a%2Cb%3Ac.seq,line=1,col=1,title=E999::100%25 wrong%0A"
        "really%0Ahint: x",
    ]


# ---------------------------------------------------------------- JSON


def test_json_output_lists_every_field() -> None:
    """JSON gives code, severity, message, path, 1-based position, offsets, hints."""
    found, sources = _linted()
    items = json.loads(render(found, sources, "json"))
    assert [item["code"] for item in items] == [d.code for d in found]
    deprecated = next(item for item in items if item["code"] == "L014")
    start = RULE_TEXT.index("fax is known")
    assert deprecated == {
        "code": "L014",
        "severity": "warning",
        "message": "`fax` is marked `deprecated` in the schema",
        "path": "rules.seq",
        "line": 4,
        "column": 3,
        "start": start,
        "end": start + 3,
        "hints": [
            "read or set its replacement instead, or remove `deprecated` from its "
            "declaration if it is still in use"
        ],
    }


# ---------------------------------------------------------------- the command


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    (tmp_path / "seqdsl.toml").write_text('[workspace]\ntimezone = "UTC"\n')
    (tmp_path / "rules.seq").write_text(
        'object contact { country: string }\nlist "Broken" active { county is known }\n'
    )
    return tmp_path


def test_check_writes_valid_sarif_and_fails_on_errors(workspace: Path) -> None:
    """`seqdsl check --format sarif` prints a valid log and exits 1 on an error."""
    outcome = CliRunner().invoke(main, ["check", str(workspace), "--format", "sarif"])
    assert outcome.exit_code == 1, outcome.output
    log = json.loads(outcome.output)
    _validate(log)
    assert [r["ruleId"] for r in log["runs"][0]["results"]] == ["E101"]


def test_check_writes_github_annotations(workspace: Path) -> None:
    """`seqdsl check --format github` prints one annotation per diagnostic."""
    outcome = CliRunner().invoke(main, ["check", str(workspace), "--format", "github"])
    assert outcome.exit_code == 1
    assert outcome.output.startswith(
        "::error file=rules.seq,line=2,col=24,title=E101::unknown property `county`"
    )


ROOT = Path(__file__).parent.parent


def test_pre_commit_hooks_run_real_commands() -> None:
    """`.pre-commit-hooks.yaml` defines the two hooks, each running a CLI command."""
    text = (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    assert re.findall(r"^- id: (\S+)$", text, re.MULTILINE) == [
        "seqdsl-check",
        "seqdsl-fmt",
    ]
    entries = re.findall(r"^  entry: seqdsl (\w+)$", text, re.MULTILINE)
    assert entries == ["check", "fmt"]
    assert set(entries) <= set(main.commands)


def test_the_ci_example_uses_the_documented_formats() -> None:
    """docs/ci.md runs `check` in the github and sarif formats the CLI offers."""
    text = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
    formats = set(re.findall(r"seqdsl check --format ([a-z]+)", text))
    assert formats == {"github", "sarif"}
    option = next(p for p in main.commands["check"].params if p.name == "output")
    assert formats <= set(option.type.choices)  # type: ignore[attr-defined]
    assert "seqdsl fmt --check" in text and "seqdsl test" in text
