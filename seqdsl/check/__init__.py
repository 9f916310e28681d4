"""Check stage: parsed modules to a checked workspace and diagnostics.

:func:`check` builds the symbol tables and the schema once (:class:`Context`),
runs every pass of :data:`PASSES` over them and collects all their diagnostics,
so one run reports every problem of every file. The
:class:`~seqdsl.checked.CheckedWorkspace` is only handed out when no error was
found.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from types import MappingProxyType

from seqdsl import ast
from seqdsl.check.context import Context, index, unparsed_names
from seqdsl.check.graph import build_graph, dependency_order
from seqdsl.check.lists import check_list_enrollments, check_lists
from seqdsl.check.names import check_duplicates
from seqdsl.check.schema import build_schema, check_schema
from seqdsl.check.sequences import check_sequences
from seqdsl.check.workflows import check_workflows
from seqdsl.checked import CheckedWorkspace, CheckResult
from seqdsl.diagnostics import Diagnostic, Sources, diagnostic, sort_key
from seqdsl.lint import lint
from seqdsl.parse import ParseResult, parse_file, parse_text
from seqdsl.source import Span
from seqdsl.workspace import Settings, Workspace

__all__ = ["PASSES", "check", "check_text", "check_workspace"]

log = logging.getLogger("seqdsl.check")

Pass = Callable[[Context], Iterable[Diagnostic]]

#: The passes in the order they run. Each only reads the shared context, which
#: is complete (symbols and schema) before the first pass starts, so the order
#: fixes nothing but the order of their log lines.
PASSES: tuple[Pass, ...] = (
    check_duplicates,
    check_schema,
    check_lists,
    check_workflows,
    check_sequences,
    check_list_enrollments,
)


def check(results: Sequence[ParseResult], settings: Settings) -> CheckResult:
    """Check parsed files together; their parse diagnostics are included."""
    ctx = _context(results, settings)
    found = [item for result in results for item in result.diagnostics]
    for run in PASSES:
        found.extend(_run(run, ctx))

    clean = not any(item.is_error for item in found)
    workspace = _checked(ctx) if clean else None
    if workspace is not None:
        # lint rules read a resolved workspace, so they only run on clean rules
        found.extend(lint(workspace, ctx.sources))
    found.sort(key=sort_key)
    return CheckResult(workspace, tuple(found), ctx.sources)


def check_workspace(workspace: Workspace) -> CheckResult:
    """Parse every rule file (named relative to the root), then check."""
    root = workspace.settings.root
    results = []
    for path in workspace.sources:
        full = path.resolve()
        shown = full.relative_to(root) if full.is_relative_to(root) else path
        results.append(parse_file(path, shown.as_posix()))
    return check(results, workspace.settings)


def check_text(
    text: str, settings: Settings | None = None, path: str = "<text>"
) -> CheckResult:
    """Parse and check one text on its own; for tests and quick experiments."""
    settings = settings or Settings(root=Path.cwd())
    return check([parse_text(text, path)], settings)


def _context(results: Sequence[ParseResult], settings: Settings) -> Context:
    declarations = [d for result in results for d in result.module.declarations]
    return Context(
        settings=settings,
        results=results,
        sources=Sources(result.source for result in results),
        schema=build_schema(declarations),
        declarations=declarations,
        named=index(declarations),
        unparsed=unparsed_names(results),
    )


def _run(run: Pass, ctx: Context) -> list[Diagnostic]:
    """One pass; a crash in it becomes an internal error, never an exception."""
    started = time.perf_counter()
    try:
        found = list(run(ctx))
    except Exception as error:  # a bug in the checker, not in the user's rules
        log.exception("check pass %s failed", run.__name__)
        path = ctx.results[0].source.path if ctx.results else ""
        message = f"internal error in check pass `{run.__name__}`: {error!r}"
        hint = "please report this as a bug"
        found = [diagnostic("E999", message, Span(path, 0, 0), hint)]
    elapsed = (time.perf_counter() - started) * 1e3
    log.debug("%s: %.1f ms", run.__name__, elapsed)
    return found


def _checked(ctx: Context) -> CheckedWorkspace:
    lists = ctx.lists()
    order = dependency_order(build_graph(lists))
    return CheckedWorkspace(
        settings=ctx.settings,
        schema=ctx.schema,
        modules=tuple(result.module for result in ctx.results),
        lists=MappingProxyType({name: lists[name] for name in order}),
        workflows=MappingProxyType(ctx.workflows()),
        sequences=MappingProxyType(ctx.sequences()),
        list_enrollments=tuple(
            d for d in ctx.declarations if isinstance(d, ast.ListEnrollment)
        ),
    )
