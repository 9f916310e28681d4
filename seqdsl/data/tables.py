"""Load stage, data half: a typed TEMP table made from a file, failing on a bad cell.

DuckDB types whole columns at once. Only when a column came out with fewer values
than the file gave does :func:`create` look for the first such row, so the error
names the file, row, column and value.
"""

from __future__ import annotations

from collections.abc import Sequence

from seqdsl.data.cells import Column
from seqdsl.data.files import Source
from seqdsl.data.session import DataError, Session, ident, one


def create(
    session: Session,
    source: Source,
    table: str,
    columns: Sequence[Column],
    where: str = "true",
) -> None:
    """Create `table` from `source`; fail on the first unreadable cell."""
    select = ", ".join(f"{c.sql} AS {ident(c.name)}" for c in columns)
    session.sql(
        f"CREATE OR REPLACE TEMP TABLE {ident(table)} AS "
        f"SELECT {select} FROM {source.relation} WHERE {where}",
        source.shown,
    )

    # a required column must be filled in every row; any other must be filled
    # wherever the file gave a value, which only the file itself can tell
    checked = [c for c in columns if c.given is not None or c.required]
    if not checked:
        return
    counts = ", ".join(f"count({ident(c.name)})" for c in checked)
    query = f"SELECT count(*), {counts} FROM {ident(table)}"
    total, *filled = session.fetch(query)
    optional = [c for c in checked if not c.required]
    wanted = dict.fromkeys((c.name for c in checked), total)
    if optional:
        givens = ", ".join(f"count_if({c.given})" for c in optional)
        query = f"SELECT {givens} FROM {source.relation} WHERE {where}"
        found = session.fetch(query, source.shown)
        wanted.update(zip((c.name for c in optional), found, strict=True))

    counted = zip(checked, filled, strict=True)
    failing = [c for c, have in counted if have < wanted[c.name]]
    if failing:
        _raise_first_failure(session, source, failing, where)


def _raise_first_failure(
    session: Session, source: Source, columns: Sequence[Column], where: str
) -> None:
    """Find the first row where a column failed and report its value."""
    firsts = ", ".join(
        f"min({source.row}) FILTER (WHERE {c.sql} IS NULL"
        + ("" if c.required else f" AND {c.given}")
        + ")"
        for c in columns
    )
    scan = f"FROM {source.relation} WHERE {where}"
    found = session.fetch(f"SELECT {firsts} {scan}")
    row, column = min(
        (row, index) for index, row in enumerate(found) if row is not None
    )
    bad = columns[column]

    at = f"{source.row} = {session.param(row)}"
    cursor = session.sql(f"SELECT * FROM {source.relation} WHERE {at}")
    names = [d[0] for d in cursor.description]
    cells = dict(zip(names, one(cursor), strict=True))
    raw = None if bad.header is None else cells.get(bad.header)
    text = None if raw is None else str(raw)
    if not text or bad.explain is None:
        message = "is empty; every row needs a value"
    else:
        message = bad.explain(text, cells)
    raise DataError(source.shown, message, row=row + 1, column=bad.header, value=text)
