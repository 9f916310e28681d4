"""Compile stage: rule keys, interning, levels, lowering and the plan dump."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from seqdsl import ast
from seqdsl import plan as p
from seqdsl.calendar import Calendar
from seqdsl.check import check_text
from seqdsl.compile import branching_statements, compile_workspace, condition_text
from seqdsl.engine.query import counted_events
from seqdsl.parse import parse_text
from seqdsl.workspace import Settings

SCHEMA = """
object contact {
  email: string
  n: number
  stage: enum [lead, mql, sql, customer] ordered
  created: datetime
  renewal: date
}
event page_view { url: string }
"""


def compiled(rules: str, zone: str = "UTC") -> p.Plan:
    result = check_text(SCHEMA + rules, Settings(root=Path.cwd(), timezone=zone))
    assert result.workspace is not None, [d.message for d in result.errors]
    return compile_workspace(result.workspace)


def atom_of(plan: p.Plan, key: str) -> p.Atom:
    expr = plan.rules[key].expr
    assert isinstance(expr, p.AtomRef)
    return plan.atoms[expr.id]


def test_identical_atoms_and_counts_are_shared_across_rules() -> None:
    """Two rules that test the same thing read one atom and one event count."""
    plan = compiled(
        """
        list "A" active {
          n > 5 and had page_view where url contains "x" in last 7 days
        }
        list "B" active {
          had page_view where url contains "X" in last 7 days or n > 5
        }
        """
    )
    assert len(plan.atoms) == 3  # n > 5, url contains "x", the count test
    assert len(plan.event_counts) == 1


def test_rule_keys_name_lists_clauses_and_branch_arms() -> None:
    """Keys follow `list:Name`, `workflow:Name:<clause>` and `branch:<n>:<arm>`."""
    plan = compiled(
        """
        list "L" active { n > 1 }
        workflow "W" on contact {
          enroll when n > 1
          enroll when stage is lead
          goal stage >= customer
          if n > 5 {
            if email is known { wait 1 day }
          } else if n > 2 { wait 1 day }
          branch on stage { lead -> { wait 1 day } [mql, sql] -> { wait 1 day } }
        }
        """
    )
    assert list(plan.rules) == [
        "list:L",
        "workflow:W:enroll",
        "workflow:W:goal",
        "workflow:W:branch:1:1",
        "workflow:W:branch:1:2",
        "workflow:W:branch:2:1",
        "workflow:W:branch:3:1",
        "workflow:W:branch:3:2",
    ]
    assert isinstance(plan.rules["workflow:W:enroll"].expr, p.Or)


def test_branching_statements_are_numbered_in_source_order() -> None:
    """The runtime finds branch keys by numbering `if`/`branch on` in pre-order."""
    module = parse_text(
        'workflow "W" on contact { if a is 1 { if b is 2 { wait 1 day } }'
        " else { branch on c { 1 -> { wait 1 day } } } }"
    ).module
    workflow = module.declarations[0]
    assert isinstance(workflow, ast.WorkflowDecl)
    kinds = [type(s).__name__ for s in branching_statements(workflow.body)]
    assert kinds == ["If", "If", "BranchOn"]


def test_lists_that_refer_to_lists_come_later() -> None:
    """A rule's level is one above the highest level of the lists it reads."""
    plan = compiled(
        """
        list "Top" active { in list "Mid" and n > 1 }
        list "Mid" active { in list "Base" }
        list "Base" active { n > 0 }
        list "Hand" manual
        """
    )
    levels = {key: rule.level for key, rule in plan.rules.items()}
    assert levels == {"list:Base": 0, "list:Hand": 0, "list:Mid": 1, "list:Top": 2}
    assert list(plan.rules)[-1] == "list:Top"
    assert isinstance(atom_of(plan, "list:Hand"), p.Stored)


def test_ordered_enum_comparisons_become_option_sets() -> None:
    """`stage >= mql` is `stage` in {mql, sql, customer}."""
    atom = atom_of(compiled('list "A" active { stage >= MQL }'), "list:A")
    assert isinstance(atom, p.ValueAtom)
    assert atom.test == p.OneOf(("mql", "sql", "customer"))


def test_relative_windows_become_ranges_of_run_parameters() -> None:
    """Day windows start at a local midnight, hour windows at elapsed time."""
    plan = compiled(
        """
        list "days" active { created in last 30 days }
        list "hours" active { created in last 2 hours }
        list "next" active { created in next 7 days }
        list "dates" active { renewal is more than 3 days ago }
        """
    )
    tests = {key: getattr(atom_of(plan, key), "test", None) for key in plan.rules}
    day_start, elapsed, date = (
        p.ParamKind.DAY_START,
        p.ParamKind.ELAPSED,
        p.ParamKind.DATE,
    )
    assert tests["list:days"] == p.InRange(p.Param(day_start, -30), p.NOW)
    assert tests["list:hours"] == p.InRange(p.Param(elapsed, -7200), p.NOW)
    assert tests["list:next"] == p.InRange(p.NOW, p.Param(day_start, 8), high_open=True)
    assert tests["list:dates"] == p.InRange(high=p.Param(date, -3), high_open=True)


def test_a_date_compared_with_a_datetime_is_the_local_day() -> None:
    """`created is 2026-11-01` spans that day in the workspace zone (25 h here)."""
    plan = compiled('list "A" active { created is 2026-11-01 }', "America/New_York")
    atom = atom_of(plan, "list:A")
    assert isinstance(atom, p.ValueAtom)
    start = dt.datetime(2026, 11, 1, 4, tzinfo=dt.UTC)
    end = dt.datetime(2026, 11, 2, 5, tzinfo=dt.UTC)
    assert atom.test == p.InRange(start, end, high_open=True)


def test_event_negation_and_counts_become_count_tests() -> None:
    """`had no E at least 2 times` means fewer than 2."""
    atom = atom_of(
        compiled('list "A" active { had no page_view at least 2 times }'), "list:A"
    )
    assert isinstance(atom, p.CountTest)
    assert (atom.op, atom.times) == (p.CountOp.FEWER, 2)


def test_text_constants_are_lower_cased() -> None:
    """Text tests compare lower case on both sides."""
    atom = atom_of(compiled('list "A" active { email contains "ACME" }'), "list:A")
    assert isinstance(atom, p.ValueAtom)
    assert atom.test == p.TextMatch(p.TextMode.CONTAINS, ("acme",))


def test_needed_columns_list_what_rules_read() -> None:
    """The data loader can load only the properties the rules use."""
    plan = compiled('list "A" active { n > 1 and stage has ever been lead }')
    assert plan.needed_columns() == {"contact": frozenset({"n", "stage"})}


def test_parameters_resolve_against_the_workspace_day() -> None:
    """`day_start_m1` is yesterday's local midnight, across a DST change."""
    plan = compiled('list "A" active { created in last 1 day }', "America/New_York")
    now = dt.datetime(2026, 11, 2, 17, 0, tzinfo=dt.UTC)
    values = plan.resolve(now)
    assert values == {
        "now": now,
        "day_start_m1": dt.datetime(2026, 11, 1, 4, 0, tzinfo=dt.UTC),
    }


@pytest.mark.parametrize(
    "text",
    [
        'n is between 1 and 5 and not (email contains "x" or stage < sql)',
        'had no page_view at least 2 times where url starts with "/a" in last 3 days',
        "created is more than 2 weeks ago or renewal is more than 1 day from now",
    ],
)
def test_condition_text_reads_back_as_the_same_condition(text: str) -> None:
    """The text the plan shows for a condition parses to the same condition."""
    first = parse_text(f'list "A" active {{ {text} }}').module.declarations[0]
    assert isinstance(first, ast.ListDecl) and first.condition is not None
    again = parse_text(f'list "A" active {{ {condition_text(first.condition)} }}')
    second = again.module.declarations[0]
    assert isinstance(second, ast.ListDecl)
    assert second.condition == first.condition


def test_plan_dump_shows_params_scans_atoms_rules_and_sql() -> None:
    """`seqdsl plan` prints the plan in a stable form."""
    plan = compiled(
        """
        list "A" active { n >= 10 and had page_view in last 7 days }
        list "B" active { in list "A" or email ends with ".org" }
        """
    )
    text = plan.dump(sql=False)
    assert text == (
        "plan (2 rules, zone UTC)\n"
        "\n"
        "params:\n"
        "  now: now\n"
        "  day_start_m7: midnight 7 days before today\n"
        "\n"
        "scans:\n"
        "  obj_contact: id, email, n\n"
        "  events: record_id, type, occurred_at  (types page_view)\n"
        "\n"
        "atoms:\n"
        "  a1: contact.n in [10, +inf)    # n >= 10\n"
        "  a2: e1 >= 1    # had page_view in last 7 days\n"
        "  a3: contact.email lower ends with any of ['.org']"
        '    # email ends with ".org"\n'
        "\n"
        "event counts:\n"
        "  e1: page_view of contact, since midnight 7 days before today\n"
        "\n"
        "rules:\n"
        "  list:A (active list on contact, level 0)\n"
        "    (a1 and a2)\n"
        "  list:B (active list on contact, level 1)\n"
        "    ([list:A] or a3)\n"
    )
    sql = plan.dump()
    assert 'CREATE OR REPLACE TEMPORARY TABLE "truths_contact"' in sql
    assert "$now" in sql and "$day_start_m7" in sql
    assert "current_timestamp" not in sql.lower() and "now()" not in sql.lower()


def test_calendar_of_settings_is_the_plan_calendar() -> None:
    """The plan carries the workspace zone its parameters are computed in."""
    plan = compiled('list "A" active { n > 1 }', "Europe/Berlin")
    assert plan.calendar == Calendar.build("Europe/Berlin")


def test_counted_events_selects_what_some_count_can_count() -> None:
    """The runtime visits records only at events some count reads: of a counted
    type and meeting that count's `where`; a second, unfiltered count of the
    same type takes every event of it."""
    plan = compiled(
        'list "Pricing" active { had page_view where url contains "/pricing" }\n'
    )
    condition = counted_events(plan, "contact")
    assert condition is not None
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE events AS SELECT * FROM (VALUES "
        "('1', 'page_view', '/pricing/teams'), ('2', 'page_view', '/blog'), "
        "('3', 'form_submission', '/pricing')) t(record_id, type, url)"
    )
    query = f"SELECT record_id FROM events e WHERE {condition} ORDER BY 1"
    assert con.execute(query).fetchall() == [("1",)]

    wider = compiled(
        'list "Pricing" active { had page_view where url contains "/pricing" }\n'
        'list "Any view" active { had page_view in last 3 days }\n'
    )
    condition = counted_events(wider, "contact")
    assert condition is not None
    query = f"SELECT record_id FROM events e WHERE {condition} ORDER BY 1"
    assert con.execute(query).fetchall() == [("1",), ("2",)]
    assert counted_events(compiled('list "L" active { n > 1 }\n'), "contact") is None


def test_rules_that_time_alone_turns_at_midnight() -> None:
    """A rule turns daily when it reads a parameter fixed per day, itself or
    through a list it refers to; property tests and windowless counts do not."""
    plan = compiled(
        """
        list "Recent" active { had page_view in last 30 days }
        list "Leads" active { stage is lead }
        list "Recent leads" active { in list "Recent" and stage is lead }
        list "Renewing" active { renewal in next 30 days }
        list "Ever" active { had page_view where url contains "/pricing" }
        list "Older" active { created is more than 10 days ago }
        """
    )
    turning = {rule.name for rule in plan.rules.values() if plan.turns_daily(rule.key)}
    assert turning == {"Recent", "Recent leads", "Renewing", "Older"}
