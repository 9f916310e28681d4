"""The `seqdsl` command: a thin layer over the library verbs.

Exit codes: 0 when all is well, 1 when there are findings (errors in rules, files that
need formatting, failing tests), 2 for usage errors, unreadable inputs and internal
errors. Every command catches the library's error types and prints them without a
traceback; anything else is reported as an internal error.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from rich.console import Console
from rich.logging import RichHandler

from seqdsl import __version__
from seqdsl.check import check_workspace
from seqdsl.checked import CheckResult
from seqdsl.diagnostics import Diagnostic, Severity, Sources
from seqdsl.format import format_text
from seqdsl.report import diagnostics as render
from seqdsl.testing.cli import diff_command, test_command
from seqdsl.workspace import (
    Workspace,
    WorkspaceError,
    find_root,
    load_sources_only,
    load_workspace,
)

log = logging.getLogger("seqdsl")

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2

F = TypeVar("F", bound=Callable[..., Any])


class Failure(Exception):
    """A problem that ends a command with a message and an exit code, no traceback."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


def _console(stderr: bool = False) -> Console:
    return Console(stderr=stderr, highlight=False, soft_wrap=True)


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
            log.debug("internal error", exc_info=True)
            _fail(
                f"internal error: {type(error).__name__}: {error}\n"
                "this is a bug in seqdsl; rerun with -v for details and report it",
                EXIT_USAGE,
            )

    return run  # type: ignore[return-value]


def _fail(message: str, code: int) -> NoReturn:
    _console(stderr=True).print(f"[bold red]error:[/] {message}", markup=True)
    sys.exit(code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
        if path.is_dir():
            roots[root] = None
        elif root not in roots or roots[root] is not None:
            roots.setdefault(root, set()).add(path.resolve())  # type: ignore[union-attr]
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
            problems.extend((d, Sources([_source(path, text)])) for d in result.diagnostics)
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


main.add_command(test_command)
main.add_command(diff_command)


if __name__ == "__main__":  # pragma: no cover
    main()
