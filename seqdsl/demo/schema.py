"""Demo data, schema: the columns of each data file and the `schema.seq` for them.

:data:`OBJECTS` and :data:`EVENTS` are the single source of the demo's columns: the
data files are written in their order, and :func:`schema_text` declares exactly them.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence

from seqdsl.demo.vocabulary import DEAL_STAGES, INTERESTS, LEAD_STATUSES, STAGES


def _enum(options: Sequence[str], ordered: bool = False) -> str:
    return f"enum [{', '.join(options)}]" + (" ordered" if ordered else "")


#: Declared properties per object, in file column order (after `id`).
OBJECTS: Mapping[str, Mapping[str, str]] = {
    "contact": {
        "email": "string",
        "firstname": "string",
        "lastname": "string",
        "lifecyclestage": _enum(STAGES, ordered=True),
        "hs_lead_status": _enum(LEAD_STATUSES),
        "hubspot_owner_id": "owner",
        "hs_timezone": "timezone",
        "numberofemployees": "number",
        "annualrevenue": "number",
        "country": "string",
        "industry": "string",
        "createdate": "datetime",
        "last_activity_date": "datetime",
        "renewal_date": "date",
        "hs_email_bad_address": "bool",
        "hs_email_hard_bounce_reason": "string",
        "hs_email_optout": "bool",
        "interests": f"set [{', '.join(INTERESTS)}]",
        "jobtitle": "string",
        "city": "string",
    },
    "company": {
        "name": "string",
        "domain": "string",
        "numberofemployees": "number",
        "industry": "string",
        "country": "string",
        "annualrevenue": "number",
        "lifecyclestage": _enum(STAGES, ordered=True),
    },
    "deal": {
        "dealname": "string",
        "amount": "number",
        "dealstage": _enum(DEAL_STAGES),
        "pipeline": "string",
        "closedate": "date",
        "createdate": "datetime",
    },
}

#: Declared event types and their string fields; the builtin ones need no entry.
EVENTS: Mapping[str, tuple[str, ...]] = {
    "email_open": ("campaign",),
    "email_click": ("campaign", "url"),
    "page_view": ("url",),
    "form_submission": ("form", "page_url"),
}


def _event_columns() -> tuple[str, ...]:
    fields = dict.fromkeys(field for names in EVENTS.values() for field in names)
    return ("record_id", "type", "occurred_at", *fields)


#: Data files: the settings key, the table's name and its columns in file order.
FILES: Mapping[str, tuple[str, tuple[str, ...]]] = {
    "contacts": ("contacts", ("id", *OBJECTS["contact"])),
    "companies": ("companies", ("id", *OBJECTS["company"])),
    "deals": ("deals", ("id", *OBJECTS["deal"])),
    "associations": (
        "associations",
        ("from_type", "from_id", "to_type", "to_id", "primary"),
    ),
    "events": ("events", _event_columns()),
    "property_history": (
        "history",
        ("object_type", "record_id", "property", "value", "changed_at"),
    ),
    "list_memberships": ("memberships", ("list", "record_id")),
}


#: The line width of `seqdsl fmt`; generated rule text needs no reformatting.
WIDTH = 88


def _declare(name: str, kind: str) -> str:
    """A property line; a long option list continues under its first option."""
    head = f"  {name}: "
    if "[" not in kind:
        return f"{head}{kind}\n"
    indent = " " * (len(head) + kind.index("[") + 1)
    return textwrap.fill(head + kind, WIDTH, subsequent_indent=indent) + "\n"


def schema_text() -> str:
    """The `schema.seq` of a demo workspace: a declaration per object and event."""
    blocks = ["# Schema of the generated demo data, matching its columns."]
    for name, properties in OBJECTS.items():
        body = "".join(_declare(key, kind) for key, kind in properties.items())
        blocks.append(f"object {name} {{\n{body}}}")
    for name, fields in EVENTS.items():
        blocks.append(f"event {name} {{ {'  '.join(f'{f}: string' for f in fields)} }}")
    return "\n\n".join(blocks) + "\n"
