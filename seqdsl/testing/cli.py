"""The `seqdsl test` and `seqdsl diff` commands: thin layers over seqdsl.testing.

The main group registers them with `main.add_command`. Exit codes
follow the main CLI: 0 all well, 1 findings (a failing test; rules with errors),
2 usage errors, bad test files, unreadable inputs and internal errors. Library
errors are printed without a traceback.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from seqdsl.calendar import CalendarError
from seqdsl.check import check_workspace
from seqdsl.checked import CheckedWorkspace, CheckResult
from seqdsl.data import DataError
from seqdsl.report import diagnostics as render
from seqdsl.runtime import RunError, StateError
from seqdsl.testing.diff import DiffError, diff_versions, render_diff
from seqdsl.testing.junit import write_junit
from seqdsl.testing.report import case_text, summary_line
from seqdsl.testing.runner import CaseResult, Suite
from seqdsl.testing.spec import (
    SUFFIX,
    SpecError,
    find_test_files,
    read_test_file,
)
from seqdsl.workspace import WorkspaceError, find_root, load_workspace

__all__ = ["diff_command", "test_command"]

log = logging.getLogger("seqdsl.testing.cli")

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
_KNOWN_ERRORS = (
    WorkspaceError,
    DataError,
    SpecError,
    DiffError,
    RunError,
    StateError,
    CalendarError,
)

F = TypeVar("F", bound=Callable[..., Any])


class _Stop(Exception):
    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


def _guarded(command: F) -> F:
    """Library errors become a message and exit code 2; nothing shows a traceback."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except _Stop as stop:
            _fail(str(stop), stop.code)
        except _KNOWN_ERRORS as error:
            _fail(str(error), EXIT_USAGE)
        except Exception as error:
            log.debug("internal error", exc_info=True)
            _fail(
                f"internal error: {type(error).__name__}: {error}\n"
                "this is a bug in seqdsl; rerun with -v for details and report it",
                EXIT_USAGE,
            )

    return run  # type: ignore[return-value]


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


# ---------------------------------------------------------------- test


@click.command("test")
@click.argument("workspace", required=False, type=click.Path(path_type=Path))
@click.option(
    "--coverage",
    is_flag=True,
    help="Report conditions and branch arms no test hit.",
)
@click.option(
    "--junit",
    "junit_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also write the results as JUnit XML to this file.",
)
@_guarded
def test_command(
    workspace: Path | None, coverage: bool, junit_path: Path | None
) -> None:
    """Run the rule tests (`*.seqtest.toml`) of a workspace.

    WORKSPACE is the workspace folder, a folder inside it, or one test file
    (default: the current folder). Each test runs alone, on its own records and a
    fresh state. Exits 1 when a test fails, 2 for a bad test file.
    """
    start = workspace or Path.cwd()
    if not start.exists():
        raise _Stop(f"`{start}`: no such file or folder")
    checked, result = _checked(find_root(start))
    files = _test_files(start)

    root = checked.settings.root
    suites = [read_test_file(path, _shown(path, root), checked) for path in files]
    errors = [error for suite in suites for error in suite.errors]
    if errors:
        for error in errors:
            click.echo(f"error: {error}", err=True)
        raise _Stop(f"{len(errors)} problem(s) in the test files; no test was run")

    suite = Suite(checked, coverage=coverage, sources=result.sources)
    results: list[CaseResult] = []
    for case in (case for found in suites for case in found.cases):
        results.append(suite.run(case))
        click.echo(case_text(results[-1]), nl=False)
    if suite.coverage is not None:
        click.echo(suite.coverage.report().text(), nl=False)
    if junit_path is not None:
        write_junit(junit_path, results)
    click.echo(summary_line(results))
    sys.exit(_exit_code(results))


def _checked(root: Path) -> tuple[CheckedWorkspace, CheckResult]:
    result = check_workspace(load_workspace(root))
    if result.workspace is None or not result.ok:
        for item in result.errors:
            click.echo(render.full(item, result.sources), err=True)
        count = len(result.errors)
        raise _Stop(f"{count} error(s) in the rules; no test was run", EXIT_FINDINGS)
    return result.workspace, result


def _test_files(start: Path) -> list[Path]:
    if start.is_file():
        if not start.name.endswith(SUFFIX):
            raise _Stop(f"`{start}` is not a test file (`*{SUFFIX}`)")
        return [start.resolve()]
    files = find_test_files(start.resolve())
    if not files:
        raise _Stop(f"no test files (`*{SUFFIX}`) under `{start}`")
    return files


def _shown(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)


def _exit_code(results: list[CaseResult]) -> int:
    if any(result.error is not None for result in results):
        return EXIT_USAGE
    return EXIT_OK if all(result.passed for result in results) else EXIT_FINDINGS


# ---------------------------------------------------------------- diff


@click.command("diff")
@click.argument("base")
@click.argument("head")
@click.option(
    "--data",
    "data",
    type=click.Path(path_type=Path, file_okay=False),
    help="Workspace whose data files to use (default: HEAD's).",
)
@click.option(
    "--workspace",
    "workspace",
    type=click.Path(path_type=Path, file_okay=False),
    help="The workspace folder git revisions are read at (default: current).",
)
@click.option(
    "--as-of",
    "as_of",
    help="The evaluation's now, ISO 8601 (default: the current time).",
)
@click.option(
    "--format",
    "output",
    type=click.Choice(["text", "markdown"]),
    default="text",
    show_default=True,
    help="Plain text, or Markdown for a pull-request comment.",
)
@click.option(
    "--examples",
    type=click.IntRange(0, 100),
    default=5,
    show_default=True,
    help="Example record ids per list or workflow.",
)
@_guarded
def diff_command(
    *,
    base: str,
    head: str,
    data: Path | None,
    workspace: Path | None,
    as_of: str | None,
    output: str,
    examples: int,
) -> None:
    """Who would enter or leave each list and workflow between two versions.

    BASE and HEAD are workspace folders or git revisions of the repository that
    holds the workspace (read with `git archive`; the working tree is never
    touched). Both are evaluated over the same data, and sequence steps are
    compared by name. Exits 0 when the diff was made, changes or not.
    """
    folder = (workspace or Path.cwd()).resolve()
    result = diff_versions(base, head, folder, as_of, data=data)
    click.echo(render_diff(result, output, examples), nl=False)
