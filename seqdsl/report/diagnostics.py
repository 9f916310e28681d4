"""Renderers for diagnostics: full text, JSON, SARIF 2.1.0 and GitHub annotations.

One model, many renderers: every output is computed from the same
:class:`~seqdsl.diagnostics.Diagnostic` list, so the formats never disagree.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from seqdsl import __version__
from seqdsl.diagnostics import (
    CODES,
    Diagnostic,
    Severity,
    Sources,
    render_full,
    to_json,
)

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVELS = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.NOTE: "note",
}
_GITHUB_LEVELS = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.NOTE: "notice",
}


def full(item: Diagnostic, sources: Sources) -> str:
    return render_full(item, sources)


def render(items: Sequence[Diagnostic], sources: Sources, output: str) -> str:
    """All diagnostics in one of the formats `text`, `json`, `sarif`, `github`."""
    if output == "json":
        return json.dumps([to_json(d, sources) for d in items], indent=2) + "\n"
    if output == "sarif":
        return json.dumps(sarif(items, sources), indent=2) + "\n"
    if output == "github":
        return "".join(github(d, sources) + "\n" for d in items)
    return text(items, sources)


def text(items: Sequence[Diagnostic], sources: Sources) -> str:
    blocks = [render_full(d, sources) for d in items]
    errors = sum(1 for d in items if d.is_error)
    warnings = sum(1 for d in items if d.severity is Severity.WARNING)
    if not items:
        return "no problems found\n"
    summary = f"{errors} error(s), {warnings} warning(s)"
    return "\n\n".join(blocks) + f"\n\n{summary}\n"


def github(item: Diagnostic, sources: Sources) -> str:
    """A GitHub Actions workflow command that annotates the line in a pull request."""
    location = sources.location(item.span)
    fields = [f"file={_escape_property(item.span.path)}"]
    if location is not None:
        fields += [f"line={location[0]}", f"col={location[1]}"]
    fields.append(f"title={_escape_property(item.code)}")
    message = item.message + "".join(f"\nhint: {hint}" for hint in item.hints)
    level = _GITHUB_LEVELS[item.severity]
    return f"::{level} {','.join(fields)}::{_escape_data(message)}"


def sarif(items: Sequence[Diagnostic], sources: Sources) -> dict[str, Any]:
    """A SARIF 2.1.0 log with one run, its rules taken from the code registry."""
    codes = sorted({d.code for d in items})
    rules = [
        {
            "id": code,
            "name": _rule_title(code),
            "shortDescription": {"text": _rule_title(code)},
            "helpUri": _help_uri(code),
        }
        for code in codes
    ]
    results = [_sarif_result(d, sources, codes.index(d.code)) for d in items]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "seqdsl",
                        "version": __version__,
                        "informationUri": "https://example.invalid/seqdsl",
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }


def _sarif_result(item: Diagnostic, sources: Sources, index: int) -> dict[str, Any]:
    message = item.message + "".join(f"\nhint: {hint}" for hint in item.hints)
    result: dict[str, Any] = {
        "ruleId": item.code,
        "ruleIndex": index,
        "level": _SARIF_LEVELS[item.severity],
        "message": {"text": message},
    }
    location = sources.location(item.span)
    physical: dict[str, Any] = {"artifactLocation": {"uri": item.span.path}}
    if location is not None:
        end = sources.location(_end_span(item))
        region = {"startLine": location[0], "startColumn": location[1]}
        if end is not None and end >= location:
            region |= {"endLine": end[0], "endColumn": max(end[1], location[1] + 1)}
        physical["region"] = region
    result["locations"] = [{"physicalLocation": physical}]
    return result


def _end_span(item: Diagnostic) -> Any:
    import attrs

    return attrs.evolve(item.span, start=item.span.end)


def _help_uri(code: str) -> str:
    """Where the code is documented; headings become GitHub-style anchors."""
    if code in CODES:
        anchor = f"{code} {CODES[code]}"
        page = "diagnostics.md"
    else:
        anchor = f"{code} {_rule_title(code)}"
        page = "lint-rules.md"
    slug = "".join(c for c in anchor.lower() if c.isalnum() or c in " -_")
    return f"docs/{page}#{slug.replace(' ', '-')}"


def _rule_title(code: str) -> str:
    if code in CODES:
        return CODES[code]
    from seqdsl.lint import RULES

    rule = RULES.get(code)
    return rule.name if rule is not None else code


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")
