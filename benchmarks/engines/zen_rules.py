"""zen-engine: the case's lists as one JDM decision graph, evaluated per contact.

The graph is input -> one expression node (one expression per list, in order, so a
list can read an earlier one as `$.<key>`) -> output. Every record's context is its
row with events, deals and history attached; instants travel as epoch seconds and
dates as epoch days, because a context must be plain JSON values. zen's expression
language fails on `null` in a comparison, so every test guards unknown values first.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import zen

from benchmarks.cases import Clock, ListSpec
from benchmarks.engines import Runner
from benchmarks.engines.records import load_inputs, to_records
from seqdsl.demo import STAGES

Members = dict[str, list[int]]
_EPOCH = dt.date(1970, 1, 1)


def _epoch_numbers(table: pa.Table) -> pa.Table:
    """Instants to float epoch seconds and dates to int epoch days."""
    for index, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type):
            seconds = pc.divide(table[index].cast(pa.int64()), 1_000_000.0)
            table = table.set_column(index, field.name, seconds)
        elif pa.types.is_date32(field.type):
            table = table.set_column(index, field.name, table[index].cast(pa.int32()))
    return table


def _text(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _among(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(_text(v) for v in values) + "]"


def _lower_is(field: str, value: str) -> str:
    return f"({field} != null and lower({field}) == {_text(value.lower())})"


class _Exprs:
    """Writes zen expressions; event tests share one form."""

    def __init__(self, clock: Clock, keys: Mapping[str, str]) -> None:
        self.now = clock.now.timestamp()
        self.clock = clock
        self.keys = keys

    def events(self, kind: str, days: int, test: str | None, times: int = 1) -> str:
        since = self.clock.since(days).timestamp()
        hit = (
            f"#.type == '{kind}' and #.occurred_at >= {since} "
            f"and #.occurred_at <= {self.now}"
        )
        if test:
            hit += f" and {test}"
        if times == 1:
            return f"some(events, {hit})"
        return f"count(events, {hit}) >= {times}"

    def day(self, date: dt.date) -> int:
        return (date - _EPOCH).days

    def listed(self, name: str) -> str:
        return f"$.{self.keys[name]}"


def _stage_country(x: _Exprs, s: ListSpec) -> str:
    stages = STAGES[STAGES.index(s.text("stage")) :]
    countries = tuple(c.lower() for c in s.words("countries"))
    return (
        f"lifecyclestage in {_among(stages)} and country != null "
        f"and lower(country) in {_among(countries)}"
    )


def _or_groups(x: _Exprs, s: ListSpec) -> str:
    return (
        f"(lifecyclestage == 'lead' and hs_lead_status == {_text(s.text('status'))})"
        " or (lifecyclestage == 'marketingqualifiedlead' and numberofemployees != null"
        f" and numberofemployees >= {s.number('size')})"
    )


def _page_view(x: _Exprs, s: ListSpec) -> str:
    test = f"#.url != null and contains(lower(#.url), {_text(s.text('page').lower())})"
    return f"email != null and {x.events('page_view', s.number('days'), test)}"


def _opens(x: _Exprs, s: ListSpec) -> str:
    return x.events("email_open", s.number("days"), None, s.number("times"))


def _won_deal(x: _Exprs, s: ListSpec) -> str:
    amount = s.number("amount")
    won = f"#.dealstage == 'closedwon' and #.amount != null and #.amount > {amount}"
    return (
        f"lifecyclestage != null and lifecyclestage != 'other' and some(deals, {won})"
    )


def _company_size(x: _Exprs, s: ListSpec) -> str:
    return (
        f"company_size != null and company_size >= {s.number('size')} and "
        "lifecyclestage in ['salesqualifiedlead', 'opportunity']"
    )


def _owner_in_list(x: _Exprs, s: ListSpec) -> str:
    owner = _lower_is("hubspot_owner_id", s.text("owner"))
    return f"{x.listed(s.text('list'))} and {owner}"


def _new_contact(x: _Exprs, s: ListSpec) -> str:
    since = x.clock.since(s.number("days")).timestamp()
    return (
        f"createdate != null and createdate >= {since} and createdate <= {x.now} "
        "and email != null"
    )


def _renewal(x: _Exprs, s: ListSpec) -> str:
    first, last = x.day(x.clock.today), x.day(x.clock.ahead(s.number("days")))
    return (
        f"renewal_date != null and renewal_date >= {first} and renewal_date <= {last}"
        " and lifecyclestage == 'customer'"
    )


def _interests(x: _Exprs, s: ListSpec) -> str:
    wanted = _among(s.words("interests"))
    chosen = f"interests != null and some(interests, # in {wanted})"
    return f"{chosen} and hs_email_optout == false"


def _ever_stage(x: _Exprs, s: ListSpec) -> str:
    stage = _text(s.text("stage"))
    held = f"some(history, #.value == {stage} and #.changed_at <= {x.now})"
    return f"hs_lead_status == 'UNQUALIFIED' and (lifecyclestage == {stage} or {held})"


def _form(x: _Exprs, s: ListSpec) -> str:
    test = (
        f"#.form != null and startsWith(lower(#.form), {_text(s.text('form').lower())})"
    )
    return x.events("form_submission", s.number("days"), test)


def _open_deals(x: _Exprs, s: ListSpec) -> str:
    still_open = (
        "#.dealstage != null and not (#.dealstage in ['closedwon', 'closedlost'])"
    )
    return f"not {x.listed(s.text('list'))} and count(deals, {still_open}) >= 2"


def _title(x: _Exprs, s: ListSpec) -> str:
    title = _text(s.text("title").lower())
    country = _lower_is("country", s.text("country"))
    industry = _lower_is("industry", "software")
    has_title = f"jobtitle != null and contains(lower(jobtitle), {title})"
    return f"{has_title} and ({country} or {industry})"


def _size_band(x: _Exprs, s: ListSpec) -> str:
    return (
        f"numberofemployees != null and numberofemployees >= {s.number('low')} and "
        f"numberofemployees <= {s.number('high')} and annualrevenue != null"
    )


def _newsletter(x: _Exprs, s: ListSpec) -> str:
    test = "#.campaign != null and startsWith(lower(#.campaign), 'newsletter')"
    clicked = x.events("email_click", s.number("days"), test)
    return f"{clicked} and not (hs_lead_status in {_among(s.words('statuses'))})"


SHAPES: Mapping[str, Callable[[_Exprs, ListSpec], str]] = {
    "stage_country": _stage_country,
    "or_groups": _or_groups,
    "page_view": _page_view,
    "opens": _opens,
    "won_deal": _won_deal,
    "company_size": _company_size,
    "owner_in_list": _owner_in_list,
    "new_contact": _new_contact,
    "renewal": _renewal,
    "interests": _interests,
    "ever_stage": _ever_stage,
    "form": _form,
    "open_deals": _open_deals,
    "title": _title,
    "size_band": _size_band,
    "newsletter": _newsletter,
}


def _node(node_id: str, kind: str, content: dict[str, Any]) -> dict[str, Any]:
    position = {"x": 0, "y": 0}
    return {
        "id": node_id,
        "type": kind,
        "name": node_id,
        "position": position,
        "content": content,
    }


def decision_graph(lists: tuple[ListSpec, ...], clock: Clock) -> dict[str, Any]:
    """The JDM graph: one expression per list, keyed `l0`, `l1`, ... in list order."""
    keys = {spec.name: f"l{index}" for index, spec in enumerate(lists)}
    exprs = _Exprs(clock, keys)
    expressions = [
        {
            "id": keys[spec.name],
            "key": keys[spec.name],
            "value": SHAPES[spec.shape](exprs, spec),
        }
        for spec in lists
    ]
    return {
        "nodes": [
            _node("request", "inputNode", {}),
            _node("lists", "expressionNode", {"expressions": expressions}),
            _node("response", "outputNode", {}),
        ],
        "edges": [
            {"id": "in", "type": "edge", "sourceId": "request", "targetId": "lists"},
            {"id": "out", "type": "edge", "sourceId": "lists", "targetId": "response"},
        ],
    }


class ZenRunner(Runner[Members]):
    """Rows to JSON-ready dicts, then one zen decision evaluation per contact."""

    name = "zen-engine"

    def load(self) -> None:
        self.inputs = load_inputs(
            self.root, self.case.lists, self.limit, prepare=_epoch_numbers
        )
        graph = json.dumps(decision_graph(self.case.lists, self.clock))
        # the loader form caches the compiled graph; `create_decision` is ~10x slower
        self.engine = zen.ZenEngine({"loader": lambda key: graph})
        self.keys = [(f"l{i}", spec.name) for i, spec in enumerate(self.case.lists)]

    def evaluate(self) -> Members:
        members: Members = {name: [] for _, name in self.keys}
        for record in to_records(self.inputs):
            result = self.engine.evaluate("lists", record)["result"]
            for key, name in self.keys:
                if result[key]:
                    members[name].append(record["id"])
        return members

    def members(self, result: Members) -> Mapping[str, pa.Array]:
        return {name: pa.array(ids, pa.int64()) for name, ids in result.items()}
