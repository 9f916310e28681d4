"""Runtime stage, the `run` verb: truths + previous state + now -> new state + outbox.

:func:`run` reads the data and the previous state, replays what happened since the
previous run in time order — workflows first
(:class:`~seqdsl.runtime.workflows.WorkflowPhase`), then sequences
(:class:`~seqdsl.runtime.sequences.SequencePhase`) — and commits the new state, the
history and the outbox in one transaction. When rules read the sequence properties
(`currently_in_sequence`, ...), the two phases are run again with the sequence
timeline the previous pass produced, until it no longer changes (at most
:data:`MAX_PASSES` passes). A run at the as-of of the last run adds nothing and
returns that run's actions again; an earlier as-of is refused.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import time
from collections.abc import Sequence
from pathlib import Path

import attrs
import duckdb

from seqdsl import ast
from seqdsl import plan as p
from seqdsl.checked import CheckedWorkspace
from seqdsl.compile import calendar_of, compile_workspace
from seqdsl.data import load_data
from seqdsl.runtime import state as st
from seqdsl.runtime.actions import owner_property, zone_property
from seqdsl.runtime.context import Progress, RunContext, no_progress, rule_version
from seqdsl.runtime.errors import RunError
from seqdsl.runtime.limits import Item, usage_table
from seqdsl.runtime.outbox import Action, in_due_order, stamp
from seqdsl.runtime.program import Wait, compile_program
from seqdsl.runtime.replay import WorkflowPhase
from seqdsl.runtime.sequences import SequencePhase
from seqdsl.runtime.snapshot import Snapshots
from seqdsl.runtime.tracks import sequence_props
from seqdsl.runtime.workflows import steady_workflow, wait_workflow
from seqdsl.runtime.writeback import memberships, write_back
from seqdsl.schema import SEQUENCE_PROPERTIES

__all__ = ["MAX_PASSES", "RunResult", "RunStats", "run", "runtime_columns"]

log = logging.getLogger("seqdsl.runtime.run")

#: How often one run may replay its period to settle the sequence properties.
MAX_PASSES = 3

_PREVIOUS = (
    "rules",
    "truths",
    "list_members",
    "overrides",
    "wf_enrollments",
    "seq_enrollments",
    "usage",
    "runs",
)


@attrs.frozen
class RunStats:
    """How much a run did and how long it took."""

    evaluations: int = 0
    evaluation_seconds: float = 0.0
    records_visited: int = 0
    contacts_tracked: int = 0
    #: enrollments and emails a sender limit applied to
    limited: int = 0
    passes: int = 0
    seconds: float = 0.0


@attrs.frozen
class RunResult:
    """What a run decided: the actions that became due, in due order."""

    run_id: int
    as_of: dt.datetime
    previous: dt.datetime | None
    actions: tuple[Action, ...]
    replayed: bool
    state_path: Path
    memberships: tuple[tuple[str, str], ...] = ()
    stats: RunStats = RunStats()
    #: the enrollments and emails a sender limit moved to a later day
    deferred: tuple[Item, ...] = ()


def run(
    checked: CheckedWorkspace,
    data: duckdb.DuckDBPyConnection | None,
    as_of: dt.datetime,
    *,
    state_path: Path | None = None,
    engine: str | None = None,
    progress: Progress = no_progress,
) -> RunResult:
    """Run every workflow and sequence of `checked` up to `as_of`.

    `data` is a connection whose TEMP tables hold the data (as
    :func:`seqdsl.data.load_data` makes them, with at least
    :func:`runtime_columns`), or None to load the workspace's data files. The state
    file is `state_path`, by default the workspace's `[state] path`. `progress` is
    told each stage of the run as it goes.
    """
    started = time.perf_counter()
    if as_of.utcoffset() is None:
        raise RunError(f"the as-of `{as_of.isoformat()}` has no time zone")
    plan = compile_workspace(_prepared(checked))
    con = data
    if con is None:
        progress("loading data", 0, 1)
        con = duckdb.connect()
        load_data(con, checked.settings, checked.schema, _needed(checked, plan))
        progress("loading data", 1, 1)
    # a run allocates millions of small acyclic objects; the cycle collector
    # would only rescan them (about a sixth of a large run's time)
    collecting = gc.isenabled()
    gc.disable()
    try:
        job = _Run(checked, plan, con, as_of.astimezone(dt.UTC), progress)
        result = job.execute(
            Path(state_path or checked.settings.state_path),
            engine or checked.settings.engine,
        )
    finally:
        if collecting:
            gc.enable()
        if data is None:
            con.close()
    stats = attrs.evolve(result.stats, seconds=time.perf_counter() - started)
    return attrs.evolve(result, stats=stats)


def runtime_columns(checked: CheckedWorkspace) -> dict[str, frozenset[str]]:
    """Per object, the properties the runtime reads besides those the rules read:
    contacts' email, owner, time zone and opt-out; the dates waits wait for."""
    found: dict[str, set[str]] = {}
    contact = checked.schema.object("contact")
    if contact is not None:
        names = {"email", "hs_email_optout"}
        names |= {
            p.name for p in (owner_property(contact), zone_property(contact)) if p
        }
        found["contact"] = {n for n in names if contact.property(n) is not None}
    for decl in checked.workflows.values():
        found.setdefault(decl.object, set()).update(_value_columns(checked, decl))
    return {name: frozenset(names) for name, names in found.items()}


def _needed(checked: CheckedWorkspace, plan: p.Plan) -> dict[str, frozenset[str]]:
    needed = {k: set(v) for k, v in plan.needed_columns().items()}
    for object, names in runtime_columns(checked).items():
        needed.setdefault(object, set()).update(names)
    return {k: frozenset(v) for k, v in needed.items()}


def _value_columns(checked: CheckedWorkspace, decl: ast.WorkflowDecl) -> set[str]:
    record = checked.schema.object(decl.object)
    names = {s.ref.name for s in ast.walk(decl) if isinstance(s, ast.WaitUntilDate)}
    owner = owner_property(record)
    if owner is not None:
        names.add(owner.name)
    return {n for n in names if record is not None and record.property(n)}


def _prepared(checked: CheckedWorkspace) -> CheckedWorkspace:
    """The workspace as the runtime compiles it.

    `p is known` in `reenroll when` means "p changed" (HubSpot's reading). A
    workflow whose triggers read `changed` gets a hidden *steady* twin whose
    triggers read no change: a change is true only at its instant, so the truth a
    trigger keeps between points is the steady one. Each `wait until had` gets a
    hidden rule: the awaited event since the wait began (the wait's start is its
    `since enrolled`).
    """
    workflows: dict[str, ast.WorkflowDecl] = {}
    for name, decl in checked.workflows.items():
        clauses = tuple(_reenroll_on_change(c) for c in decl.clauses)
        workflows[name] = attrs.evolve(decl, clauses=clauses)
        triggers = [c for c in clauses if isinstance(c, ast.Trigger)]
        if any(_changes(t.condition) for t in triggers):
            steady = tuple(
                attrs.evolve(t, condition=_without_changes(t.condition))
                for t in triggers
                if t.kind in (ast.TriggerKind.ENROLL, ast.TriggerKind.REENROLL)
            )
            hidden = steady_workflow(name)
            workflows[hidden] = ast.WorkflowDecl(hidden, decl.object, steady, ())
        for instruction in compile_program(decl).instructions:
            op = instruction.op
            if isinstance(op, Wait) and isinstance(op.wait, ast.WaitUntilEvent):
                wait = op.wait
                had = ast.Had(wait.event, where=wait.where, window=ast.SinceEnrolled())
                trigger = ast.Trigger(ast.TriggerKind.ENROLL, had)
                hidden = wait_workflow(name, instruction.label)
                workflows[hidden] = ast.WorkflowDecl(
                    hidden, decl.object, (trigger,), ()
                )
    return attrs.evolve(checked, workflows=workflows)


def _changes(node: ast.Condition) -> bool:
    return any(
        isinstance(n, ast.PropertyTest) and n.op in ast.CHANGE_OPS
        for n in ast.walk(node)
    )


def _without_changes(node: ast.Condition) -> ast.Condition:
    """`node` with every `changed` test false (as it is between changes)."""
    if isinstance(node, ast.And | ast.Or):
        return attrs.evolve(node, items=tuple(_without_changes(i) for i in node.items))
    if isinstance(node, ast.Not):
        return attrs.evolve(node, item=_without_changes(node.item))
    if isinstance(node, ast.PropertyTest) and node.op in ast.CHANGE_OPS:
        known = ast.PropertyTest(node.ref, ast.Op.IS_KNOWN)
        return ast.And((known, ast.PropertyTest(node.ref, ast.Op.IS_UNKNOWN)))
    return node


def _reenroll_on_change(clause: ast.Clause) -> ast.Clause:
    if isinstance(clause, ast.Trigger) and clause.kind is ast.TriggerKind.REENROLL:
        return attrs.evolve(clause, condition=_known_to_changed(clause.condition))
    return clause


def _known_to_changed(node: ast.Condition) -> ast.Condition:
    """`p is known` (of the record itself) as `p changed`, anywhere in `node`
    outside event and association filters."""
    if isinstance(node, ast.And | ast.Or):
        return attrs.evolve(node, items=tuple(_known_to_changed(i) for i in node.items))
    if isinstance(node, ast.Not):
        return attrs.evolve(node, item=_known_to_changed(node.item))
    if not isinstance(node, ast.PropertyTest) or node.ref.object is not None:
        return node
    if node.op is ast.Op.IS_KNOWN:
        return attrs.evolve(node, op=ast.Op.CHANGED)
    return node


@attrs.frozen
class _Pass:
    """One replay of the run's period."""

    ctx: RunContext
    workflows: WorkflowPhase
    sequence_rows: list[tuple[object, ...]]
    stats: RunStats
    deferred: tuple[Item, ...]


@attrs.define
class _Run:
    """One run over an attached state file."""

    checked: CheckedWorkspace
    plan: p.Plan
    con: duckdb.DuckDBPyConnection
    as_of: dt.datetime
    progress: Progress = no_progress

    def execute(self, path: Path, engine: str) -> RunResult:
        info = st.attach(self.con, path)
        try:
            last = info.last_as_of
            if last is not None and self.as_of < last:
                raise RunError(
                    f"as-of {stamp(self.as_of)} is before the last run "
                    f"({stamp(last)}); runs must move forward in time"
                )
            if last is not None and self.as_of == last:
                return _replay(self.con, info)
            st.copy_to_temp(self.con, _PREVIOUS)
            st.kill_point("loaded")
            result = self._compute(info, engine)
            st.kill_point("computed")
            self.progress("writing the state", 0, 1)
            st.commit(
                self.con,
                {table: f"new_{table}" for table in st.REPLACED},
                {table: f"add_{table}" for table in st.APPENDED},
            )
            self.progress("writing the state", 1, 1)
            st.kill_point("committed")
            return result
        finally:
            st.detach(self.con)

    def _compute(self, info: st.StateInfo, engine: str) -> RunResult:
        reads = self._reads_sequence_props()
        timeline = self._timeline(None) if reads else []
        done = self._pass(info, engine, timeline)
        passes = 1
        while reads and passes < MAX_PASSES:
            settled = self._timeline(done)
            if _within(settled, info.last_as_of) == _within(timeline, info.last_as_of):
                break
            timeline = settled
            done = self._pass(info, engine, timeline)
            passes += 1
        log.debug("run at %s: %d pass(es)", stamp(self.as_of), passes)

        run_id = _largest(self.con, "SELECT max(run_id) FROM prev_runs") + 1
        ordered = in_due_order(done.ctx.decisions)
        write_back(
            self.con, done.workflows, done.sequence_rows, ordered=ordered, run_id=run_id
        )
        return RunResult(
            run_id,
            self.as_of,
            info.last_as_of,
            tuple(Action.of(d) for d in ordered if d.is_action),
            False,
            info.path,
            memberships(self.con, self.plan, done.workflows.now_tables),
            attrs.evolve(done.stats, passes=passes),
            done.deferred,
        )

    def _pass(
        self,
        info: st.StateInfo,
        engine: str,
        timeline: Sequence[tuple[object, ...]],
    ) -> _Pass:
        """Replay the period once: workflows, then sequences."""
        ctx = self._context(info)
        programs = {n: compile_program(d) for n, d in self.checked.workflows.items()}
        columns = {k: sorted(v) for k, v in runtime_columns(self.checked).items()}
        extra = ["contact"] if self.checked.schema.object("contact") else []
        snapshots = Snapshots(
            self.con, self.plan, self.checked.schema, engine=engine, extra_objects=extra
        )
        with snapshots as snap:
            self._seed(snap, ctx, timeline)
            workflows = WorkflowPhase(ctx, snap, programs, columns, self._first_seq())
            workflows.run()
            st.kill_point("workflows")
            sequences = SequencePhase(ctx, snap)
            sequences.load(workflows.requests, workflows.exits)
            sequences.run()
            workflows.effects.flush()
        stats = RunStats(
            snap.calls,
            snap.seconds,
            len(workflows.flows),
            len(sequences.tracks),
            sequences.limited,
        )
        return _Pass(ctx, workflows, sequences.rows(), stats, tuple(sequences.deferred))

    def _context(self, info: st.StateInfo) -> RunContext:
        """Each rule's version now, and when it was first seen (now, if new)."""
        declarations: dict[str, object] = {
            **self.checked.workflows,
            **self.checked.sequences,
            **{e.name: e for e in self.checked.list_enrollments},
            **{
                n: d
                for n, d in self.checked.lists.items()
                if d.kind is ast.ListKind.STATIC
            },
        }
        seen = {
            str(rule): first.astimezone(dt.UTC)
            for rule, first in self.con.execute(
                "SELECT rule, first_seen FROM prev_rules"
            ).fetchall()
        }
        return RunContext(
            self.checked,
            self.plan,
            calendar_of(self.checked.settings),
            self.as_of,
            info.last_as_of,
            {name: rule_version(decl) for name, decl in declarations.items()},
            {name: seen.get(name, self.as_of) for name in declarations},
            progress=self.progress,
        )

    def _seed(
        self,
        snap: Snapshots,
        ctx: RunContext,
        timeline: Sequence[tuple[object, ...]],
    ) -> None:
        """Fill the evaluation tables from the previous state."""
        snap.replace_rows("rt_overrides", "prev_overrides")
        snap.replace_rows("rt_list_changes", "prev_list_members")
        self.con.execute(
            "INSERT INTO rt_enrolled SELECT workflow, record_id, enrolled_at, NULL "
            "FROM prev_wf_enrollments WHERE status = 'active'"
        )
        waiting = self.con.execute(
            "SELECT workflow, record_id, waiting, waited_from "
            "FROM prev_wf_enrollments WHERE status = 'active' AND waiting IS NOT NULL"
        ).fetchall()
        snap.add_rows(
            "rt_enrolled",
            [
                (wait_workflow(str(w), str(label)), r, since, None)
                for w, r, label, since in waiting
            ],
        )
        snap.add_rows("rt_sequence_props", list(timeline))
        snap.static_stored = frozenset(
            rule.name
            for rule in self.plan.rules.values()
            if rule.kind is p.RuleKind.STATIC_LIST and not ctx.is_new(rule.name)
        )
        usage_table(self.con, "prev_usage")

    def _first_seq(self) -> int:
        return max(
            _largest(self.con, f"SELECT max(seq) FROM prev_{table}")
            for table in ("overrides", "list_members")
        )

    def _reads_sequence_props(self) -> bool:
        read = self.plan.needed_columns().get("contact", frozenset())
        return bool(read & set(SEQUENCE_PROPERTIES))

    def _timeline(self, done: _Pass | None) -> list[tuple[object, ...]]:
        """The contacts' sequence properties over time: from the previous state,
        with the contacts a pass tracked as that pass left them."""
        rows = [
            tuple(row)
            for row in self.con.execute("SELECT * FROM prev_seq_enrollments").fetchall()
        ]
        if done is not None:
            tracked = {str(row[0]) for row in done.sequence_rows}
            rows = [row for row in rows if str(row[0]) not in tracked]
            rows += list(done.sequence_rows)
        return sequence_props(rows)


def _within(
    timeline: Sequence[tuple[object, ...]], after: dt.datetime | None
) -> list[tuple[object, ...]]:
    """The timeline's changes after `after`, in a fixed order."""
    found = [
        row
        for row in timeline
        if after is None or (isinstance(row[1], dt.datetime) and row[1] > after)
    ]
    return sorted(found, key=repr)


def _replay(con: duckdb.DuckDBPyConnection, info: st.StateInfo) -> RunResult:
    """The last run again: nothing is added, its actions are returned."""
    row = con.execute(
        f"SELECT run_id, previous FROM {st.ALIAS}.runs ORDER BY run_id DESC LIMIT 1"
    ).fetchone()
    assert row is not None and info.last_as_of is not None
    run_id, previous = int(row[0]), row[1]
    rows = con.execute(
        "SELECT action_id, due_at, record_id, source, kind, step, detail, reason "
        f"FROM {st.ALIAS}.outbox WHERE run_id = ? ORDER BY position",
        [run_id],
    ).fetchall()
    actions = tuple(
        Action(str(a), t.astimezone(dt.UTC), str(r), str(s), str(k), step, d, why)
        for a, t, r, s, k, step, d, why in rows
    )
    before = previous.astimezone(dt.UTC) if previous is not None else None
    return RunResult(run_id, info.last_as_of, before, actions, True, info.path)


def _largest(con: duckdb.DuckDBPyConnection, query: str) -> int:
    """The integer a `max(...)` query returns; 0 for an empty table."""
    row = con.execute(query).fetchone()
    return int(row[0] or 0) if row is not None else 0
