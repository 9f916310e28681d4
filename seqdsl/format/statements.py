"""Format stage, statements: workflow actions, waits and the blocks that branch.

`if`/`else if`/`else`, `branch on` and `split` chain their blocks on the closing
brace (`} else {`); every other statement is one line.
"""

from __future__ import annotations

from collections.abc import Sequence

from seqdsl import ast
from seqdsl.format.comments import Line
from seqdsl.format.conditions import At, ConditionPrinter, flat
from seqdsl.format.lines import INDENT, WIDTH, prepend
from seqdsl.format.spelling import (
    quote,
    time_text,
    users_text,
    value_text,
    values_text,
)
from seqdsl.source import Span

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday")


def sender_text(sender: ast.Sender | None) -> str:
    if sender is None:
        return ""
    if sender.kind is ast.SenderKind.OWNER:
        return " sender owner"
    if sender.kind is ast.SenderKind.USER:
        return f" sender user {quote(sender.users[0])}"
    return f" sender rotate among {users_text(sender.users)}"


def start_text(start: ast.StartAt | ast.Resume | None) -> str:
    if isinstance(start, ast.StartAt):
        return f" start at step {quote(start.step)}"
    return " resume" if start is not None else ""


def action_text(node: ast.Statement) -> str:
    """A one-line statement: an action or a wait."""
    match node:
        case ast.EnrollInSequence():
            head = f"enroll in sequence {quote(node.sequence)}"
            return head + sender_text(node.sender) + start_text(node.start)
        case ast.UnenrollFromSequence():
            named = f" {quote(node.sequence)}" if node.sequence is not None else ""
            return "unenroll from sequence" + named
        case ast.EnrollInWorkflow():
            return f"enroll in workflow {quote(node.workflow)}"
        case ast.SetProperty():
            return f"set {node.ref.text()} = {value_text(node.value)}"
        case ast.ClearProperty():
            return f"clear {node.ref.text()}"
        case ast.AddToList():
            return f"add to list {quote(node.list)}"
        case ast.RemoveFromList():
            return f"remove from list {quote(node.list)}"
        case ast.CreateTask():
            return _create_task(node)
        case ast.RotateOwner():
            return f"rotate owner among {users_text(node.users)}"
    return _wait(node)


def _create_task(node: ast.CreateTask) -> str:
    text = f"create task {quote(node.title)}"
    if node.user is not None:
        text += f" for user {quote(node.user)}"
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
            return text + (f" at {time_text(node.at)}" if node.at is not None else "")
        case ast.WaitUntilWeekday():
            day = (*_WEEKDAYS, "sunday")[node.weekday]
            return f"wait until {day} at {time_text(node.at)}"
        case ast.WaitUntilEvent():
            where = ""
            if node.where is not None:
                where = " where " + flat(node.where, "top", True, True)
            return (
                f"wait until had {node.event}{where} for at most {node.timeout.text()}"
            )
    raise ValueError(f"internal error: {type(node).__name__} is not a statement")


class StatementPrinter(ConditionPrinter):
    """Lays out workflow statements, appending their lines."""

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
                    self.emit(indent, action_text(node), node.span.start)

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
            at = At(col, indent, indent + 2 * INDENT, reserve=2)
        else:
            at = At(col, indent, indent + INDENT)
        lines = self.cond(condition, "top", at)
        prepend(lines, prefix, span.start)
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
                    inner=indent + INDENT,
                )
            self.statements(arm.body, indent + INDENT)
        if node.otherwise is not None:
            arm = node.arms[-1]
            after = max([arm.condition.span.end, *(s.span.end for s in arm.body)])
            self.else_line(indent, "} else {", after, node.otherwise, node.span)
            self.statements(node.otherwise, indent + INDENT)
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
        self.emit(indent, text, tag, indent + INDENT)
        return tag

    def branch_on(self, node: ast.BranchOn, indent: int) -> None:
        self.emit(indent, f"branch on {node.ref.text()} {{", node.span.start)
        inner = indent + INDENT
        for arm in node.arms:
            values = arm.values
            shown = value_text(values[0]) if len(values) == 1 else values_text(values)
            self.emit(inner, f"{shown} -> {{", arm.span.start)
            self.statements(arm.body, inner + INDENT)
            self.close(inner, arm.span)
        if node.otherwise is not None:
            after = node.arms[-1].span.end if node.arms else node.ref.span.end
            tag = self.else_line(inner, "else -> {", after, node.otherwise, node.span)
            self.lines[-1].inner = inner
            self.statements(node.otherwise, inner + INDENT)
            if node.otherwise:
                brace = self.text.after(node.otherwise[-1].span, "}")
            else:
                brace = self.text.find("}", tag, node.span.end - 1)
            self.emit(inner, "}", brace or node.span.end - 1, inner + INDENT)
        self.close(indent, node.span)

    def split(self, node: ast.Split, indent: int) -> None:
        for index, arm in enumerate(node.arms):
            if index == 0:
                self.emit(indent, f"split {arm.percent} {{", node.span.start)
            else:
                self.emit(
                    indent, f"}} {arm.percent} {{", arm.span.start, indent + INDENT
                )
            self.statements(arm.body, indent + INDENT)
        self.close(indent, node.span)

    def wait_until_event(self, node: ast.WaitUntilEvent, indent: int) -> None:
        text = action_text(node)
        if indent + len(text) <= WIDTH and not self.has_comment(node.span):
            self.emit(indent, text, node.span.start)
            return
        head = f"wait until had {node.event}"
        nested = indent + INDENT
        lines = [Line(indent, head, node.span.start)]
        if node.where is not None:
            col = indent + len(head) + len(" where ")
            where = At(col, indent, nested, where=True)
            lines = self.cond(node.where, "top", where)
            prepend(lines, f"{head} where ", node.span.start)
        timeout = f"for at most {node.timeout.text()}"
        self.lines.extend([*lines, Line(nested, timeout, node.timeout.span.start)])
