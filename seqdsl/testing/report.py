"""Test stage, report: case results as the text `seqdsl test` prints.

One line per case (`PASS`, `FAIL` or `ERROR`, where it is, its name), then for a
failure each claim that did not hold with what was expected, what happened, and
the explanation of the condition behind it. The summary line is exactly `N
passed, N failed`.
"""

from __future__ import annotations

from collections.abc import Sequence

from seqdsl.testing.runner import CaseResult, Failure

__all__ = ["case_text", "summary_line"]

_PAD = "    "


def case_text(result: CaseResult) -> str:
    """The lines of one case's result, ending with a newline."""
    case = result.case
    where = case.path if case.line is None else f"{case.path}:{case.line}"
    status = "PASS" if result.passed else "ERROR" if result.error else "FAIL"
    lines = [f"{status:<5} {where}  {case.name}"]
    if result.error is not None:
        lines.append(f"{_PAD}{result.error}")
    for failure in result.failures:
        lines += _failure_lines(case.path, failure)
    return "\n".join(lines) + "\n"


def _failure_lines(path: str, failure: Failure) -> list[str]:
    claim = failure.expectation
    where = path if claim.line is None else f"{path}:{claim.line}"
    first, *more = failure.actual.splitlines()
    lines = [
        f"{_PAD}at {where}",
        f"{_PAD}  expected: {claim.text()}",
        f"{_PAD}  actual:   {first}",
        *(f"{_PAD}    {line}" for line in more),
    ]
    if failure.why:
        first, *rest = failure.why.splitlines()
        lines.append(f"{_PAD}  why: {first}")
        lines += [f"{_PAD}    {line}" for line in rest]
    return lines


def summary_line(results: Sequence[CaseResult]) -> str:
    """`N passed, N failed`; cases that could not run count as failed."""
    passed = sum(1 for result in results if result.passed)
    return f"{passed} passed, {len(results) - passed} failed"
