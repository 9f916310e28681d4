"""Source text and spans: where in which file a piece of syntax came from.

Spans are byte-free character offsets; lines and columns are computed only when a
diagnostic is rendered, from the :class:`Source` the span points into.
"""

from __future__ import annotations

import bisect
import functools

import attrs


@attrs.frozen
class Span:
    """Half-open character range ``[start, end)`` in the file at `path`."""

    path: str
    start: int
    end: int

    def cover(self, other: Span) -> Span:
        return Span(self.path, min(self.start, other.start), max(self.end, other.end))


#: The span of nodes that were built in code rather than parsed.
NO_SPAN = Span("<none>", 0, 0)


@attrs.frozen
class Position:
    line: int  # 1-based
    column: int  # 1-based, in characters


@attrs.frozen
class Source:
    """The text of one file, with line lookup for rendering."""

    path: str
    text: str

    @functools.cached_property
    def _line_starts(self) -> list[int]:
        starts = [0]
        starts.extend(i + 1 for i, char in enumerate(self.text) if char == "\n")
        return starts

    def position(self, offset: int) -> Position:
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self._line_starts, offset) - 1
        return Position(line + 1, offset - self._line_starts[line] + 1)

    def line_text(self, line: int) -> str:
        """The text of a 1-based line, without its newline."""
        starts = self._line_starts
        if not 1 <= line <= len(starts):
            return ""
        end = starts[line] - 1 if line < len(starts) else len(self.text)
        return self.text[starts[line - 1] : end].rstrip("\r")
