"""Tests for `runtime_rules`, the rule set the runtime benchmark times."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from seqdsl.check import check
from seqdsl.cli import main
from seqdsl.demo import DemoError, DemoSpec, generate, schema_text
from seqdsl.demo.rules import runtime_rules
from seqdsl.format import format_text
from seqdsl.parse import parse_text
from seqdsl.workspace import Settings


def _diagnostics(text: str) -> list[tuple[str, str]]:
    """(severity, code) of `text` checked against the demo schema."""
    files = [parse_text(schema_text(), "schema.seq"), parse_text(text, "rules.seq")]
    result = check(files, Settings(root=Path.cwd()))
    return [(item.severity.value, item.code) for item in result.diagnostics]


def _names(text: str, kind: str) -> list[str]:
    return re.findall(rf'^{kind} "([^"]+)"', text, flags=re.MULTILINE)


def test_default_rules_pass_seqdsl_check_strict(tmp_path: Path) -> None:
    """`seqdsl check --strict` on a demo workspace with these rules finds nothing."""
    root = tmp_path / "demo"
    generate(root, DemoSpec(contacts=200))
    (root / "rules.seq").write_text(runtime_rules(), encoding="utf-8")

    result = CliRunner().invoke(main, ["check", "--strict", str(root)])

    assert result.exit_code == 0, result.output


def test_default_rules_have_the_issue_shape() -> None:
    """Ten active lists, each enrolled in its own sequence, and twenty workflows."""
    text = runtime_rules()
    lists = re.findall(r'^list "([^"]+)" active', text, flags=re.MULTILINE)
    enrolled = re.findall(r'^enroll list "([^"]+)" in sequence "([^"]+)"', text, re.M)

    assert text == runtime_rules(workflows=20, sequences=10)
    assert len(lists) == len(set(lists)) == 10
    assert [name for name, _ in enrolled] == lists
    assert [sequence for _, sequence in enrolled] == _names(text, "sequence")
    assert len(_names(text, "workflow")) == 20
    assert text.count('step "') == 40


def test_the_first_ten_lists_are_disjoint_by_industry() -> None:
    """Each of the first ten lists reads another industry and needs an address."""
    text = runtime_rules()
    bodies = re.findall(r'^list "[^"]+" active \{\n(.*?)\n\}', text, re.M | re.S)
    industries = [re.findall(r'industry is "([^"]+)"', body) for body in bodies]

    assert all(len(found) == 1 for found in industries)
    assert len({found[0] for found in industries}) == 10
    assert all("email is known" in body for body in bodies)


def test_workflows_use_the_clauses_and_bodies_of_the_benchmark() -> None:
    """The workflows mix goals, suppression, run windows, branches and waits."""
    text = runtime_rules()

    for phrase in (
        "reenroll when",
        "goal lifecyclestage >= opportunity",
        'suppress when in list "Do not contact"',
        "unenroll when",
        "run on weekdays",
        "} else {",
        "split 50%",
        "branch on hs_lead_status",
        "wait 2 business days",
        'enroll in sequence "Outreach',
        "create task",
        "changed to",
        "company.numberofemployees",
    ):
        assert phrase in text, phrase


@settings(max_examples=8, deadline=None)
@given(st.integers(min_value=0, max_value=30), st.integers(min_value=0, max_value=25))
def test_any_counts_check_without_errors(workflows: int, sequences: int) -> None:
    """Every count checks without errors, is formatted and names what it asks."""
    text = runtime_rules(workflows, sequences)
    severities = {severity for severity, _ in _diagnostics(text)}

    assert "error" not in severities
    assert format_text(text).text == text
    assert len(_names(text, "workflow")) == workflows
    assert len(set(_names(text, "sequence"))) == sequences


def test_refuses_negative_counts() -> None:
    """A negative count is a DemoError that names both arguments."""
    with pytest.raises(DemoError, match="`workflows` and `sequences`"):
        runtime_rules(workflows=-1)
