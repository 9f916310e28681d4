"""The checked workspace: what the check stage hands to the compiler and the runtime.

A :class:`CheckedWorkspace` is only built from modules whose names resolve and whose
types agree; later stages may therefore look names up without guarding against misses.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from seqdsl import ast
from seqdsl.diagnostics import Diagnostic, Sources
from seqdsl.schema import Schema
from seqdsl.workspace import Settings


@attrs.frozen
class CheckedWorkspace:
    settings: Settings
    schema: Schema
    modules: tuple[ast.Module, ...]
    #: every list, referenced lists before the lists that refer to them
    lists: Mapping[str, ast.ListDecl]
    workflows: Mapping[str, ast.WorkflowDecl]
    sequences: Mapping[str, ast.SequenceDecl]
    list_enrollments: tuple[ast.ListEnrollment, ...] = ()


@attrs.frozen
class CheckResult:
    """The outcome of `check`: the workspace (if usable), diagnostics, and the texts."""

    workspace: CheckedWorkspace | None
    diagnostics: tuple[Diagnostic, ...]
    sources: Sources

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.is_error)

    @property
    def ok(self) -> bool:
        return self.workspace is not None and not self.errors
