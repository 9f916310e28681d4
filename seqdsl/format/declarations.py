"""Format stage, declarations: objects, events, lists, workflows and sequences.

:class:`Printer` is the top of the printers: it lays out each declaration and
hands conditions and statements to the layers below it.
"""

from __future__ import annotations

from collections.abc import Sequence

from seqdsl import ast
from seqdsl.format.comments import Line
from seqdsl.format.conditions import At
from seqdsl.format.lines import INDENT, WIDTH
from seqdsl.format.spelling import flags_text, option_text, quote, time_text, type_text
from seqdsl.format.statements import StatementPrinter, sender_text, start_text
from seqdsl.source import Span


def _setting(item: ast.SequenceItem) -> str:
    """A sequence setting on one line."""
    match item:
        case ast.Sender():
            return sender_text(item).strip()
        case ast.SendWindow():
            zone = "contact" if item.contact_zone else "workspace"
            window = f"{time_text(item.start)} to {time_text(item.end)}"
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
    head = f"enroll list {quote(node.list)} in sequence {quote(node.sequence)}"
    return head + sender_text(node.sender) + start_text(node.start)


def _clause(clause: ast.Existing | ast.RunWindow) -> str:
    if isinstance(clause, ast.Existing):
        return "existing: skip" if clause.skip else "existing: enroll"
    window = f"{time_text(clause.start)} to {time_text(clause.end)}"
    return f"run on {clause.days.value} {window}"


def _step_columns(step: ast.Step) -> tuple[str, str, str]:
    delay = f"after {step.delay.text()}" if step.delay is not None else ""
    kind = f"{step.kind.value} {quote(step.content)}"
    if step.in_thread:
        kind += " in thread"
    if step.until_completed:
        kind += " until completed"
    return quote(step.name), delay, kind


class Printer(StatementPrinter):
    """Walks the AST and appends output lines, each tagged with its source offset."""

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
        items = [
            f"{p.name}: {type_text(p.type)} {flags_text(p)}".strip() for p in properties
        ]
        one_line = f"{head} {{ {'  '.join(items)} }}" if items else f"{head} {{}}"
        short = (inline or not items) and len(one_line) <= WIDTH
        if short and not self.has_comment(span):
            self.emit(0, one_line, span.start)
            return
        self.emit(0, head + " {", span.start)
        for prop in properties:
            self.property_decl(prop, INDENT)
        self.close(0, span)

    def property_decl(self, prop: ast.PropertyDecl, indent: int) -> None:
        head, flags = f"{prop.name}: ", flags_text(prop)
        whole = f"{head}{type_text(prop.type)} {flags}".strip()
        if indent + len(whole) <= WIDTH and not self.has_comment(prop.span):
            self.emit(indent, whole, prop.span.start)
            return
        self.lines.extend(self.type_lines(prop, indent))
        if flags:
            self.emit(indent + INDENT, flags, prop.span.end - 1)

    def type_lines(self, prop: ast.PropertyDecl, indent: int) -> list[Line]:
        """`name: type`, its options wrapped under the first one when too long."""
        head, type_ = f"{prop.name}: ", prop.type
        flat = head + type_text(type_)
        if type_.kind not in ("enum", "set") or (
            indent + len(flat) <= WIDTH and not self.has_comment(type_.span)
        ):
            return [Line(indent, flat, prop.span.start)]
        items = [(option_text(o), o.span) for o in type_.options]
        one_each = any(o.label is not None for o in type_.options)
        suffix = "]" + (" ordered" if type_.ordered else "")
        lines = self.fill(f"{head}{type_.kind} [", items, suffix, indent, one_each)
        lines[0].tag = prop.span.start
        return lines

    def list_decl(self, node: ast.ListDecl) -> None:
        head = f"list {quote(node.name)} {node.kind.value}"
        if node.object is not None:
            head += f" on {node.object}"
        if node.condition is None:
            self.emit(0, head, node.span.start)
            return
        self.emit(0, head + " {", node.span.start)
        body = At(INDENT, INDENT, INDENT)
        lines = self.cond(node.condition, "top", body)
        self.lines.extend(lines)
        self.close(0, node.span)

    def workflow(self, node: ast.WorkflowDecl) -> None:
        self.emit(
            0, f"workflow {quote(node.name)} on {node.object} {{", node.span.start
        )
        for clause in node.clauses:
            if isinstance(clause, ast.Trigger):
                self.head(
                    clause.kind.value + " ", clause.condition, INDENT, clause.span
                )
            else:
                self.emit(INDENT, _clause(clause), clause.span.start)
        if node.clauses and node.body:
            self.blank()
        self.statements(node.body, INDENT)
        self.close(0, node.span)

    def sequence(self, node: ast.SequenceDecl) -> None:
        self.emit(0, f"sequence {quote(node.name)} {{", node.span.start)
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
                self.emit(INDENT, _setting(item), item.span.start)
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
            self.emit(INDENT, text + kind, step.span.start)
