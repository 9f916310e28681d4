"""Parse stage, AST building: the node each grammar rule makes as it is reduced.

:mod:`seqdsl.parse` drives Lark's LALR parser and, at every reduction, hands the
rule's children to the :class:`Builder` method named after the rule, with the
keywords and punctuation left out. The method returns the AST node, so the tree
is built bottom-up while the text is read and no parse tree is ever made.
Literals the grammar accepts but Python cannot read, such as `25:00` or
`2026-02-30`, become E007 diagnostics and a placeholder value.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import attrs
from lark import Token

from seqdsl import ast
from seqdsl.diagnostics import Diagnostic, diagnostic
from seqdsl.source import Span

_Method = TypeVar("_Method", bound=Callable[..., Any])

#: Builder methods that take the span of their rule before its children.
SPANNED: set[str] = set()

#: Rules that take `and`/`or` chains still being read: the chains themselves and
#: the parentheses around them. Every other rule gets finished nodes.
CHAIN_RULES = frozenset({"and_", "or_", "atom", "where_atom"})


def _spanned(method: _Method) -> _Method:
    SPANNED.add(method.__name__)
    return method


def _unquote(token: str) -> str:
    body = token[1:-1]
    return re.sub(r"\\(.)", r"\1", body) if "\\" in body else body


@attrs.frozen
class Chain:
    """An `and` or `or` chain still being read; joined into one node when complete.

    The grammar's chains are left-recursive, so they reduce once per operator.
    Copying the items into a new node each time made long chains quadratic; a
    chain instead links to the one before it and is joined once.
    """

    node: type[ast.And] | type[ast.Or]
    items: tuple[ast.Condition, ...]
    before: Chain | None
    span: Span

    def joined(self) -> ast.And | ast.Or:
        parts = []
        link: Chain | None = self
        while link is not None:
            parts.append(link.items)
            link = link.before
        items = tuple(item for part in reversed(parts) for item in part)
        return self.node(items, span=self.span)


def _chain(
    node: type[ast.And] | type[ast.Or], span: Span, children: list[Any]
) -> Chain:
    """Extend the chain on the left, or start one; chains of a kind flatten."""
    left, *rest = children
    before = None
    if isinstance(left, Chain) and left.node is node:
        before, children = left, rest  # the chain so far: linked, not copied
    items: list[ast.Condition] = []
    for child in children:
        value = child.joined() if isinstance(child, Chain) else child
        items.extend(value.items if isinstance(value, node) else (value,))
    return Chain(node, tuple(items), before, span)


_UNITS = {
    "minute": ast.Unit.MINUTES,
    "hour": ast.Unit.HOURS,
    "day": ast.Unit.DAYS,
    "week": ast.Unit.WEEKS,
    "business day": ast.Unit.BUSINESS_DAYS,
}
_DAY_RULES = {
    "every day": ast.DayRule.EVERY_DAY,
    "weekdays": ast.DayRule.WEEKDAYS,
    "business days": ast.DayRule.BUSINESS_DAYS,
}
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
_COMPARATORS = {
    "<": ast.Op.LT,
    "<=": ast.Op.LE,
    ">": ast.Op.GT,
    ">=": ast.Op.GE,
    "!=": ast.Op.IS_NOT,
}
_SIMPLE_OPS = {
    "is_": ast.Op.IS,
    "equals": ast.Op.IS,
    "is_not": ast.Op.IS_NOT,
    "is_any_of": ast.Op.IS_ANY_OF,
    "is_none_of": ast.Op.IS_NONE_OF,
    "contains": ast.Op.CONTAINS,
    "not_contains": ast.Op.NOT_CONTAINS,
    "starts_with": ast.Op.STARTS_WITH,
    "not_starts_with": ast.Op.NOT_STARTS_WITH,
    "ends_with": ast.Op.ENDS_WITH,
    "not_ends_with": ast.Op.NOT_ENDS_WITH,
    "contains_any": ast.Op.CONTAINS_ANY,
    "contains_all": ast.Op.CONTAINS_ALL,
    "contains_none": ast.Op.CONTAINS_NONE,
    "is_exactly": ast.Op.IS_EXACTLY,
    "is_known": ast.Op.IS_KNOWN,
    "is_unknown": ast.Op.IS_UNKNOWN,
    "between": ast.Op.BETWEEN,
    "not_between": ast.Op.NOT_BETWEEN,
    "before": ast.Op.BEFORE,
    "after": ast.Op.AFTER,
    "on": ast.Op.ON,
    "in_last": ast.Op.IN_LAST,
    "in_next": ast.Op.IN_NEXT,
    "more_than_ago": ast.Op.MORE_THAN_AGO,
    "more_than_ahead": ast.Op.MORE_THAN_AHEAD,
    "ever_been": ast.Op.EVER_BEEN,
    "never_been": ast.Op.NEVER_BEEN,
    "updated_in_last": ast.Op.UPDATED_IN_LAST,
    "changed": ast.Op.CHANGED,
    "changed_to": ast.Op.CHANGED_TO,
    "changed_from_to": ast.Op.CHANGED_FROM_TO,
}


@attrs.frozen
class _Predicate:
    """A property test without its property; joined with the `ref` one level up."""

    op: ast.Op
    values: tuple[ast.Value, ...]
    duration: ast.Duration | None


def _predicate(op: ast.Op) -> Any:
    def build(self: Builder, children: list[Any]) -> _Predicate:
        values: list[ast.Value] = []
        duration = None
        for child in children:
            if isinstance(child, ast.Duration):
                duration = child
            elif isinstance(child, list):
                values.extend(child)
            elif child is not None:
                values.append(child)
        return _Predicate(op, tuple(values), duration)

    return build


class Builder:
    """Builds AST nodes from the children of each rule; bad literals become problems.

    Every public method is named after the grammar rule or alias it builds, and
    gets the rule's children without keywords and punctuation; a `_spanned` one
    gets the rule's span first. The reader sets `path` and `base` before each
    parse and takes the `problems` after it.
    """

    def __init__(self) -> None:
        self.path = "<text>"
        self.base = 0  # where the text being read starts in its file
        self.problems: list[Diagnostic] = []

    def _token_span(self, token: Token) -> Span:
        start = (token.start_pos or 0) + self.base
        end = token.end_pos
        end = end + self.base if end else start + len(token)
        return Span(self.path, start, end)

    def _bad_literal(self, token: Token, what: str, hint: str) -> None:
        message = f"`{token}` is not a valid {what}"
        span = self._token_span(token)
        self.problems.append(diagnostic("E007", message, span, hint))

    def _whole(self, token: Token) -> int:
        try:
            return int(token)
        except ValueError:  # more digits than Python converts to a number
            limit = sys.get_int_max_str_digits()
            message = f"this number has more than {limit} digits"
            span = self._token_span(token)
            self.problems.append(diagnostic("E007", message, span))
            return 0

    # -- literals

    def _time(self, token: Token) -> dt.time:
        try:
            return dt.time.fromisoformat(str(token))
        except ValueError:
            self._bad_literal(
                token, "time of day", "write hours 00-23 and minutes 00-59"
            )
            return dt.time(0, 0)

    def _duration(self, amount: Token, unit: Token, span: Span) -> ast.Duration:
        words = " ".join(str(unit).split())
        kind = _UNITS[words.removesuffix("s")]
        return ast.Duration(self._whole(amount), kind, span=span)

    @_spanned
    def duration(self, span: Span, children: list[Token]) -> ast.Duration:
        return self._duration(children[0], children[1], span)

    @_spanned
    def string_value(self, span: Span, children: list[Token]) -> ast.StringValue:
        return ast.StringValue(_unquote(children[0]), span=span)

    @_spanned
    def number_value(self, span: Span, children: list[Token]) -> ast.NumberValue:
        return ast.NumberValue(str(children[0]), span=span)

    @_spanned
    def bool_value(self, span: Span, children: list[Token]) -> ast.BoolValue:
        return ast.BoolValue(children[0] == "true", span=span)

    @_spanned
    def word_value(self, span: Span, children: list[Token]) -> ast.WordValue:
        return ast.WordValue(str(children[0]), span=span)

    @_spanned
    def date_value(self, span: Span, children: list[Token]) -> ast.DateValue:
        try:
            value = dt.date.fromisoformat(str(children[0]))
        except ValueError:
            self._bad_literal(children[0], "date", "write dates as YYYY-MM-DD")
            value = dt.date(1970, 1, 1)
        return ast.DateValue(value, span=span)

    @_spanned
    def datetime_value(self, span: Span, children: list[Token]) -> ast.DateTimeValue:
        text = str(children[0])
        try:
            dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            self._bad_literal(children[0], "date and time", "write YYYY-MM-DD HH:MM")
        return ast.DateTimeValue(text, span=span)

    def value_list(self, children: list[Any]) -> list[ast.Value]:
        return [child for child in children if child is not None]

    def word(self, children: list[Token]) -> str:
        token = children[0]
        return _unquote(token) if token.type == "STRING" else str(token)

    # -- schema

    @_spanned
    def object_decl(self, span: Span, children: list[Any]) -> ast.ObjectDecl:
        name, *properties = children
        return ast.ObjectDecl(
            str(name),
            tuple(properties),
            span=span,
            name_span=self._token_span(name),
        )

    @_spanned
    def event_decl(self, span: Span, children: list[Any]) -> ast.EventDecl:
        name, *fields = children
        return ast.EventDecl(
            str(name),
            tuple(fields),
            span=span,
            name_span=self._token_span(name),
        )

    @_spanned
    def property_decl(self, span: Span, children: list[Any]) -> ast.PropertyDecl:
        name, type_expr, *flags = children
        labels = [value for kind, value in flags if kind == "label"]
        return ast.PropertyDecl(
            str(name),
            type_expr,
            label=labels[-1] if labels else None,
            deprecated=any(kind == "deprecated" for kind, _ in flags),
            span=span,
        )

    def label_flag(self, children: list[Token]) -> tuple[str, str]:
        return ("label", _unquote(children[0]))

    def deprecated_flag(self, children: list[Token]) -> tuple[str, str]:
        return ("deprecated", "")

    @_spanned
    def scalar_type(self, span: Span, children: list[Token]) -> ast.TypeExpr:
        return ast.TypeExpr(str(children[0]), span=span)

    @_spanned
    def enum_type(self, span: Span, children: list[Any]) -> ast.TypeExpr:
        options = children[0]
        ordered = len(children) > 1 and children[1] is not None
        return ast.TypeExpr("enum", options, ordered, span=span)

    @_spanned
    def set_type(self, span: Span, children: list[Any]) -> ast.TypeExpr:
        return ast.TypeExpr("set", children[0], span=span)

    def options(self, children: list[Any]) -> tuple[ast.OptionDecl, ...]:
        return tuple(child for child in children if child is not None)

    @_spanned
    def option(self, span: Span, children: list[Any]) -> ast.OptionDecl:
        label = _unquote(children[1]) if len(children) > 1 and children[1] else None
        return ast.OptionDecl(children[0], label, span=span)

    # -- lists

    @_spanned
    def list_decl(self, span: Span, children: list[Any]) -> ast.ListDecl:
        name, kind, *rest = children
        on = next((c for c in rest if isinstance(c, Token)), None)
        body = next(
            (c for c in rest if c is not None and not isinstance(c, Token)), None
        )
        return ast.ListDecl(
            _unquote(name),
            ast.ListKind(str(kind)),
            str(on) if on is not None else None,
            body,
            span=span,
            name_span=self._token_span(name),
        )

    def on_object(self, children: list[Token]) -> Token:
        return children[0]

    def list_body(self, children: list[Any]) -> Any:
        return children[0]

    # -- conditions

    @_spanned
    def or_(self, span: Span, children: list[Any]) -> Chain:
        return _chain(ast.Or, span, children)

    @_spanned
    def and_(self, span: Span, children: list[Any]) -> Chain:
        return _chain(ast.And, span, children)

    def atom(self, children: list[Any]) -> Any:
        """`(condition)`: the condition keeps its span, inside the parentheses."""
        return children[0]

    where_atom = atom

    @_spanned
    def not_(self, span: Span, children: list[Any]) -> ast.Not:
        return ast.Not(children[0], span=span)

    @_spanned
    def in_list(self, span: Span, children: list[Token]) -> ast.InList:
        return ast.InList(_unquote(children[0]), span=span)

    @_spanned
    def quantified(self, span: Span, children: list[Any]) -> ast.Quantified:
        word, name, where = children
        quantifier = ast.Quantifier(str(word))
        return ast.Quantified(quantifier, str(name), where, span=span)

    @_spanned
    def at_least_quantified(self, span: Span, children: list[Any]) -> ast.Quantified:
        times, name, where = children
        return ast.Quantified(
            ast.Quantifier.AT_LEAST,
            str(name),
            where,
            times=self._whole(times),
            span=span,
        )

    @_spanned
    def had_open(self, span: Span, children: list[Any]) -> ast.Had:
        return self._had(span, children)

    @_spanned
    def had_closed(self, span: Span, children: list[Any]) -> ast.Had:
        return self._had(span, children)

    def _had(self, span: Span, children: list[Any]) -> ast.Had:
        negated = False
        event = ""
        count = where = window = None
        for child in children:
            if isinstance(child, Token) and child.type == "NEGATION":
                negated = True
            elif isinstance(child, Token):
                event = str(child)
            elif isinstance(child, ast.Count):
                count = child
            elif isinstance(child, ast.LastWindow | ast.SinceEnrolled):
                window = child
            elif child is not None:
                where = child
        return ast.Had(event, negated, count, where, window, span=span)

    def _count(
        self, kind: ast.CountKind, span: Span, children: list[Token]
    ) -> ast.Count:
        return ast.Count(kind, self._whole(children[0]), span=span)

    @_spanned
    def at_least(self, span: Span, children: list[Token]) -> ast.Count:
        return self._count(ast.CountKind.AT_LEAST, span, children)

    @_spanned
    def at_most(self, span: Span, children: list[Token]) -> ast.Count:
        return self._count(ast.CountKind.AT_MOST, span, children)

    @_spanned
    def exactly(self, span: Span, children: list[Token]) -> ast.Count:
        return self._count(ast.CountKind.EXACTLY, span, children)

    @_spanned
    def window_last(self, span: Span, children: list[Any]) -> ast.LastWindow:
        return ast.LastWindow(children[0], span=span)

    @_spanned
    def window_enrolled(self, span: Span, children: list[Any]) -> ast.SinceEnrolled:
        return ast.SinceEnrolled(span=span)

    @_spanned
    def property_condition(self, span: Span, children: list[Any]) -> ast.PropertyTest:
        ref, predicate = children
        return ast.PropertyTest(
            ref,
            predicate.op,
            predicate.values,
            predicate.duration,
            span=span,
        )

    @_spanned
    def ref(self, span: Span, children: list[Token]) -> ast.Ref:
        if len(children) == 2 and children[1] is not None:
            return ast.Ref(str(children[1]), str(children[0]), span=span)
        return ast.Ref(str(children[0]), span=span)

    def compare(self, children: list[Any]) -> _Predicate:
        return _Predicate(_COMPARATORS[str(children[0])], (children[1],), None)

    # -- workflows

    @_spanned
    def workflow_decl(self, span: Span, children: list[Any]) -> ast.WorkflowDecl:
        name, on, *items = children
        clauses = tuple(
            i
            for i in items
            if isinstance(i, ast.Trigger | ast.Existing | ast.RunWindow)
        )
        body = tuple(
            i
            for i in items
            if not isinstance(i, ast.Trigger | ast.Existing | ast.RunWindow)
        )
        return ast.WorkflowDecl(
            _unquote(name),
            str(on),
            clauses,
            body,
            span=span,
            name_span=self._token_span(name),
        )

    def _trigger(
        self, kind: ast.TriggerKind, span: Span, children: list[Any]
    ) -> ast.Trigger:
        return ast.Trigger(kind, children[0], span=span)

    @_spanned
    def enroll_when(self, span: Span, children: list[Any]) -> ast.Trigger:
        return self._trigger(ast.TriggerKind.ENROLL, span, children)

    @_spanned
    def reenroll_when(self, span: Span, children: list[Any]) -> ast.Trigger:
        return self._trigger(ast.TriggerKind.REENROLL, span, children)

    @_spanned
    def goal(self, span: Span, children: list[Any]) -> ast.Trigger:
        return self._trigger(ast.TriggerKind.GOAL, span, children)

    @_spanned
    def suppress_when(self, span: Span, children: list[Any]) -> ast.Trigger:
        return self._trigger(ast.TriggerKind.SUPPRESS, span, children)

    @_spanned
    def unenroll_when(self, span: Span, children: list[Any]) -> ast.Trigger:
        return self._trigger(ast.TriggerKind.UNENROLL, span, children)

    @_spanned
    def existing(self, span: Span, children: list[Token]) -> ast.Existing:
        return ast.Existing(children[0] == "skip", span=span)

    @_spanned
    def run_window(self, span: Span, children: list[Token]) -> ast.RunWindow:
        days, start, end = children
        return ast.RunWindow(
            _DAY_RULES[" ".join(days.split())],
            self._time(start),
            self._time(end),
            span=span,
        )

    def block(self, children: list[Any]) -> tuple[Any, ...]:
        return tuple(children)

    @_spanned
    def if_branch(self, span: Span, children: list[Any]) -> ast.If:
        condition, body, *rest = children
        arms = [ast.IfArm(condition, body, span=span)]
        otherwise = None
        for item in rest:
            if isinstance(item, ast.IfArm):
                arms.append(item)
            elif item is not None:
                otherwise = item[1]
        return ast.If(tuple(arms), otherwise, span=span)

    @_spanned
    def else_if(self, span: Span, children: list[Any]) -> ast.IfArm:
        return ast.IfArm(children[0], children[1], span=span)

    def else_block(self, children: list[Any]) -> tuple[str, tuple[Any, ...]]:
        return ("else", children[0])

    @_spanned
    def branch_on(self, span: Span, children: list[Any]) -> ast.BranchOn:
        ref, *rest = children
        arms = tuple(item for item in rest if isinstance(item, ast.BranchArm))
        others = [item[1] for item in rest if isinstance(item, tuple)]
        otherwise = others[0] if others else None
        return ast.BranchOn(ref, arms, otherwise, span=span)

    @_spanned
    def branch_arm(self, span: Span, children: list[Any]) -> ast.BranchArm:
        values, body = children
        values = tuple(values) if isinstance(values, list) else (values,)
        return ast.BranchArm(values, body, span=span)

    def branch_else(self, children: list[Any]) -> tuple[str, tuple[Any, ...]]:
        return ("else", children[0])

    @_spanned
    def split(self, span: Span, children: list[Any]) -> ast.Split:
        return ast.Split(tuple(children), span=span)

    @_spanned
    def split_arm(self, span: Span, children: list[Any]) -> ast.SplitArm:
        return ast.SplitArm(str(children[0]), children[1], span=span)

    @_spanned
    def wait_for(self, span: Span, children: list[Any]) -> ast.WaitFor:
        return ast.WaitFor(children[0], span=span)

    @_spanned
    def wait_until_date(self, span: Span, children: list[Any]) -> ast.WaitUntilDate:
        name, *rest = children
        offset = next((c for c in rest if isinstance(c, tuple)), None)
        at = next((c for c in rest if isinstance(c, dt.time)), None)
        ref = ast.Ref(str(name), span=self._token_span(name))
        return ast.WaitUntilDate(
            ref,
            offset[1] if offset else None,
            before=bool(offset and offset[0] == "minus"),
            at=at,
            span=span,
        )

    def offset(self, children: list[Any]) -> tuple[str, ast.Duration]:
        return (str(children[0]), children[1])

    def at_time(self, children: list[Token]) -> dt.time:
        return self._time(children[0])

    @_spanned
    def wait_until_weekday(
        self, span: Span, children: list[Token]
    ) -> ast.WaitUntilWeekday:
        day, time = children
        weekday = [*_WEEKDAYS, "sunday"].index(str(day))
        return ast.WaitUntilWeekday(weekday, self._time(time), span=span)

    @_spanned
    def wait_until_event(self, span: Span, children: list[Any]) -> ast.WaitUntilEvent:
        name, *rest = children
        where = rest[0] if len(rest) == 2 else None
        return ast.WaitUntilEvent(str(name), where, rest[-1], span=span)

    # -- actions

    @_spanned
    def enroll_in_sequence(
        self, span: Span, children: list[Any]
    ) -> ast.EnrollInSequence:
        name, *rest = children
        sender = next((c for c in rest if isinstance(c, ast.Sender)), None)
        start = next((c for c in rest if isinstance(c, ast.StartAt | ast.Resume)), None)
        return ast.EnrollInSequence(_unquote(name), sender, start, span=span)

    @_spanned
    def unenroll_from_sequence(
        self, span: Span, children: list[Any]
    ) -> ast.UnenrollFromSequence:
        name = children[0] if children else None
        sequence = _unquote(name) if name is not None else None
        return ast.UnenrollFromSequence(sequence, span=span)

    @_spanned
    def enroll_in_workflow(
        self, span: Span, children: list[Token]
    ) -> ast.EnrollInWorkflow:
        return ast.EnrollInWorkflow(_unquote(children[0]), span=span)

    @_spanned
    def set_property(self, span: Span, children: list[Any]) -> ast.SetProperty:
        return ast.SetProperty(children[0], children[1], span=span)

    @_spanned
    def clear_property(self, span: Span, children: list[Any]) -> ast.ClearProperty:
        return ast.ClearProperty(children[0], span=span)

    @_spanned
    def add_to_list(self, span: Span, children: list[Token]) -> ast.AddToList:
        return ast.AddToList(_unquote(children[0]), span=span)

    @_spanned
    def remove_from_list(self, span: Span, children: list[Token]) -> ast.RemoveFromList:
        return ast.RemoveFromList(_unquote(children[0]), span=span)

    @_spanned
    def create_task(self, span: Span, children: list[Any]) -> ast.CreateTask:
        title, *rest = children
        assignee = next((c for c in rest if isinstance(c, tuple)), None)
        due = next((c for c in rest if isinstance(c, ast.Duration)), None)
        return ast.CreateTask(
            _unquote(title),
            user=assignee[1] if assignee and assignee[0] == "user" else None,
            for_owner=bool(assignee and assignee[0] == "owner"),
            due=due,
            span=span,
        )

    def assign_owner(self, children: list[Any]) -> tuple[str, str]:
        return ("owner", "")

    def assign_user(self, children: list[Token]) -> tuple[str, str]:
        return ("user", _unquote(children[0]))

    def due(self, children: list[Any]) -> ast.Duration:
        duration: ast.Duration = children[0]
        return duration

    @_spanned
    def rotate_owner(self, span: Span, children: list[Any]) -> ast.RotateOwner:
        return ast.RotateOwner(children[0], span=span)

    def user_list(self, children: list[Token]) -> tuple[str, ...]:
        return tuple(_unquote(child) for child in children if child is not None)

    @_spanned
    def sender_owner(self, span: Span, children: list[Any]) -> ast.Sender:
        return ast.Sender(ast.SenderKind.OWNER, span=span)

    @_spanned
    def sender_user(self, span: Span, children: list[Token]) -> ast.Sender:
        users = (_unquote(children[0]),)
        return ast.Sender(ast.SenderKind.USER, users, span=span)

    @_spanned
    def sender_rotation(self, span: Span, children: list[Any]) -> ast.Sender:
        return ast.Sender(ast.SenderKind.ROTATION, children[0], span=span)

    @_spanned
    def start_at(self, span: Span, children: list[Token]) -> ast.StartAt:
        return ast.StartAt(_unquote(children[0]), span=span)

    @_spanned
    def resume(self, span: Span, children: list[Any]) -> ast.Resume:
        return ast.Resume(span=span)

    # -- sequences

    @_spanned
    def sequence_decl(self, span: Span, children: list[Any]) -> ast.SequenceDecl:
        name, *items = children
        return ast.SequenceDecl(
            _unquote(name),
            tuple(items),
            span=span,
            name_span=self._token_span(name),
        )

    @_spanned
    def send_window(self, span: Span, children: list[Any]) -> ast.SendWindow:
        start, end, *zone = children
        contact_zone = not zone or zone[0] is None or zone[0] == "contact"
        return ast.SendWindow(
            self._time(start), self._time(end), contact_zone, span=span
        )

    def zone_choice(self, children: list[Token]) -> str:
        return str(children[0])

    @_spanned
    def follow_up(self, span: Span, children: list[Token]) -> ast.FollowUp:
        days = _DAY_RULES[" ".join(children[0].split())]
        return ast.FollowUp(days, span=span)

    @_spanned
    def limit(self, span: Span, children: list[Token]) -> ast.Limit:
        kind = ast.LimitKind(str(children[1]))
        return ast.Limit(self._whole(children[0]), kind, span=span)

    @_spanned
    def auto_unenroll(self, span: Span, children: list[Any]) -> ast.AutoUnenroll:
        return ast.AutoUnenroll(tuple(children), span=span)

    def exit_replied(self, children: list[Any]) -> ast.ExitReason:
        return ast.ExitReason.REPLIED

    def exit_meeting(self, children: list[Any]) -> ast.ExitReason:
        return ast.ExitReason.BOOKED_MEETING

    def exit_bounced(self, children: list[Any]) -> ast.ExitReason:
        return ast.ExitReason.BOUNCED

    def exit_unsubscribed(self, children: list[Any]) -> ast.ExitReason:
        return ast.ExitReason.UNSUBSCRIBED

    def exit_company_replied(self, children: list[Any]) -> ast.ExitReason:
        return ast.ExitReason.COMPANY_REPLIED

    @_spanned
    def queue(self, span: Span, children: list[Any]) -> ast.QueueIfEnrolled:
        return ast.QueueIfEnrolled(span=span)

    @_spanned
    def step(self, span: Span, children: list[Any]) -> ast.Step:
        name, *rest = children
        delay = next((c for c in rest if isinstance(c, ast.Duration)), None)
        kind, content, flag = rest[-1]
        return ast.Step(
            _unquote(name),
            kind,
            content,
            delay,
            in_thread=flag and kind is ast.StepKind.EMAIL,
            until_completed=flag and kind is not ast.StepKind.EMAIL,
            span=span,
            name_span=self._token_span(name),
        )

    def step_delay(self, children: list[Any]) -> ast.Duration:
        delay: ast.Duration = children[0]
        return delay

    def _step_kind(self, kind: ast.StepKind, children: list[Any]) -> tuple[Any, ...]:
        flag = len(children) > 1 and children[1] is not None
        return (kind, _unquote(children[0]), flag)

    def email_step(self, children: list[Any]) -> tuple[Any, ...]:
        return self._step_kind(ast.StepKind.EMAIL, children)

    def call_step(self, children: list[Any]) -> tuple[Any, ...]:
        return self._step_kind(ast.StepKind.CALL, children)

    def task_step(self, children: list[Any]) -> tuple[Any, ...]:
        return self._step_kind(ast.StepKind.TASK, children)

    @_spanned
    def list_enrollment(self, span: Span, children: list[Any]) -> ast.ListEnrollment:
        list_name, sequence, *rest = children
        sender = next((c for c in rest if isinstance(c, ast.Sender)), None)
        start = next((c for c in rest if isinstance(c, ast.StartAt | ast.Resume)), None)
        return ast.ListEnrollment(
            _unquote(list_name),
            _unquote(sequence),
            sender,
            start,
            span=span,
        )

    def start(self, children: list[Any]) -> list[ast.Declaration]:
        return [child for child in children if child is not None]


for _rule, _op in _SIMPLE_OPS.items():
    setattr(Builder, _rule, _predicate(_op))
