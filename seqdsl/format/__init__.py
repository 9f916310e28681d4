"""Format stage: an AST and its comments back to canonical rule text (`seqdsl fmt`).

The formatter prints what the parser read, so a formatted file parses to an equal AST
and formatting twice changes nothing. A file with syntax errors is never formatted.

The canonical layout, meant to read well in a pull request:

- Declarations are separated by one blank line; blocks indent by two spaces; lines
  aim to stay within 88 characters.
- `object` declarations list one property per line. An `event` stays on one line,
  `event page_view { url: string }` (fields separated by two spaces), when the whole
  declaration fits and holds no comment; otherwise it lists one field per line too.
- A property is `name: type` followed by `label "..."` and `deprecated`. Options that
  do not fit wrap with a hanging indent under the first option; labelled options go one
  per line. When the line is still too long, the flags move to the next line.
- A list is `list "Name" active {`, its condition on the lines below, then `}`.
- A condition that fits on its line stays on one line. Otherwise it breaks before each
  top-level `and`/`or`; an `and` group inside an `or` indents two more spaces, and a
  group in parentheses that does not fit opens `(` at the end of a line and closes `)`
  on a line of its own. A `where` clause that does not fit breaks before each of its
  `and`s, indented under its event or object, with the event window on a line below.
  A long value list wraps like enum options.
- Parentheses appear where the AST needs them: `or` inside `and`, `and`/`or` under
  `not`, every `or` inside a `where`, and a `where` clause without a window that is not
  last in its chain (`(any deal where ...) or ...`). One more pair is kept for
  readability: a negated property test prints as `not (country is "US")`, which would
  otherwise read as `(not country) is "US"`.
- Spellings are canonical: `=` prints as `is` and `!=` as `is not` (unless the value
  is a bare word the parser would read as a keyword there, such as `known`),
  `not (in list "X")` prints as `not in list "X"`, durations are singular for one
  (`1 business day`), strings are re-escaped; numbers, dates and times stay as written.
  Actions keep `set p = v`.
- A workflow lists its clauses first, in the order written, then a blank line, then its
  statements. `if`/`else if`/`else`, `branch on` and `split` chain their blocks on the
  closing brace: `} else {`, `} 50% {`. A condition too long for an `if` line continues
  four spaces in, so it stands apart from the block.
- A sequence lists its settings, a blank line, then its steps with the names, the
  `after` delays and the step kinds aligned in columns.

Comments are never lost and keep their order. An own-line comment stays on its own line
before the line of code that follows it, at that line's indentation; at the end of a
block it stays before the `}`; at the end of the file it stays at the end. A trailing
comment stays at the end of the line of the code it followed; a condition group that
holds a comment is broken so that each comment keeps its neighbours. A blank line after
a comment at declaration level (a file or section header) is kept. The one reordering:
a workflow clause written after statements moves up with its comments.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

import attrs

from seqdsl import ast
from seqdsl.diagnostics import Diagnostic
from seqdsl.format.comments import SourceText, render
from seqdsl.format.declarations import Printer
from seqdsl.format.lines import WIDTH
from seqdsl.parse import Comment, parse_text

log = logging.getLogger("seqdsl.format")

__all__ = ["WIDTH", "FormatResult", "format_module", "format_text"]


@attrs.frozen
class FormatResult:
    """The formatted text, or None when the input does not parse."""

    text: str | None
    diagnostics: tuple[Diagnostic, ...]


def format_text(text: str, path: str = "<text>") -> FormatResult:
    """Format rule text; text with syntax errors comes back as diagnostics only."""
    started = time.perf_counter()
    text = text.removeprefix("\ufeff")
    parsed = parse_text(text, path)
    if not parsed.ok:
        return FormatResult(None, parsed.diagnostics)
    formatted = format_module(parsed.module, parsed.comments, source=text)
    log.debug("formatted %s in %.3f s", path, time.perf_counter() - started)
    return FormatResult(formatted, parsed.diagnostics)


def format_module(
    module: ast.Module,
    comments: Sequence[Comment] = (),
    *,
    source: str | None = None,
) -> str:
    """Print a module in canonical layout with its comments put back.

    `source`, the text the module was parsed from, lets comments next to an `else`
    or a closing parenthesis land exactly and keeps blank lines after header comments.
    """
    ordered = sorted(comments, key=lambda c: c.offset)
    printer = Printer(SourceText(source, ordered))
    for index, declaration in enumerate(module.declarations):
        if index:
            printer.blank()
        printer.declaration(declaration)
    return render(printer.lines, ordered, printer.text)
