"""Lint stage: warnings about rules that check but may not do what was meant.

:func:`lint` runs after a clean check, on the
:class:`~seqdsl.checked.CheckedWorkspace`. It reads the `[lint]` table of the
settings (:mod:`seqdsl.lint.config`), runs the selected rules of :data:`RULES`
(one module each under :mod:`seqdsl.lint.rules`), gives each finding its rule's
code and configured severity (warning by default), and drops the findings
silenced by `# seqdsl: ignore[...]` comments (:mod:`seqdsl.lint.suppress`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from seqdsl.checked import CheckedWorkspace
from seqdsl.diagnostics import Diagnostic, Severity, Sources, diagnostic, sort_key
from seqdsl.lint.config import LintConfig, read_config
from seqdsl.lint.context import Finding, LintContext, LintRule
from seqdsl.lint.rules import ALL_RULES
from seqdsl.lint.suppress import suppress
from seqdsl.source import Span
from seqdsl.workspace import Settings

__all__ = ["RULES", "LintRule", "lint", "lint_text"]

log = logging.getLogger("seqdsl.lint")

#: Every lint rule by code.
RULES: Mapping[str, LintRule] = MappingProxyType({r.code: r for r in ALL_RULES})

#: The rule that reports suppressions that silence nothing; see the driver
#: below.
_UNUSED = "L015"


def lint(checked: CheckedWorkspace, sources: Sources) -> list[Diagnostic]:
    """Every lint finding of a checked workspace, and problems of `[lint]`.

    When `[lint]` has problems, the text of `seqdsl.toml` is added to `sources` so
    that they render with an excerpt.
    """
    config, problems, toml = read_config(checked.settings, RULES)
    if toml is not None and problems:
        sources.add(toml)
    ctx = LintContext(checked, sources, config.options)
    found = [item for code in sorted(config.selected) for item in _run(ctx, code)]

    paths = [module.path for module in checked.modules]
    names = {rule.name: code for code, rule in RULES.items()}
    outcome = suppress(found, sources, paths, names, config.selected)
    kept = [_severe(config, item) for item in outcome.kept]
    if _UNUSED in config.selected:
        unused = [_diagnostic(_UNUSED, f) for f in outcome.unused]
        kept.extend(_severe(config, item) for item in unused)
    return sorted([*problems, *kept], key=sort_key)


def lint_text(text: str, settings: Settings | None = None) -> list[Diagnostic]:
    """Check and lint one text; lint findings only if the check is clean.

    For tests and quick experiments; the check's own lint findings, if the check
    stage already runs the linter, are replaced by this run's.
    """
    from seqdsl.check import check_text

    result = check_text(text, settings or Settings(root=Path.cwd()))
    found = [d for d in result.diagnostics if not d.code.startswith("L")]
    if result.workspace is not None:
        found.extend(lint(result.workspace, result.sources))
    return sorted(found, key=sort_key)


def _run(ctx: LintContext, code: str) -> list[Diagnostic]:
    """One rule; a crash in it is an internal error, never raised."""
    rule = RULES[code]
    started = time.perf_counter()
    try:
        found = [_diagnostic(code, finding) for finding in rule.check(ctx)]
    except Exception as error:  # a bug in the linter, not in the user's rules
        log.exception("lint rule %s failed", code)
        where = ctx.checked.modules[0].path if ctx.checked.modules else ""
        found = [
            diagnostic(
                "E999",
                f"internal error in lint rule {code} ({rule.name}): {error!r}",
                Span(where, 0, 0),
                "please report this as a bug",
            )
        ]
    log.debug("%s: %.1f ms", code, (time.perf_counter() - started) * 1e3)
    return found


def _diagnostic(code: str, finding: Finding) -> Diagnostic:
    return diagnostic(
        code,
        finding.message,
        finding.span,
        *finding.hints,
        severity=Severity.WARNING,
    )


def _severe(config: LintConfig, item: Diagnostic) -> Diagnostic:
    if not item.code.startswith("L"):
        return item
    return item.with_severity(config.severity(item.code))
