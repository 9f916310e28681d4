"""The grammar itself: LALR with no conflicts, shipped where the parser finds it."""

from __future__ import annotations

import interegular

from seqdsl.parse import build_parser, grammar_path


def test_grammar_builds_in_strict_mode() -> None:
    """Lark's strict mode refuses shift/reduce conflicts and terminal collisions."""
    assert interegular.__name__  # strict mode checks collisions only with it
    parser = build_parser(strict=True)
    assert parser.options.parser == "lalr"


def test_grammar_file_is_the_repository_copy_or_the_packaged_one() -> None:
    """A checkout reads grammar/seqdsl.lark; an installed wheel its own copy."""
    path = grammar_path()
    assert path.name == "seqdsl.lark"
    assert path.parent.name in {"grammar", "_grammar"}
