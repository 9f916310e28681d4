"""Check stage, declarations: one name, one declaration, across all files.

The workspace is one namespace per kind of declaration: a second `list "A"`
anywhere in the workspace is an error that points back at the first one.
"""

from __future__ import annotations

from collections.abc import Iterator

from seqdsl import ast
from seqdsl.check.context import Context, kind_of
from seqdsl.diagnostics import Diagnostic, diagnostic


def check_duplicates(ctx: Context) -> Iterator[Diagnostic]:
    """Report every declaration whose kind and name were declared before."""
    enrollments: dict[tuple[str, str], ast.ListEnrollment] = {}
    for declaration in ctx.declarations:
        if isinstance(declaration, ast.ListEnrollment):
            key = (declaration.list, declaration.sequence)
            first_rule = enrollments.setdefault(key, declaration)
            if first_rule is not declaration:
                yield _repeated_enrollment(ctx, declaration, first_rule)
            continue

        kind = kind_of(declaration)
        first = ctx.named[kind].get(declaration.name) if kind else None
        if kind is not None and first is not None and first is not declaration:
            yield _duplicate(ctx, kind, declaration, first)


def _duplicate(
    ctx: Context, kind: str, declaration: ast.Declaration, first: ast.Declaration
) -> Diagnostic:
    assert not isinstance(declaration, ast.ListEnrollment)
    shown = declaration.name if kind in ("object", "event") else f'"{declaration.name}"'
    return diagnostic(
        "E109",
        f"{kind} `{shown}` is declared more than once",
        declaration.name_span,
        f"first declared at {ctx.line_of(first.span)}",
        "rename one of them, or merge them into one declaration",
    )


def _repeated_enrollment(
    ctx: Context, declaration: ast.ListEnrollment, first: ast.ListEnrollment
) -> Diagnostic:
    return diagnostic(
        "E109",
        f'list "{declaration.list}" is enrolled in sequence '
        f'"{declaration.sequence}" more than once',
        declaration.span,
        f"first enrolled at {ctx.line_of(first.span)}",
    )
