"""Per-record inputs: Arrow tables turned into one Python dict per contact.

Both per-record alternatives (plain Python and zen-engine) start from the same form:
each contact's row as a dict, with its events, deals, held lifecycle stages and primary
company size attached. Building it is part of their timed evaluation, because a
per-record engine cannot run before the rows are records.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pyarrow as pa
import pyarrow.compute as pc

from benchmarks.cases import ListSpec
from benchmarks.datasets import read

Record = dict[str, Any]

EVENT_SHAPES = frozenset({"page_view", "opens", "form", "newsletter"})
DEAL_SHAPES = frozenset({"won_deal", "open_deals"})


@attrs.define
class Inputs:
    """The tables a case reads, loaded and not yet converted."""

    contacts: pa.Table
    events: pa.Table | None = None
    deals: pa.Table | None = None
    deal_links: pa.Table | None = None
    history: pa.Table | None = None
    company_links: pa.Table | None = None
    companies: pa.Table | None = None


def load_inputs(
    root: Path,
    lists: tuple[ListSpec, ...],
    limit: int | None,
    prepare: Callable[[pa.Table], pa.Table] = lambda table: table,
) -> Inputs:
    """Read only the tables the lists need; `prepare` may recast columns."""
    shapes = {spec.shape for spec in lists}
    inputs = Inputs(prepare(read(root, "contacts", limit)))
    if shapes & EVENT_SHAPES:
        inputs.events = prepare(read(root, "events", limit))
    links = read(root, "associations")
    if shapes & DEAL_SHAPES:
        inputs.deals = prepare(
            read(root, "deals").select(["id", "amount", "dealstage"])
        )
        inputs.deal_links = _links(links, "deal", "contact")
    if "ever_stage" in shapes:
        inputs.history = prepare(read(root, "history", limit))
    if "company_size" in shapes:
        inputs.company_links = _links(links, "contact", "company", primary=True)
        inputs.companies = read(root, "companies").select(["id", "numberofemployees"])
    return inputs


def _links(
    links: pa.Table, source: str, target: str, primary: bool = False
) -> pa.Table:
    keep = pc.and_(
        pc.equal(links["from_type"], source), pc.equal(links["to_type"], target)
    )
    if primary:
        keep = pc.and_(keep, links["primary"])
    return links.filter(keep).select(["from_id", "to_id"])


def to_records(inputs: Inputs) -> list[Record]:
    """One dict per contact with `events`, `deals`, `history` and `company_size`."""
    records: list[Record] = inputs.contacts.to_pylist()
    if inputs.events is not None:
        events: defaultdict[int, list[Record]] = defaultdict(list)
        for event in inputs.events.to_pylist():
            events[event["record_id"]].append(event)
        for record in records:
            record["events"] = events.get(record["id"], [])
    if inputs.deals is not None and inputs.deal_links is not None:
        _attach_deals(records, inputs.deals, inputs.deal_links)
    if inputs.history is not None:
        _attach_history(records, inputs.history)
    if inputs.companies is not None and inputs.company_links is not None:
        size = {
            row["id"]: row["numberofemployees"] for row in inputs.companies.to_pylist()
        }
        primary = {
            row["from_id"]: size.get(row["to_id"])
            for row in inputs.company_links.to_pylist()
        }
        for record in records:
            record["company_size"] = primary.get(record["id"])
    return records


def _attach_deals(records: list[Record], deals: pa.Table, links: pa.Table) -> None:
    by_id = {deal["id"]: deal for deal in deals.to_pylist()}
    owned: defaultdict[int, dict[int, Record]] = defaultdict(dict)
    for link in links.to_pylist():
        deal = by_id.get(link["from_id"])
        if deal is not None:
            owned[link["to_id"]][deal["id"]] = deal
    for record in records:
        record["deals"] = list(owned.get(record["id"], {}).values())


def _attach_history(records: list[Record], history: pa.Table) -> None:
    held: defaultdict[int, list[Any]] = defaultdict(list)
    for row in history.to_pylist():
        if row["object_type"] == "contact" and row["property"] == "lifecyclestage":
            held[row["record_id"]].append(row)
    for record in records:
        record["history"] = held.get(record["id"], [])
