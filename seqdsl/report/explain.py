"""Report stage, explain: `seqdsl explain` over the workspace's data and state."""

from __future__ import annotations

import datetime as dt

import duckdb

from seqdsl.checked import CheckedWorkspace
from seqdsl.compile import compile_workspace
from seqdsl.data import load_data
from seqdsl.engine import EngineError
from seqdsl.explain import explain_record, near_misses
from seqdsl.plan import Plan, RuleKind, list_key

#: Near misses show at most this many record ids per condition.
NEAR_MISS_IDS = 20


def explain_command(
    checked: CheckedWorkspace,
    record_id: str,
    *,
    list_name: str | None,
    workflow_name: str | None,
    now: dt.datetime,
    want_near_misses: bool,
) -> str:
    """The text of `seqdsl explain`: the chosen rules for one record, then misses."""
    plan = compile_workspace(checked)
    keys = _keys(plan, list_name, workflow_name)
    con = duckdb.connect()
    try:
        load_data(con, checked.settings, checked.schema)
        blocks = [
            explain_record(plan, con, record_id, key, now).render() for key in keys
        ]
        if want_near_misses:
            if list_name is None:
                raise EngineError("--near-misses needs --list NAME")
            blocks.append(_near_misses(plan, con, list_key(list_name), now))
    finally:
        con.close()
    return "\n".join(blocks)


def _keys(plan: Plan, list_name: str | None, workflow_name: str | None) -> list[str]:
    if list_name is not None:
        key = list_key(list_name)
        if key not in plan.rules:
            raise EngineError(f"no list called `{list_name}`")
        return [key]
    if workflow_name is not None:
        keys = [k for k, r in plan.rules.items() if r.workflow == workflow_name]
        if not keys:
            raise EngineError(f"no workflow called `{workflow_name}`")
        return keys
    return [k for k, r in plan.rules.items() if r.kind in (RuleKind.ACTIVE_LIST,)]


def _near_misses(
    plan: Plan, con: duckdb.DuckDBPyConnection, key: str, now: dt.datetime
) -> str:
    found = near_misses(plan, con, key, now, limit=NEAR_MISS_IDS)
    if not found:
        return f"no record misses {key} by exactly one condition\n"
    lines = [f"records that miss {key} by exactly one condition:"]
    for condition, ids in found.items():
        lines.append(f"  fails only: {condition}")
        lines.append(f"    {', '.join(ids)}")
    return "\n".join(lines) + "\n"
