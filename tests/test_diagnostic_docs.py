"""The diagnostic docs and the code registries agree, and the examples are true.

docs/diagnostics.md documents every code of `seqdsl.diagnostics.CODES` as
`## CODE: title`. Lint codes may be documented there in the same form or in
docs/lint-rules.md (`### L001 name`); either way, the documented lint codes
and the lint registry must be the same set.
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Mapping
from pathlib import Path

import pytest

from seqdsl.check import check
from seqdsl.diagnostics import CODES
from seqdsl.parse import ParseResult, parse_file, parse_text
from seqdsl.workspace import Settings

DOCS = Path(__file__).parent.parent / "docs" / "diagnostics.md"
LINT_DOCS = DOCS.with_name("lint-rules.md")
CORPUS = Path(__file__).parent / "corpus" / "valid"
_HEADING = re.compile(r"^## ([EL]\d{3}): (.+)$", re.MULTILINE)
_LINT_HEADING = re.compile(r"^#{2,3} (L\d{3})\b", re.MULTILINE)
_BLOCK = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)

#: Places where the lint stage may keep its own code registry.
_LINT_REGISTRIES = (
    ("seqdsl.diagnostics", "LINT_CODES"),
    ("seqdsl.lint", "CODES"),
    ("seqdsl.lint", "RULES"),
    ("seqdsl.check.lint", "CODES"),
)
#: Codes whose situation cannot be written as a rule file; their example is text.
_TEXT_ONLY = {"E005", "E008", "E401", "E999"}


def sections() -> dict[str, tuple[str, str]]:
    """code -> (title, body) of every `## CODE: title` section."""
    text = DOCS.read_text(encoding="utf-8")
    found: dict[str, tuple[str, str]] = {}
    matches = list(_HEADING.finditer(text))
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        assert match.group(1) not in found, f"{match.group(1)} documented twice"
        found[match.group(1)] = (match.group(2), text[match.end() : end])
    return found


def lint_codes() -> dict[str, str]:
    """Lint codes from whichever lint registry exists (none yet is fine)."""
    codes: dict[str, str] = {}
    for module_name, attribute in _LINT_REGISTRIES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        registry = getattr(module, attribute, None)
        if isinstance(registry, Mapping):
            codes.update({str(code): str(code) for code in registry})
    return codes


def documented_lint_codes() -> set[str]:
    """Lint codes with a section in either document."""
    found = {code for code in sections() if code.startswith("L")}
    if LINT_DOCS.exists():
        found |= set(_LINT_HEADING.findall(LINT_DOCS.read_text(encoding="utf-8")))
    return found


def test_every_registered_code_is_documented() -> None:
    """Every code of the registry has its `## CODE: title` section, and back."""
    documented = {code for code in sections() if not code.startswith("L")}
    assert documented == {code for code in CODES if not code.startswith("L")}


def test_documented_lint_codes_are_the_lint_registry() -> None:
    """Lint codes are documented exactly when a lint registry knows them."""
    registered = {code for code in CODES if code.startswith("L")}
    assert documented_lint_codes() == registered | set(lint_codes())


def test_titles_match_the_registry() -> None:
    """A section's heading carries the registry's one-line title."""
    for code, (title, _) in sections().items():
        if code in CODES:
            assert title == CODES[code], code


def test_every_section_explains_shows_and_fixes() -> None:
    """Each section has prose, one example block, and a way to fix it."""
    for code, (_, body) in sections().items():
        blocks = _BLOCK.findall(body)
        assert len(blocks) == 1, code
        prose = _BLOCK.sub("", body).strip().split("\n\n")
        assert len(prose) >= 2, f"{code}: say what it means and how to fix it"


@functools.cache
def _workspace() -> tuple[ParseResult, ...]:
    return tuple(parse_file(path, path.name) for path in sorted(CORPUS.glob("*.seq")))


@pytest.mark.parametrize("code", sorted(c for c in CODES if c.startswith("E")))
def test_rule_examples_report_their_code(code: str) -> None:
    """Checking a section's example (with a typical workspace) reports its code."""
    (language, example), *_ = _BLOCK.findall(sections()[code][1])
    if code in _TEXT_ONLY:
        assert language == "text"
        assert f" {code} " in example
        return
    assert language == "seq"
    example_file = parse_text(example, "example.seq")
    result = check([*_workspace(), example_file], Settings(root=CORPUS))
    assert code in {item.code for item in result.diagnostics}
