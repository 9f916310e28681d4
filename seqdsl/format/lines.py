"""Format stage, output primitives: the base printer that appends tagged lines.

:class:`LinePrinter` holds the output lines and the source text around the nodes;
the printers of conditions, statements and declarations build on it, each adding
the layout of one level of the language.
"""

from __future__ import annotations

from collections.abc import Sequence

from seqdsl.format.comments import Line, SourceText
from seqdsl.source import Span

#: The line width the layout aims for.
WIDTH = 88
INDENT = 2


class LinePrinter:
    """Appends output lines, each tagged with its source offset."""

    def __init__(self, text: SourceText) -> None:
        self.text = text
        self.lines: list[Line] = []

    def emit(self, indent: int, text: str, tag: int, inner: int | None = None) -> None:
        self.lines.append(Line(indent, text, tag, inner))

    def blank(self) -> None:
        self.lines.append(Line(0, "", None))

    def has_comment(self, span: Span) -> bool:
        return self.text.has_comment(span.start, span.end)

    def close(self, indent: int, span: Span) -> None:
        """The `}` that ends the node at `span`; comments before it go inside."""
        self.emit(indent, "}", span.end - 1, inner=indent + INDENT)

    def fill(
        self,
        head: str,
        items: Sequence[tuple[str, Span]],
        suffix: str,
        indent: int,
        one_each: bool = False,
    ) -> list[Line]:
        """`head` then the items, comma-separated, wrapped under the first item."""
        hang = indent + len(head)
        lines = [Line(indent, head, items[0][1].start if items else 0)]
        for index, (text, span) in enumerate(items):
            piece = text + ("," if index < len(items) - 1 else suffix)
            line = lines[-1]
            gap = "" if line.text.endswith("[") else " "
            fits = line.indent + len(line.text) + len(gap) + len(piece) <= WIDTH
            after_comment = index > 0 and self.text.has_comment(
                items[index - 1][1].start, span.start
            )
            if index == 0 or (fits and not one_each and not after_comment):
                line.text += gap + piece
            else:
                lines.append(Line(hang, piece, span.start))
        if not items:
            lines[0].text += suffix
        return lines


def prepend(lines: list[Line], text: str, tag: int | None = None) -> None:
    """Put `text` before the first line, which then starts at `tag` when given."""
    lines[0].text = text + lines[0].text
    if tag is not None:
        lines[0].tag = tag
