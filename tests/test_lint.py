"""The lint stage: every rule against its fixture, configuration, suppression."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import seqdsl.lint as lint_module
from seqdsl import ast
from seqdsl.check import check, check_text
from seqdsl.diagnostics import Diagnostic, Severity, Sources
from seqdsl.lint import RULES, LintRule, lint, lint_text
from seqdsl.lint.context import Finding, LintContext
from seqdsl.lint.logic import always, never
from seqdsl.lint.lower import Reader, Scope
from seqdsl.lint.values import Interval, Intervals
from seqdsl.parse import parse_text
from seqdsl.workspace import CONFIG_NAME, Settings, load_workspace

FIXTURES = Path(__file__).parent / "lint"
DOCS = Path(__file__).parent.parent / "docs" / "lint-rules.md"
SCHEMA = (FIXTURES / "schema.seq").read_text(encoding="utf-8")

_EXPECT = re.compile(r"#.*\bexpect:\s*(L\d{3}(?:\s*,\s*L\d{3})*)")
_COMPARE = re.compile(r"^#\s*compare:\s*(.+)$", re.MULTILINE)
_STATE = re.compile(
    r'^#\s*state:\s*(list|sequence) "([^"]+)" (members|senders) (\d+)', re.MULTILINE
)


# ---------------------------------------------------------------- helpers


def _fixtures() -> list[Path]:
    return sorted(FIXTURES.glob("L[0-9][0-9][0-9]_*.seq"))


def _lint_files(
    files: dict[str, str], root: Path, settings: Settings | None = None
) -> tuple[list[Diagnostic], Sources]:
    """Check and lint files together; the check must be clean."""
    results = [parse_text(text, name) for name, text in files.items()]
    result = check(results, settings or Settings(root=root))
    assert result.workspace is not None, result.errors
    return lint(result.workspace, result.sources), result.sources


def _lint(text: str, root: Path, **options: object) -> list[Diagnostic]:
    """Lint one rule file against the fixture schema."""
    settings = Settings(root=root, **options)  # type: ignore[arg-type]
    found, _ = _lint_files({"schema.seq": SCHEMA, "rules.seq": text}, root, settings)
    return found


def _lines(
    found: list[Diagnostic], sources: Sources, path: str
) -> set[tuple[str, int]]:
    located = ((d.code, sources.location(d.span)) for d in found if d.span.path == path)
    return {(code, where[0]) for code, where in located if where is not None}


def _expected(text: str) -> set[tuple[str, int]]:
    expected = set()
    for number, line in enumerate(text.splitlines(), 1):
        if match := _EXPECT.search(line):
            for code in re.split(r"\s*,\s*", match.group(1)):
                expected.add((code, number))
    return expected


def _write_state(text: str, path: Path) -> None:
    """A state file with the list sizes and senders a fixture's header asks for.

    It is made by the runtime's own code, so that the linter reads the real thing.
    """
    from seqdsl.runtime.state import attach, detach

    con = duckdb.connect()
    attach(con, path)
    for kind, name, _, count in _STATE.findall(text):
        if kind == "list":
            given = {"list": "$name", "record_id": "'r' || i", "member": "true"}
            _fill(con, "list_members", given, name, int(count))
        else:
            given = {"sequence": "$name", "record_id": "'r' || i", "sender": "'s' || i"}
            _fill(con, "seq_enrollments", given, name, int(count))
    detach(con)
    con.close()


#: What to put in the columns a test does not care about, by type.
_DEFAULTS = {"VARCHAR": "'x'", "BOOLEAN": "false", "TIMESTAMP WITH TIME ZONE": "now()"}


def _fill(
    con: duckdb.DuckDBPyConnection,
    table: str,
    given: dict[str, str],
    name: str,
    count: int,
) -> None:
    """Insert `count` rows; columns not in `given` get a default of their type."""
    from seqdsl.runtime.state import ALIAS

    columns = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() "
        "WHERE database_name = ? AND table_name = ? ORDER BY column_index",
        [ALIAS, table],
    ).fetchall()
    cells = [given.get(column, _DEFAULTS.get(kind, "0")) for column, kind in columns]
    select = ", ".join(cells).replace("$name", "$1")
    con.execute(
        f"INSERT INTO {ALIAS}.{table} SELECT {select} FROM range($2) AS t(i)",
        [name, count],
    )


# ---------------------------------------------------------------- fixtures


@pytest.mark.parametrize("fixture", _fixtures(), ids=lambda path: path.stem)
def test_fixture_findings_are_exactly_the_marked_lines(
    fixture: Path, tmp_path: Path
) -> None:
    """Each rule fires on the lines marked `# expect: CODE` and nowhere else."""
    text = fixture.read_text(encoding="utf-8")
    settings = Settings(root=tmp_path)
    if _STATE.search(text):
        _write_state(text, settings.state_path)

    files = {"schema.seq": SCHEMA, fixture.name: text}
    found, sources = _lint_files(files, tmp_path, settings)

    compare = _COMPARE.search(text)
    codes = set(compare.group(1).split()) if compare else {fixture.name[:4]}
    codes |= {code for code, _ in _expected(text)}
    got = {item for item in _lines(found, sources, fixture.name) if item[0] in codes}
    assert got == _expected(text), "\n".join(d.message for d in found)


def test_every_rule_has_a_fixture_named_after_it() -> None:
    """`tests/lint/<CODE>_<name>.seq` exists for every registered rule."""
    names = {path.stem for path in _fixtures()}
    assert names == {f"{code}_{rule.name}" for code, rule in RULES.items()}


def test_rule_codes_and_names_are_stable_shapes() -> None:
    """Codes are L001 upwards without gaps; names are unique kebab-case words."""
    codes = list(RULES)
    assert codes == [f"L{n:03}" for n in range(1, len(codes) + 1)]
    names = [rule.name for rule in RULES.values()]
    assert len(set(names)) == len(names)
    assert all(re.fullmatch(r"[a-z]+(-[a-z]+)*", name) for name in names)


def test_every_rule_is_documented_with_its_four_parts() -> None:
    """docs/lint-rules.md has a section per rule, with what, why, example, instead."""
    text = DOCS.read_text(encoding="utf-8")
    headings = re.findall(r"^### (L\d{3}) `([a-z-]+)`$", text, re.MULTILINE)
    assert headings == [(code, rule.name) for code, rule in RULES.items()]
    sections = re.split(r"^##+ ", text, flags=re.MULTILINE)
    for section in (s for s in sections if re.match(r"L\d{3} ", s)):
        for part in ("**What it flags.**", "**Why it matters.**", "**Instead.**"):
            assert part in section, (section.splitlines()[0], part)
        assert section.count("```") >= 4, section.splitlines()[0]


def test_documented_examples_parse() -> None:
    """Every rule example in docs/lint-rules.md parses without a diagnostic."""
    blocks = _untagged_blocks(DOCS.read_text(encoding="utf-8"))
    assert len(blocks) > 20
    for block in blocks:
        result = parse_text(block, "lint-rules.md")
        assert result.diagnostics == (), (block, result.diagnostics)


def _untagged_blocks(text: str) -> list[str]:
    """The fenced blocks without a language tag: rule text."""
    blocks: list[str] = []
    body: list[str] | None = None
    tag = ""
    for line in text.splitlines():
        if line.startswith("```") and body is None:
            body, tag = [], line[3:].strip()
        elif line.startswith("```") and body is not None:
            if not tag:
                blocks.append("\n".join(body))
            body = None
        elif body is not None:
            body.append(line)
    return blocks


#: What the examples of docs/lint-rules.md refer to besides the fixture schema.
_DOCS_WORKSPACE = """
sequence "Intro" { step "hello" email "intro" }
sequence "Nurture" { step "hello" email "nurture" }
sequence "Enterprise" { step "hello" email "enterprise" }
sequence "Mid-market" { step "hello" email "mid-market" }
list "Nurture" manual
"""


def _rule_examples() -> list[tuple[str, str, str]]:
    """(code, flagged example, fixed example) of every rule section."""
    text = DOCS.read_text(encoding="utf-8")
    found = []
    for section in re.split(r"^##+ ", text, flags=re.MULTILINE):
        if re.match(r"L\d{3} ", section):
            blocks = _untagged_blocks(section)
            found.append((section[:4], blocks[0], blocks[-1]))
    return found


@pytest.mark.parametrize(
    ("code", "flagged", "fixed"),
    _rule_examples(),
    ids=lambda value: value if re.fullmatch(r"L\d{3}", str(value)) else "",
)
def test_documented_examples_are_true(
    code: str, flagged: str, fixed: str, tmp_path: Path
) -> None:
    """Each rule's first example is flagged with its code, its fix is not."""
    if code == "L012":  # its example says how big the list was at the last run
        _write_state('# state: list "Cold leads" members 5000', tmp_path / "state.db")
    for example, fires in ((flagged, True), (fixed, False)):
        files = {"schema.seq": SCHEMA, "docs.seq": _DOCS_WORKSPACE, "ex.seq": example}
        settings = Settings(root=tmp_path, state_path=tmp_path / "state.db")
        found, _ = _lint_files(files, tmp_path, settings)
        codes = {d.code for d in found if d.span.path == "ex.seq"}
        assert (code in codes) is fires, (code, example, codes)


# ---------------------------------------------------------------- the driver


def test_lint_findings_are_warnings_and_sorted(tmp_path: Path) -> None:
    """Findings are warnings by default, in file and position order."""
    text = 'list "A" active { country is any of [] }\n'
    found = _lint(text, tmp_path)
    assert [d.code for d in found] == ["L013", "L001"]
    assert all(d.severity is Severity.WARNING for d in found)


def test_lint_text_checks_then_lints() -> None:
    """`lint_text` gives check errors, and lint findings only for a clean check."""
    schema = "object contact { n: number }\n"
    found = lint_text(schema + 'list "A" active { n > 5 and n < 3 }')
    assert {d.code for d in found} == {"L001", "L013"}
    broken = lint_text(schema + 'list "A" active { m > 5 and m < 3 }')
    assert {d.code for d in broken} == {"E101"}


def test_a_crashing_rule_is_an_internal_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug in one rule is reported as E999 and the other rules still run."""

    def crash(ctx: LintContext) -> list[Finding]:
        raise RuntimeError("boom")

    broken = LintRule("L001", "contradictory-condition", "crashes", crash)
    monkeypatch.setattr(lint_module, "RULES", {**RULES, "L001": broken})
    found = _lint('list "A" active { country is known }', tmp_path)
    assert sorted(d.code for d in found) == ["E999", "L013"]
    crash_report = next(d for d in found if d.code == "E999")
    assert "L001" in crash_report.message and "boom" in crash_report.message


def test_limits_are_not_estimated_without_a_state_file(tmp_path: Path) -> None:
    """With no state, or a state file that is not one, L012 stays silent."""
    text = (FIXTURES / "L012_limit-cannot-drain.seq").read_text(encoding="utf-8")
    assert "L012" not in {d.code for d in _lint(text, tmp_path)}
    (tmp_path / ".seqdsl").mkdir()
    (tmp_path / ".seqdsl" / "state.duckdb").write_text("not a database")
    assert "L012" not in {d.code for d in _lint(text, tmp_path)}


def test_list_sizes_count_the_last_change_of_each_record(tmp_path: Path) -> None:
    """A record added to a list and later removed is not counted as a member."""
    from seqdsl.lint.state import read_state
    from seqdsl.runtime.state import attach, detach

    path = tmp_path / "state.duckdb"
    con = duckdb.connect()
    attach(con, path)
    added = {"list": "$name", "record_id": "'r' || i", "member": "true"}
    _fill(con, "list_members", added, "Leads", 3)
    removed = {**added, "member": "false", "since": "now() + INTERVAL 1 HOUR"}
    _fill(con, "list_members", removed, "Leads", 1)
    detach(con)
    con.close()

    facts = read_state(path)
    assert facts is not None and facts.list_sizes == {"Leads": 2}


# ---------------------------------------------------------------- configuration


def _workspace(
    tmp_path: Path, toml: str, rules: str
) -> tuple[list[Diagnostic], Sources]:
    (tmp_path / CONFIG_NAME).write_text(toml, encoding="utf-8")
    settings = load_workspace(tmp_path).settings
    files = {"schema.seq": SCHEMA, "rules.seq": rules}
    return _lint_files(files, tmp_path, settings)


_RULES = """
list "Empty" active { country is any of [] }
list "Negated" active { not (country is "US") }
"""


def test_select_and_ignore_take_codes_and_names(tmp_path: Path) -> None:
    """`select` limits the rules that run; `ignore` removes some, by code or name."""
    toml = '[lint]\nselect = ["L001", "negation-matches-unknown"]\nignore = ["L001"]\n'
    found, _ = _workspace(tmp_path, toml, _RULES)
    assert [d.code for d in found] == ["L003"]


def test_an_empty_select_runs_no_rule(tmp_path: Path) -> None:
    """`select = []` turns the linter off."""
    found, _ = _workspace(tmp_path, "[lint]\nselect = []\n", _RULES)
    assert found == []


def test_severity_can_make_a_rule_an_error(tmp_path: Path) -> None:
    """`[lint.severity]` sets a rule's severity; the others stay warnings."""
    toml = '[lint.severity]\nL003 = "error"\nunused-declaration = "note"\n'
    found, _ = _workspace(tmp_path, toml, _RULES)
    levels = {d.code: d.severity for d in found}
    assert levels == {
        "L001": Severity.WARNING,
        "L003": Severity.ERROR,
        "L013": Severity.NOTE,
    }


def test_options_change_what_a_rule_tolerates(tmp_path: Path) -> None:
    """`[lint.options] drain-days` moves the L012 threshold."""
    text = (FIXTURES / "L012_limit-cannot-drain.seq").read_text(encoding="utf-8")
    (tmp_path / CONFIG_NAME).write_text("[lint.options]\ndrain-days = 100\n")
    settings = load_workspace(tmp_path).settings
    _write_state(text, settings.state_path)
    found, _ = _lint_files({"schema.seq": SCHEMA, "r.seq": text}, tmp_path, settings)
    assert [d.message.split("`")[1] for d in found if d.code == "L012"] == [
        "limit 20 enrollments per day per sender"
    ]


@pytest.mark.parametrize(
    ("toml", "message", "at"),
    [
        ('[lint]\nselct = ["L001"]\n', "unknown key `selct` in [lint]", (2, 1)),
        ('[lint]\nselect = ["L001", "L099"]\n', "unknown lint rule `L099`", (2, 20)),
        ("[lint]\nselect = 3\n", "`select` in [lint] must be an array", (2, 1)),
        (
            '[lint.severity]\nL003 = "fatal"\n',
            '`L003` in [lint.severity] must be "error"',
            (2, 1),
        ),
        (
            "[lint.options]\ndrain-dayz = 3\n",
            "unknown lint option `drain-dayz`",
            (2, 1),
        ),
        ("[lint.options]\ndrain-days = 0\n", "`drain-days` in [lint.options]", (2, 1)),
    ],
)
def test_bad_lint_settings_are_e401_at_the_toml(
    tmp_path: Path, toml: str, message: str, at: tuple[int, int]
) -> None:
    """Each problem of `[lint]` is an error pointing at its text in seqdsl.toml."""
    found, sources = _workspace(tmp_path, "[workspace]\n" + toml, _RULES)
    problems = [d for d in found if d.code == "E401"]
    assert len(problems) == 1 and problems[0].is_error
    assert problems[0].message.startswith(message)
    assert problems[0].span.path == CONFIG_NAME
    line, column = at
    assert sources.location(problems[0].span) == (line + 1, column)


def test_a_bad_setting_does_not_stop_the_rest(tmp_path: Path) -> None:
    """Valid parts of `[lint]` still apply next to an invalid one."""
    toml = '[lint]\nselect = ["L003", "L777"]\n'
    found, _ = _workspace(tmp_path, toml, _RULES)
    assert sorted(d.code for d in found) == ["E401", "L003"]


def test_the_hint_suggests_the_nearest_rule(tmp_path: Path) -> None:
    """A misspelt rule name gets a "did you mean" hint."""
    toml = '[lint]\nignore = ["unused-declarations"]\n'
    found, _ = _workspace(tmp_path, toml, _RULES)
    problem = next(d for d in found if d.code == "E401")
    assert problem.hints == ("did you mean `unused-declaration`?",)


# ---------------------------------------------------------------- suppression


def test_one_comment_can_silence_several_codes(tmp_path: Path) -> None:
    """`ignore[L001, L013]` silences both on its line, and only there."""
    text = (
        'list "A" active { country is any of [] }  # seqdsl: ignore[L001, L013]\n'
        'list "B" active { country is any of [] }\n'
    )
    found = _lint(text, tmp_path)
    assert [(d.code, d.span.start > len(text) // 2) for d in found] == [
        ("L013", True),
        ("L001", True),
    ]


def test_errors_are_never_silenced(tmp_path: Path) -> None:
    """A bare `# seqdsl: ignore` does not hide a check error."""
    text = 'list "A" active { nope is known }  # seqdsl: ignore\n'
    assert [d.code for d in lint_text(SCHEMA + text)] == ["E101"]


def test_a_hash_inside_a_string_is_not_a_comment(tmp_path: Path) -> None:
    """`"# seqdsl: ignore"` in a string literal silences nothing."""
    text = (
        'list "A" active { country is "# seqdsl: ignore" and country is any of [] }\n'
    )
    assert "L001" in {d.code for d in _lint(text, tmp_path)}


def test_suppression_can_be_turned_off_with_its_rule(tmp_path: Path) -> None:
    """With L015 ignored, stale suppressions are not reported."""
    (tmp_path / CONFIG_NAME).write_text('[lint]\nignore = ["L015"]\n')
    settings = load_workspace(tmp_path).settings
    text = 'list "A" active { country is known }  # seqdsl: ignore[L003]\n'
    found, _ = _lint_files({"schema.seq": SCHEMA, "r.seq": text}, tmp_path, settings)
    assert [d.code for d in found] == ["L013"]


# ---------------------------------------------------------------- the reasoning


_NUMBERS = st.sampled_from([0, 5, 10])


def _tests() -> st.SearchStrategy[str]:
    comparisons = st.tuples(
        st.sampled_from(["<", "<=", ">", ">=", "=", "!="]), _NUMBERS
    )
    return st.one_of(
        comparisons.map(lambda t: f"n {t[0]} {t[1]}"),
        st.tuples(_NUMBERS, _NUMBERS).map(lambda t: f"n is between {t[0]} and {t[1]}"),
        st.lists(_NUMBERS, max_size=2).map(
            lambda v: f"n is none of [{', '.join(map(str, v))}]"
        ),
        st.sampled_from(["n is known", "n is unknown"]),
    )


def _conditions() -> st.SearchStrategy[str]:
    return st.recursive(
        _tests(),
        lambda inner: st.one_of(
            inner.map(lambda c: f"not ({c})"),
            st.tuples(inner, inner).map(lambda t: f"({t[0]}) and ({t[1]})"),
            st.tuples(inner, inner).map(lambda t: f"({t[0]}) or ({t[1]})"),
        ),
        max_leaves=5,
    )


def _holds(node: ast.Condition, n: float | None) -> bool:
    """The language's semantics for one value: unknown fails every comparison."""
    if isinstance(node, ast.And):
        return all(_holds(item, n) for item in node.items)
    if isinstance(node, ast.Or):
        return any(_holds(item, n) for item in node.items)
    if isinstance(node, ast.Not):
        return not _holds(node.item, n)
    assert isinstance(node, ast.PropertyTest)
    if node.op in (ast.Op.IS_KNOWN, ast.Op.IS_UNKNOWN):
        return (n is None) == (node.op is ast.Op.IS_UNKNOWN)
    if n is None:
        return False
    values = [float(getattr(v, "text", "0")) for v in node.values]
    tests = {
        ast.Op.LT: lambda: n < values[0],
        ast.Op.LE: lambda: n <= values[0],
        ast.Op.GT: lambda: n > values[0],
        ast.Op.GE: lambda: n >= values[0],
        ast.Op.IS: lambda: n == values[0],
        ast.Op.IS_NOT: lambda: n != values[0],
        ast.Op.BETWEEN: lambda: values[0] <= n <= values[1],
        ast.Op.IS_NONE_OF: lambda: n not in values,
    }
    return bool(tests[node.op]())


#: Every constant, the points between and beyond them, and unknown: enough to
#: meet every region a condition over these constants can tell apart.
_SAMPLES: list[float | None] = [None, -1, 0, 2.5, 5, 7.5, 10, 11]


_NUMBER_SCHEMA = check_text("object contact { n: number }").workspace


@settings(max_examples=80, deadline=None)
@given(_conditions())
def test_the_reasoning_agrees_with_the_semantics(condition: str) -> None:
    """`never` and `always` are exactly what evaluating every region says."""
    assert _NUMBER_SCHEMA is not None
    parsed = parse_text(f'list "L" active {{ {condition} }}').module.declarations
    assert isinstance(parsed[0], ast.ListDecl) and parsed[0].condition is not None
    node = parsed[0].condition
    reader = Reader(_NUMBER_SCHEMA.schema, "UTC", {})
    formula = reader.read(node, Scope("contact"))

    truths = [_holds(node, n) for n in _SAMPLES]
    assert never(formula) == (not any(truths))
    assert always(formula) == all(truths)


@st.composite
def _intervals(draw: st.DrawFn, discrete: bool) -> Intervals:
    """Disjoint intervals between sorted cut points, maybe unbounded at the ends."""
    ints = sorted(draw(st.sets(st.integers(0, 6), max_size=6)))
    cuts: list[int | None] = list(ints)
    open_below: bool = draw(st.booleans())
    if cuts and open_below:
        cuts[0] = None
    if len(cuts) % 2 == 1:
        cuts.append(None)
    parts = [
        Interval(low, high, draw(st.booleans()), draw(st.booleans()))
        for low, high in zip(cuts[::2], cuts[1::2], strict=True)
    ]
    return Intervals.of(parts, discrete, draw(st.booleans()))


def _inside(values: Intervals, point: float) -> bool:
    return any(_in(part, point) for part in values.parts)


def _in(part: Interval, point: float) -> bool:
    above = (
        part.low is None
        or part.low < point
        or (part.low == point and not part.low_open)
    )
    below = (
        part.high is None
        or point < part.high
        or (part.high == point and not part.high_open)
    )
    return above and below


@settings(max_examples=150, deadline=None)
@given(st.booleans().flatmap(lambda d: st.tuples(_intervals(d), _intervals(d))))
def test_interval_sets_complement_and_meet_pointwise(
    pair: tuple[Intervals, Intervals],
) -> None:
    """Complement and intersection hold at every point (whole points for dates)."""
    a, b = pair
    points = [x / 2 for x in range(-2, 16)]
    if a.discrete:
        points = [float(x) for x in range(-1, 8)]
    for point in points:
        assert _inside(a.complement(), point) == (not _inside(a, point))
        assert _inside(a.meet(b), point) == (_inside(a, point) and _inside(b, point))
    assert a.complement().unknown == (not a.unknown)
    assert a.meet(b).unknown == (a.unknown and b.unknown)


def test_fixtures_check_cleanly(tmp_path: Path) -> None:
    """Every fixture is valid rule text: only lint findings, no check errors."""
    for path in _fixtures():
        text = path.read_text(encoding="utf-8")
        results = [parse_text(SCHEMA, "schema.seq"), parse_text(text, path.name)]
        assert check(results, Settings(root=tmp_path)).errors == ()
