"""Hand-written DuckDB: one SQL query per case with one boolean column per list.

This is what a careful analyst would write by hand: native tables loaded once, each
event, deal and history condition aggregated in a single pass over its table with
`FILTER` clauses, then one projection over the contacts. Unknown values fail every
test because each list is wrapped in `coalesce(..., false)`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from benchmarks.cases import Clock, ListSpec
from benchmarks.datasets import parquet
from benchmarks.engines import Runner
from seqdsl.demo import STAGES

_TABLES = ("contacts", "companies", "deals", "associations", "events", "history")


def lit(value: object) -> str:
    """A SQL literal for a string, number, date or UTC instant."""
    if isinstance(value, int):
        return str(value)
    text = str(value).replace("'", "''")
    if hasattr(value, "tzinfo"):
        return f"TIMESTAMPTZ '{text}'"
    if hasattr(value, "isoformat"):
        return f"DATE '{text}'"
    return f"'{text}'"


def _among(column: str, values: tuple[str, ...], lower: bool = False) -> str:
    shown = [v.lower() if lower else v for v in values]
    column = f"lower({column})" if lower else column
    return f"{column} IN ({', '.join(lit(v) for v in shown)})"


def _at_least(stage: str) -> tuple[str, ...]:
    return STAGES[STAGES.index(stage) :]


class _Query:
    """Builds the query: aggregate columns per joined table, then the lists."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.events: list[str] = []
        self.deals: list[str] = []
        self.history: list[str] = []
        self.company = False
        self.since: list[str] = []

    def event(self, kind: str, days: int, test: str | None, times: int = 1) -> str:
        """Count the contact's events of `kind` in the window; a test on the count."""
        since = lit(self.clock.since(days))
        self.since.append(since)
        where = f"type = '{kind}' AND occurred_at >= {since}"
        if test:
            where += f" AND {test}"
        name = f"e{len(self.events)}"
        self.events.append(f"count(*) FILTER (WHERE {where}) AS {name}")
        return f"coalesce(ev.{name}, 0) >= {times}"

    def deal(self, aggregate: str) -> str:
        name = f"d{len(self.deals)}"
        self.deals.append(f"{aggregate} AS {name}")
        return f"dl.{name}"

    def ever(self, stage: str) -> str:
        name = f"h{len(self.history)}"
        self.history.append(f"bool_or(value = {lit(stage)}) AS {name}")
        return f"(c.lifecyclestage = {lit(stage)} OR coalesce(hi.{name}, false))"

    def sql(self, lists: Mapping[str, str]) -> str:
        columns = ",\n  ".join(
            f"coalesce({condition}, false) AS {_ident(name)}"
            for name, condition in lists.items()
        )
        ctes, joins = self._ctes()
        with_clause = f"WITH {', '.join(ctes)}\n" if ctes else ""
        return f"{with_clause}SELECT c.id,\n  {columns}\nFROM contacts c{joins}"

    def _ctes(self) -> tuple[list[str], str]:
        ctes, joins = [], ""
        now = lit(self.clock.now)
        if self.events:
            earliest = f"least({', '.join(self.since)})"
            ctes.append(
                f"ev AS (SELECT record_id, {', '.join(self.events)} FROM events "
                f"WHERE occurred_at >= {earliest} AND occurred_at <= {now} "
                "GROUP BY record_id)"
            )
            joins += "\nLEFT JOIN ev ON ev.record_id = c.id"
        if self.deals:
            ctes.append(
                f"dl AS (SELECT a.to_id, {', '.join(self.deals)} FROM associations a "
                "JOIN deals d ON d.id = a.from_id "
                "WHERE a.from_type = 'deal' AND a.to_type = 'contact' GROUP BY a.to_id)"
            )
            joins += "\nLEFT JOIN dl ON dl.to_id = c.id"
        if self.history:
            ctes.append(
                f"hi AS (SELECT record_id, {', '.join(self.history)} FROM history "
                "WHERE object_type = 'contact' AND property = 'lifecyclestage' "
                f"AND changed_at <= {now} GROUP BY record_id)"
            )
            joins += "\nLEFT JOIN hi ON hi.record_id = c.id"
        if self.company:
            ctes.append(
                "co AS (SELECT a.from_id, m.numberofemployees FROM associations a "
                "JOIN companies m ON m.id = a.to_id WHERE a.from_type = 'contact' "
                "AND a.to_type = 'company' AND a.\"primary\")"
            )
            joins += "\nLEFT JOIN co ON co.from_id = c.id"
        return ctes, joins


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _stage_country(q: _Query, s: ListSpec) -> str:
    stages = _among("c.lifecyclestage", _at_least(s.text("stage")))
    return f"{stages} AND {_among('c.country', s.words('countries'), lower=True)}"


def _or_groups(q: _Query, s: ListSpec) -> str:
    return (
        f"(c.lifecyclestage = 'lead' AND c.hs_lead_status = {lit(s.text('status'))})"
        " OR (c.lifecyclestage = 'marketingqualifiedlead' "
        f"AND c.numberofemployees >= {s.number('size')})"
    )


def _page_view(q: _Query, s: ListSpec) -> str:
    test = f"contains(lower(url), {lit(s.text('page').lower())})"
    return f"c.email IS NOT NULL AND {q.event('page_view', s.number('days'), test)}"


def _opens(q: _Query, s: ListSpec) -> str:
    return q.event("email_open", s.number("days"), None, s.number("times"))


def _won_deal(q: _Query, s: ListSpec) -> str:
    won = q.deal(
        f"bool_or(d.amount > {s.number('amount')} AND d.dealstage = 'closedwon')"
    )
    return f"c.lifecyclestage <> 'other' AND {won}"


def _company_size(q: _Query, s: ListSpec) -> str:
    q.company = True
    stages = _among("c.lifecyclestage", ("salesqualifiedlead", "opportunity"))
    return f"co.numberofemployees >= {s.number('size')} AND {stages}"


def _owner_in_list(q: _Query, s: ListSpec) -> str:
    owner = lit(s.text("owner").lower())
    return f"{_ident(s.text('list'))} AND lower(c.hubspot_owner_id) = {owner}"


def _new_contact(q: _Query, s: ListSpec) -> str:
    since, now = lit(q.clock.since(s.number("days"))), lit(q.clock.now)
    return f"c.createdate BETWEEN {since} AND {now} AND c.email IS NOT NULL"


def _renewal(q: _Query, s: ListSpec) -> str:
    today, last = lit(q.clock.today), lit(q.clock.ahead(s.number("days")))
    return (
        f"c.renewal_date BETWEEN {today} AND {last} AND c.lifecyclestage = 'customer'"
    )


def _interests(q: _Query, s: ListSpec) -> str:
    wanted = ", ".join(lit(v) for v in s.words("interests"))
    return f"list_has_any(c.interests, [{wanted}]) AND c.hs_email_optout = false"


def _ever_stage(q: _Query, s: ListSpec) -> str:
    return f"{q.ever(s.text('stage'))} AND c.hs_lead_status = 'UNQUALIFIED'"


def _form(q: _Query, s: ListSpec) -> str:
    test = f"starts_with(lower(form), {lit(s.text('form').lower())})"
    return q.event("form_submission", s.number("days"), test)


def _open_deals(q: _Query, s: ListSpec) -> str:
    count = q.deal(
        "count(DISTINCT d.id) FILTER (WHERE d.dealstage NOT IN "
        "('closedwon', 'closedlost'))"
    )
    return f"NOT {_ident(s.text('list'))} AND {count} >= 2"


def _title(q: _Query, s: ListSpec) -> str:
    title = lit(s.text("title").lower())
    country = lit(s.text("country").lower())
    return (
        f"contains(lower(c.jobtitle), {title}) AND (lower(c.country) = {country} "
        "OR lower(c.industry) = 'software')"
    )


def _size_band(q: _Query, s: ListSpec) -> str:
    low, high = s.number("low"), s.number("high")
    return (
        f"c.numberofemployees BETWEEN {low} AND {high} AND c.annualrevenue IS NOT NULL"
    )


def _newsletter(q: _Query, s: ListSpec) -> str:
    test = "starts_with(lower(campaign), 'newsletter')"
    clicked = q.event("email_click", s.number("days"), test)
    excluded = _among("c.hs_lead_status", s.words("statuses"))
    quiet = f"NOT coalesce({excluded}, false)"
    return f"{clicked} AND {quiet}"


SHAPES: Mapping[str, Callable[[_Query, ListSpec], str]] = {
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


def case_sql(lists: tuple[ListSpec, ...], clock: Clock) -> str:
    """The one query that computes every list; later lists may read earlier ones."""
    query = _Query(clock)
    conditions = {spec.name: SHAPES[spec.shape](query, spec) for spec in lists}
    return query.sql(conditions)


class DuckdbRunner(Runner[pa.Table]):
    """Native DuckDB tables, one hand-written query per case."""

    name = "duckdb-sql"

    def load(self) -> None:
        self.con = duckdb.connect()
        self.con.execute("SET TimeZone = 'UTC'")
        self.con.execute("SET enable_progress_bar = false")
        for table in _TABLES:
            source = f"read_parquet('{parquet(self.root, table)}')"
            if self.limit is not None and table in ("contacts", "events", "history"):
                key = "id" if table == "contacts" else "record_id"
                source += f" WHERE {key} <= {self.limit}"
            self.con.execute(f"CREATE TABLE {table} AS SELECT * FROM {source}")
        self.query = case_sql(self.case.lists, self.clock)

    def evaluate(self) -> pa.Table:
        return self.con.sql(self.query).to_arrow_table()

    def members(self, result: pa.Table) -> Mapping[str, pa.Array]:
        ids = result.column("id")
        return {
            spec.name: pc.filter(ids, result.column(spec.name))
            for spec in self.case.lists
        }
