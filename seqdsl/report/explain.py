"""Report stage, explain: `seqdsl explain` over the workspace's data and state.

The state file is only read, and only for the members of static lists: a
static list is decided by what its first run froze, so explain reads that
instead of its condition (see :func:`seqdsl.explain.read_frozen_lists`).
"""

from __future__ import annotations

import datetime as dt

import duckdb

from seqdsl.checked import CheckedWorkspace
from seqdsl.compile import compile_workspace
from seqdsl.data import load_data
from seqdsl.engine import EngineError
from seqdsl.explain import (
    FrozenLists,
    explain_record,
    near_misses,
    read_frozen_lists,
)
from seqdsl.plan import Plan, RuleKind, list_key

#: Near misses show at most this many record ids per condition.
NEAR_MISS_IDS = 20

#: Lists explained when none is named: those with a condition.
_CONDITIONED = (RuleKind.ACTIVE_LIST, RuleKind.STATIC_LIST)


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
    if want_near_misses and list_name is None:
        raise EngineError("--near-misses needs --list NAME")
    con = duckdb.connect()
    try:
        load_data(con, checked.settings, checked.schema)
        frozen = read_frozen_lists(con, checked.settings.state_path, plan, now)
        explained = [
            explain_record(plan, con, record_id, key, now, frozen=frozen)
            for key in keys
        ]
        blocks = [explanation.render() for explanation in explained]
        if want_near_misses:
            blocks.append(_near_misses(plan, con, keys[0], now, frozen))
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
    return [k for k, r in plan.rules.items() if r.kind in _CONDITIONED]


def _near_misses(
    plan: Plan,
    con: duckdb.DuckDBPyConnection,
    key: str,
    now: dt.datetime,
    frozen: FrozenLists | None,
) -> str:
    rule = plan.rules[key]
    stored = frozen.stored if frozen is not None else None
    if stored is not None and rule.name in stored.lists:
        return (
            f"{key} is a static list with frozen members: a change to a record "
            "does not bring it in, only `add to list` does\n"
        )

    found = near_misses(plan, con, key, now, stored=stored, limit=NEAR_MISS_IDS)
    if not found:
        return f"no record misses {key} by exactly one condition\n"
    static = rule.kind is RuleKind.STATIC_LIST
    preview = " (preview of its first run)" if static else ""
    lines = [f"records that miss {key}{preview} by exactly one condition:"]
    for condition, ids in found.items():
        lines.append(f"  fails only: {condition}")
        lines.append(f"    {', '.join(ids)}")
    return "\n".join(lines) + "\n"
