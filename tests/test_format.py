"""The formatter: golden pairs, round trips over every rule file, and generated ASTs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from seqdsl import ast
from seqdsl.format import format_module, format_text
from seqdsl.parse import parse_text

ROOT = Path(__file__).parent.parent
GOLDEN = Path(__file__).parent / "format"
T = TypeVar("T")


def _rule_files() -> list[Path]:
    """Golden inputs and outputs, the corpus, the starter rules and the examples.

    Files that are not UTF-8 (a corpus case) are left out: the formatter takes text.
    """
    folders = [GOLDEN, ROOT / "tests" / "corpus", ROOT / "rules", ROOT / "examples"]
    paths = [p for folder in folders if folder.is_dir() for p in folder.rglob("*.seq")]
    return sorted(p for p in paths if _is_text(p))


def _is_text(path: Path) -> bool:
    try:
        path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _formatted(text: str, path: str = "<text>") -> str:
    result = format_text(text, path)
    assert result.text is not None, result.diagnostics
    return result.text


def _declarations(text: str) -> tuple[ast.Declaration, ...]:
    parsed = parse_text(text)
    assert parsed.ok, parsed.diagnostics
    return parsed.module.declarations


def _comment_texts(text: str) -> list[str]:
    return [comment.text.rstrip() for comment in parse_text(text).comments]


# ---------------------------------------------------------------- golden pairs


def _golden_pairs() -> list[str]:
    return sorted(p.name.removesuffix(".in.seq") for p in GOLDEN.glob("*.in.seq"))


def test_there_are_enough_golden_pairs() -> None:
    """The golden folder holds at least eight pairs, each with its output."""
    names = _golden_pairs()
    assert len(names) >= 8
    assert all((GOLDEN / f"{name}.out.seq").exists() for name in names)


@pytest.mark.parametrize("name", _golden_pairs())
def test_golden_pair(name: str) -> None:
    """Each `NAME.in.seq` formats to exactly `NAME.out.seq`."""
    source = (GOLDEN / f"{name}.in.seq").read_text(encoding="utf-8")
    expected = (GOLDEN / f"{name}.out.seq").read_text(encoding="utf-8")
    assert _formatted(source, name) == expected


# ---------------------------------------------------------------- every rule file


@pytest.mark.parametrize("path", _rule_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_rule_file_round_trips(path: Path) -> None:
    """Formatting keeps the AST and the comments in order, and is stable.

    A file with syntax errors (a corpus case) is left alone: no text, its diagnostics.
    """
    source = path.read_text(encoding="utf-8")
    if not parse_text(source).ok:
        result = format_text(source, str(path))
        assert result.text is None
        assert result.diagnostics == parse_text(source, str(path)).diagnostics
        return
    once = _formatted(source, str(path))
    assert _declarations(once) == _declarations(source)
    before, after = _comment_texts(source), _comment_texts(once)
    if _has_late_clause(source):
        before, after = sorted(before), sorted(after)
    assert after == before
    assert _formatted(once, str(path)) == once


def _has_late_clause(text: str) -> bool:
    """Is a workflow clause written after a statement? It moves up with its comments."""
    workflows = [n for n in _declarations(text) if isinstance(n, ast.WorkflowDecl)]
    return any(
        w.clauses and w.body and w.clauses[-1].span.start > w.body[0].span.start
        for w in workflows
    )


def test_syntax_errors_are_never_formatted() -> None:
    """A file that does not parse gives no text, only its diagnostics."""
    result = format_text('list "A" active {\n  email is\n}\n', "broken.seq")
    assert result.text is None
    assert result.diagnostics
    assert all(d.span.path == "broken.seq" for d in result.diagnostics)


def test_empty_and_comment_only_files() -> None:
    """An empty file stays empty; a file of comments keeps them and their gaps."""
    assert _formatted("") == ""
    assert _formatted("\n\n  \n") == ""
    assert _formatted("  # one\n\n\n# two  \n") == "# one\n\n# two\n"


def test_byte_order_mark_is_dropped() -> None:
    """A leading byte order mark does not shift comments or survive formatting."""
    text = '\ufeff# head\nlist "A" manual  # tail\n'
    assert _formatted(text) == '# head\nlist "A" manual  # tail\n'


def test_module_without_comments_or_source() -> None:
    """`format_module` prints a hand-built AST, with no spans, in canonical form."""
    condition = ast.Or(
        (
            ast.And((_test("a", ast.Op.IS, "x"), ast.InList("B"))),
            ast.Not(ast.InList("C")),
        )
    )
    module = ast.Module("m", (ast.ListDecl("A", ast.ListKind.ACTIVE, None, condition),))
    assert format_module(module) == (
        'list "A" active {\n  a is x and in list "B" or not in list "C"\n}\n'
    )


def _test(name: str, op: ast.Op, word: str) -> ast.PropertyTest:
    return ast.PropertyTest(ast.Ref(name), op, (ast.WordValue(word),))


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("a = lead", "a is lead"),
        ("a = known", "a = known"),
        ("a is not known", "a is not known"),
        ("a != 1", "a is not 1"),
        ("a != between", "a != between"),
        ('not (in list "X")', 'not in list "X"'),
        ("not (a is 1)", "not (a is 1)"),
        ("not a is 1 and not not b is 2", "not (a is 1) and not not (b is 2)"),
        ("not (a is 1 and b is 2)", "not (a is 1 and b is 2)"),
        ("(a is 1 and b is 2) or c is 3", "a is 1 and b is 2 or c is 3"),
        ("a is 1 and (b is 2 or c is 3)", "a is 1 and (b is 2 or c is 3)"),
        ("(any deal where a is 1) and b is 2", "(any deal where a is 1) and b is 2"),
        ("b is 2 and (any deal where a is 1)", "b is 2 and any deal where a is 1"),
        ("(had e where a is 1) or b is 2", "(had e where a is 1) or b is 2"),
        (
            "had e where a is 1 in last 1 days or b is 2",
            "had e where a is 1 in last 1 day or b is 2",
        ),
        ("any deal where (a is 1 or b is 2)", "any deal where (a is 1 or b is 2)"),
        (
            "not (not any deal where a is 1) and b is 1",
            "not not (any deal where a is 1) and b is 1",
        ),
        ('a is "say \\"hi\\" \\\\ now"', 'a is "say \\"hi\\" \\\\ now"'),
        ("a is between 1.50 and -2", "a is between 1.50 and -2"),
        ("a in last 1 business days", "a in last 1 business day"),
        ("a is more than 1 weeks from now", "a is more than 1 week from now"),
    ],
)
def test_condition_spelling(condition: str, expected: str) -> None:
    """Conditions print in canonical spelling with exactly the needed parentheses."""
    source = f'list "L" active {{ {condition} }}'
    assert _formatted(source) == f'list "L" active {{\n  {expected}\n}}\n'


def test_long_condition_breaks_before_top_level_operators() -> None:
    """A condition too long for its line breaks before each top-level `and`/`or`."""
    items = " and ".join(f"property_{i} is value_{i}" for i in range(4))
    text = f'list "L" active {{ {items} or in list "Other" }}'
    assert _formatted(text) == (
        'list "L" active {\n'
        "  property_0 is value_0\n"
        "    and property_1 is value_1\n"
        "    and property_2 is value_2\n"
        "    and property_3 is value_3\n"
        '  or in list "Other"\n'
        "}\n"
    )


# ---------------------------------------------------------------- generated ASTs


def _names(*words: str) -> st.SearchStrategy[str]:
    return st.sampled_from(words)


#: Property names, including some that are keywords elsewhere in the language.
NAMES = _names("email", "amount", "country", "goal", "wait", "score_2", "stage")
#: Bare word values, including words the parser reads as keywords after `is`.
WORDS = _names("lead", "OPEN", "known", "on", "more", "not", "after", "between")
EVENTS = _names("page_view", "email_open", "form_submission")
TEXTS = st.text(
    st.characters(
        blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="\x85"
    ),
    max_size=12,
)
NUMBERS = st.builds(
    lambda whole, part: f"{whole}{part}",
    st.integers(-9999, 9999),
    st.sampled_from(["", ".5", ".25", ".00"]),
)
TIMES = st.times().map(lambda t: t.replace(second=0, microsecond=0))
DATETIMES = st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2090, 1, 1)).map(
    lambda d: d.strftime("%Y-%m-%d %H:%M")
)
DURATIONS = st.builds(ast.Duration, st.integers(0, 400), st.sampled_from(ast.Unit))
REFS = st.builds(ast.Ref, NAMES, st.none() | _names("company", "deal"))
VALUES: st.SearchStrategy[ast.Value] = st.one_of(
    st.builds(ast.StringValue, TEXTS),
    st.builds(ast.NumberValue, NUMBERS),
    st.builds(ast.BoolValue, st.booleans()),
    st.builds(ast.WordValue, WORDS),
    st.builds(ast.DateValue, st.dates(dt.date(1000, 1, 1))),
    st.builds(ast.DateTimeValue, DATETIMES),
)
VALUE_LISTS = st.lists(VALUES, max_size=12).map(tuple)


def _property_test(op: ast.Op) -> st.SearchStrategy[ast.PropertyTest]:
    if op in ast.LIST_OPS:
        return st.builds(ast.PropertyTest, REFS, st.just(op), VALUE_LISTS)
    if op in ast.DURATION_OPS:
        return st.builds(ast.PropertyTest, REFS, st.just(op), duration=DURATIONS)
    if op in (ast.Op.IS_KNOWN, ast.Op.IS_UNKNOWN, ast.Op.CHANGED):
        return st.builds(ast.PropertyTest, REFS, st.just(op))
    two = op in (ast.Op.BETWEEN, ast.Op.NOT_BETWEEN, ast.Op.CHANGED_FROM_TO)
    count = 2 if two else 1
    values = st.lists(VALUES, min_size=count, max_size=count).map(tuple)
    return st.builds(ast.PropertyTest, REFS, st.just(op), values)


TESTS = st.one_of([_property_test(op) for op in ast.Op])


def _flatten(node: ast.Condition) -> ast.Condition:
    """The shape the parser gives: no `and` directly in `and`, no `or` in `or`."""
    if isinstance(node, ast.Not):
        return ast.Not(_flatten(node.item))
    if not isinstance(node, ast.And | ast.Or):
        return node
    items: list[ast.Condition] = []
    for item in map(_flatten, node.items):
        same = type(item) is type(node)
        items.extend(
            item.items if isinstance(item, ast.And | ast.Or) and same else [item]
        )
    return type(node)(tuple(items))


def _tree(
    leaves: st.SearchStrategy[ast.Condition], size: int = 8
) -> st.SearchStrategy[ast.Condition]:
    def grow(
        inner: st.SearchStrategy[ast.Condition],
    ) -> st.SearchStrategy[ast.Condition]:
        items = st.lists(inner, min_size=2, max_size=4).map(tuple)
        return (
            st.builds(ast.And, items)
            | st.builds(ast.Or, items)
            | st.builds(ast.Not, inner)
        )

    return st.recursive(leaves, grow, max_leaves=size).map(_flatten)


WHERE = _tree(TESTS)
COUNTS = st.builds(ast.Count, st.sampled_from(ast.CountKind), st.integers(0, 99))
WINDOWS = st.builds(ast.LastWindow, DURATIONS) | st.builds(ast.SinceEnrolled)
HADS = st.builds(
    ast.Had,
    EVENTS,
    st.booleans(),
    st.none() | COUNTS,
    st.none() | WHERE,
    st.none() | WINDOWS,
)
QUANTIFIED = st.one_of(
    st.builds(ast.Quantified, st.sampled_from(list(ast.Quantifier)[:3]), NAMES, WHERE),
    st.builds(
        ast.Quantified,
        st.just(ast.Quantifier.AT_LEAST),
        NAMES,
        WHERE,
        st.integers(0, 50),
    ),
)
LEAVES = st.one_of(TESTS, st.builds(ast.InList, TEXTS), HADS, QUANTIFIED)
CONDITIONS = _tree(LEAVES)
#: Smaller conditions for `if` arms and triggers, where statements are the point.
SMALL_CONDITIONS = _tree(LEAVES, size=3)


def _optional(strategy: st.SearchStrategy[T]) -> st.SearchStrategy[T | None]:
    return st.none() | strategy


USERS = st.lists(TEXTS, min_size=1, max_size=3).map(tuple)
SENDERS = st.one_of(
    st.builds(ast.Sender, st.just(ast.SenderKind.OWNER)),
    st.builds(ast.Sender, st.just(ast.SenderKind.USER), TEXTS.map(lambda u: (u,))),
    st.builds(ast.Sender, st.just(ast.SenderKind.ROTATION), USERS),
)
STARTS = _optional(st.builds(ast.StartAt, TEXTS) | st.builds(ast.Resume))
PLAIN_REFS = st.builds(ast.Ref, NAMES)


def _task(title: str, user: str | None, owner: bool, due: Any) -> ast.CreateTask:
    return ast.CreateTask(title, user, owner and user is None, due)


def _wait_until(ref: ast.Ref, offset: Any, before: bool, at: Any) -> ast.WaitUntilDate:
    return ast.WaitUntilDate(ref, offset, before and offset is not None, at)


ACTIONS: st.SearchStrategy[ast.Statement] = st.one_of(
    st.builds(ast.EnrollInSequence, TEXTS, _optional(SENDERS), STARTS),
    st.builds(ast.UnenrollFromSequence, _optional(TEXTS)),
    st.builds(ast.EnrollInWorkflow, TEXTS),
    st.builds(ast.SetProperty, REFS, VALUES),
    st.builds(ast.ClearProperty, REFS),
    st.builds(ast.AddToList, TEXTS),
    st.builds(ast.RemoveFromList, TEXTS),
    st.builds(_task, TEXTS, _optional(TEXTS), st.booleans(), _optional(DURATIONS)),
    st.builds(ast.RotateOwner, USERS),
    st.builds(ast.WaitFor, DURATIONS),
    st.builds(
        _wait_until, PLAIN_REFS, _optional(DURATIONS), st.booleans(), _optional(TIMES)
    ),
    st.builds(ast.WaitUntilWeekday, st.integers(0, 6), TIMES),
    st.builds(ast.WaitUntilEvent, EVENTS, _optional(WHERE), DURATIONS),
)
PERCENTS = st.builds(
    lambda whole, part: f"{whole}{part}%",
    st.integers(0, 99),
    st.sampled_from(["", ".5"]),
)


def _blocks(
    inner: st.SearchStrategy[ast.Statement],
) -> st.SearchStrategy[ast.Statement]:
    body = st.lists(inner, max_size=3).map(tuple)
    arms = st.lists(
        st.builds(ast.IfArm, SMALL_CONDITIONS, body), min_size=1, max_size=3
    )
    branch_arms = st.builds(
        ast.BranchArm, st.lists(VALUES, max_size=3).map(tuple), body
    )
    split_arms = st.lists(
        st.builds(ast.SplitArm, PERCENTS, body), min_size=1, max_size=3
    )
    return st.one_of(
        st.builds(ast.If, arms.map(tuple), _optional(body)),
        st.builds(
            ast.BranchOn,
            REFS,
            st.lists(branch_arms, max_size=3).map(tuple),
            _optional(body),
        ),
        st.builds(ast.Split, split_arms.map(tuple)),
    )


STATEMENTS = st.recursive(ACTIONS, _blocks, max_leaves=8)
CLAUSES = st.one_of(
    st.builds(ast.Trigger, st.sampled_from(ast.TriggerKind), SMALL_CONDITIONS),
    st.builds(ast.Existing, st.booleans()),
    st.builds(ast.RunWindow, st.sampled_from(ast.DayRule), TIMES, TIMES),
)
WORKFLOWS = st.builds(
    ast.WorkflowDecl,
    TEXTS,
    NAMES,
    st.lists(CLAUSES, max_size=4).map(tuple),
    st.lists(STATEMENTS, max_size=4).map(tuple),
)


def _type(kind: str, options: Any, ordered: bool) -> ast.TypeExpr:
    if kind in ("enum", "set"):
        return ast.TypeExpr(kind, options, ordered and kind == "enum")
    return ast.TypeExpr(kind)


OPTIONS = st.lists(
    st.builds(ast.OptionDecl, WORDS | TEXTS, _optional(TEXTS)), max_size=9
)
TYPES = st.builds(
    _type,
    _names("string", "number", "bool", "date", "datetime", "owner", "enum", "set"),
    OPTIONS.map(tuple),
    st.booleans(),
)
PROPERTIES = st.lists(
    st.builds(ast.PropertyDecl, NAMES, TYPES, _optional(TEXTS), st.booleans()),
    max_size=4,
).map(tuple)


def _step(
    name: str, kind: ast.StepKind, content: str, delay: Any, flag: bool
) -> ast.Step:
    email = kind is ast.StepKind.EMAIL
    return ast.Step(name, kind, content, delay, flag and email, flag and not email)


SETTINGS = st.one_of(
    SENDERS,
    st.builds(ast.SendWindow, TIMES, TIMES, st.booleans()),
    st.builds(ast.FollowUp, st.sampled_from(ast.DayRule)),
    st.builds(ast.Limit, st.integers(0, 999), st.sampled_from(ast.LimitKind)),
    st.builds(
        ast.AutoUnenroll,
        st.lists(st.sampled_from(ast.ExitReason), min_size=1, max_size=3).map(tuple),
    ),
    st.builds(ast.QueueIfEnrolled),
)
STEPS = st.builds(
    _step,
    TEXTS,
    st.sampled_from(ast.StepKind),
    TEXTS,
    _optional(DURATIONS),
    st.booleans(),
)
DECLARATIONS = st.one_of(
    st.builds(ast.ObjectDecl, NAMES, PROPERTIES),
    st.builds(ast.EventDecl, EVENTS, PROPERTIES),
    st.builds(
        ast.ListDecl,
        TEXTS,
        st.sampled_from(ast.ListKind),
        _optional(NAMES),
        _optional(CONDITIONS),
    ),
    WORKFLOWS,
    st.builds(
        ast.SequenceDecl, TEXTS, st.lists(SETTINGS | STEPS, max_size=8).map(tuple)
    ),
    st.builds(ast.ListEnrollment, TEXTS, TEXTS, _optional(SENDERS), STARTS),
)

FAST = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def _round_trip(*declarations: ast.Declaration) -> str:
    """Print, parse back, compare; then check that printing again is stable."""
    text = format_module(ast.Module("<text>", declarations))
    assert _declarations(text) == declarations, text
    assert _formatted(text) == text
    return text


@FAST
@given(CONDITIONS)
def test_generated_conditions_round_trip(condition: ast.Condition) -> None:
    """Any condition tree prints to text that parses back to the same tree."""
    _round_trip(ast.ListDecl("L", ast.ListKind.ACTIVE, None, condition))


@settings(FAST, max_examples=15)
@given(st.lists(STATEMENTS, min_size=1, max_size=4), SMALL_CONDITIONS)
def test_generated_statements_round_trip(
    body: list[ast.Statement], condition: ast.Condition
) -> None:
    """Any workflow body, with a trigger, prints and parses back unchanged."""
    trigger = ast.Trigger(ast.TriggerKind.ENROLL, condition)
    _round_trip(ast.WorkflowDecl("W", "contact", (trigger,), tuple(body)))


@FAST
@given(st.lists(DECLARATIONS, min_size=1, max_size=3))
def test_generated_declarations_round_trip(declarations: list[ast.Declaration]) -> None:
    """Every kind of declaration prints and parses back unchanged."""
    _round_trip(*declarations)


@FAST
@given(st.lists(DECLARATIONS, min_size=1, max_size=2), st.data())
def test_inserted_comments_survive(
    declarations: list[ast.Declaration], data: st.DataObject
) -> None:
    """Comments put on any line, or at the end of any line, survive in order."""
    lines = _round_trip(*declarations).splitlines()
    commented: list[str] = []
    for index, line in enumerate(lines):
        if data.draw(st.booleans(), label=f"before {index}"):
            commented.append(f"# before {index}")
        trailing = line and data.draw(st.booleans(), label=f"after {index}")
        commented.append(f"{line}  # after {index}" if trailing else line)
    source = "\n".join(commented) + "\n"
    assume("#" not in source.replace("# before", "").replace("# after", ""))
    once = _formatted(source)
    assert _comment_texts(once) == _comment_texts(source)
    assert _declarations(once) == tuple(declarations)
    assert _formatted(once) == once
