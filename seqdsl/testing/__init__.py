"""Test stage: rule tests on sample records, their coverage, and version diffs.

`seqdsl test` reads the `*.seqtest.toml` files of a workspace
(:mod:`~seqdsl.testing.spec`), runs each case alone through the load, engine and
runtime stages (:mod:`~seqdsl.testing.runner`), and reports results as text or
JUnit XML, with condition and branch coverage on request. `seqdsl diff`
(:mod:`~seqdsl.testing.diff`) compares two versions of a workspace over one data
set.
"""

from seqdsl.testing.coverage import Coverage, CoverageReport
from seqdsl.testing.junit import junit_xml, write_junit
from seqdsl.testing.report import case_text, summary_line
from seqdsl.testing.runner import CaseResult, Failure, Suite
from seqdsl.testing.spec import (
    SUFFIX,
    Case,
    Expectation,
    SpecError,
    SuiteFile,
    Verb,
    find_test_files,
    read_test_file,
)

__all__ = [
    "SUFFIX",
    "Case",
    "CaseResult",
    "Coverage",
    "CoverageReport",
    "Expectation",
    "Failure",
    "SpecError",
    "Suite",
    "SuiteFile",
    "Verb",
    "case_text",
    "find_test_files",
    "junit_xml",
    "read_test_file",
    "summary_line",
    "write_junit",
]
