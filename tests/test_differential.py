"""Differential tests: the DuckDB engine agrees with the reference engine.

Hypothesis generates records (unknown values, boundary numbers, case variants,
empty strings and sets, datetimes at local midnights and around daylight saving
changes), events, history, associations, and rule text of random nesting over
every operator. Both engines must give every atom and every rule the same truth
for every record. Strategies are built once; literals that depend on the drawn
zone and now are placeholders (`@D3@`, `@T5@`) filled in per example.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import zoneinfo
from collections.abc import Iterator
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_conformance import compile_case, load_run_inputs, load_tables

from seqdsl.calendar import Calendar
from seqdsl.engine import ENGINES, Run, rule_outputs
from seqdsl.plan import AtomRef, Expr, Plan, walk

UTC = dt.UTC
SCHEMA = """
object contact {
  s: string  o: owner  n: number  m: number  b: bool
  e: enum [a, b, c, d] ordered  f: enum [x, y, z]
  t: set [p, q, r]  d: date  w: datetime
}
object company { size: number  name: string }
object deal { amount: number  stage: enum [open, won, lost] }
event page_view { url: string  score: number }
event email_open { campaign: string }
"""
ZONES = ("UTC", "America/New_York", "Europe/Berlin", "Asia/Kolkata")
NOWS = (
    dt.datetime(2026, 12, 1, 12, 0, tzinfo=UTC),
    dt.datetime(2026, 11, 1, 5, 30, tzinfo=UTC),  # New York's fall-back day
    dt.datetime(2026, 3, 8, 7, 30, tzinfo=UTC),  # New York's spring-forward day
    dt.datetime(2026, 3, 29, 0, 30, tzinfo=UTC),  # Berlin's spring-forward night
    dt.datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC),
)
TEXTS = ("a", "A", "ab", "aB", "b@x.com", "B@X.COM", "", "é", "É", "x y")
NUMBERS = (-1.0, 0.0, 0.5, 1.0, 2.0, 10.0)
IDS = tuple(f"c{i}" for i in range(6))
DAY_OFFSETS = (-9, -7, -2, -1, 0, 1, 2, 7, 9)
N_INSTANTS = 21


# ---------------------------------------------------------------- the world


@functools.cache
def instants(zone: str, now: dt.datetime) -> tuple[dt.datetime, ...]:
    """Instants near the edges rules care about: now, local midnights, DST."""
    calendar = Calendar(zone)
    today = calendar.local_date(now)
    second, hour = dt.timedelta(seconds=1), dt.timedelta(hours=1)
    found = [now, now - second, now + second, now - hour, now + 25 * hour]
    for days in (-8, -2, -1, 0, 1, 2, 8):
        start = calendar.start_of_day(today + dt.timedelta(days=days))
        found += [start, start - second]
    found += [
        dt.datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
        dt.datetime(2026, 3, 8, 6, 59, 59, tzinfo=UTC),
    ]
    assert len(found) == N_INSTANTS
    return tuple(found)


@functools.cache
def dates(zone: str, now: dt.datetime) -> tuple[dt.date, ...]:
    today = Calendar(zone).local_date(now)
    return tuple(today + dt.timedelta(days=k) for k in DAY_OFFSETS)


@functools.cache
def literals(zone: str, now: dt.datetime) -> dict[str, str]:
    """`@D<i>@` date and `@T<i>@` local date-time literals of a world."""
    tz = zoneinfo.ZoneInfo(zone)
    found = {f"D{i}": day.isoformat() for i, day in enumerate(dates(zone, now))}
    for i, at in enumerate(instants(zone, now)):
        found[f"T{i}"] = at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    return found


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


_INSTANT = st.integers(0, N_INSTANTS - 1)
_CONTACT = st.fixed_dictionaries(
    {
        "s": _maybe(st.sampled_from(TEXTS)),
        "o": _maybe(st.sampled_from(TEXTS)),
        "n": _maybe(st.sampled_from(NUMBERS)),
        "m": _maybe(st.sampled_from(NUMBERS)),
        "b": _maybe(st.booleans()),
        "e": _maybe(st.sampled_from("abcd")),
        "f": _maybe(st.sampled_from("xyz")),
        "t": _maybe(st.lists(st.sampled_from("pqr"), max_size=3)),
        "d": _maybe(st.integers(0, len(DAY_OFFSETS) - 1)),
        "w": _maybe(_INSTANT),
    }
)
_EVENT = st.fixed_dictionaries(
    {
        "record_id": st.sampled_from((*IDS, "ghost")),
        "type": st.sampled_from(("page_view", "email_open", "email_reply")),
        "occurred_at": _INSTANT,
        "url": _maybe(st.sampled_from(TEXTS)),
        "score": _maybe(st.sampled_from(NUMBERS)),
        "campaign": _maybe(st.sampled_from(TEXTS)),
    }
)
_HISTORY_VALUES = {
    "s": TEXTS,
    "n": ("1", " 2 ", "2.0", "0.5", "x", "-1"),
    "e": ("a", "b", "c", "d"),
    "b": ("true", "false", "yes", "0"),
    "d": ("2026-12-01", "2026-11-30", "bad"),
}
_HISTORY = st.sampled_from(sorted(_HISTORY_VALUES)).flatmap(
    lambda name: st.fixed_dictionaries(
        {
            "object_type": st.just("contact"),
            "record_id": st.sampled_from(IDS),
            "property": st.just(name),
            "value": _maybe(st.sampled_from(_HISTORY_VALUES[name])),
            "changed_at": _INSTANT,
        }
    )
)
_OTHERS = [("company", f"k{i}") for i in range(4)] + [
    ("deal", f"d{i}") for i in range(5)
]
_LINK = st.tuples(
    st.sampled_from(_OTHERS), st.sampled_from(IDS), st.booleans(), st.booleans()
)
_MEMBER = st.fixed_dictionaries(
    {"list": st.sampled_from(("L0", "L1", "L2")), "record_id": st.sampled_from(IDS)}
)
_ENROLLMENT = st.fixed_dictionaries(
    {"record_id": st.sampled_from(IDS), "enrolled_at": _INSTANT}
)
COMPANIES = [
    {"id": "k0", "size": 10.0, "name": "Acme"},
    {"id": "k1", "size": 0.5, "name": "ab"},
    {"id": "k2"},
]
DEALS = [
    {"id": "d0", "amount": 10.0, "stage": "won"},
    {"id": "d1", "amount": 0.0, "stage": "open"},
    {"id": "d2", "stage": "lost"},
    {"id": "d3", "amount": 2.0},
]


def _link(row: tuple[tuple[str, str], str, bool, bool]) -> dict[str, Any]:
    (kind, other), contact, reverse, primary = row
    ends = [("contact", contact), (kind, other)]
    (from_type, from_id), (to_type, to_id) = ends[::-1] if reverse else ends
    return {
        "from_type": from_type,
        "from_id": from_id,
        "to_type": to_type,
        "to_id": to_id,
        "primary": primary,
    }


@st.composite
def worlds(draw: st.DrawFn) -> dict[str, Any]:
    """A zone, a now, and records, events, history and associations around it."""
    zone, now = draw(st.sampled_from(ZONES)), draw(st.sampled_from(NOWS))
    at, days = instants(zone, now), dates(zone, now)

    def timed(row: dict[str, Any], key: str) -> dict[str, Any]:
        index = row.get(key)
        return row | {key: None if index is None else at[index]}

    contacts = []
    for rid in IDS[: draw(st.integers(1, len(IDS)))]:
        row = draw(_CONTACT)
        row["d"] = None if row["d"] is None else days[row["d"]]
        contacts.append(timed(row, "w") | {"id": rid})
    previous = draw(_maybe(_INSTANT))
    return {
        "timezone": zone,
        "now": now,
        "contacts": contacts,
        "companies": COMPANIES,
        "deals": DEALS,
        "events": [
            timed(e, "occurred_at") for e in draw(st.lists(_EVENT, max_size=12))
        ],
        "history": [
            timed(h, "changed_at") for h in draw(st.lists(_HISTORY, max_size=10))
        ],
        "associations": [_link(row) for row in draw(st.lists(_LINK, max_size=10))],
        "previous_run": None if previous is None else at[previous],
        "stored": {
            "lists": draw(st.lists(st.sampled_from(("L0", "L1", "L2")), unique=True)),
            "members": draw(st.lists(_MEMBER, max_size=4)),
        },
        "enrolled": {
            "W": [
                timed(row, "enrolled_at")
                for row in draw(st.lists(_ENROLLMENT, max_size=4))
            ]
        },
    }


# ---------------------------------------------------------------- rule text


def _join(*parts: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(*parts).map(lambda words: " ".join(w for w in words if w))


def _words(*choices: str) -> st.SearchStrategy[str]:
    return st.sampled_from(choices)


def _list_of(values: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.lists(values, min_size=1, max_size=3).map(lambda v: f"[{', '.join(v)}]")


_TEXT = st.sampled_from([f'"{t}"' for t in TEXTS])
_NUMBER = _words("-1", "0", "0.5", "1", "2", "10")
_DATE = st.integers(0, len(DAY_OFFSETS) - 1).map(lambda i: f"@D{i}@")
_DATETIME = st.one_of(_DATE, _INSTANT.map(lambda i: f"@T{i}@"))
_KNOWN = _words("is known", "is unknown")
_DAYS = _join(_words("0", "1", "2", "7"), _words("days", "weeks"))
_FINE = _join(_words("0", "1", "2", "7"), _words("days", "hours", "minutes"))
_TEXT_OPS = (
    "is", "is not", "=", "contains", "does not contain", "starts with",
    "does not start with", "ends with", "does not end with",
)  # fmt: skip


def _ordered(literal: st.SearchStrategy[str], extra: tuple[str, ...] = ()) -> Any:
    return _join(_words("is", "is not", "<", "<=", ">", ">=", *extra), literal)


def _ranges(literal: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    word = _words("is between", "is not between")
    return st.tuples(word, literal, literal).map(lambda w: f"{w[0]} {w[1]} and {w[2]}")


def _relative(duration: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        _join(_words("in last", "in next"), duration),
        _join(_words("is more than"), duration, _words("ago", "from now")),
    )


def _history(value: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        _join(_words("has ever been", "has never been"), value),
        _join(_words("updated in last"), _FINE),
    )


_TESTS: dict[str, st.SearchStrategy[str]] = {
    "s": st.one_of(
        _KNOWN,
        _join(st.sampled_from(_TEXT_OPS), _TEXT),
        _join(
            _words("is any of", "is none of", "contains any of", "contains none of"),
            _list_of(_TEXT),
        ),
        _history(_TEXT),
    ),
    "o": st.one_of(
        _KNOWN,
        _join(st.sampled_from(_TEXT_OPS), _TEXT),
        _join(_words("is any of", "is none of"), _list_of(_TEXT)),
    ),
    "n": st.one_of(
        _KNOWN,
        _ordered(_NUMBER, ("=",)),
        _ranges(_NUMBER),
        _join(_words("is any of", "is none of"), _list_of(_NUMBER)),
        _history(_NUMBER),
    ),
    "b": st.one_of(
        _KNOWN,
        _words("is true", "is false", "is not true", "= false"),
        _history(_words("true", "false")),
    ),
    "e": st.one_of(
        _KNOWN,
        _ordered(_words("a", "b", "c", "d")),
        _join(_words("is any of", "is none of"), _list_of(_words("a", "B", "c"))),
        _history(_words("a", "b", "c", "d")),
    ),
    "f": st.one_of(
        _KNOWN,
        _join(_words("is", "is not"), _words("x", "y", "Z")),
        _join(_words("is any of", "is none of"), _list_of(_words("x", "y"))),
    ),
    "t": st.one_of(
        _KNOWN,
        _join(
            _words(
                "contains any of", "contains all of", "contains none of", "is exactly"
            ),
            _list_of(_words("p", "q", "R")),
        ),
    ),
    "d": st.one_of(
        _KNOWN,
        _ordered(_DATE, ("is before", "is after", "is on")),
        _ranges(_DATE),
        _relative(_DAYS),
        _history(_DATE),
    ),
    "w": st.one_of(
        _KNOWN,
        _ordered(_DATETIME, ("is before", "is after", "is on")),
        _ranges(_DATETIME),
        _relative(_FINE),
    ),
    "company.size": st.one_of(_KNOWN, _ordered(_NUMBER), _ranges(_NUMBER)),
    "company.name": st.one_of(_KNOWN, _join(st.sampled_from(_TEXT_OPS), _TEXT)),
}
PROPERTY_TESTS = st.sampled_from(sorted(_TESTS)).flatmap(
    lambda name: _TESTS[name].map(lambda test: f"{name} {test}")
)
_EVENT_FILTERS = {
    "page_view": _join(
        _words("where"),
        st.one_of(
            _join(_words("url"), st.sampled_from(_TEXT_OPS), _TEXT),
            _join(_words("score"), _ordered(_NUMBER)),
            _words("url is unknown"),
        ),
    ),
    "email_open": _join(_words("where campaign"), st.sampled_from(_TEXT_OPS), _TEXT),
    "email_reply": st.just(""),
}
HAD = _words("page_view", "email_open", "email_reply").flatmap(
    lambda event: _join(
        _words("had", "had no"),
        st.just(event),
        _words("", "at least 2 times", "at most 1 times", "exactly 1 times"),
        st.one_of(st.just(""), _EVENT_FILTERS[event]),
        _words("", "in last 1 day", "in last 7 days", "in last 2 hours"),
    )
)
QUANTIFIED = _join(
    _words("any deal", "no deal", "all deals", "at least 2 deals"),
    _words("where"),
    _words(
        "amount > 1",
        "stage is won",
        "amount is unknown",
        "amount >= 0 and stage is not lost",
        "(stage is open or amount is between 1 and 10)",
    ),
)


def conditions(lists: tuple[str, ...], depth: int = 0) -> st.SearchStrategy[str]:
    """Conditions of random nesting; every leaf is parenthesised, so a `where`
    clause never takes a tail it was not meant to."""
    leaves = [PROPERTY_TESTS, PROPERTY_TESTS, PROPERTY_TESTS, HAD, QUANTIFIED]
    if lists:
        leaves.append(
            _join(
                _words("in list", "not in list"), _words(*lists).map(lambda n: f'"{n}"')
            )
        )
    leaf = st.one_of(*leaves).map(lambda text: f"({text})")
    if depth >= 3:
        return leaf
    inner = st.deferred(lambda: conditions(lists, depth + 1))
    return st.one_of(
        leaf,
        leaf,
        inner.map(lambda text: f"not ({text})"),
        st.tuples(_words("and", "or"), st.lists(inner, min_size=2, max_size=3)).map(
            lambda shape: f" {shape[0]} ".join(f"({item})" for item in shape[1])
        ),
    )


_LIST_CONDITIONS = [conditions(tuple(f"L{i}" for i in range(n))) for n in range(3)]
_CHANGES = _words(
    "e changed",
    "e changed to b",
    "e changed from a to b",
    "n changed to 2",
    "s changed",
)
_GOALS = _words(
    "had page_view since enrolled", "had no email_reply since enrolled", "n > 1"
)


@st.composite
def rule_sets(draw: st.DrawFn) -> str:
    """One to three lists (later ones may refer to earlier ones) and a workflow."""
    blocks = []
    count = draw(st.integers(1, 3))
    for index in range(count):
        condition = draw(_LIST_CONDITIONS[index])
        kind = draw(_words("active", "active", "static"))
        blocks.append(f'list "L{index}" {kind} {{ {condition} }}')
    change, goal = draw(_CHANGES), draw(_GOALS)
    branch = draw(_LIST_CONDITIONS[count - 1])
    blocks.append(
        f'workflow "W" on contact {{ enroll when {change}  goal {goal}\n'
        f"  if {branch} {{ wait 1 day }} }}"
    )
    return "\n".join(blocks)


# ---------------------------------------------------------------- the property


def record_atoms(plan: Plan, object: str) -> dict[str, Expr]:
    """Every atom the rules of `object` read, as outputs named by atom id."""
    found: dict[str, Expr] = {}
    for rule in plan.rules_of(object):
        for node in walk(rule.expr):
            if isinstance(node, AtomRef):
                found[node.id] = node
        if rule.stored is not None:
            found[rule.stored] = AtomRef(rule.stored)
    return found


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    yield connection
    connection.close()


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(world=worlds(), template=rule_sets())
def test_engines_agree(
    con: duckdb.DuckDBPyConnection, world: dict[str, Any], template: str
) -> None:
    """DuckDB and the reference engine give every atom and every rule the same
    truth for every record."""
    zone = world["timezone"]
    values = literals(zone, world["now"])
    rules = re.sub(r"@(\w+)@", lambda m: values[m[1]], template)
    plan, schema = compile_case(SCHEMA + rules, zone)
    load_tables(con, schema, world, zone)
    enrolled, stored = load_run_inputs(con, world, zone)
    run = Run(world["now"], world["previous_run"], enrolled, stored)
    outputs = {**record_atoms(plan, "contact"), **rule_outputs(plan, "contact", run)}

    found = {}
    for name, engine in ENGINES.items():
        table = f"{name}_outputs"
        engine.evaluate_outputs(
            plan, con, run, object="contact", outputs=outputs, table=table
        )
        found[name] = con.execute(f'SELECT * FROM "{table}" ORDER BY id').fetchall()
    assert found["duckdb"] == found["reference"], rules
