"""Benchmark data: seeded demo workspaces cached under `benchmarks/data/`, by size.

A workspace is generated once per (contacts, seed) by `seqdsl.demo.generate` and reused
by every later run; the folder name is the key. Each case's rule file goes into the
hidden `.bench/` folder of that workspace, which `seqdsl` itself never scans.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from benchmarks.cases import Case
from seqdsl.demo import DemoSpec, generate

log = logging.getLogger("benchmarks.datasets")

DATA_DIR = Path(__file__).resolve().parent / "data"
SEED = 7
#: Data files of a demo workspace by table name (`data/<name>.parquet`).
TABLES = (
    "contacts",
    "companies",
    "deals",
    "associations",
    "events",
    "history",
    "memberships",
)
#: Tables keyed to a contact by this column, so a capped run can keep its share.
_CONTACT_KEYS = {"contacts": "id", "events": "record_id", "history": "record_id"}


def workspace(contacts: int, seed: int = SEED) -> Path:
    """The cached demo workspace of this size, generated on first use."""
    root = DATA_DIR / f"contacts-{contacts}-seed-{seed}"
    if not (root / "data" / "memberships.parquet").is_file():
        log.info("generating %s contacts (seed %s) into %s", contacts, seed, root)
        generate(root, DemoSpec(contacts=contacts, format="parquet", seed=seed))
    return root


def rule_file(root: Path, case: Case) -> Path:
    """Write the case's rules into the workspace's `.bench/` folder."""
    path = root / ".bench" / f"{case.name}.seq"
    path.parent.mkdir(exist_ok=True)
    if not path.is_file() or path.read_text(encoding="utf-8") != case.rules:
        path.write_text(case.rules, encoding="utf-8")
    return path


def parquet(root: Path, table: str) -> Path:
    return root / "data" / f"{table}.parquet"


def read(root: Path, table: str, limit: int | None = None) -> pa.Table:
    """One data file as an Arrow table; with `limit`, only contacts 1..limit."""
    data = pq.read_table(parquet(root, table))
    key = _CONTACT_KEYS.get(table)
    if limit is None or key is None:
        return data
    return data.filter(pc.less_equal(data[key], limit))
