"""Runtime stage, limits: which over-limit enrollments and emails wait for another day.

A sequence's `limit N enrollments per day per sender` and `limit N emails per day per
sender` count, per sequence, sender and workspace calendar day, the enrollments
started and the emails sent. When more items fall on a day than the limit allows,
they are served in a fixed order — due time, then record id — and the rest move to
the next allowed day. That is one window ranking, done here in SQL:

    row_number() OVER (PARTITION BY sequence, sender, kind, day
                       ORDER BY due_at, record_id)

and an item gets through when the day's earlier use plus its rank is within the
limit. :func:`rank` decides one batch of items and books what got through.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import attrs
import duckdb
import pyarrow as pa

__all__ = ["EMAILS", "ENROLLMENTS", "Item", "rank", "usage_table"]

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


def rank(con: duckdb.DuckDBPyConnection, items: Sequence[Item]) -> list[bool]:
    """For each item, whether it gets through today; books those that do."""
    if not items:
        return []
    batch = pa.table(  # noqa: F841 - read by the SQL below
        {
            "position": list(range(len(items))),
            "record_id": [i.record_id for i in items],
            "sequence": [i.sequence for i in items],
            "sender": [i.sender for i in items],
            "kind": [i.kind for i in items],
            "due_at": [i.due_at for i in items],
            "day": [i.day for i in items],
            "cap": [i.cap for i in items],
        }
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE rt_ranked AS "
        "SELECT b.position, b.sequence, b.sender, b.kind, b.day, "
        "coalesce(u.used, 0) + row_number() OVER ("
        "PARTITION BY b.sequence, b.sender, b.kind, b.day "
        "ORDER BY b.due_at, b.record_id) <= b.cap AS allowed "
        f"FROM batch b LEFT JOIN {USAGE} u USING (sequence, sender, kind, day)"
    )
    _book(con)
    rows = con.execute("SELECT position, allowed FROM rt_ranked").fetchall()
    allowed = [False] * len(items)
    for position, ok in rows:
        allowed[int(position)] = bool(ok)
    return allowed


def _book(con: duckdb.DuckDBPyConnection) -> None:
    """Add what got through to the usage of each sender and day."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE rt_booked AS "
        "SELECT sequence, sender, day, kind, count(*) AS used FROM rt_ranked "
        "WHERE allowed GROUP BY ALL"
    )
    con.execute(
        f"UPDATE {USAGE} u SET used = u.used + b.used FROM rt_booked b "
        "WHERE u.sequence = b.sequence AND u.sender = b.sender "
        "AND u.day = b.day AND u.kind = b.kind"
    )
    con.execute(
        f"INSERT INTO {USAGE} SELECT b.sequence, b.sender, b.day, b.kind, b.used "
        f"FROM rt_booked b ANTI JOIN {USAGE} u USING (sequence, sender, day, kind)"
    )
