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

import bisect
import datetime as dt
import logging
import re
import time
from collections.abc import Sequence

import attrs

from seqdsl import ast
from seqdsl.diagnostics import Diagnostic
from seqdsl.parse import Comment, parse_text
from seqdsl.source import Span

log = logging.getLogger("seqdsl.format")

#: The line width the layout aims for.
WIDTH = 88
_INDENT = 2

#: Bare words that the parser reads as keywords right after `is` (`p is known`), so
#: an equality test with such a word value must keep its `=` spelling.
_KEYWORDS_AFTER_IS = frozenset(
    {"not", "any", "none", "exactly", "known", "unknown"}
    | {"between", "before", "after", "on", "more"}
)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday")


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
    printer = _Printer(_Text(source, ordered))
    for index, declaration in enumerate(module.declarations):
        if index:
            printer.blank()
        printer.declaration(declaration)
    return _render(printer.lines, ordered, printer.text)


# ---------------------------------------------------------------- output lines


@attrs.define
class _Line:
    """One output line; `tag` is the source offset of the code it starts with."""

    indent: int
    text: str
    tag: int | None
    inner: int | None = None  # indent of comments put before it, when not `indent`

    @property
    def comment_indent(self) -> int:
        return self.indent if self.inner is None else self.inner


class _Text:
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


def _render(lines: list[_Line], comments: Sequence[Comment], text: _Text) -> str:
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
    lines: list[_Line], comments: Sequence[Comment]
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


# ---------------------------------------------------------------- small texts


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _word(text: str) -> str:
    """An option or other word: bare when it is a name, quoted otherwise."""
    return text if _NAME.fullmatch(text) else _quote(text)


def _time(value: dt.time) -> str:
    return f"{value.hour:02d}:{value.minute:02d}"


def _value(value: ast.Value) -> str:
    match value:
        case ast.StringValue():
            return _quote(value.text)
        case ast.BoolValue():
            return "true" if value.value else "false"
        case ast.WordValue():
            return value.name
        case ast.DateValue():
            return value.value.isoformat()
        case _:
            return value.text


def _values(values: Sequence[ast.Value]) -> str:
    return "[" + ", ".join(_value(v) for v in values) + "]"


def _users(users: Sequence[str]) -> str:
    return "[" + ", ".join(_quote(u) for u in users) + "]"


def _needs(value: ast.Duration | None) -> ast.Duration:
    if value is None:
        raise ValueError("internal error: a duration test without its duration")
    return value


def _test(test: ast.PropertyTest) -> str:
    """A property test in its canonical spelling."""
    ref, op, values = test.ref.text(), test.op, [_value(v) for v in test.values]
    if op in ast.LIST_OPS:
        return f"{ref} {op.value} {_values(test.values)}"
    if op is ast.Op.MORE_THAN_AGO:
        return f"{ref} is more than {_needs(test.duration).text()} ago"
    if op is ast.Op.MORE_THAN_AHEAD:
        return f"{ref} is more than {_needs(test.duration).text()} from now"
    if op in ast.DURATION_OPS:
        return f"{ref} {op.value} {_needs(test.duration).text()}"
    if op in (ast.Op.BETWEEN, ast.Op.NOT_BETWEEN):
        return f"{ref} {op.value} {values[0]} and {values[1]}"
    if op is ast.Op.CHANGED_FROM_TO:
        return f"{ref} changed from {values[0]} to {values[1]}"
    if not values:
        return f"{ref} {op.value}"
    return f"{ref} {_spelling(test)} {values[0]}"


def _spelling(test: ast.PropertyTest) -> str:
    """`is`/`is not`, or `=`/`!=` where a bare word would read as a keyword."""
    word = test.values[0]
    if not isinstance(word, ast.WordValue):
        return test.op.value
    if test.op is ast.Op.IS and word.name in _KEYWORDS_AFTER_IS:
        return "="
    if test.op is ast.Op.IS_NOT and word.name == "between":
        return "!="
    return test.op.value


def _window(window: ast.Window) -> str:
    if isinstance(window, ast.SinceEnrolled):
        return "since enrolled"
    return f"in last {window.duration.text()}"


def _had_head(had: ast.Had) -> str:
    words = ["had", "no" if had.negated else "", had.event]
    if had.count is not None:
        words.append(f"{had.count.kind.value} {had.count.times} times")
    return " ".join(w for w in words if w)


def _quantified_head(node: ast.Quantified) -> str:
    if node.quantifier is ast.Quantifier.AT_LEAST:
        return f"at least {node.times} {node.object} where"
    return f"{node.quantifier.value} {node.object} where"


def _is_open(node: ast.Condition) -> bool:
    """Does the node end in a `where` clause that would take a following `and`?"""
    if isinstance(node, ast.Quantified):
        return True
    return isinstance(node, ast.Had) and node.where is not None and node.window is None


def _needs_parens(node: ast.Condition, inside: str, last: bool, where: bool) -> bool:
    """Does `node` need parentheses where it stands?

    `inside` is `top` (a whole condition or `where` clause), `paren` (directly inside
    parentheses), `and`, `or` or `not`; `last` says whether anything of the enclosing
    condition follows it; `where` is true inside a `where` clause, whose `or` always
    takes parentheses.
    """
    if inside == "paren":
        return False
    if inside == "not" and isinstance(node, ast.PropertyTest):
        return True  # `not (p is v)`: without them it reads as `(not p) is v`
    if isinstance(node, ast.Or):
        return where or inside in ("and", "not")
    if isinstance(node, ast.And):
        return inside == "not"
    return not last and _is_open(node)


def _flat(node: ast.Condition, inside: str, last: bool, where: bool) -> str:
    """The condition on one line, with exactly the parentheses it needs."""
    if _needs_parens(node, inside, last, where):
        return f"({_flat_body(node, True, where)})"
    return _flat_body(node, last, where)


def _flat_body(node: ast.Condition, last: bool, where: bool) -> str:
    match node:
        case ast.And() | ast.Or():
            kind = "and" if isinstance(node, ast.And) else "or"
            count = len(node.items)
            items = [
                _flat(item, kind, last and i == count - 1, where)
                for i, item in enumerate(node.items)
            ]
            return f" {kind} ".join(items)
        case ast.Not():
            return "not " + _flat(node.item, "not", last, where)
        case ast.PropertyTest():
            return _test(node)
        case ast.InList():
            return f"in list {_quote(node.name)}"
        case ast.Had():
            parts = [_had_head(node)]
            if node.where is not None:
                parts.append("where " + _flat(node.where, "top", True, True))
            if node.window is not None:
                parts.append(_window(node.window))
            return " ".join(parts)
        case ast.Quantified():
            where_text = _flat(node.where, "top", True, True)
            return f"{_quantified_head(node)} {where_text}"
    raise ValueError(f"internal error: {type(node).__name__} is not a condition")


def _sender(sender: ast.Sender | None) -> str:
    if sender is None:
        return ""
    if sender.kind is ast.SenderKind.OWNER:
        return " sender owner"
    if sender.kind is ast.SenderKind.USER:
        return f" sender user {_quote(sender.users[0])}"
    return f" sender rotate among {_users(sender.users)}"


def _start(start: ast.StartAt | ast.Resume | None) -> str:
    if isinstance(start, ast.StartAt):
        return f" start at step {_quote(start.step)}"
    return " resume" if start is not None else ""


def _action(node: ast.Statement) -> str:
    """A one-line statement: an action or a wait."""
    match node:
        case ast.EnrollInSequence():
            head = f"enroll in sequence {_quote(node.sequence)}"
            return head + _sender(node.sender) + _start(node.start)
        case ast.UnenrollFromSequence():
            named = f" {_quote(node.sequence)}" if node.sequence is not None else ""
            return "unenroll from sequence" + named
        case ast.EnrollInWorkflow():
            return f"enroll in workflow {_quote(node.workflow)}"
        case ast.SetProperty():
            return f"set {node.ref.text()} = {_value(node.value)}"
        case ast.ClearProperty():
            return f"clear {node.ref.text()}"
        case ast.AddToList():
            return f"add to list {_quote(node.list)}"
        case ast.RemoveFromList():
            return f"remove from list {_quote(node.list)}"
        case ast.CreateTask():
            return _create_task(node)
        case ast.RotateOwner():
            return f"rotate owner among {_users(node.users)}"
    return _wait(node)


def _create_task(node: ast.CreateTask) -> str:
    text = f"create task {_quote(node.title)}"
    if node.user is not None:
        text += f" for user {_quote(node.user)}"
    elif node.for_owner:
        text += " for owner"
    if node.due is not None:
        text += f" due in {node.due.text()}"
    return text


def _wait(node: ast.Statement) -> str:
    match node:
        case ast.WaitFor():
            return f"wait {node.duration.text()}"
        case ast.WaitUntilDate():
            text = f"wait until {node.ref.text()}"
            if node.offset is not None:
                sign = "minus" if node.before else "plus"
                text += f" {sign} {node.offset.text()}"
            return text + (f" at {_time(node.at)}" if node.at is not None else "")
        case ast.WaitUntilWeekday():
            day = (*_WEEKDAYS, "sunday")[node.weekday]
            return f"wait until {day} at {_time(node.at)}"
        case ast.WaitUntilEvent():
            where = ""
            if node.where is not None:
                where = " where " + _flat(node.where, "top", True, True)
            return (
                f"wait until had {node.event}{where} for at most {node.timeout.text()}"
            )
    raise ValueError(f"internal error: {type(node).__name__} is not a statement")


def _setting(item: ast.SequenceItem) -> str:
    """A sequence setting on one line."""
    match item:
        case ast.Sender():
            return _sender(item).strip()
        case ast.SendWindow():
            zone = "contact" if item.contact_zone else "workspace"
            window = f"{_time(item.start)} to {_time(item.end)}"
            return f"send window {window} in {zone} time zone"
        case ast.FollowUp():
            return f"follow up on {item.days.value}"
        case ast.Limit():
            return f"limit {item.amount} {item.kind.value} per day per sender"
        case ast.AutoUnenroll():
            return "unenroll when " + " or ".join(r.value for r in item.reasons)
        case ast.QueueIfEnrolled():
            return "queue if already enrolled"
    raise ValueError(f"internal error: {type(item).__name__} is not a setting")


def _list_enrollment(node: ast.ListEnrollment) -> str:
    head = f"enroll list {_quote(node.list)} in sequence {_quote(node.sequence)}"
    return head + _sender(node.sender) + _start(node.start)


def _clause(clause: ast.Existing | ast.RunWindow) -> str:
    if isinstance(clause, ast.Existing):
        return "existing: skip" if clause.skip else "existing: enroll"
    window = f"{_time(clause.start)} to {_time(clause.end)}"
    return f"run on {clause.days.value} {window}"


def _step_columns(step: ast.Step) -> tuple[str, str, str]:
    delay = f"after {step.delay.text()}" if step.delay is not None else ""
    kind = f"{step.kind.value} {_quote(step.content)}"
    if step.in_thread:
        kind += " in thread"
    if step.until_completed:
        kind += " until completed"
    return _quote(step.name), delay, kind


def _option(option: ast.OptionDecl) -> str:
    label = f" label {_quote(option.label)}" if option.label is not None else ""
    return _word(option.value) + label


def _flags(prop: ast.PropertyDecl) -> str:
    flags = f"label {_quote(prop.label)}" if prop.label is not None else ""
    if prop.deprecated:
        flags = f"{flags} deprecated".strip()
    return flags


def _type(type_: ast.TypeExpr) -> str:
    if type_.kind not in ("enum", "set"):
        return type_.kind
    ordered = " ordered" if type_.ordered else ""
    return f"{type_.kind} [{', '.join(_option(o) for o in type_.options)}]{ordered}"


# ---------------------------------------------------------------- the printer


class _Printer:
    """Walks the AST and appends output lines, each tagged with its source offset."""

    def __init__(self, text: _Text) -> None:
        self.text = text
        self.lines: list[_Line] = []

    def emit(self, indent: int, text: str, tag: int, inner: int | None = None) -> None:
        self.lines.append(_Line(indent, text, tag, inner))

    def blank(self) -> None:
        self.lines.append(_Line(0, "", None))

    def has_comment(self, span: Span) -> bool:
        return self.text.has_comment(span.start, span.end)

    def close(self, indent: int, span: Span) -> None:
        """The `}` that ends the node at `span`; comments before it go inside."""
        self.emit(indent, "}", span.end - 1, inner=indent + _INDENT)

    # -- declarations

    def declaration(self, node: ast.Declaration) -> None:
        match node:
            case ast.ObjectDecl():
                self.schema(f"object {node.name}", node.properties, node.span)
            case ast.EventDecl():
                self.schema(f"event {node.name}", node.fields, node.span, inline=True)
            case ast.ListDecl():
                self.list_decl(node)
            case ast.WorkflowDecl():
                self.workflow(node)
            case ast.SequenceDecl():
                self.sequence(node)
            case ast.ListEnrollment():
                self.emit(0, _list_enrollment(node), node.span.start)

    def schema(
        self,
        head: str,
        properties: Sequence[ast.PropertyDecl],
        span: Span,
        *,
        inline: bool = False,
    ) -> None:
        """An object or event; events and empty bodies may take one line."""
        items = [f"{p.name}: {_type(p.type)} {_flags(p)}".strip() for p in properties]
        one_line = f"{head} {{ {'  '.join(items)} }}" if items else f"{head} {{}}"
        short = (inline or not items) and len(one_line) <= WIDTH
        if short and not self.has_comment(span):
            self.emit(0, one_line, span.start)
            return
        self.emit(0, head + " {", span.start)
        for prop in properties:
            self.property_decl(prop, _INDENT)
        self.close(0, span)

    def property_decl(self, prop: ast.PropertyDecl, indent: int) -> None:
        head, flags = f"{prop.name}: ", _flags(prop)
        whole = f"{head}{_type(prop.type)} {flags}".strip()
        if indent + len(whole) <= WIDTH and not self.has_comment(prop.span):
            self.emit(indent, whole, prop.span.start)
            return
        self.lines.extend(self.type_lines(prop, indent))
        if flags:
            self.emit(indent + _INDENT, flags, prop.span.end - 1)

    def type_lines(self, prop: ast.PropertyDecl, indent: int) -> list[_Line]:
        """`name: type`, its options wrapped under the first one when too long."""
        head, type_ = f"{prop.name}: ", prop.type
        flat = head + _type(type_)
        if type_.kind not in ("enum", "set") or (
            indent + len(flat) <= WIDTH and not self.has_comment(type_.span)
        ):
            return [_Line(indent, flat, prop.span.start)]
        items = [(_option(o), o.span) for o in type_.options]
        one_each = any(o.label is not None for o in type_.options)
        suffix = "]" + (" ordered" if type_.ordered else "")
        lines = self.fill(f"{head}{type_.kind} [", items, suffix, indent, one_each)
        lines[0].tag = prop.span.start
        return lines

    def fill(
        self,
        head: str,
        items: Sequence[tuple[str, Span]],
        suffix: str,
        indent: int,
        one_each: bool = False,
    ) -> list[_Line]:
        """`head` then the items, comma-separated, wrapped under the first item."""
        hang = indent + len(head)
        lines = [_Line(indent, head, items[0][1].start if items else 0)]
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
                lines.append(_Line(hang, piece, span.start))
        if not items:
            lines[0].text += suffix
        return lines

    def list_decl(self, node: ast.ListDecl) -> None:
        head = f"list {_quote(node.name)} {node.kind.value}"
        if node.object is not None:
            head += f" on {node.object}"
        if node.condition is None:
            self.emit(0, head, node.span.start)
            return
        self.emit(0, head + " {", node.span.start)
        body = _At(_INDENT, _INDENT, _INDENT)
        lines = self.cond(node.condition, "top", body)
        self.lines.extend(lines)
        self.close(0, node.span)

    def workflow(self, node: ast.WorkflowDecl) -> None:
        self.emit(
            0, f"workflow {_quote(node.name)} on {node.object} {{", node.span.start
        )
        for clause in node.clauses:
            if isinstance(clause, ast.Trigger):
                self.head(
                    clause.kind.value + " ", clause.condition, _INDENT, clause.span
                )
            else:
                self.emit(_INDENT, _clause(clause), clause.span.start)
        if node.clauses and node.body:
            self.blank()
        self.statements(node.body, _INDENT)
        self.close(0, node.span)

    def sequence(self, node: ast.SequenceDecl) -> None:
        self.emit(0, f"sequence {_quote(node.name)} {{", node.span.start)
        run: list[ast.Step] = []
        for index, item in enumerate(node.items):
            is_step = isinstance(item, ast.Step)
            if index and is_step != isinstance(node.items[index - 1], ast.Step):
                self.steps(run)
                run = []
                self.blank()
            if isinstance(item, ast.Step):
                run.append(item)
            else:
                self.emit(_INDENT, _setting(item), item.span.start)
        self.steps(run)
        self.close(0, node.span)

    def steps(self, steps: Sequence[ast.Step]) -> None:
        """Steps with their name, delay and kind aligned in columns."""
        columns = [_step_columns(step) for step in steps]
        name_width = max((len(name) for name, _, _ in columns), default=0)
        delay_width = max((len(delay) for _, delay, _ in columns), default=0)
        for step, (name, delay, kind) in zip(steps, columns, strict=True):
            text = f"step {name.ljust(name_width)}  "
            if delay_width:
                text += f"{delay.ljust(delay_width)}  "
            self.emit(_INDENT, text + kind, step.span.start)

    # -- statements

    def statements(self, body: Sequence[ast.Statement], indent: int) -> None:
        for node in body:
            match node:
                case ast.If():
                    self.if_(node, indent)
                case ast.BranchOn():
                    self.branch_on(node, indent)
                case ast.Split():
                    self.split(node, indent)
                case ast.WaitUntilEvent():
                    self.wait_until_event(node, indent)
                case _:
                    self.emit(indent, _action(node), node.span.start)

    def head(
        self,
        prefix: str,
        condition: ast.Condition,
        indent: int,
        span: Span,
        *,
        opens: bool = False,
        inner: int | None = None,
    ) -> None:
        """A clause or `if` line with its condition; `opens` ends it with `{`.

        An `if` condition continues four spaces in, apart from the block below it.
        """
        col = indent + len(prefix)
        if opens:
            at = _At(col, indent, indent + 2 * _INDENT, reserve=2)
        else:
            at = _At(col, indent, indent + _INDENT)
        lines = self.cond(condition, "top", at)
        _prefix(lines, prefix, span.start)
        lines[0].inner = inner
        if opens:
            lines[-1].text += " {"
        self.lines.extend(lines)

    def if_(self, node: ast.If, indent: int) -> None:
        for index, arm in enumerate(node.arms):
            if index == 0:
                self.head("if ", arm.condition, indent, node.span, opens=True)
            else:
                self.head(
                    "} else if ",
                    arm.condition,
                    indent,
                    arm.span,
                    opens=True,
                    inner=indent + _INDENT,
                )
            self.statements(arm.body, indent + _INDENT)
        if node.otherwise is not None:
            arm = node.arms[-1]
            after = max([arm.condition.span.end, *(s.span.end for s in arm.body)])
            self.else_line(indent, "} else {", after, node.otherwise, node.span)
            self.statements(node.otherwise, indent + _INDENT)
        self.close(indent, node.span)

    def else_line(
        self,
        indent: int,
        text: str,
        after: int,
        body: Sequence[ast.Statement],
        parent: Span,
    ) -> int:
        """An `else` opener; without the source, comments before it stay above it."""
        before = body[0].span.start if body else parent.end - 1
        found = self.text.find("else", after, before)
        tag = before - 1 if found is None else found
        self.emit(indent, text, tag, indent + _INDENT)
        return tag

    def branch_on(self, node: ast.BranchOn, indent: int) -> None:
        self.emit(indent, f"branch on {node.ref.text()} {{", node.span.start)
        inner = indent + _INDENT
        for arm in node.arms:
            values = arm.values
            shown = _value(values[0]) if len(values) == 1 else _values(values)
            self.emit(inner, f"{shown} -> {{", arm.span.start)
            self.statements(arm.body, inner + _INDENT)
            self.close(inner, arm.span)
        if node.otherwise is not None:
            after = node.arms[-1].span.end if node.arms else node.ref.span.end
            tag = self.else_line(inner, "else -> {", after, node.otherwise, node.span)
            self.lines[-1].inner = inner
            self.statements(node.otherwise, inner + _INDENT)
            if node.otherwise:
                brace = self.text.after(node.otherwise[-1].span, "}")
            else:
                brace = self.text.find("}", tag, node.span.end - 1)
            self.emit(inner, "}", brace or node.span.end - 1, inner + _INDENT)
        self.close(indent, node.span)

    def split(self, node: ast.Split, indent: int) -> None:
        for index, arm in enumerate(node.arms):
            if index == 0:
                self.emit(indent, f"split {arm.percent} {{", node.span.start)
            else:
                self.emit(
                    indent, f"}} {arm.percent} {{", arm.span.start, indent + _INDENT
                )
            self.statements(arm.body, indent + _INDENT)
        self.close(indent, node.span)

    def wait_until_event(self, node: ast.WaitUntilEvent, indent: int) -> None:
        text = _action(node)
        if indent + len(text) <= WIDTH and not self.has_comment(node.span):
            self.emit(indent, text, node.span.start)
            return
        head = f"wait until had {node.event}"
        nested = indent + _INDENT
        lines = [_Line(indent, head, node.span.start)]
        if node.where is not None:
            col = indent + len(head) + len(" where ")
            where = _At(col, indent, nested, where=True)
            lines = self.cond(node.where, "top", where)
            _prefix(lines, f"{head} where ", node.span.start)
        timeout = f"for at most {node.timeout.text()}"
        self.lines.extend([*lines, _Line(nested, timeout, node.timeout.span.start)])

    # -- conditions

    def cond(self, node: ast.Condition, inside: str, at: _At) -> list[_Line]:
        """Lay out a condition at `at`; `inside` is as for :func:`_needs_parens`."""
        if _needs_parens(node, inside, at.last, at.where):
            return self.parens(node, at)
        text = _flat_body(node, at.last, at.where)
        if at.fits(text) and not self.has_comment(node.span):
            return [_Line(at.line, text, node.span.start)]
        match node:
            case ast.And() | ast.Or():
                return self.group(node, at)
            case ast.Not():
                lines = self.cond(node.item, "not", attrs.evolve(at, col=at.col + 4))
                _prefix(lines, "not ", node.span.start)
                return lines
            case ast.Had() | ast.Quantified():
                return self.where_clause(node, at)
            case ast.PropertyTest() if node.op in ast.LIST_OPS and node.values:
                head = f"{node.ref.text()} {node.op.value} ["
                items = [(_value(v), v.span) for v in node.values]
                lines = self.fill(head, items, "]", at.line)
                lines[0].tag = node.span.start
                return lines
        return [_Line(at.line, text, node.span.start)]

    def group(self, node: ast.And | ast.Or, at: _At) -> list[_Line]:
        """An `and`/`or` chain broken before each operator."""
        kind = "and" if isinstance(node, ast.And) else "or"
        lines: list[_Line] = []
        for index, item in enumerate(node.items):
            final = index == len(node.items) - 1
            place = _At(
                col=at.col if index == 0 else at.cont + len(kind) + 1,
                line=at.line if index == 0 else at.cont,
                cont=at.cont + _INDENT,
                last=at.last and final,
                where=at.where,
                reserve=at.reserve if final else 0,
            )
            part = self.cond(item, kind, place)
            if index:
                _prefix(part, f"{kind} ")
            lines += part
        return lines

    def parens(self, node: ast.Condition, at: _At) -> list[_Line]:
        """A condition in parentheses: on one line, or `(` ... `)` around a block."""
        opening = self.text.before(node.span, "(") or node.span.start - 1
        closing = self.text.after(node.span, ")") or node.span.end
        text = f"({_flat_body(node, True, at.where)})"
        if at.fits(text) and not self.text.has_comment(opening, closing + 1):
            return [_Line(at.line, text, opening)]
        inner = at.nested
        body = self.cond(node, "paren", _At(inner, inner, inner, where=at.where))
        closer = _Line(at.line, ")", closing, inner)
        return [_Line(at.line, "(", opening), *body, closer]

    def where_clause(self, node: ast.Had | ast.Quantified, at: _At) -> list[_Line]:
        """`had`/`any deal` broken: the `where` below it, then the window."""
        window = node.window if isinstance(node, ast.Had) else None
        if isinstance(node, ast.Had):
            head = _had_head(node) + (" where" if node.where is not None else "")
        else:
            head = _quantified_head(node)
        lines = [_Line(at.line, head, node.span.start)]
        if node.where is not None:
            col = at.col + len(head) + 1
            where = _At(col, at.line, at.nested, where=True)
            lines = self.cond(node.where, "top", where)
            _prefix(lines, head + " ", node.span.start)
        if window is not None and lines[-1].text == ")":
            lines[-1].text += " " + _window(window)
        elif window is not None:
            lines.append(_Line(at.nested, _window(window), window.span.start))
        return lines


@attrs.frozen
class _At:
    """Where a condition is laid out."""

    col: int  # the column its first character goes to
    line: int  # the indent of the line it starts on
    cont: int  # the indent of its own `and`/`or` continuation lines
    last: bool = True  # nothing of the enclosing condition follows it
    where: bool = False  # it is (part of) a `where` clause
    reserve: int = 0  # room to keep after it on its last line (for ` {`)

    @property
    def nested(self) -> int:
        """The indent of nested structure: a `where` clause, a parenthesised block."""
        return max(self.cont, self.line + _INDENT)

    def fits(self, text: str) -> bool:
        return self.col + len(text) + self.reserve <= WIDTH


def _prefix(lines: list[_Line], text: str, tag: int | None = None) -> None:
    """Put `text` before the first line, which then starts at `tag` when given."""
    lines[0].text = text + lines[0].text
    if tag is not None:
        lines[0].tag = tag


__all__ = ["WIDTH", "FormatResult", "format_module", "format_text"]
