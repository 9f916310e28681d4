"""Demo data: writes a seeded, realistic CRM workspace for tutorials and benchmarks.

`generate` fills a folder with data files (contacts, companies, deals,
associations, events, property history, manual list memberships), a
`seqdsl.toml` that names them, a `schema.seq` that declares exactly their
columns, and a small `rules.seq`. `benchmark_rules` returns many lists of mixed
shapes over the same schema.

All randomness comes from DuckDB's `hash()` of (seed, purpose, record, index),
so the output depends only on the spec and the DuckDB version, never on threads
or run order. The SQL is fixed text; every value from the spec enters it as a
DuckDB variable.

The steps, one module each: :mod:`~seqdsl.demo.spec` (what to generate),
:mod:`~seqdsl.demo.vocabulary` (the values drawn from),
:mod:`~seqdsl.demo.schema` (the columns and `schema.seq`),
:mod:`~seqdsl.demo.draw_sql` and :mod:`~seqdsl.demo.output_sql` (the tables),
:mod:`~seqdsl.demo.workspace` (the files) and :mod:`~seqdsl.demo.rules` (the
rule text).
"""

from seqdsl.demo.rules import benchmark_rules, demo_rules
from seqdsl.demo.schema import EVENTS, FILES, OBJECTS, schema_text
from seqdsl.demo.spec import (
    DEFAULT_AS_OF,
    MARKER,
    DemoError,
    DemoSpec,
    GenerateReport,
)
from seqdsl.demo.vocabulary import INTERESTS, STAGES
from seqdsl.demo.workspace import generate, settings_text

__all__ = [
    "DEFAULT_AS_OF",
    "EVENTS",
    "FILES",
    "INTERESTS",
    "MARKER",
    "OBJECTS",
    "STAGES",
    "DemoError",
    "DemoSpec",
    "GenerateReport",
    "benchmark_rules",
    "demo_rules",
    "generate",
    "schema_text",
    "settings_text",
]
