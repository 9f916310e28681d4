"""Tests for `seqdsl test` explanations of static lists: the case's own runs froze
the members, so the explanation reads them from the case's state, not a preview."""

from __future__ import annotations

import pytest
from click.testing import CliRunner, Result

from seqdsl.testing import cli

RULES = """
object contact {
  email: string
  lifecyclestage: enum [lead, customer]
}

list "Imported" static { lifecyclestage is lead }

workflow "Greet" on contact {
  enroll when in list "Imported"
  wait 1 day
}
"""

# c1 is a lead at the first run (frozen in) and a customer later; c2 the reverse
TESTS = """
[[test]]
name = "the frozen members of a static list decide"
runs = [2026-11-02T09:00:00Z, 2026-11-04T09:00:00Z, 2026-11-06T09:00:00Z]
contacts = '''
id,email,lifecyclestage
c1,c1@example.com,customer
c2,c2@example.com,lead
'''
history = '''
object_type,record_id,property,value,changed_at
contact,c1,lifecyclestage,lead,2026-10-01T00:00:00Z
contact,c1,lifecyclestage,customer,2026-11-03T00:00:00Z
contact,c2,lifecyclestage,customer,2026-10-01T00:00:00Z
contact,c2,lifecyclestage,lead,2026-11-03T00:00:00Z
'''
expect = [
  { record = "c1", not_in_list = "Imported" },
  { record = "c2", in_list = "Imported" },
  { record = "c2", enrolls_in = "Greet", at = 2026-11-03 },
]
"""

FROZEN = "static list, members frozen at 2026-11-02 09:00 UTC"
NOW_CONDITION = "condition now, for information only: lifecyclestage is lead"


@pytest.fixture(scope="module")
def failures(tmp_path_factory: pytest.TempPathFactory) -> list[list[str]]:
    """The output of `seqdsl test`, split into the lines of each failed claim."""
    root = tmp_path_factory.mktemp("static")
    (root / "seqdsl.toml").write_text('[workspace]\ntimezone = "UTC"\n')
    (root / "rules.seq").write_text(RULES)
    (root / "tests").mkdir()
    (root / "tests" / "static.seqtest.toml").write_text(TESTS)
    result: Result = CliRunner().invoke(cli.test_command, [str(root)])
    assert result.exit_code == 1, result.output
    assert result.output.splitlines()[-1] == "0 passed, 1 failed", result.output

    blocks: list[list[str]] = []
    for line in result.output.splitlines()[1:-1]:
        if line.startswith("    at "):
            blocks.append([])
        blocks[-1].append(line.strip())
    assert len(blocks) == 3, result.output
    return blocks


def test_a_frozen_member_is_explained_by_the_state_not_a_preview(
    failures: list[list[str]],
) -> None:
    """c1 left the condition after the freeze: the explanation says it was a
    frozen member, and shows the condition now for information only."""
    lines = failures[0]
    assert 'expected: record `c1` is not in list "Imported"' in lines
    assert lines[3:] == [
        "why: record c1 meets list:Imported, at the run of 2026-11-06T09:00:00Z",
        f'[yes] in list "Imported": {FROZEN}; the record was a member',
        f'[no] {NOW_CONDITION}: lifecyclestage is "customer", needs "lead"',
    ]
    assert not any("preview" in line for line in lines)


def test_a_record_left_out_at_the_freeze_is_explained_as_not_a_member(
    failures: list[list[str]],
) -> None:
    """c2 meets the condition now but missed the freeze: not a member, no preview."""
    lines = failures[1]
    assert 'expected: record `c2` is in list "Imported"' in lines
    assert lines[3:] == [
        "why: record c2 does not meet list:Imported, "
        "at the run of 2026-11-06T09:00:00Z",
        f'[no] in list "Imported": {FROZEN}; the record was not a member',
        f'[yes] {NOW_CONDITION}: lifecyclestage is "lead", needs "lead"',
    ]


def test_a_timed_claim_is_explained_at_the_run_it_is_about(
    failures: list[list[str]],
) -> None:
    """A claim on 2026-11-03 is explained at the first run on or after that day,
    with the members frozen by then deciding the enroll condition."""
    lines = failures[2]
    assert lines[2] == "actual:   no actions at all for `c2`"
    assert lines[3] == (
        "why: record c2 does not meet workflow:Greet:enroll, "
        "at the run of 2026-11-04T09:00:00Z"
    )
    assert lines[4] == (
        f'[no] in list "Imported": {FROZEN}; the record was not a member'
    )
    assert not any("preview" in line for line in lines)
