"""Runtime stage, limits: which over-limit enrollments and emails wait for another day.

A sequence's `limit N enrollments per day per sender` and `limit N emails per day per
sender` count, per sequence, sender and workspace calendar day, the enrollments
started and the emails sent. When more items fall on a day than the limit allows,
they are served in a fixed order — due time, then record id — and the rest move to
the next allowed day. As a set operation that is the window ranking

    used_before + row_number() OVER (PARTITION BY sequence, sender, kind, day
                                     ORDER BY due_at, record_id) <= cap

The sequence phase takes the items in exactly that order (one heap over all
contacts, since an item a contact makes later is never due before the item that
made it), so the ranking reduces to a running count per partition: the
:class:`Ledger`, read from the run's usage table and written back to it.
"""

from __future__ import annotations

import datetime as dt

import attrs
import duckdb
import pyarrow as pa

__all__ = ["EMAILS", "ENROLLMENTS", "Item", "Ledger", "usage_table"]

ENROLLMENTS = "enrollments"
EMAILS = "emails"

USAGE = "rt_usage"


@attrs.frozen
class Item:
    """One enrollment or email that a limit applies to."""

    record_id: str
    sequence: str
    sender: str
    kind: str
    due_at: dt.datetime
    day: dt.date
    cap: int


def usage_table(con: duckdb.DuckDBPyConnection, source: str | None) -> None:
    """Create the run's usage table, from the previous state's if there is one."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {USAGE} (sequence VARCHAR, sender VARCHAR, "
        "day DATE, kind VARCHAR, used INTEGER)"
    )
    if source is not None:
        con.execute(f"INSERT INTO {USAGE} SELECT * FROM {source}")


@attrs.define
class Ledger:
    """Each sender's use per sequence, day and kind, as the run books it."""

    used: dict[tuple[str, str, dt.date, str], int]

    @classmethod
    def read(cls, con: duckdb.DuckDBPyConnection) -> Ledger:
        rows = con.execute(f"SELECT sequence, sender, day, kind, used FROM {USAGE}")
        return cls({(s, p, d, k): int(n) for s, p, d, k, n in rows.fetchall()})

    def admit(self, item: Item) -> bool:
        """Whether the item gets through on its day; books it if so. Items must
        come in due order, then record id, within each sender's day."""
        key = (item.sequence, item.sender, item.day, item.kind)
        used = self.used.get(key, 0)
        if used >= item.cap:
            return False
        self.used[key] = used + 1
        return True

    def write(self, con: duckdb.DuckDBPyConnection) -> None:
        """Replace the usage table with the ledger."""
        keys = sorted(self.used)
        batch = pa.table(  # noqa: F841 - read by the SQL below
            {
                "sequence": [k[0] for k in keys],
                "sender": [k[1] for k in keys],
                "day": pa.array([k[2] for k in keys], pa.date32()),
                "kind": [k[3] for k in keys],
                "used": pa.array([self.used[k] for k in keys], pa.int32()),
            }
        )
        con.execute(f"DELETE FROM {USAGE}")
        con.execute(
            f"INSERT INTO {USAGE} SELECT sequence, sender, day, kind, used FROM batch"
        )
