"""The `seqdsl` command: a thin layer over the library verbs.

Exit codes: 0 when all is well, 1 when there are findings (errors in rules, files that
need formatting, failing tests), 2 for usage errors, unreadable inputs and internal
errors. Every command catches the library's error types and prints them without a
traceback; anything else is reported as an internal error.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import importlib
import logging
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape

from seqdsl import __version__
from seqdsl.calendar import parse_instant
from seqdsl.check import check_workspace
from seqdsl.checked import CheckResult
from seqdsl.diagnostics import Diagnostic, Severity, Sources
from seqdsl.format import format_text
from seqdsl.report import diagnostics as render
from seqdsl.workspace import (
    Workspace,
    WorkspaceError,
    find_root,
    load_sources_only,
    load_workspace,
)

if TYPE_CHECKING:
    from seqdsl.runtime.context import Progress

log = logging.getLogger("seqdsl")

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2

F = TypeVar("F", bound=Callable[..., Any])


def _input_errors() -> tuple[type[Exception], ...]:
    """The library's error types: bad inputs that end a command without a traceback."""
    from seqdsl.calendar import CalendarError
    from seqdsl.compile import CompileError
    from seqdsl.data import DataError
    from seqdsl.engine import EngineError
    from seqdsl.runtime.errors import RunError
    from seqdsl.runtime.state import StateError

    return (
        WorkspaceError,
        DataError,
        CalendarError,
        CompileError,
        EngineError,
        RunError,
        StateError,
    )


class Failure(Exception):
    """A problem that ends a command with a message and an exit code, no traceback."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


def _console(stderr: bool = False) -> Console:
    return Console(stderr=stderr, highlight=False, soft_wrap=True)


@contextlib.contextmanager
def _progress(what: str) -> Iterator[Progress]:
    """A progress bar on stderr while a long verb runs: its stage, how far it has
    got in it, and the time so far. It is gone when the verb ends, and shows
    nothing when stderr is not a terminal."""
    from rich import progress as bars

    bar = bars.Progress(
        bars.SpinnerColumn(),
        bars.TextColumn("{task.description}"),
        bars.BarColumn(),
        bars.MofNCompleteColumn(),
        bars.TimeElapsedColumn(),
        console=_console(stderr=True),
        transient=True,
    )
    current, task = "", bar.add_task(what, total=None)

    def tell(stage: str, done: int, total: int | None) -> None:
        nonlocal current, task
        # a new stage gets a bar of its own: its total may be unknown
        if stage != current:
            bar.remove_task(task)
            current, task = stage, bar.add_task(f"{what}: {stage}", total=total)
        bar.update(task, completed=done, total=total)

    with bar:
        yield tell


def _guarded(command: F) -> F:
    """Turn library errors into messages and exit codes; never show a traceback."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except Failure as failure:
            _fail(str(failure), failure.code)
        except WorkspaceError as error:
            _fail(str(error), EXIT_USAGE)
        except (click.ClickException, click.exceptions.Exit, SystemExit):
            raise
        except KeyboardInterrupt:
            _fail("interrupted", EXIT_USAGE)
        except Exception as error:
            if isinstance(error, _input_errors()):
                _fail(str(error), EXIT_USAGE)
            log.debug("internal error", exc_info=True)
            _fail(
                f"internal error: {type(error).__name__}: {error}\n"
                "this is a bug in seqdsl; rerun with -v for details and report it",
                EXIT_USAGE,
            )

    return run  # type: ignore[return-value]


def _fail(message: str, code: int) -> NoReturn:
    # the message is data (paths, hints with `[state]`): never read it as markup
    _console(stderr=True).print(f"[bold red]error:[/] {escape(message)}", markup=True)
    sys.exit(code)


class _LazyGroup(click.Group):
    """A group whose heavier commands are imported only when they are run.

    `seqdsl check` must start fast; importing the runtime and the test runner
    (DuckDB, Arrow) for it would double its start-up time.
    """

    lazy = {
        "test": "seqdsl.testing.cli:test_command",
        "diff": "seqdsl.testing.cli:diff_command",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy:
            module, attribute = self.lazy[name].split(":")
            command = getattr(importlib.import_module(module), attribute)
            assert isinstance(command, click.Command)
            return command
        return super().get_command(ctx, name)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="seqdsl")
@click.option("-v", "--verbose", count=True, help="Log progress (-v) or debug (-vv).")
def main(verbose: int) -> None:
    """Rules-as-code for revenue operations: lists, workflows and sequences."""
    level = logging.WARNING - 10 * min(verbose, 2)
    handler = RichHandler(console=_console(stderr=True), show_path=False)
    logging.basicConfig(level=level, handlers=[handler], format="%(message)s")


# ---------------------------------------------------------------- check


def _workspaces(paths: Sequence[Path]) -> list[tuple[Workspace, set[Path] | None]]:
    """Group the given paths by workspace; loose rule files share one workspace.

    The second item names the files to report on when single files were given, so
    that names still resolve across the whole workspace.
    """
    if not paths:
        paths = [Path.cwd()]
    roots: dict[Path, set[Path] | None] = {}
    loose: list[Path] = []
    for path in paths:
        if not path.exists():
            raise Failure(f"`{path}`: no such file or folder")
        try:
            root = find_root(path)
        except WorkspaceError:
            loose.append(path)
            continue
        current = roots.get(root, set())
        if path.is_dir() or current is None:
            roots[root] = None  # the whole workspace is reported
        else:
            roots[root] = current | {path.resolve()}
    found = [(load_workspace(root), only) for root, only in roots.items()]
    if loose:
        found.append((load_sources_only(loose), None))
    return found


def _check_all(paths: Sequence[Path]) -> tuple[list[Diagnostic], Sources]:
    diagnostics: list[Diagnostic] = []
    sources = Sources()
    for workspace, only in _workspaces(paths):
        result = check_workspace(workspace)
        wanted = _relative_names(workspace, only)
        diagnostics.extend(
            d for d in result.diagnostics if wanted is None or d.span.path in wanted
        )
        for path in workspace.sources:
            source = result.sources.get(_display(workspace, path))
            if source is not None:
                sources.add(source)
    return diagnostics, sources


def _display(workspace: Workspace, path: Path) -> str:
    try:
        return str(path.resolve().relative_to(workspace.settings.root))
    except ValueError:
        return str(path)


def _relative_names(workspace: Workspace, only: set[Path] | None) -> set[str] | None:
    if only is None:
        return None
    return {_display(workspace, path) for path in only}


def checked(path: Path | None) -> CheckResult:
    """Check the workspace at `path` (or the current folder) for run-like commands."""
    workspace = load_workspace(find_root(path or Path.cwd()))
    result = check_workspace(workspace)
    if not result.ok:
        out = _console(stderr=True)
        for item in result.errors:
            out.print(render.full(item, result.sources), markup=False)
        raise Failure(f"{len(result.errors)} error(s) in the rules; nothing was run", 1)
    return result


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "output",
    type=click.Choice(["text", "json", "sarif", "github"]),
    default="text",
    show_default=True,
    help="How to print the findings.",
)
@click.option("--strict", is_flag=True, help="Let lint warnings fail the exit code.")
@_guarded
def check(paths: tuple[Path, ...], output: str, strict: bool) -> None:
    """Check rule files: syntax, names, types and lint rules.

    PATHS are workspace folders or rule files (default: the workspace around the
    current folder). Exits 1 when there are errors, or warnings under --strict.
    """
    diagnostics, sources = _check_all(paths)
    diagnostics.sort(key=lambda d: (d.span.path, d.span.start, d.code))
    click.echo(render.render(diagnostics, sources, output), nl=False)
    failing = [d for d in diagnostics if d.is_error or (strict and _is_warning(d))]
    sys.exit(EXIT_FINDINGS if failing else EXIT_OK)


def _is_warning(item: Diagnostic) -> bool:
    return item.severity is Severity.WARNING


# ---------------------------------------------------------------- fmt


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--check", "check_only", is_flag=True, help="Only report unformatted.")
@_guarded
def fmt(paths: tuple[Path, ...], check_only: bool) -> None:
    """Rewrite rule files in the canonical layout, keeping every comment.

    With --check nothing is written; the command exits 1 when a file would change.
    """
    files = _rule_files(paths or (Path.cwd(),))
    changed: list[Path] = []
    problems: list[tuple[Diagnostic, Sources]] = []
    for path in files:
        text = _read_text(path)
        result = format_text(text, str(path))
        if result.text is None:
            problems.extend(
                (d, Sources([_source(path, text)])) for d in result.diagnostics
            )
            continue
        if result.text != text:
            changed.append(path)
            if not check_only:
                _write_atomically(path, result.text)
    out = _console()
    for item, sources in problems:
        out.print(render.full(item, sources), markup=False)
    verb = "would reformat" if check_only else "reformatted"
    for path in changed:
        out.print(f"{verb} {path}", markup=False)
    unchanged = len(files) - len(changed) - len(problems)
    out.print(f"{len(changed)} {verb}, {unchanged} unchanged", markup=False)
    if problems:
        sys.exit(EXIT_FINDINGS)
    sys.exit(EXIT_FINDINGS if check_only and changed else EXIT_OK)


def _source(path: Path, text: str) -> Any:
    from seqdsl.source import Source

    return Source(str(path), text)


def _rule_files(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                p
                for p in sorted(path.rglob("*.seq"))
                if not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        elif path.is_file():
            files.append(path)
        else:
            raise Failure(f"`{path}`: no such file or folder")
    return files


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise Failure(f"`{path}` is not valid UTF-8", EXIT_FINDINGS) from None
    except OSError as error:
        raise Failure(f"cannot read `{path}`: {error.strerror}") from None


def _write_atomically(path: Path, text: str) -> None:
    """Write beside the file and rename, so a failure never leaves half a file."""
    temporary = path.with_name(f".{path.name}.seqdsl-tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


# ---------------------------------------------------------------- schema


@main.group()
def schema() -> None:
    """Work with the schema block of a workspace."""


@schema.command("infer")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--object", "object_name", help="Object name (default: from the file).")
@_guarded
def schema_infer(files: tuple[Path, ...], object_name: str | None) -> None:
    """Print an `object` block inferred from CSV, Parquet or JSON Lines FILES.

    Low-cardinality text becomes an enum, `;`-separated values a set; numbers,
    booleans, dates and date-times are recognised from every known value.
    """
    from seqdsl.infer import InferError, infer_schema

    blocks = []
    for path in files:
        try:
            text = infer_schema(path, object_name)
        except InferError as error:
            raise Failure(str(error)) from None
        formatted = format_text(text, str(path)).text
        blocks.append(formatted or text)
    click.echo("\n".join(blocks), nl=False)


# ---------------------------------------------------------------- demo data


@main.command("demo-data")
@click.argument("out_dir", type=click.Path(path_type=Path))
@click.option("--contacts", default=10_000, show_default=True, help="How many.")
@click.option("--events-per-contact", default=10.0, show_default=True)
@click.option("--seed", default=7, show_default=True)
@click.option(
    "--format",
    "file_format",
    type=click.Choice(["parquet", "csv"]),
    default="parquet",
    show_default=True,
)
@_guarded
def demo_data(
    out_dir: Path,
    contacts: int,
    events_per_contact: float,
    seed: int,
    file_format: str,
) -> None:
    """Write a seeded, realistic CRM dataset and a workspace for it into OUT_DIR.

    The same seed always gives the same files. Refuses to overwrite a folder that
    is not an earlier demo workspace.
    """
    from seqdsl.demo import DemoError, DemoSpec, generate

    try:
        spec = DemoSpec(
            contacts=contacts,
            events_per_contact=events_per_contact,
            seed=seed,
            format=file_format,  # type: ignore[arg-type]
        )
        report = generate(out_dir, spec)
    except DemoError as error:
        raise Failure(str(error)) from None
    out = _console()
    for name, rows in sorted(report.rows.items()):
        out.print(f"{rows:>12,}  {name}", markup=False)
    out.print(f"wrote {out_dir} in {report.seconds:.1f} s", markup=False)


# ---------------------------------------------------------------- run and friends


def _as_of(text: str | None, zone: str) -> dt.datetime:
    """The run's "now": `--as-of` read in the workspace zone, else the current time
    to the second, so the as-of a run prints can be given back to it."""
    if text is None:
        return dt.datetime.now(dt.UTC).replace(microsecond=0)
    return parse_instant(text, zone)


_AS_OF_HELP = "The run's now, ISO 8601 (default: the current time)."


@main.command("run")
@click.argument("workspace", required=False, type=click.Path(path_type=Path))
@click.option("--as-of", "as_of_text", metavar="T", help=_AS_OF_HELP)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("out"),
    show_default=True,
    help="Folder for memberships.csv and actions.csv.",
)
@_guarded
def run_command(workspace: Path | None, as_of_text: str | None, out: Path) -> None:
    """Evaluate every list, workflow and sequence, and commit the new state.

    Writes OUT/memberships.csv (list,record_id) and OUT/actions.csv (the actions
    that became due in this run, in due order). Rerunning the same as-of adds
    nothing; an as-of before the last run is refused.
    """
    from seqdsl.report.runs import run_summary
    from seqdsl.runtime.outbox import actions_csv
    from seqdsl.runtime.run import run

    result = checked(workspace)
    assert result.workspace is not None  # checked() fails otherwise
    settings = result.workspace.settings
    as_of = _as_of(as_of_text, settings.timezone)
    with _progress(f"{settings.root.name} as of {as_of:%Y-%m-%d %H:%M}Z") as told:
        outcome = run(result.workspace, None, as_of, progress=told)
    out.mkdir(parents=True, exist_ok=True)
    members = "".join(f"{_csv(a)},{_csv(b)}\n" for a, b in outcome.memberships)
    _write_atomically(out / "memberships.csv", "list,record_id\n" + members)
    _write_atomically(out / "actions.csv", actions_csv(outcome.actions))
    _console().print(run_summary(outcome, out))


def _csv(value: str) -> str:
    if any(char in value for char in ',"\n\r'):
        return '"' + value.replace('"', '""') + '"'
    return value


@main.command()
@click.argument("record_id")
@click.option("--list", "list_name", help="The list to explain (default: all).")
@click.option("--workflow", "workflow_name", help="A workflow's conditions instead.")
@click.option("--as-of", "as_of_text", metavar="T", help=_AS_OF_HELP)
@click.option("--near-misses", is_flag=True, help="Records failing one condition.")
@click.option("-C", "--workspace", type=click.Path(path_type=Path), default=None)
@_guarded
def explain(
    *,
    record_id: str,
    list_name: str | None,
    workflow_name: str | None,
    as_of_text: str | None,
    near_misses: bool,
    workspace: Path | None,
) -> None:
    """Show each condition with RECORD_ID's values and whether it passes.

    A static list that has run is decided by the members its first run froze, read
    from the state file (never written); before its first run, its condition gives
    a preview. With --near-misses (and --list), list the records that fail exactly
    one top-level condition of the list, grouped by that condition.
    """
    from seqdsl.report.explain import explain_command

    result = checked(workspace)
    assert result.workspace is not None
    as_of = _as_of(as_of_text, result.workspace.settings.timezone)
    text = explain_command(
        result.workspace,
        record_id,
        list_name=list_name,
        workflow_name=workflow_name,
        now=as_of,
        want_near_misses=near_misses,
    )
    click.echo(text, nl=False)


@main.command()
@click.argument("name", required=False)
@click.option("--no-sql", is_flag=True, help="Leave the SQL statements out.")
@click.option("-C", "--workspace", type=click.Path(path_type=Path), default=None)
@_guarded
def plan(name: str | None, no_sql: bool, workspace: Path | None) -> None:
    """Print the compiled plan and the SQL it runs (of one list or workflow NAME)."""
    from seqdsl.compile import compile_workspace

    result = checked(workspace)
    assert result.workspace is not None
    from seqdsl.report.plan import UnknownRuleError, subset

    compiled = compile_workspace(result.workspace)
    if name is not None:
        try:
            compiled = subset(compiled, name)
        except UnknownRuleError as error:
            raise Failure(str(error)) from None
    click.echo(compiled.dump(sql=not no_sql))


@main.command()
@click.argument("record_id")
@click.option("-C", "--workspace", type=click.Path(path_type=Path), default=None)
@_guarded
def history(record_id: str, workspace: Path | None) -> None:
    """Every enrollment, action, refusal and unenrollment of RECORD_ID, newest first."""
    from seqdsl.report.runs import history_text
    from seqdsl.runtime.history import record_history

    settings = load_workspace(find_root(workspace or Path.cwd())).settings
    if not settings.state_path.exists():
        raise Failure(
            f"no state yet at `{settings.state_path}`: run `seqdsl run` first"
        )
    entries = record_history(settings.state_path, record_id)
    click.echo(history_text(record_id, entries), nl=False)


@main.command()
@click.option("--from", "start_text", required=True, metavar="D", help="Start.")
@click.option("--to", "end_text", required=True, metavar="D", help="End.")
@click.option("--every", default="1d", show_default=True, help="Step: 1h, 6h, 1d.")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder for simulation.csv and simulation.html.",
)
@click.option("-C", "--workspace", type=click.Path(path_type=Path), default=None)
@_guarded
def simulate(
    start_text: str,
    end_text: str,
    every: str,
    out: Path | None,
    workspace: Path | None,
) -> None:
    """Run forward on a copy of the state and report each day.

    Per day: enrollments, steps due, sends per sender against their limits, and
    unenrollments by reason. The real state is never changed.
    """
    from seqdsl.report.runs import (
        parse_step,
        simulation_csv,
        simulation_html,
        simulation_text,
    )
    from seqdsl.runtime.history import simulate as run_simulation

    result = checked(workspace)
    assert result.workspace is not None
    zone = result.workspace.settings.timezone
    start, end = parse_instant(start_text, zone), parse_instant(end_text, zone)
    try:
        step = parse_step(every)
    except ValueError as error:
        raise Failure(str(error)) from None
    with _progress(result.workspace.settings.root.name) as told:
        simulation = run_simulation(
            result.workspace, None, start, end, step, progress=told
        )
    _console().print(simulation_text(simulation), markup=False)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        _write_atomically(out / "simulation.csv", simulation_csv(simulation))
        _write_atomically(out / "simulation.html", simulation_html(simulation))
        _console().print(f"wrote {out / 'simulation.html'}", markup=False)


if __name__ == "__main__":  # pragma: no cover
    main()
