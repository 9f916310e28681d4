"""Engines, explain and near misses: outputs, run inputs, errors and wording."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from test_conformance import compile_case, load_tables

from seqdsl.engine import EngineError, Run, evaluate
from seqdsl.explain import explain_record, near_misses
from seqdsl.plan import Plan

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
SCHEMA = """
object contact { n: number  email: string  stage: enum [lead, customer] }
event email_open { campaign: string }
"""
RULES = """
list "Big" active { n >= 50 }
list "Engaged" active { had email_open at least 3 times in last 14 days }
list "Hot" active { in list "Big" and in list "Engaged" and email is known }
list "Hand" manual
"""
DATA: dict[str, Any] = {
    "contacts": [
        {"id": "1", "n": 42, "email": "a@x.com"},
        {"id": "2", "n": 60, "email": "b@x.com"},
        {"id": "3", "n": 70},
        {"id": "4"},
    ],
    "events": [
        {
            "record_id": "2",
            "type": "email_open",
            "occurred_at": NOW - dt.timedelta(days=d),
        }
        for d in (1, 2, 3)
    ]
    + [
        {
            "record_id": "1",
            "type": "email_open",
            "occurred_at": NOW - dt.timedelta(days=d),
        }
        for d in (1, 2, 3, 30)
    ]
    + [{"record_id": "3", "type": "email_open", "occurred_at": NOW}] * 3,
    "memberships": [{"list": "Hand", "record_id": "4"}],
}


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    yield connection
    connection.close()


@pytest.fixture
def plan(con: duckdb.DuckDBPyConnection) -> Plan:
    compiled, schema = compile_case(SCHEMA + RULES, "UTC")
    load_tables(con, schema, DATA, "UTC")
    return compiled


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[Any, ...]]:
    return con.execute(sql).fetchall()


@pytest.mark.parametrize("engine", ["duckdb", "reference"])
def test_truths_have_one_column_per_rule(
    con: duckdb.DuckDBPyConnection, plan: Plan, engine: str
) -> None:
    """Every engine writes `truths_<object>`: id, then one BOOLEAN per rule key."""
    truths = evaluate(plan, con, NOW, engine=engine)
    assert truths.tables == {"contact": "truths_contact"}
    found = rows(con, "SELECT * FROM truths_contact ORDER BY id")
    columns = [d[0] for d in con.execute("SELECT * FROM truths_contact").description]
    assert columns == ["id", "list:Big", "list:Engaged", "list:Hand", "list:Hot"]
    assert found == [
        ("1", False, True, False, False),
        ("2", True, True, False, True),
        ("3", True, True, False, False),
        ("4", False, False, True, False),
    ]


def test_only_limits_the_outputs_but_not_what_they_need(
    con: duckdb.DuckDBPyConnection, plan: Plan
) -> None:
    """Asking for one list still computes the lists it refers to."""
    truths = evaluate(plan, con, NOW, only=["list:Hot"])
    assert list(truths.keys) == ["list:Hot"]
    assert rows(con, 'SELECT id FROM truths_contact WHERE "list:Hot"') == [("2",)]


def test_members_query_lists_every_member_of_every_list(
    con: duckdb.DuckDBPyConnection, plan: Plan
) -> None:
    """The runtime can COPY `list,record_id` straight from DuckDB."""
    truths = evaluate(plan, con, NOW)
    assert rows(con, truths.members_query(plan)) == [
        ("Big", "2"),
        ("Big", "3"),
        ("Engaged", "1"),
        ("Engaged", "2"),
        ("Engaged", "3"),
        ("Hand", "4"),
        ("Hot", "2"),
    ]


def test_the_session_time_zone_is_pinned_to_utc(
    con: duckdb.DuckDBPyConnection, plan: Plan
) -> None:
    """A caller's session zone changes nothing: the engine sets UTC."""
    con.execute("SET TimeZone = 'Asia/Tokyo'")
    evaluate(plan, con, NOW.astimezone(dt.timezone(dt.timedelta(hours=9))))
    assert rows(con, "SELECT current_setting('TimeZone')") == [("UTC",)]
    assert rows(con, 'SELECT id FROM truths_contact WHERE "list:Engaged"') == [
        ("1",),
        ("2",),
        ("3",),
    ]


def test_run_inputs_and_engine_names_are_checked() -> None:
    """A naive now and an unknown engine are errors, not tracebacks."""
    with pytest.raises(EngineError, match="no time zone"):
        Run(dt.datetime(2026, 12, 1))
    with pytest.raises(EngineError, match="unknown engine `spark`"):
        evaluate(
            compile_case(SCHEMA + RULES, "UTC")[0],
            duckdb.connect(),
            NOW,
            engine="spark",
        )


@pytest.mark.parametrize("engine", ["duckdb", "reference"])
def test_a_missing_input_table_is_an_engine_error(engine: str) -> None:
    """Evaluating before the data is loaded names the problem."""
    plan, _ = compile_case(SCHEMA + RULES, "UTC")
    with pytest.raises(EngineError, match="obj_contact"):
        evaluate(plan, duckdb.connect(), NOW, engine=engine)


def test_explain_says_what_the_record_has_and_what_the_rule_needs(
    con: duckdb.DuckDBPyConnection, plan: Plan
) -> None:
    """Each condition shows the record's value and what it must be, nested."""
    explanation = explain_record(plan, con, "1", "list:Hot", NOW)
    assert not explanation.passed
    assert explanation.render() == (
        "record 1 does not meet list:Hot\n"
        '  [no] in list "Big" and in list "Engaged" and email is known: 1 of 3 fail\n'
        '    [no] in list "Big": is not a member\n'
        "      [no] n >= 50: n is 42, needs at least 50\n"
        '    [yes] in list "Engaged": is a member\n'
        "      [yes] had email_open at least 3 times in last 14 days: "
        "3 email_open in the last 14 days, needs at least 3\n"
        '    [yes] email is known: email is "a@x.com"\n'
    )


def test_explain_says_unknown_values_are_unknown(
    con: duckdb.DuckDBPyConnection, plan: Plan
) -> None:
    """An unknown value is named as such, and fails its test."""
    step = explain_record(plan, con, "4", "list:Big", NOW).root
    assert (step.passed, step.detail) == (False, "n is unknown, so the test fails")


def test_explain_refuses_unknown_records_and_rules(
    con: duckdb.DuckDBPyConnection, plan: Plan
) -> None:
    """Asking about a record or rule that does not exist is an EngineError."""
    with pytest.raises(EngineError, match="no contact has the id `9`"):
        explain_record(plan, con, "9", "list:Big", NOW)
    with pytest.raises(EngineError, match="no rule `list:Nope`"):
        explain_record(plan, con, "1", "list:Nope", NOW)


@pytest.mark.parametrize("engine", ["duckdb", "reference"])
def test_near_misses_fail_exactly_one_condition(
    con: duckdb.DuckDBPyConnection, plan: Plan, engine: str
) -> None:
    """Records failing one top-level condition, grouped by that condition."""
    found = near_misses(plan, con, "list:Hot", NOW, engine=engine)
    assert found == {
        "email is known": ["3"],
        'in list "Big"': ["1"],
    }
    assert near_misses(plan, con, "list:Big", NOW, limit=1) == {"n >= 50": ["1"]}


def test_the_demo_workspace_evaluates_alike_in_both_engines(tmp_path: Path) -> None:
    """Generated demo data, loaded by `seqdsl.data`, and 50 benchmark lists."""
    from seqdsl.check import check_text
    from seqdsl.compile import compile_workspace
    from seqdsl.data import load_data
    from seqdsl.demo import (
        DEFAULT_AS_OF,
        DemoSpec,
        benchmark_rules,
        generate,
        schema_text,
    )
    from seqdsl.workspace import load_workspace

    generate(tmp_path / "demo", DemoSpec(contacts=150, format="csv"))
    settings = load_workspace(tmp_path / "demo").settings
    result = check_text(schema_text() + benchmark_rules(50), settings)
    assert result.workspace is not None
    plan = compile_workspace(result.workspace)
    con = duckdb.connect()
    load_data(con, settings, result.workspace.schema, plan.needed_columns())

    tables = {}
    for engine in ("duckdb", "reference"):
        evaluate(plan, con, DEFAULT_AS_OF, engine=engine, prefix=f"{engine}_")
        tables[engine] = rows(con, f"SELECT * FROM {engine}_contact ORDER BY id")
    assert tables["duckdb"] == tables["reference"]
    assert any(any(row[1:]) for row in tables["duckdb"])


@pytest.mark.parametrize("engine", ["duckdb", "reference"])
def test_names_that_differ_only_in_case_get_their_own_columns(
    con: duckdb.DuckDBPyConnection, engine: str
) -> None:
    """DuckDB matches column names without case; `list:leads` must not read
    `list:Leads`."""
    rules = """
    list "Leads" active { n > 50 }
    list "leads" active { n < 50 }
    list "both" active { in list "Leads" or in list "leads" }
    """
    plan, schema = compile_case(SCHEMA + rules, "UTC")
    load_tables(con, schema, DATA, "UTC")
    truths = evaluate(plan, con, NOW, engine=engine)
    assert truths.column_of("list:leads") == "list:leads (2)"
    query = 'SELECT id FROM truths_contact WHERE "{}" ORDER BY id'
    found = {key: rows(con, query.format(truths.column_of(key))) for key in plan.rules}
    assert found == {
        "list:Leads": [("2",), ("3",)],
        "list:leads": [("1",)],
        "list:both": [("1",), ("2",), ("3",)],
    }
