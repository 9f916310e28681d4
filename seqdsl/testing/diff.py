"""Review stage: what changes between two versions of a workspace, over one data set.

Both versions are checked, compiled and evaluated by the engine at the same now
over the same data files (HEAD's, unless another workspace is named for the
data). For every list and every workflow's `enroll when` the members are
compared: who would newly enter, who would leave. Sequences are compared step by
step, by name: steps added, removed, renamed (same action under a new name), and
changed (delay, action, position), with the sequence settings that time the
steps. When the data workspace has a state file, the contacts in flight at each
changed step are counted.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import attrs
import duckdb

from seqdsl import ast
from seqdsl import plan as p
from seqdsl.calendar import CalendarError, parse_instant
from seqdsl.check import check_workspace
from seqdsl.checked import CheckedWorkspace
from seqdsl.compile import compile_workspace
from seqdsl.data import DataError, load_data
from seqdsl.diagnostics import Sources, render_short
from seqdsl.engine import evaluate
from seqdsl.runtime import StateError
from seqdsl.runtime import state as st
from seqdsl.testing.versions import VersionError, checkout
from seqdsl.workspace import Settings, WorkspaceError, find_root, load_workspace

__all__ = [
    "DiffError",
    "MemberChange",
    "StepChange",
    "WorkspaceDiff",
    "diff_versions",
    "render_diff",
]

log = logging.getLogger("seqdsl.testing.diff")

_SHOWN_ERRORS = 5


class DiffError(Exception):
    """Versions that cannot be compared: unreadable, or rules with errors."""


@attrs.frozen
class MemberChange:
    """The members of one list or workflow trigger in both versions.

    `before` / `after` are None where the version has no such rule.
    """

    kind: str
    name: str
    before: int | None
    after: int | None
    entered: tuple[str, ...]
    left: tuple[str, ...]

    @property
    def changed(self) -> bool:
        return bool(self.entered or self.left) or (self.before is None) != (
            self.after is None
        )


@attrs.frozen
class StepChange:
    """One difference in a sequence; `in_flight` contacts wait for the step."""

    sequence: str
    text: str
    in_flight: int = 0
    due: tuple[dt.datetime, dt.datetime] | None = None


@attrs.frozen
class WorkspaceDiff:
    base: str
    head: str
    data: str
    as_of: dt.datetime
    members: tuple[MemberChange, ...]
    steps: tuple[StepChange, ...]
    state: bool = False


@attrs.frozen
class _Version:
    label: str
    checked: CheckedWorkspace
    sources: Sources


@attrs.frozen
class _InFlight:
    """Active sequence enrollments per (sequence, next step), from the state."""

    counts: Mapping[tuple[str, str], tuple[int, dt.datetime, dt.datetime]]
    last_run: dt.datetime | None


def diff_versions(
    base: str,
    head: str,
    workspace: Path,
    as_of: str | dt.datetime | None = None,
    *,
    data: Path | None = None,
) -> WorkspaceDiff:
    """Compare versions `base` and `head` (folders or git revisions) at `as_of`.

    `workspace` locates the workspace in its repository for git revisions; `data`
    is the workspace whose data files are used (default: HEAD's).
    """
    folder = _workspace_folder(workspace)
    with contextlib.ExitStack() as stack:
        try:
            base_root = stack.enter_context(checkout(base, folder))
            head_root = stack.enter_context(checkout(head, folder))
        except VersionError as error:
            raise DiffError(str(error)) from None
        versions = [_load(base, base_root), _load(head, head_root)]
        data_settings = load_workspace(data or head_root).settings
        now = _instant(as_of, data_settings.timezone)
        flight = _in_flight(data_settings.state_path)
        previous = (
            flight.last_run if flight.last_run and flight.last_run < now else None
        )
        members = [_members(v, data_settings, now, previous) for v in versions]

    shown = str(data) if data is not None else head
    return WorkspaceDiff(
        base,
        head,
        shown,
        now,
        tuple(_member_changes(versions, members)),
        tuple(_sequence_changes(versions[0], versions[1], flight)),
        state=bool(flight.counts) or flight.last_run is not None,
    )


def _workspace_folder(folder: Path) -> Path:
    """The workspace around `folder`, or `folder` itself outside any workspace."""
    if not folder.is_dir():
        raise DiffError(f"`{folder}` is not a folder")
    try:
        return find_root(folder)
    except WorkspaceError:
        return folder.resolve()


def _load(label: str, root: Path) -> _Version:
    result = check_workspace(load_workspace(root))
    if result.workspace is None or not result.ok:
        shown = [render_short(d, result.sources) for d in result.errors[:_SHOWN_ERRORS]]
        more = len(result.errors) - len(shown)
        tail = f"\n  ... and {more} more" if more > 0 else ""
        raise DiffError(
            f"the rules of `{label}` have errors:\n  " + "\n  ".join(shown) + tail
        )
    return _Version(label, result.workspace, result.sources)


def _instant(value: str | dt.datetime | None, zone: str) -> dt.datetime:
    if value is None:
        return dt.datetime.now(dt.UTC)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC)
    try:
        return parse_instant(value, zone)
    except CalendarError as error:
        raise DiffError(f"--as-of: {error}") from None


# ---------------------------------------------------------------- members


def _members(
    version: _Version,
    data: Settings,
    now: dt.datetime,
    previous: dt.datetime | None,
) -> dict[tuple[str, str], set[str]]:
    """Per (kind, name), the records in each list and meeting each `enroll when`."""
    plan = compile_workspace(version.checked)
    keys = {
        rule.key: ("list", rule.name) for rule in plan.rules.values() if rule.is_list
    }
    for name in version.checked.workflows:
        key = p.workflow_key(name, "enroll")
        if key in plan.rules:
            keys[key] = ("workflow", name)

    con = duckdb.connect()
    try:
        try:
            load_data(con, data, version.checked.schema, plan.needed_columns())
        except DataError as error:
            hint = "give --data with a workspace folder whose data files exist"
            raise DiffError(f"{error}; {hint}") from None
        engine = version.checked.settings.engine
        truths = evaluate(
            plan, con, now, engine=engine, previous_run_at=previous, only=keys
        )
        found: dict[tuple[str, str], set[str]] = {}
        for key, named in keys.items():
            table = truths.table_of(key).replace('"', '""')
            column = key.replace('"', '""')
            rows = con.execute(f'SELECT id FROM "{table}" WHERE "{column}"')
            found[named] = {str(row[0]) for row in rows.fetchall()}
        return found
    finally:
        con.close()


def _member_changes(
    versions: Sequence[_Version],
    members: Sequence[Mapping[tuple[str, str], set[str]]],
) -> Iterator[MemberChange]:
    before, after = members
    for named in sorted({*before, *after}):
        old, new = before.get(named), after.get(named)
        yield MemberChange(
            named[0],
            named[1],
            None if old is None else len(old),
            None if new is None else len(new),
            tuple(_sorted_ids((new or set()) - (old or set()))),
            tuple(_sorted_ids((old or set()) - (new or set()))),
        )


def _sorted_ids(ids: set[str]) -> list[str]:
    """Ids in natural order: `9` before `10`."""
    return sorted(
        ids,
        key=lambda i: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", i)],
    )


# ---------------------------------------------------------------- sequences


def _in_flight(path: Path) -> _InFlight:
    """What the state file says is in flight; nothing when there is no state."""
    if not path.is_file():
        return _InFlight({}, None)
    con = duckdb.connect()
    try:
        info = st.attach(con, path, read_only=True)
        rows = con.execute(
            "SELECT sequence, next_step, count(*), min(due_at), max(due_at) "
            f"FROM {st.ALIAS}.seq_enrollments WHERE status = 'active' "
            "AND next_step IS NOT NULL GROUP BY sequence, next_step"
        ).fetchall()
        st.detach(con)
    except StateError as error:
        log.warning("in-flight contacts not counted: %s", error)
        return _InFlight({}, None)
    finally:
        con.close()
    counts = {(str(s), str(n)): (int(c), lo, hi) for s, n, c, lo, hi in rows}
    return _InFlight(counts, info.last_as_of)


def _sequence_changes(
    base: _Version, head: _Version, flight: _InFlight
) -> Iterator[StepChange]:
    old, new = base.checked.sequences, head.checked.sequences
    for name in sorted({*old, *new}):
        if name not in new:
            waiting = sum(c for (s, _), (c, _, _) in flight.counts.items() if s == name)
            yield StepChange(name, "sequence removed", waiting)
        elif name not in old:
            yield StepChange(name, "sequence added")
        else:
            yield from _SequenceDiff(name, base, head, flight).changes()


class _SequenceDiff:
    """The differences between two versions of one sequence."""

    def __init__(
        self, name: str, base: _Version, head: _Version, flight: _InFlight
    ) -> None:
        self.name = name
        self.base = base
        self.head = head
        self.flight = flight
        self.old = base.checked.sequences[name]
        self.new = head.checked.sequences[name]

    def change(self, text: str, waiting_for: str | None = None) -> StepChange:
        if waiting_for is None:
            return StepChange(self.name, text)
        found = self.flight.counts.get((self.name, waiting_for))
        if found is None:
            return StepChange(self.name, text)
        count, first, last = found
        return StepChange(self.name, text, count, (first, last))

    def changes(self) -> Iterator[StepChange]:
        yield from self.settings()
        old = {step.name: step for step in self.old.steps}
        new = {step.name: step for step in self.new.steps}
        removed = [n for n in old if n not in new]
        added = [n for n in new if n not in old]
        for before, after in self.renamed(old, new, removed, added):
            removed.remove(before)
            added.remove(after)
            text = f'step "{before}" renamed to "{after}"; in-flight contacts leave'
            yield self.change(text, before)
        for name in removed:
            yield self.change(f'step "{name}" removed', name)
        for name in added:
            yield self.change(f'step "{name}" added: {_step_text(new[name])}')
        shared_before = [n for n in old if n in new]
        shared_after = [n for n in new if n in old]
        for name in shared_before:
            moved = shared_before.index(name) != shared_after.index(name)
            yield from self.step(old[name], new[name], moved)

    def renamed(
        self,
        old: Mapping[str, ast.Step],
        new: Mapping[str, ast.Step],
        removed: Sequence[str],
        added: Sequence[str],
    ) -> list[tuple[str, str]]:
        """Removed and added steps with the same action: a rename."""
        pairs, free = [], list(added)
        for name in removed:
            twin = next(
                (a for a in free if _action(new[a]) == _action(old[name])), None
            )
            if twin is not None:
                pairs.append((name, twin))
                free.remove(twin)
        return pairs

    def step(self, old: ast.Step, new: ast.Step, moved: bool) -> Iterator[StepChange]:
        """A step in both versions: its delay, its action, its place in the order."""
        label = f'step "{new.name}"'
        if _delay(old) != _delay(new):
            text = f"{label}: delay {_delay(old)} -> {_delay(new)}"
            yield self.change(text, new.name)
        if _action(old) != _action(new):
            text = f"{label}: {_step_text(old)} -> {_step_text(new)}"
            yield self.change(text, new.name)
        if moved:
            first = self.old.steps.index(old) + 1
            second = self.new.steps.index(new) + 1
            yield self.change(f"{label}: moved from step {first} to step {second}")

    def settings(self) -> Iterator[StepChange]:
        """The settings that time the steps, compared as written."""
        old = self.setting_texts(self.old, self.base.sources)
        new = self.setting_texts(self.new, self.head.sources)
        for kind in sorted({*old, *new}):
            was, now = old.get(kind, []), new.get(kind, [])
            if was != now:
                shown_was = "; ".join(was) or "(none)"
                shown_now = "; ".join(now) or "(none)"
                yield self.change(f"{kind}: `{shown_was}` -> `{shown_now}`")

    def setting_texts(
        self, decl: ast.SequenceDecl, sources: Sources
    ) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for item in decl.items:
            if isinstance(item, ast.Step):
                continue
            kind = _SETTING_NAMES.get(type(item), type(item).__name__.lower())
            if isinstance(item, ast.Limit):
                kind = f"limit of {item.kind.value}"
            found.setdefault(kind, []).append(_written(item.span, sources))
        return {kind: sorted(texts) for kind, texts in found.items()}


_SETTING_NAMES: Mapping[type, str] = {
    ast.Sender: "sender",
    ast.SendWindow: "send window",
    ast.FollowUp: "follow-up days",
    ast.Limit: "limits",
    ast.AutoUnenroll: "unenroll when",
    ast.QueueIfEnrolled: "queue",
}


def _written(span: object, sources: Sources) -> str:
    """A node's text as written in its file, whitespace collapsed."""
    source = sources.get(getattr(span, "path", ""))
    if source is None:
        return "?"
    start, end = getattr(span, "start", 0), getattr(span, "end", 0)
    return " ".join(source.text[start:end].split())


def _delay(step: ast.Step) -> str:
    return step.delay.text() if step.delay else "none"


def _action(step: ast.Step) -> tuple[object, ...]:
    return (step.kind, step.content, step.in_thread, step.until_completed)


def _step_text(step: ast.Step) -> str:
    words = [step.kind.value, f'"{step.content}"']
    if step.in_thread:
        words.append("in thread")
    if step.until_completed:
        words.append("until completed")
    return " ".join(words)


# ---------------------------------------------------------------- rendering


def render_diff(diff: WorkspaceDiff, output: str = "text", examples: int = 5) -> str:
    """The diff as plain text or as Markdown for a pull-request comment."""
    if output == "markdown":
        return _markdown(diff, examples)
    return _text(diff, examples)


def _stamp(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _title(change: MemberChange) -> str:
    what = "list" if change.kind == "list" else "workflow"
    suffix = " enroll when" if change.kind == "workflow" else ""
    return f'{what} "{change.name}"{suffix}'


def _counts(change: MemberChange) -> str:
    before = "absent" if change.before is None else str(change.before)
    after = "absent" if change.after is None else str(change.after)
    return f"{before} -> {after} (+{len(change.entered)} -{len(change.left)})"


def _some(ids: Sequence[str], examples: int, quote: str = "") -> str:
    shown = [f"{quote}{i}{quote}" for i in ids[:examples]]
    more = len(ids) - len(shown)
    return ", ".join(shown) + (f", ... {more} more" if more > 0 else "")


def _text(diff: WorkspaceDiff, examples: int) -> str:
    lines = [
        f"seqdsl diff {diff.base} -> {diff.head} "
        f"(data: {diff.data}, as of {_stamp(diff.as_of)})",
        "",
    ]
    changed = [c for c in diff.members if c.changed]
    for change in changed:
        lines.append(f"{_title(change)}: {_counts(change)}")
        if change.entered and examples:
            lines.append(f"  entered: {_some(change.entered, examples)}")
        if change.left and examples:
            lines.append(f"  left: {_some(change.left, examples)}")
    unchanged = len(diff.members) - len(changed)
    lines.append(f"{unchanged} list(s) and workflow(s) unchanged")
    for step in diff.steps:
        lines.append(f'sequence "{step.sequence}": {step.text}{_flight(step)}')
    if not diff.steps:
        lines.append("no sequence changes")
    return "\n".join(lines) + "\n"


def _flight(step: StepChange) -> str:
    if not step.in_flight:
        return ""
    span = ""
    if step.due is not None:
        span = f", due {_stamp(step.due[0])} to {_stamp(step.due[1])}"
    return f" ({step.in_flight} contact(s) in flight wait for it{span})"


def _signed(sign: str, ids: Sequence[str]) -> str:
    return f"{sign}{len(ids)}" if ids else "0"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _markdown(diff: WorkspaceDiff, examples: int) -> str:
    lines = [
        f"### seqdsl diff `{diff.base}` → `{diff.head}`",
        "",
        f"Data: `{diff.data}`, as of {_stamp(diff.as_of)}.",
        "",
    ]
    changed = [c for c in diff.members if c.changed]
    if changed:
        lines += [*_member_rows(changed, examples), ""]
    unchanged = len(diff.members) - len(changed)
    lines += [f"{unchanged} list(s) and workflow(s) unchanged.", ""]
    lines += _step_rows(diff) if diff.steps else ["No sequence changes."]
    return "\n".join(lines) + "\n"


def _member_rows(changed: Sequence[MemberChange], examples: int) -> list[str]:
    rows = [
        "| rule | before | after | entered | left | examples |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for change in changed:
        shown = []
        if change.entered and examples:
            shown.append("entered: " + _some(change.entered, examples, "`"))
        if change.left and examples:
            shown.append("left: " + _some(change.left, examples, "`"))
        before = "absent" if change.before is None else str(change.before)
        after = "absent" if change.after is None else str(change.after)
        entered, left = _signed("+", change.entered), _signed("-", change.left)
        rows.append(
            f"| {_cell(_title(change))} | {before} | {after} | {entered} "
            f"| {left} | {_cell('; '.join(shown))} |"
        )
    return rows


def _step_rows(diff: WorkspaceDiff) -> list[str]:
    """A row per sequence change; with a state, how many contacts it concerns."""
    if not diff.state:
        rows = ["| sequence | change |", "|---|---|"]
        return rows + [f"| {_cell(s.sequence)} | {_cell(s.text)} |" for s in diff.steps]
    rows = ["| sequence | change | in flight |", "|---|---|---:|"]
    return rows + [
        f"| {_cell(s.sequence)} | {_cell(s.text)} | {s.in_flight} |" for s in diff.steps
    ]
