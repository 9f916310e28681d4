"""The examples in docs/language.md parse: the reference never shows broken syntax."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from seqdsl.parse import parse_text

DOCS = Path(__file__).parent.parent / "docs" / "language.md"
_DECLARATION = re.compile(r"^(object|event|list|workflow|sequence|enroll list)\b")


def _blocks() -> list[tuple[int, str]]:
    """The untagged fenced blocks (rule text) with their first line number."""
    blocks: list[tuple[int, str]] = []
    lines = DOCS.read_text(encoding="utf-8").splitlines()
    body: list[str] = []
    inside, tag, start = False, "", 0
    for number, line in enumerate(lines, 1):
        if line.startswith("```") and not inside:
            inside, tag, start, body = True, line[3:].strip(), number, []
        elif line.startswith("```"):
            inside = False
            if not tag:
                blocks.append((start, "\n".join(body)))
        elif inside:
            body.append(line)
    return blocks


def _as_rule_text(block: str) -> list[str]:
    """A declaration block as is; a block of condition lines as one list each."""
    if _DECLARATION.match(block.lstrip()):
        return [block]
    lines = [line.split("#")[0].strip() for line in block.splitlines()]
    return [f'list "doc" active {{ {line} }}' for line in lines if line]


@pytest.mark.parametrize(("line", "block"), _blocks())
def test_language_reference_examples_parse(line: int, block: str) -> None:
    """Every rule example of docs/language.md parses without a diagnostic."""
    for text in _as_rule_text(block):
        result = parse_text(text, f"language.md:{line}")
        assert result.diagnostics == (), (text, result.diagnostics)
