"""Robustness: any input ends in diagnostics or success, never an exception."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seqdsl.check import check, check_text
from seqdsl.checked import CheckResult
from seqdsl.parse import parse_file, parse_text
from seqdsl.workspace import Settings

CORPUS = Path(__file__).parent / "corpus" / "valid"
GRAMMAR = Path(__file__).parent.parent / "grammar" / "seqdsl.lark"
SCHEMA = (CORPUS / "schema.seq").read_text(encoding="utf-8")
RULES = [
    path.read_text(encoding="utf-8")
    for path in sorted(CORPUS.glob("*.seq"))
    if path.name != "schema.seq"
]

KEYWORDS = sorted(set(re.findall(r'"([a-z_]+)"', GRAMMAR.read_text("utf-8"))))
PIECES = [
    *'{}()[],.:=<>!-%#"\\',
    *("->", ">=", "<=", "!=", "\n", "\t", "\r\n"),
    *('"x"', '"Webinar registrants"', '"Cold outreach"', '"thanks"', '"'),
    *("0", "12", "3.5", "-2", "2026-01-01", "2026-02-30", "2026-01-01 09:00"),
    *("09:00", "24:00", "50%", "0%", "true", "é", "\x00", "\ufeff"),
    *("contact", "deal", "deals", "company", "email", "lifecyclestage"),
    *("interests", "crm", "lead", "page_view", "url", "hs_timezone", "amount"),
    *("business days", "weekdays", "every day", "ordered", "in thread"),
]
TOKENS = [*KEYWORDS, *PIECES]

token_soup = st.lists(
    st.tuples(st.sampled_from(TOKENS), st.sampled_from([" ", "\n", ""])),
    max_size=80,
).map(lambda pairs: "".join(token + gap for token, gap in pairs))


def assert_well_formed(result: CheckResult, text: str) -> None:
    """Diagnostics, not crashes: no internal error, spans inside the text."""
    for item in result.diagnostics:
        assert item.code != "E999", item
        if item.span.path == "<text>":
            assert 0 <= item.span.start <= item.span.end <= len(text) + 1, item


@settings(max_examples=80, deadline=None)
@given(token_soup, st.booleans())
def test_token_soup_ends_in_diagnostics(soup: str, with_schema: bool) -> None:
    """Any sequence of the language's tokens checks without an exception."""
    text = SCHEMA + "\n" + soup if with_schema else soup
    assert_well_formed(check_text(text), text)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(RULES), st.data())
def test_mutated_rules_end_in_diagnostics(rules: str, data: st.DataObject) -> None:
    """Valid files with a slice replaced by random tokens check without exceptions."""
    start = data.draw(st.integers(0, len(rules)))
    end = data.draw(st.integers(start, min(len(rules), start + 60)))
    patch = data.draw(token_soup.filter(lambda soup: len(soup) < 120))
    text = SCHEMA + "\n" + rules[:start] + patch + rules[end:]
    assert_well_formed(check_text(text), text)


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.binary(max_size=600))
def test_random_bytes_through_parse_file(tmp_path: Path, data: bytes) -> None:
    """Arbitrary bytes in a file parse and check to diagnostics or success."""
    path = tmp_path / "random.seq"
    path.write_bytes(data)
    result = check([parse_file(path, "random.seq")], Settings(root=tmp_path))
    assert all(item.code != "E999" for item in result.diagnostics)


def test_invalid_utf8_is_reported_at_the_bad_byte(tmp_path: Path) -> None:
    """A file with a Latin-1 byte is E005 at the first bad byte."""
    path = tmp_path / "latin1.seq"
    path.write_bytes(b'list "Caf\xe9" manual\n')
    (problem,) = parse_file(path, "latin1.seq").diagnostics
    assert problem.code == "E005"
    assert problem.span.start == len('list "Caf')


def test_unreadable_file_is_reported(tmp_path: Path) -> None:
    """A missing file or a folder named like a rule file is E008, not an exception."""
    missing = parse_file(tmp_path / "gone.seq", "gone.seq")
    assert [d.code for d in missing.diagnostics] == ["E008"]
    (tmp_path / "folder.seq").mkdir()
    folder = parse_file(tmp_path / "folder.seq", "folder.seq")
    assert [d.code for d in folder.diagnostics] == ["E008"]


@pytest.mark.parametrize(
    "text",
    [
        'list "Deep" active { ' + "(" * 10_000 + "email is known" + ")" * 10_000 + " }",
        "(" * 10_000,
        'list "Deep" active { ' + "not " * 10_000 + "email is known }",
        'workflow "W" on contact { ' + "if email is known { " * 10_000 + "}" * 10_000,
        'list "Escaped\\\\" active { ' + "(" * 10_000 + "email is known" + ")" * 10_000,
    ],
    ids=["parentheses", "unclosed", "not", "if-blocks", "after-escape"],
)
def test_deep_nesting_is_refused(text: str) -> None:
    """10,000 levels of nesting are one E006, with no recursion error on the way."""
    result = check_text(SCHEMA + text)
    assert [d.code for d in result.diagnostics] == ["E006"]


def test_nesting_after_an_unclosed_string_is_still_counted() -> None:
    """Strings end at the line, so an open quote cannot hide deep nesting below it."""
    text = 'list "Open\n' + 'workflow "W" on contact { ' + "if email is known { " * 100
    codes = {d.code for d in parse_text(text).diagnostics}
    assert codes == {"E006"}


def _block(number: int) -> str:
    """A realistic stretch of rules: comments, three lists and a workflow."""
    return f"""
# ---- webinar cohort {number} ----
# owner: revops, reviewed every quarter

list "Registrants {number}" active {{
  had form_submission where form is "webinar-{number}" in last 30 days
  and email is known
}}

list "Engaged {number}" active {{
  in list "Registrants {number}"
  and lifecyclestage >= lead
  and (country is any of ["US", "CA"] or company.numberofemployees >= 500)
}}

list "Held {number}" static {{ createdate is after 2026-11-01 }}

workflow "Follow up {number}" on contact {{
  enroll when in list "Engaged {number}"
  goal lifecyclestage >= opportunity
  if hs_lead_status is NEW {{
    enroll in sequence "Cold outreach" sender owner
  }} else {{
    add to list "Held {number}"
  }}
  wait 3 days
  set hs_lead_status = ATTEMPTED_TO_CONTACT
}}
"""


def big_file(lines: int) -> str:
    """A valid file of exactly `lines` lines: the corpus schema, then cohorts."""
    sequences = (CORPUS / "sequences.seq").read_text("utf-8").split("enroll list")[0]
    parts = [SCHEMA, sequences]
    count = SCHEMA.count("\n") + sequences.count("\n")
    number = 0
    while count < lines:
        block = _block(number)
        if count + block.count("\n") > lines:
            parts.append("\n" * (lines - count))
            break
        parts.append(block)
        count += block.count("\n")
        number += 1
    return "".join(parts)


@pytest.mark.slow
def test_hundred_thousand_lines_check_clean() -> None:
    """A 100,000-line valid file parses and checks clean.

    How fast it does so is measured by benchmarks/parse_speed.py, not here.
    """
    text = big_file(100_000)
    assert text.count("\n") == 100_000
    result = check_text(text)
    assert result.errors == ()
    assert result.workspace is not None
    assert len(result.workspace.lists) > 10_000
