"""Corpus tests: realistic rule files through parse and check, diagnostics snapshotted.

`tests/corpus/valid/*.seq` form one workspace that must check clean. Each file of
`tests/corpus/invalid/` is checked together with that workspace, and its rendered
diagnostics must equal the `.expected` file next to it. Run with
`SEQDSL_UPDATE_SNAPSHOTS=1` to rewrite the snapshots after an intended change.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import pytest

from seqdsl.check import check
from seqdsl.checked import CheckResult
from seqdsl.diagnostics import CODES, render_full
from seqdsl.lint import RULES
from seqdsl.parse import ParseResult, parse_file
from seqdsl.workspace import Settings

CORPUS = Path(__file__).parent / "corpus"
VALID = sorted((CORPUS / "valid").glob("*.seq"))
INVALID = sorted((CORPUS / "invalid").glob("*.seq"))
UPDATE = os.environ.get("SEQDSL_UPDATE_SNAPSHOTS") == "1"

#: Codes no rule file can produce, and where each is pinned instead.
NOT_IN_CORPUS = {
    "E008": "an unreadable file; tests/test_robustness.py",
    "E401": "invalid seqdsl.toml, reported by the load stage",
    "E999": "an internal error; tests/test_check.py",
}


def _parse(path: Path) -> ParseResult:
    return parse_file(path, path.relative_to(CORPUS).as_posix())


@functools.cache
def _valid_results() -> tuple[ParseResult, ...]:
    return tuple(_parse(path) for path in VALID)


#: The corpus pins the check stage; lint rules have their own fixtures in tests/lint.
SETTINGS = Settings(root=CORPUS, lint={"ignore": sorted(RULES)})


def _check_with_valid(path: Path) -> CheckResult:
    return check([*_valid_results(), _parse(path)], SETTINGS)


def render(result: CheckResult) -> str:
    """Every diagnostic in full, separated by blank lines."""
    blocks = [render_full(item, result.sources) for item in result.diagnostics]
    return "\n\n".join(blocks) + "\n" if blocks else ""


def test_valid_corpus_checks_clean() -> None:
    """The valid files, checked together, have no diagnostics at all."""
    result = check(_valid_results(), SETTINGS)
    assert render(result) == ""
    assert result.workspace is not None


@pytest.mark.parametrize("path", INVALID, ids=lambda path: path.stem)
def test_invalid_file_matches_snapshot(path: Path) -> None:
    """The rendered diagnostics of an invalid file equal its `.expected` snapshot."""
    result = _check_with_valid(path)
    rendered = render(result)
    expected = path.with_suffix(".expected")
    if UPDATE:
        expected.write_text(rendered, encoding="utf-8")
    assert rendered == expected.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", INVALID, ids=lambda path: path.stem)
def test_invalid_file_reports_its_code_only_in_itself(path: Path) -> None:
    """A file named `eNNN_...` reports ENNN, and nothing in the valid files."""
    result = _check_with_valid(path)
    code = path.stem.split("_")[0].upper()
    assert code in {item.code for item in result.diagnostics}
    assert {item.span.path for item in result.diagnostics} == {
        path.relative_to(CORPUS).as_posix()
    }
    assert result.workspace is None


def test_every_code_has_an_invalid_file() -> None:
    """Every registered code is shown by some snapshot, or pinned elsewhere."""
    shown = {
        line.split(": ", 1)[1].split()[0]
        for path in INVALID
        for line in path.with_suffix(".expected").read_text("utf-8").splitlines()
        if line and not line.startswith(" ")
    }
    assert set(CODES) - set(NOT_IN_CORPUS) <= shown
    assert set(NOT_IN_CORPUS) <= set(CODES)
