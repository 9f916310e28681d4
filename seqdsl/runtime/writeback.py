"""Runtime stage, write-back: a run's results as TEMP tables shaped like the state.

After the phases, every state table the run rewrites gets a `new_<table>` and every
table it appends to an `add_<table>`; :func:`seqdsl.runtime.state.commit` then
copies them into the state file in one transaction. Bulk data stays in SQL: the
truths of records no phase visited, and the first members of static lists, are
copied from the engine's truth tables without passing through Python.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence

import duckdb
import pyarrow as pa

from seqdsl import plan as p
from seqdsl.engine import column_names
from seqdsl.runtime import state as st
from seqdsl.runtime.context import RunContext
from seqdsl.runtime.limits import USAGE
from seqdsl.runtime.outbox import Decision
from seqdsl.runtime.replay import WorkflowPhase
from seqdsl.runtime.sqltext import name_sql
from seqdsl.runtime.workflows import Enrollment

__all__ = ["memberships", "write_back"]

_INSTANTS = frozenset(
    {
        "as_of",
        "previous",
        "first_seen",
        "enrolled_at",
        "wake_at",
        "waited_from",
        "ended_at",
        "requested_at",
        "due_at",
        "happened_at",
        "set_at",
        "since",
    }
)


def write_back(
    con: duckdb.DuckDBPyConnection,
    workflows: WorkflowPhase,
    sequence_rows: Sequence[Sequence[object]],
    *,
    ordered: Sequence[Decision],
    run_id: int,
) -> None:
    """Make the `new_*` and `add_*` tables of one run; `ordered` are its
    decisions in due order."""
    ctx = workflows.ctx
    rules = [(n, ctx.versions[n], ctx.first_seen[n]) for n in sorted(ctx.versions)]
    table(con, "new_rules", _columns("rules"), rules)
    _truths(con, workflows)
    _list_members(con, ctx, workflows.now_tables)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE new_overrides AS SELECT * FROM rt_overrides"
    )
    _wf_enrollments(con, workflows)
    table(con, "rt_seq_rows", _columns("seq_enrollments"), sequence_rows)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE new_seq_enrollments AS "
        "SELECT * FROM prev_seq_enrollments WHERE record_id NOT IN "
        "(SELECT record_id FROM rt_seq_rows) UNION ALL SELECT * FROM rt_seq_rows"
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE new_usage AS SELECT * FROM {USAGE}")
    _run_rows(con, ctx, ordered, run_id)


def memberships(
    con: duckdb.DuckDBPyConnection, plan: p.Plan, tables: Mapping[str, str]
) -> tuple[tuple[str, str], ...]:
    """Every list's members as evaluated at the run's now."""
    columns = column_names(plan)
    parts, names = [], []
    for rule in plan.rules.values():
        found = tables.get(rule.object)
        if rule.is_list and found is not None:
            parts.append(
                f"SELECT ? AS list, id FROM {name_sql(found)} "
                f"WHERE {name_sql(columns[rule.key])}"
            )
            names.append(rule.name)
    if not parts:
        return ()
    rows = con.execute(" UNION ".join(parts) + " ORDER BY 1, 2", names).fetchall()
    return tuple((str(a), str(b)) for a, b in rows)


def _truths(con: duckdb.DuckDBPyConnection, workflows: WorkflowPhase) -> None:
    """The edge keys true at each record's last evaluation: from the phase for the
    records it visited, from the evaluation at now for the others."""
    keys = workflows.edge_keys()
    columns = column_names(workflows.ctx.plan)
    visited = [
        (key, flow.record_id)
        for flow in workflows.flows.values()
        for key in sorted(flow.prev)
        if key in keys
    ]
    table(con, "rt_visited_truths", ["key", "record_id"], visited)
    table(
        con,
        "rt_visited",
        ["object_type", "id"],
        [flow.key for flow in workflows.flows.values()],
    )
    parts, params = [], []
    steady = workflows.decider.steady
    for key in keys:
        found = workflows.now_tables.get(workflows.ctx.plan.rules[key].object)
        if found is not None:
            kept = steady.get(key, key)
            parts.append(
                f"SELECT ? AS key, id AS record_id FROM {name_sql(found)} "
                f"WHERE {name_sql(columns[kept])}"
            )
            params.append(key)
    query = "SELECT * FROM rt_visited_truths"
    if parts:
        query += (
            f" UNION ALL SELECT * FROM ({' UNION ALL '.join(parts)}) "
            "WHERE record_id NOT IN (SELECT id FROM rt_visited)"
        )
    con.execute(f"CREATE OR REPLACE TEMP TABLE new_truths AS {query}", params)


def _list_members(
    con: duckdb.DuckDBPyConnection, ctx: RunContext, tables: Mapping[str, str]
) -> None:
    """Stored list members: the previous ones, this run's list actions, and the
    first filling of static lists seen for the first time."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE new_list_members AS SELECT * FROM rt_list_changes"
    )
    columns = column_names(ctx.plan)
    for rule in ctx.plan.rules.values():
        found = tables.get(rule.object)
        if rule.kind is not p.RuleKind.STATIC_LIST or found is None:
            continue
        if not ctx.is_new(rule.name):
            continue
        con.execute(
            "INSERT INTO new_list_members SELECT ?, id, true, ?, 0 "
            f"FROM {name_sql(found)} WHERE {name_sql(columns[rule.key])} "
            "AND id NOT IN "
            "(SELECT record_id FROM rt_list_changes WHERE list = ?)",
            [rule.name, ctx.as_of, rule.name],
        )


def _wf_enrollments(con: duckdb.DuckDBPyConnection, workflows: WorkflowPhase) -> None:
    """The previous enrollments, with those the phase touched replaced."""
    rows = [
        _enrollment_row(e)
        for flow in workflows.flows.values()
        for e in flow.enrollments.values()
    ]
    table(con, "rt_wf_rows", _columns("wf_enrollments"), rows)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE new_wf_enrollments AS "
        "SELECT * FROM prev_wf_enrollments p WHERE NOT EXISTS ("
        "SELECT 1 FROM rt_wf_rows r WHERE r.workflow = p.workflow "
        "AND r.record_id = p.record_id AND r.occurrence = p.occurrence) "
        "UNION ALL SELECT * FROM rt_wf_rows"
    )


def _enrollment_row(e: Enrollment) -> tuple[object, ...]:
    return (
        e.workflow,
        e.record_id,
        e.occurrence,
        e.status,
        e.enrolled_at,
        e.pc,
        e.wake_at,
        e.waiting,
        e.waited_from,
        e.ended_at,
        e.reason,
    )


def _run_rows(
    con: duckdb.DuckDBPyConnection,
    ctx: RunContext,
    ordered: Sequence[Decision],
    run_id: int,
) -> None:
    """The run itself, its outbox rows and its history rows."""
    actions = [d for d in ordered if d.is_action]
    table(
        con,
        "add_runs",
        _columns("runs"),
        [(run_id, ctx.as_of, ctx.previous, len(actions))],
    )
    outbox = [_outbox_row(d, run_id, n) for n, d in enumerate(actions)]
    table(con, "add_outbox", _columns("outbox"), outbox)
    history = [_history_row(d, run_id, n) for n, d in enumerate(ordered)]
    table(con, "add_history", _columns("history"), history)


def _outbox_row(decision: Decision, run_id: int, position: int) -> tuple[object, ...]:
    d = decision
    return (d.id, run_id, position, d.at, d.record_id, d.source, d.kind, d.step,
            d.detail, d.reason)  # fmt: skip


def _history_row(decision: Decision, run_id: int, position: int) -> tuple[object, ...]:
    d = decision
    action = d.id if d.is_action else None
    return (run_id, position, d.at, d.record_id, d.source, d.kind, d.detail,
            d.reason, action)  # fmt: skip


def table(
    con: duckdb.DuckDBPyConnection,
    name: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[object]],
) -> None:
    """A TEMP table from Python rows, through Arrow. Its types are Arrow's, so
    such a table is only ever inserted into a typed table."""
    items = list(rows)
    values = list(zip(*items, strict=True)) if items else [() for _ in columns]
    batch = pa.table(  # noqa: F841 - read by the SQL below
        {
            column: pa.array(list(found), type=_arrow_type(column, found))
            for column, found in zip(columns, values, strict=True)
        }
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM batch")


def _arrow_type(column: str, values: Sequence[object]) -> pa.DataType:
    sample = next((v for v in values if v is not None), None)
    if isinstance(sample, bool):
        return pa.bool_()
    if isinstance(sample, int):
        return pa.int64()
    if isinstance(sample, dt.date) and not isinstance(sample, dt.datetime):
        return pa.date32()
    if isinstance(sample, dt.datetime) or (sample is None and column in _INSTANTS):
        return pa.timestamp("us", tz="UTC")
    return pa.string()


def _columns(name: str) -> list[str]:
    return [column.split()[0] for column in st.TABLES[name].split(", ")]
