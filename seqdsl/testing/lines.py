"""Test-file reader support: where in a TOML test file a table or key is written.

`tomllib` gives values without positions, so errors would name no line. This
module finds them again in the text, best effort: the headers `[defaults]` and
`[[test]]` split the file into regions, a key is searched for inside its region,
and the n-th inline table of an array is found by scanning brackets outside
strings.
"""

from __future__ import annotations

import re

import attrs

_HEADER = re.compile(r"\s*\[\[?\s*([^\]]+?)\s*\]\]?")
_QUOTES = ('"""', "'''", '"', "'")


@attrs.frozen
class Region:
    """Lines `first` to `last` (1-based, inclusive) of one table of the file."""

    first: int
    last: int


class Lines:
    """Line lookups in the text of one test file."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = text.splitlines()
        self.headers = [
            (number, match[1])
            for number, line in enumerate(self.lines, 1)
            if (match := _HEADER.match(line)) and not line.lstrip().startswith("#")
        ]

    def region(self, table: str, index: int = 0) -> Region | None:
        """The `index`-th region headed `[table]` or `[[table]]`."""
        starts = [number for number, name in self.headers if name == table]
        if index >= len(starts):
            return None
        first = starts[index]
        later = [
            n
            for n, name in self.headers
            if n > first and not name.startswith(f"{table}.")
        ]
        return Region(first, (later[0] - 1) if later else len(self.lines))

    def key(self, region: Region | None, key: str, after: int = 0) -> int | None:
        """The first line at or after `after` in `region` that assigns `key`."""
        pattern = re.compile(rf"""(?:^|[\s{{,.])(["']?){re.escape(key)}\1\s*=""")
        first, last = (1, len(self.lines)) if region is None else attrs.astuple(region)
        for number in range(max(first, after), last + 1):
            if pattern.search(_code(self.lines[number - 1])):
                return number
        return None

    def item(self, region: Region | None, key: str, index: int) -> int | None:
        """The line of the `index`-th inline table (or `[[...key]]`) in array `key`."""
        if region is not None:
            tables = [
                n
                for n, name in self.headers
                if region.first <= n <= region.last and name.endswith(f".{key}")
            ]
            if tables:
                return tables[index] if index < len(tables) else None
        start = self.key(region, key)
        if start is None:
            return None
        return self._nth_table(start, index)

    def _nth_table(self, start: int, index: int) -> int | None:
        """Scan from line `start` for the `index`-th `{` directly in the array."""
        offset = sum(len(line) + 1 for line in self.lines[: start - 1])
        text = self.text[offset:]
        found, depth, position = -1, 0, text.find("=") + 1
        while position < len(text):
            quote = next((q for q in _QUOTES if text.startswith(q, position)), None)
            char = text[position]
            if quote is not None:
                end = text.find(quote, position + len(quote))
                position = len(text) if end < 0 else end + len(quote)
                continue
            if char == "#":
                position = _line_end(text, position)
                continue
            if char in "[{":
                depth += 1
                if char == "{" and depth == 2:
                    found += 1
                    if found == index:
                        return start + text.count("\n", 0, position)
            elif char in "]}":
                depth -= 1
                if depth == 0:
                    return None
            position += 1
        return None


def _line_end(text: str, position: int) -> int:
    end = text.find("\n", position)
    return len(text) if end < 0 else end


def _code(line: str) -> str:
    """A line without a trailing comment (a `#` outside quotes)."""
    quote = ""
    for index, char in enumerate(line):
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == "#":
            return line[:index]
    return line
