"""Test stage, CI output: case results as a JUnit XML report.

The shape CI systems read: `<testsuites>` holding one `<testsuite>` per test
file, one `<testcase>` per case, and a `<failure>` (a claim did not hold) or an
`<error>` (the case could not run) inside the cases that did not pass. Counts
and times are attributes; the failure text is the one `seqdsl test` prints.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from seqdsl.testing.report import case_text
from seqdsl.testing.runner import CaseResult

__all__ = ["junit_xml", "write_junit"]


def junit_xml(results: Sequence[CaseResult], name: str = "seqdsl") -> str:
    """The JUnit XML document of `results`, grouped by test file."""
    root = ET.Element("testsuites", name=name)
    files: dict[str, list[CaseResult]] = {}
    for result in results:
        files.setdefault(result.case.path, []).append(result)

    for path, cases in files.items():
        suite = ET.SubElement(root, "testsuite", name=path)
        for result in cases:
            _testcase(suite, path, result)
        _counts(suite, cases)
    _counts(root, results)
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


def write_junit(path: Path, results: Sequence[CaseResult]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(junit_xml(results), encoding="utf-8")


def _testcase(suite: ET.Element, path: str, result: CaseResult) -> None:
    case = result.case
    classname = path.removesuffix(".seqtest.toml").replace("/", ".")
    element = ET.SubElement(
        suite,
        "testcase",
        name=case.name,
        classname=classname,
        file=path,
        time=f"{result.seconds:.3f}",
    )
    if case.line is not None:
        element.set("line", str(case.line))
    if result.error is not None:
        error = ET.SubElement(element, "error", message=result.error.message)
        error.set("type", "BadTestFile")
        error.text = str(result.error)
    elif result.failures:
        claims = "; ".join(f.expectation.text() for f in result.failures)
        failure = ET.SubElement(element, "failure", message=claims)
        failure.set("type", "ExpectationFailed")
        failure.text = case_text(result)


def _counts(element: ET.Element, results: Sequence[CaseResult]) -> None:
    errors = sum(1 for r in results if r.error is not None)
    failures = sum(1 for r in results if r.failures and r.error is None)
    element.set("tests", str(len(results)))
    element.set("failures", str(failures))
    element.set("errors", str(errors))
    element.set("skipped", "0")
    element.set("time", f"{sum(r.seconds for r in results):.3f}")
