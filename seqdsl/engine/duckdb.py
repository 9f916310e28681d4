"""Engine stage, batch: evaluate a plan inside DuckDB, one statement per object.

Each object's rules become one `CREATE TEMP TABLE truths_<object> AS ...` built by
:class:`~seqdsl.engine.sql.ObjectQuery`; the run's now and the instants derived
from it are bound parameters, and the session time zone is pinned to UTC. No
record passes through Python.
"""

from __future__ import annotations

from collections.abc import Mapping

import duckdb
from sqlglot import exp

from seqdsl import plan as p
from seqdsl.engine import TRUTHS_PREFIX, EngineError, Run, rule_outputs
from seqdsl.engine.query import ObjectQuery
from seqdsl.engine.sql import create_statement, parameters_of

__all__ = ["DuckDBEngine", "plan_sql"]

_MISSING_INPUT = (duckdb.CatalogException, duckdb.BinderException)


def plan_sql(plan: p.Plan) -> str:
    """The statements of a run that passes no enrollments or stored lists."""
    statements = []
    for object in plan.objects:
        query = ObjectQuery(plan, object, rule_outputs(plan, object, None)).build()
        statement = create_statement(f"{TRUTHS_PREFIX}{object}", query)
        statements.append(statement.sql(dialect="duckdb", pretty=True) + ";")
    return "\n\n".join(statements)


def bind(tree: exp.Expr, values: Mapping[str, object]) -> dict[str, object]:
    """The parameter values a statement reads (DuckDB refuses extra ones)."""
    return {name: values[name] for name in parameters_of(tree)}


class DuckDBEngine:
    """The default engine: one DuckDB statement computes all of an object's
    outputs; no record passes through Python."""

    name = "duckdb"

    def evaluate_outputs(
        self,
        plan: p.Plan,
        con: duckdb.DuckDBPyConnection,
        run: Run,
        *,
        object: str,
        outputs: Mapping[str, p.Expr],
        table: str,
    ) -> None:
        query = ObjectQuery(plan, object, outputs, run).build()
        statement = create_statement(table, query)
        values = bind(statement, plan.resolve(run.now, run.previous_run_at))
        try:
            con.execute(statement.sql(dialect="duckdb"), values)
        except _MISSING_INPUT as error:
            raise EngineError(f"cannot evaluate the rules: {error}") from error
