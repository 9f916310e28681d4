"""Format stage, comments: output lines tagged with source offsets; comments put back.

Every output line remembers the source offset of the code it starts with. Once the
printer is done, :func:`render` gives each comment the line it belongs to, by
those offsets, so comments keep their order and their neighbours.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence

import attrs

from seqdsl.parse import Comment
from seqdsl.source import Span


@attrs.define
class Line:
    """One output line; `tag` is the source offset of the code it starts with."""

    indent: int
    text: str
    tag: int | None
    inner: int | None = None  # indent of comments put before it, when not `indent`

    @property
    def comment_indent(self) -> int:
        return self.indent if self.inner is None else self.inner


class SourceText:
    """The source text around the nodes, for the positions the AST does not keep."""

    def __init__(self, text: str | None, comments: Sequence[Comment]) -> None:
        self.text = text
        self.offsets = [c.offset for c in comments]
        self.ends = [c.offset + len(c.text) for c in comments]
        self._skip = dict(zip(self.offsets, self.ends, strict=True))

    def has_comment(self, start: int, end: int) -> bool:
        """Is there a comment strictly inside `start`..`end`?"""
        index = bisect.bisect_right(self.offsets, start)
        return index < len(self.offsets) and self.offsets[index] < end

    def find(self, word: str, start: int, end: int) -> int | None:
        """The offset of `word` between two nodes, skipping comments."""
        if self.text is None:
            return None
        index = start
        while index < end:
            if index in self._skip:
                index = self._skip[index]
            elif self.text.startswith(word, index):
                return index
            else:
                index += 1
        return None

    def before(self, span: Span, char: str) -> int | None:
        """The offset of `char` if it is the first code before the node."""
        index = span.start - 1
        while self.text is not None and index >= 0:
            comment = bisect.bisect_right(self.offsets, index) - 1
            if comment >= 0 and index < self.ends[comment]:
                index = self.offsets[comment] - 1
            elif self.text[index].isspace():
                index -= 1
            else:
                return index if self.text[index] == char else None
        return None

    def after(self, span: Span, char: str) -> int | None:
        """The offset of `char` if it is the first code after the node."""
        index = span.end
        while self.text is not None and index < len(self.text):
            if index in self._skip:
                index = self._skip[index]
            elif self.text[index].isspace():
                index += 1
            else:
                return index if self.text[index] == char else None
        return None

    def blank_after(self, comment: Comment) -> bool:
        """Does a blank line follow the comment in the source?"""
        if self.text is None:
            return False
        end = comment.offset + len(comment.text)
        follows = re.match(r"[ \t\r]*\n[ \t\r]*\n", self.text[end : end + 256])
        return follows is not None and end + follows.end() < len(self.text)

    def blank_before(self, comment: Comment) -> bool:
        """Does a blank line precede the comment in the source?"""
        if self.text is None:
            return False
        start = self.text.rfind("\n", 0, comment.offset)
        previous = self.text.rfind("\n", 0, max(start, 0))
        return start > 0 and not self.text[previous + 1 : start].strip()


def render(lines: list[Line], comments: Sequence[Comment], text: SourceText) -> str:
    """Join the lines, with each comment put before or after the line it belongs to."""
    before, after, end = _place(lines, comments)
    out: list[str] = []
    for index, line in enumerate(lines):
        for comment in before.get(index, ()):
            out.append(" " * line.comment_indent + comment.text.rstrip())
            if line.comment_indent == 0 and text.blank_after(comment):
                out.append("")
        code = " " * line.indent + line.text if line.text else ""
        trailing = after.get(index, [])
        if trailing and not trailing[0].own_line:
            code += "  " + trailing.pop(0).text.rstrip()
        out.append(code)
        out.extend(" " * line.indent + c.text.rstrip() for c in trailing)
    for comment in end:
        if out and out[-1] and text.blank_before(comment):
            out.append("")
        out.append(comment.text.rstrip())
    return "\n".join(out) + "\n" if out else ""


def _place(
    lines: list[Line], comments: Sequence[Comment]
) -> tuple[dict[int, list[Comment]], dict[int, list[Comment]], list[Comment]]:
    """Give each comment a line: before the next line of code, or after its own line.

    Lines are matched in source order, so a clause moved up takes its comments along;
    a comment never goes before one that preceded it in the source.
    """
    tagged = sorted(
        (i for i, line in enumerate(lines) if line.tag is not None),
        key=lambda i: lines[i].tag or 0,
    )
    tags = [lines[i].tag or 0 for i in tagged]
    before: dict[int, list[Comment]] = {}
    after: dict[int, list[Comment]] = {}
    end: list[Comment] = []
    floor = (0, 0)  # (position among the lines in source order, 0 before / 1 after)
    for comment in comments:
        if comment.own_line:
            slot = (bisect.bisect_right(tags, comment.offset), 0)
        else:
            slot = (bisect.bisect_left(tags, comment.offset) - 1, 1)
        slot = floor = max(slot, floor)
        position, phase = slot
        if position >= len(tagged):
            end.append(comment)
        else:
            target = before if phase == 0 else after
            target.setdefault(tagged[position], []).append(comment)
    return before, after, end
