"""Load stage, data half: opening a data file and finding the columns it holds.

Parquet is scanned where it lies, typed as its writer typed it. CSV and JSON Lines
are staged in a TEMP table of text cells, so that every cell is typed the same way
(:mod:`seqdsl.data.cells`) and a row number points at the file's row.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import attrs

from seqdsl.data.session import DataError, Session, ident
from seqdsl.schema import Property

_SHOWN_HEADERS = 12


@attrs.frozen
class Source:
    """An opened data file: the SQL to scan it and how to number its rows."""

    shown: Path
    relation: str
    row: str
    columns: Mapping[str, str]

    def header(self, name: str) -> str | None:
        """The file's column called `name`, ignoring case."""
        folded = name.casefold()
        return next((h for h in self.columns if h.casefold() == folded), None)


def open_source(session: Session, path: Path, root: Path, stage: str) -> Source:
    """Scan `path` with DuckDB; CSV and JSON Lines are staged as text in `stage`."""
    shown = path.relative_to(root)
    if not path.is_file():
        raise DataError(shown, "file not found")
    if path.stat().st_size == 0:
        raise DataError(shown, "the file is empty; it needs a header")

    name = path.name.lower()
    file = session.param(_literal(path))
    if name.endswith((".parquet", ".pq")):
        relation = f"read_parquet({file}, file_row_number = true)"
        columns = session.describe(relation, shown)
        columns.pop("file_row_number", None)
        return Source(shown, relation, "file_row_number", columns)
    if name.endswith((".csv", ".csv.gz")):
        options = "delim = ',', quote = '\"', escape = '\"', comment = ''"
        scan = (
            f"SELECT * FROM read_csv({file}, all_varchar = true, "
            f"header = true, {options})"
        )
    elif name.endswith((".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz")):
        scan = _json_scan(session, file, shown)
    else:
        raise DataError(
            shown, "unknown file type; use .csv, .parquet, .jsonl or .ndjson"
        )

    session.stages.append(stage)
    session.sql(f"CREATE OR REPLACE TEMP TABLE {ident(stage)} AS {scan}", shown)
    columns = session.describe(ident(stage))
    return Source(shown, ident(stage), "rowid", columns)


def _json_scan(session: Session, file: str, shown: Path) -> str:
    """Read JSON Lines as text cells; arrays become `;`-separated text."""
    options = "format = 'newline_delimited', sample_size = -1"
    keys = session.describe(f"read_json({file}, {options})", shown)
    as_json = session.param(dict.fromkeys(keys, "JSON"))
    cells = ", ".join(
        f"CASE json_type({c}) WHEN 'ARRAY' "
        f"THEN array_to_string(json_extract_string({c}, '$[*]'), ';') "
        f"ELSE json_extract_string({c}, '$') END AS {c}"
        for c in map(ident, keys)
    )
    scan = f"read_json({file}, {options}, columns = {as_json})"
    return f"SELECT {cells} FROM {scan}"


def _literal(path: Path) -> str:
    """The path as a DuckDB file pattern that matches only itself."""
    return re.sub(r"([*?\[])", r"[\1]", str(path))


def match_headers(
    source: Source, properties: Sequence[Property], *taken: str
) -> dict[str, str]:
    """Properties to file columns: by name, else by label or name in any case."""
    names = {prop.name for prop in properties}
    free = [h for h in source.columns if h not in taken and h not in names]
    found: dict[str, str] = {}
    for prop in properties:
        if prop.name in source.columns and prop.name not in taken:
            found[prop.name] = prop.name
            continue
        for alias in filter(None, (prop.label, prop.name)):
            folded = alias.casefold()
            if match := next((h for h in free if h.casefold() == folded), None):
                found[prop.name] = match
                break
    return found


def require_headers(source: Source, spec: Iterable[str]) -> dict[str, str]:
    """The file's columns for a fixed table; each must be there."""
    headers: dict[str, str] = {}
    for name in spec:
        header = source.header(name)
        if header is None:
            raise DataError(
                source.shown,
                f"no `{name}` column; the file has {list_headers(source)}",
            )
        headers[name] = header
    return headers


def list_headers(source: Source) -> str:
    names = [f"`{h}`" for h in source.columns]
    if not names:
        return "no columns"
    more = len(names) - _SHOWN_HEADERS
    shown = ", ".join(names[:_SHOWN_HEADERS])
    return shown + (f" and {more} more" if more > 0 else "")
