"""Format stage, conditions: a condition on one line, or broken at `and`/`or`.

A condition that fits stays on one line; otherwise it breaks before each top-level
`and`/`or`, and groups, `where` clauses and long value lists break in turn.
Parentheses appear exactly where the AST needs them (see :func:`_needs_parens`).
"""

from __future__ import annotations

import attrs

from seqdsl import ast
from seqdsl.format.comments import Line
from seqdsl.format.lines import INDENT, WIDTH, LinePrinter, prepend
from seqdsl.format.spelling import (
    had_head,
    property_test,
    quantified_head,
    quote,
    value_text,
    window_text,
)


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


def flat(node: ast.Condition, inside: str, last: bool, where: bool) -> str:
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
                flat(item, kind, last and i == count - 1, where)
                for i, item in enumerate(node.items)
            ]
            return f" {kind} ".join(items)
        case ast.Not():
            return "not " + flat(node.item, "not", last, where)
        case ast.PropertyTest():
            return property_test(node)
        case ast.InList():
            return f"in list {quote(node.name)}"
        case ast.Had():
            parts = [had_head(node)]
            if node.where is not None:
                parts.append("where " + flat(node.where, "top", True, True))
            if node.window is not None:
                parts.append(window_text(node.window))
            return " ".join(parts)
        case ast.Quantified():
            where_text = flat(node.where, "top", True, True)
            return f"{quantified_head(node)} {where_text}"
    raise ValueError(f"internal error: {type(node).__name__} is not a condition")


@attrs.frozen
class At:
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
        return max(self.cont, self.line + INDENT)

    def fits(self, text: str) -> bool:
        return self.col + len(text) + self.reserve <= WIDTH


class ConditionPrinter(LinePrinter):
    """Lays out conditions as lists of lines, for the printers built on it."""

    def cond(self, node: ast.Condition, inside: str, at: At) -> list[Line]:
        """Lay out a condition at `at`; `inside` is as for :func:`_needs_parens`."""
        if _needs_parens(node, inside, at.last, at.where):
            return self.parens(node, at)
        text = _flat_body(node, at.last, at.where)
        if at.fits(text) and not self.has_comment(node.span):
            return [Line(at.line, text, node.span.start)]
        match node:
            case ast.And() | ast.Or():
                return self.group(node, at)
            case ast.Not():
                lines = self.cond(node.item, "not", attrs.evolve(at, col=at.col + 4))
                prepend(lines, "not ", node.span.start)
                return lines
            case ast.Had() | ast.Quantified():
                return self.where_clause(node, at)
            case ast.PropertyTest() if node.op in ast.LIST_OPS and node.values:
                head = f"{node.ref.text()} {node.op.value} ["
                items = [(value_text(v), v.span) for v in node.values]
                lines = self.fill(head, items, "]", at.line)
                lines[0].tag = node.span.start
                return lines
        return [Line(at.line, text, node.span.start)]

    def group(self, node: ast.And | ast.Or, at: At) -> list[Line]:
        """An `and`/`or` chain broken before each operator."""
        kind = "and" if isinstance(node, ast.And) else "or"
        lines: list[Line] = []
        for index, item in enumerate(node.items):
            final = index == len(node.items) - 1
            place = At(
                col=at.col if index == 0 else at.cont + len(kind) + 1,
                line=at.line if index == 0 else at.cont,
                cont=at.cont + INDENT,
                last=at.last and final,
                where=at.where,
                reserve=at.reserve if final else 0,
            )
            part = self.cond(item, kind, place)
            if index:
                prepend(part, f"{kind} ")
            lines += part
        return lines

    def parens(self, node: ast.Condition, at: At) -> list[Line]:
        """A condition in parentheses: on one line, or `(` ... `)` around a block."""
        opening = self.text.before(node.span, "(") or node.span.start - 1
        closing = self.text.after(node.span, ")") or node.span.end
        text = f"({_flat_body(node, True, at.where)})"
        if at.fits(text) and not self.text.has_comment(opening, closing + 1):
            return [Line(at.line, text, opening)]
        inner = at.nested
        body = self.cond(node, "paren", At(inner, inner, inner, where=at.where))
        closer = Line(at.line, ")", closing, inner)
        return [Line(at.line, "(", opening), *body, closer]

    def where_clause(self, node: ast.Had | ast.Quantified, at: At) -> list[Line]:
        """`had`/`any deal` broken: the `where` below it, then the window."""
        window = node.window if isinstance(node, ast.Had) else None
        if isinstance(node, ast.Had):
            head = had_head(node) + (" where" if node.where is not None else "")
        else:
            head = quantified_head(node)
        lines = [Line(at.line, head, node.span.start)]
        if node.where is not None:
            col = at.col + len(head) + 1
            where = At(col, at.line, at.nested, where=True)
            lines = self.cond(node.where, "top", where)
            prepend(lines, head + " ", node.span.start)
        if window is not None and lines[-1].text == ")":
            lines[-1].text += " " + window_text(window)
        elif window is not None:
            lines.append(Line(at.nested, window_text(window), window.span.start))
        return lines
