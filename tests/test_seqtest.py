"""Tests for `seqdsl test`: test files run end to end, reports, coverage, bad files."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import given, settings
from hypothesis import strategies as st

from seqdsl.check import check_workspace
from seqdsl.checked import CheckedWorkspace
from seqdsl.testing import cli, find_test_files, read_test_file
from seqdsl.testing.lines import Lines
from seqdsl.testing.spec import SpecError, read_test_text
from seqdsl.workspace import load_workspace

ROOT = Path(__file__).resolve().parent.parent

RULES = """
object contact {
  email: string
  lifecyclestage: enum [lead, mql, customer] ordered
  country: string
  hubspot_owner_id: owner
  createdate: datetime
}
event form_submission { form: string }

list "Signed up" active {
  had form_submission where form is "trial" in last 30 days and email is known
}
list "Blocked" manual

workflow "Welcome" on contact {
  enroll when in list "Signed up"
  suppress when in list "Blocked"
  goal lifecyclestage >= customer
  if country is "US" {
    enroll in sequence "Hello" sender owner
  } else {
    wait 1 day
  }
  wait 5 days
}

sequence "Hello" {
  sender owner
  follow up on every day
  step "hi" email "hello-1"
  step "again" after 2 days email "hello-2"
}
"""

TESTS = """
[defaults]
now = 2026-12-01T12:00:00Z
contacts = [
  { id = "c1", email = "c1@example.com", country = "US", hubspot_owner_id = "o1" },
  { id = "c2", email = "c2@example.com", country = "US", hubspot_owner_id = "o1" },
]

[[defaults.events]]
record_id = "c1"
type = "form_submission"
occurred_at = 2026-11-30T10:00:00Z
form = "trial"

[[test]]
name = "a trial sign-up is in the list"
expect = [
  { record = "c1", in_list = "Signed up" },
  { record = "c2", not_in_list = "Signed up" },
]

[[test]]
name = "a US sign-up is welcomed by email"
runs = [2026-12-01T12:00:00Z, 2026-12-04T12:00:00Z]
expect = [
  { record = "c1", enrolls_in = "Welcome", at = 2026-12-01T12:00:00Z },
  { record = "c1", step = "hi", sequence = "Hello", at = 2026-12-01T12:00:00Z },
  { record = "c1", step = "again", at = 2026-12-03 },
  { record = "c2", not_enrolls_in = "Welcome" },
]

[[test]]
name = "a second case starts from a fresh state"
expect = [{ record = "c1", enrolls_in = "Welcome", at = 2026-12-01T12:00:00Z }]

[[test]]
name = "a blocked sign-up is refused and a new customer leaves"
runs = [2026-12-01T12:00:00Z, 2026-12-03T12:00:00Z]
contacts = '''
id,email,country,hubspot_owner_id,lifecyclestage
c1,c1@example.com,US,o1,customer
c2,c2@example.com,US,o1,lead
'''
history = '''
object_type,record_id,property,value,changed_at
contact,c1,lifecyclestage,lead,2026-11-01T00:00:00Z
contact,c1,lifecyclestage,customer,2026-12-02T10:00:00Z
'''
events = '''
record_id,type,occurred_at,form
c1,form_submission,2026-11-30T10:00:00Z,trial
c2,form_submission,2026-11-30T10:00:00Z,trial
'''
memberships = [{ list = "Blocked", record_id = "c2" }]

[[test.expect]]
record = "c2"
refused = "Welcome"
reason = "suppression"

[[test.expect]]
record = "c1"
unenrolled_from = "Welcome"
reason = "goal"
at = 2026-12-02T10:00:00Z

[[test]]
name = "a record without a sign-up is claimed to be in the list"
expect = [{ record = "c2", in_list = "Signed up" }]
"""


def _workspace(root: Path, tests: str | None = TESTS) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "seqdsl.toml").write_text('[workspace]\ntimezone = "UTC"\n')
    (root / "rules.seq").write_text(RULES)
    if tests is not None:
        (root / "tests").mkdir(exist_ok=True)
        (root / "tests" / "welcome.seqtest.toml").write_text(tests)
    return root


def _invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(cli.test_command, [str(a) for a in args])


@pytest.fixture(scope="module")
def full_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Result]:
    """One run of the test file above with --coverage and --junit."""
    root = _workspace(tmp_path_factory.mktemp("suite"))
    result = _invoke(root, "--coverage", "--junit", root / "out" / "junit.xml")
    return root, result


def test_passing_and_failing_cases_run_end_to_end(
    full_run: tuple[Path, Result],
) -> None:
    """Each case gets a PASS or FAIL line, the summary closes, and a failure exits 1."""
    _, result = full_run
    lines = result.output.splitlines()
    assert result.exit_code == 1, result.output
    status = [line.split()[0] for line in lines if line.startswith(("PASS", "FAIL"))]
    assert status == ["PASS", "PASS", "PASS", "PASS", "FAIL"]
    assert lines[-1] == "4 passed, 1 failed"


def test_a_failure_shows_expected_actual_and_the_explanation(
    full_run: tuple[Path, Result],
) -> None:
    """A failed list claim names its line, what was expected and what happened,
    and explains the list's condition for the record."""
    _, result = full_run
    output = result.output
    assert "at tests/welcome.seqtest.toml:69" in output
    assert 'expected: record `c2` is in list "Signed up"' in output
    assert "actual:   not a member" in output
    assert "record c2 does not meet list:Signed up" in output
    assert "[no] had form_submission" in output


def test_cases_run_alone_and_never_touch_the_workspace_state(
    full_run: tuple[Path, Result],
) -> None:
    """The same enrollment is made again in a second case, and the workspace's own
    state file is never created."""
    root, result = full_run
    assert "PASS  tests/welcome.seqtest.toml:32  a second case" in result.output
    assert not (root / ".seqdsl").exists()


def test_junit_report_has_the_shape_ci_systems_read(
    full_run: tuple[Path, Result],
) -> None:
    """testsuites > testsuite > testcase, counts that add up, one <failure>."""
    root, _ = full_run
    tree = ET.parse(root / "out" / "junit.xml").getroot()
    assert tree.tag == "testsuites"
    counts = (tree.get("tests"), tree.get("failures"), tree.get("errors"))
    assert counts == ("5", "1", "0")
    (suite,) = list(tree)
    assert suite.tag == "testsuite"
    assert suite.get("name") == "tests/welcome.seqtest.toml"
    cases = list(suite)
    assert [case.tag for case in cases] == ["testcase"] * 5
    for case in cases:
        assert case.get("name") and case.get("classname") == "tests.welcome"
        assert float(case.get("time", "x")) >= 0
    failed = [case for case in cases if case.find("failure") is not None]
    assert [case.get("name") for case in failed] == [
        "a record without a sign-up is claimed to be in the list"
    ]
    failure = failed[0].find("failure")
    assert failure is not None
    assert failure.get("message") == 'record `c2` is in list "Signed up"'
    assert "actual:   not a member" in (failure.text or "")


def test_coverage_names_the_branch_arm_no_test_took(
    full_run: tuple[Path, Result],
) -> None:
    """Only US records enroll, so the `else` arm is reported as never taken."""
    _, result = full_run
    missed = result.output.split("branch arms never taken:")[1].splitlines()[1:]
    arms = [line for line in missed if line.startswith("  ")]
    assert arms == ['  rules.seq:20:3  workflow "Welcome": if: else']


def test_coverage_names_condition_outcomes_never_seen(
    full_run: tuple[Path, Result],
) -> None:
    """Every test record has an email, so `email is known` is never false."""
    _, result = full_run
    assert "coverage: " in result.output
    assert (
        'rules.seq:12:65  list "Signed up": `email is known` never false'
        in result.output
    )
    assert "`hubspot_owner_id" not in result.output


def _bad(tmp_path: Path, case: str) -> Result:
    head = '[[test]]\nname = "bad"\nnow = 2026-12-01T12:00:00Z\n'
    root = _workspace(tmp_path, head + case)
    return _invoke(root)


def test_an_unknown_property_names_file_line_and_key(tmp_path: Path) -> None:
    """A misspelt property is refused before anything runs, at its record's line."""
    result = _bad(
        tmp_path,
        'contacts = [\n  { id = "a" },\n  { id = "b", contry = "US" },\n]\n'
        'expect = [{ record = "a", in_list = "Signed up" }]\n',
    )
    assert result.exit_code == 2
    assert result.output.splitlines()[0] == (
        'error: tests/welcome.seqtest.toml:6: test "bad": `contacts` record 2: '
        "`contry` is not a property of `contact`; did you mean `country`?"
    )
    assert "Traceback" not in result.output


def test_an_unknown_list_in_an_expectation_is_refused(tmp_path: Path) -> None:
    """An expectation about a list the workspace lacks names its line and a hint."""
    result = _bad(
        tmp_path,
        'contacts = [{ id = "a" }]\n'
        'expect = [\n  { record = "a", in_list = "Signed-up" },\n]\n',
    )
    assert result.exit_code == 2
    assert 'welcome.seqtest.toml:6: test "bad": expectation: no list called' in (
        result.output
    )
    assert "did you mean `Signed up`?" in result.output


def test_expectations_must_name_a_known_record(tmp_path: Path) -> None:
    """A claim about a record the test does not give is a mistake in the file."""
    result = _bad(
        tmp_path,
        'contacts = [{ id = "a" }]\n'
        'expect = [{ record = "b", in_list = "Signed up" }]\n',
    )
    assert result.exit_code == 2
    assert "record `b` is not among the test's contact records" in result.output


def test_a_cell_the_loader_cannot_read_points_at_its_record(
    tmp_path: Path,
) -> None:
    """Cells are typed by the data loader; its error is told at the record's line."""
    result = _bad(
        tmp_path,
        'contacts = """\nid,createdate\na,2026-11-01\nb,yesterday\n"""\n'
        'expect = [{ record = "a", not_in_list = "Signed up" }]\n',
    )
    assert result.exit_code == 2
    assert "ERROR tests/welcome.seqtest.toml:1  bad" in result.output
    assert (
        'tests/welcome.seqtest.toml:7: test "bad": `contacts` record 2, '
        "`createdate`: cannot read `yesterday`"
    ) in result.output
    assert result.output.splitlines()[-1] == "0 passed, 1 failed"


def test_run_times_must_increase(tmp_path: Path) -> None:
    """`runs` out of order is refused with the line of the key."""
    root = _workspace(
        tmp_path,
        '[[test]]\nname = "order"\ncontacts = [{ id = "a" }]\n'
        "runs = [2026-12-02T00:00:00Z, 2026-12-01T00:00:00Z]\n"
        'expect = [{ record = "a", not_in_list = "Signed up" }]\n',
    )
    result = _invoke(root)
    assert result.exit_code == 2
    assert "welcome.seqtest.toml:4:" in result.output
    assert "run times must increase" in result.output


def test_invalid_toml_is_a_bad_test_file(tmp_path: Path) -> None:
    """A file that is not TOML is reported, without a traceback, exit 2."""
    root = _workspace(tmp_path, "[[test]\nname = 1\n")
    result = _invoke(root)
    assert result.exit_code == 2
    assert "welcome.seqtest.toml: invalid toml" in result.output
    assert "Traceback" not in result.output


def test_a_workspace_without_test_files_is_a_usage_error(
    tmp_path: Path,
) -> None:
    """No `*.seqtest.toml` under the folder: exit 2 with a message."""
    result = _invoke(_workspace(tmp_path, None))
    assert result.exit_code == 2
    assert "no test files" in result.output


def test_the_example_workspace_list_tests_pass() -> None:
    """The example play's list tests pass."""
    path = ROOT / "examples" / "webinar" / "tests" / "lists.seqtest.toml"
    result = _invoke(path)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "3 passed, 0 failed"


@given(
    st.lists(
        st.sampled_from(["a", "b = 1", 'c = "x, {y}"', "d = [1, 2]", "e = { f = 1 }"]),
        min_size=1,
        max_size=6,
    ),
    st.integers(0, 3),
)
@settings(max_examples=50, deadline=None)
def test_lines_finds_each_inline_table_of_an_array(
    fields: list[str], blank: int
) -> None:
    """The n-th inline table of an array is found on its own line, whatever its
    cells hold (strings with braces, nested arrays and tables)."""
    records = [
        f"  {{ id = {n}, {field} }},  # {{ not a record"
        for n, field in enumerate(fields)
    ]
    text = "[[test]]\n" + "\n" * blank + "contacts = [\n" + "\n".join(records) + "\n]\n"
    lines = Lines(text)
    region = lines.region("test")
    first = 3 + blank
    found = [lines.item(region, "contacts", n) for n in range(len(fields))]
    assert found == [first + n for n in range(len(fields))]
    assert lines.item(region, "contacts", len(fields)) is None


@pytest.mark.parametrize("workspace", ["examples/webinar", "rules"])
def test_every_sample_test_file_reads_cleanly(workspace: str) -> None:
    """The sample test files name only records, lists, workflows, sequences and
    steps that exist, with keys the reader knows."""
    root = ROOT / workspace
    result = check_workspace(load_workspace(root))
    assert result.workspace is not None
    files = find_test_files(root)
    assert files
    for path in files:
        suite = read_test_file(path, path.name, result.workspace)
        assert suite.errors == ()
        assert suite.cases


def test_the_documented_test_file_reads_against_the_example(
    tmp_path: Path,
) -> None:
    """The first TOML example of docs/testing.md is a valid test file for the
    example workspace."""
    docs = (ROOT / "docs" / "testing.md").read_text(encoding="utf-8")
    block = docs.split("```toml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "doc.seqtest.toml"
    path.write_text(block, encoding="utf-8")
    result = check_workspace(load_workspace(ROOT / "examples" / "webinar"))
    assert result.workspace is not None
    suite = read_test_file(path, "doc.seqtest.toml", result.workspace)
    assert suite.errors == ()
    assert [len(case.expectations) for case in suite.cases] == [3]


_KEYS = [
    "name",
    "now",
    "runs",
    "expect",
    "contacts",
    "events",
    "history",
    "memberships",
    "associations",
    "record",
    "in_list",
    "step",
    "at",
    "reason",
    "id",
    "email",
    "type",
    "occurred_at",
    "form",
    "list",
    "record_id",
    "bogus",
]
_SCALARS = st.one_of(
    st.sampled_from(["Signed up", "Welcome", "hi", "c1", "trial", "goal", ""]),
    st.sampled_from(["2026-12-01T12:00:00Z", "2026-12-01", "form_submission"]),
    st.integers(-3, 3),
    st.booleans(),
)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return '"' + value + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    assert isinstance(value, dict)
    cells = ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items())
    return "{ " + cells + " }"


_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=2),
        st.dictionaries(st.sampled_from(_KEYS), inner, max_size=3),
    ),
    max_leaves=6,
)


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> CheckedWorkspace:
    root = _workspace(tmp_path_factory.mktemp("reader"), None)
    result = check_workspace(load_workspace(root))
    assert result.workspace is not None
    return result.workspace


@given(
    st.lists(st.dictionaries(st.sampled_from(_KEYS), _VALUES, max_size=6), max_size=2)
)
@settings(max_examples=80, deadline=None)
def test_any_test_document_reads_to_cases_or_errors(
    checked: CheckedWorkspace, tests: list[dict[str, object]]
) -> None:
    """Whatever a test file holds, the reader returns cases or located errors,
    never an exception."""
    text = "".join(
        "[[test]]\n" + "".join(f"{k} = {_toml_value(v)}\n" for k, v in t.items())
        for t in tests
    )
    suite = read_test_text(text, "fuzz.seqtest.toml", checked)
    assert all(isinstance(error, SpecError) for error in suite.errors)
    assert len(suite.cases) + len(suite.errors) in (len(tests), 1)
