"""Hand-written Polars: lazy frames over in-memory data, one plan per case.

Each event, deal and history condition becomes one aggregate column of a group-by
over its table; the lists are expressions over the contacts joined with them. Later
lists read earlier ones as columns, so lists are added in order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import polars as pl
import pyarrow as pa

from benchmarks.cases import Clock, ListSpec
from benchmarks.datasets import parquet
from benchmarks.engines import Runner
from seqdsl.demo import STAGES

_TABLES = ("contacts", "companies", "deals", "associations", "events", "history")


def _lower(column: str) -> pl.Expr:
    return pl.col(column).str.to_lowercase()


class _Plan:
    """Collects the aggregate columns that the lists read."""

    def __init__(self, frames: Mapping[str, pl.DataFrame], clock: Clock) -> None:
        self.frames = frames
        self.clock = clock
        self.events: list[pl.Expr] = []
        self.deals: list[pl.Expr] = []
        self.history: list[pl.Expr] = []
        self.company = False

    def event(
        self, kind: str, days: int, test: pl.Expr | None, times: int = 1
    ) -> pl.Expr:
        name = f"e{len(self.events)}"
        hit = (pl.col("type") == kind) & (
            pl.col("occurred_at") >= self.clock.since(days)
        )
        if test is not None:
            hit = hit & test
        self.events.append(hit.sum().alias(name))
        return pl.col(name).fill_null(0) >= times

    def deal(self, aggregate: pl.Expr) -> pl.Expr:
        name = f"d{len(self.deals)}"
        self.deals.append(aggregate.alias(name))
        return pl.col(name)

    def ever(self, stage: str) -> pl.Expr:
        name = f"h{len(self.history)}"
        self.history.append((pl.col("value") == stage).any().alias(name))
        return (pl.col("lifecyclestage") == stage) | pl.col(name).fill_null(False)

    def frame(self) -> pl.LazyFrame:
        """The contacts with every aggregate column joined on."""
        frame = self.frames["contacts"].lazy()
        for part in self._parts():
            frame = frame.join(part, on="id", how="left")
        return frame

    def _parts(self) -> list[pl.LazyFrame]:
        lazy = {name: df.lazy() for name, df in self.frames.items()}
        parts, now = [], self.clock.now
        if self.events:
            parts.append(
                lazy["events"]
                .filter(pl.col("occurred_at") <= now)
                .group_by(pl.col("record_id").alias("id"))
                .agg(self.events)
            )
        links = lazy["associations"]
        if self.deals:
            deals = links.filter(
                (pl.col("from_type") == "deal") & (pl.col("to_type") == "contact")
            ).join(lazy["deals"], left_on="from_id", right_on="id")
            parts.append(deals.group_by(pl.col("to_id").alias("id")).agg(self.deals))
        if self.history:
            held = lazy["history"].filter(
                (pl.col("object_type") == "contact")
                & (pl.col("property") == "lifecyclestage")
                & (pl.col("changed_at") <= now)
            )
            parts.append(
                held.group_by(pl.col("record_id").alias("id")).agg(self.history)
            )
        if self.company:
            primary = links.filter(
                (pl.col("from_type") == "contact")
                & (pl.col("to_type") == "company")
                & pl.col("primary")
            ).join(lazy["companies"], left_on="to_id", right_on="id")
            parts.append(
                primary.select(
                    pl.col("from_id").alias("id"),
                    pl.col("numberofemployees").alias("company_size"),
                )
            )
        return parts


def _stage_country(p: _Plan, s: ListSpec) -> pl.Expr:
    stages = STAGES[STAGES.index(s.text("stage")) :]
    countries = [c.lower() for c in s.words("countries")]
    return pl.col("lifecyclestage").is_in(stages) & _lower("country").is_in(countries)


def _or_groups(p: _Plan, s: ListSpec) -> pl.Expr:
    stage = pl.col("lifecyclestage")
    return ((stage == "lead") & (pl.col("hs_lead_status") == s.text("status"))) | (
        (stage == "marketingqualifiedlead")
        & (pl.col("numberofemployees") >= s.number("size"))
    )


def _page_view(p: _Plan, s: ListSpec) -> pl.Expr:
    test = _lower("url").str.contains(s.text("page").lower(), literal=True)
    return pl.col("email").is_not_null() & p.event("page_view", s.number("days"), test)


def _opens(p: _Plan, s: ListSpec) -> pl.Expr:
    return p.event("email_open", s.number("days"), None, s.number("times"))


def _won_deal(p: _Plan, s: ListSpec) -> pl.Expr:
    won = (pl.col("amount") > s.number("amount")) & (pl.col("dealstage") == "closedwon")
    return (pl.col("lifecyclestage") != "other") & p.deal(won.any())


def _company_size(p: _Plan, s: ListSpec) -> pl.Expr:
    p.company = True
    stages = pl.col("lifecyclestage").is_in(["salesqualifiedlead", "opportunity"])
    return (pl.col("company_size") >= s.number("size")) & stages


def _owner_in_list(p: _Plan, s: ListSpec) -> pl.Expr:
    owner = _lower("hubspot_owner_id") == s.text("owner").lower()
    return pl.col(s.text("list")) & owner


def _new_contact(p: _Plan, s: ListSpec) -> pl.Expr:
    since = p.clock.since(s.number("days"))
    created = pl.col("createdate").is_between(since, p.clock.now)
    return created & pl.col("email").is_not_null()


def _renewal(p: _Plan, s: ListSpec) -> pl.Expr:
    due = pl.col("renewal_date").is_between(
        p.clock.today, p.clock.ahead(s.number("days"))
    )
    return due & (pl.col("lifecyclestage") == "customer")


def _interests(p: _Plan, s: ListSpec) -> pl.Expr:
    wanted = list(s.words("interests"))
    chosen = pl.col("interests").list.eval(pl.element().is_in(wanted)).list.any()
    return chosen & (pl.col("hs_email_optout") == False)  # noqa: E712


def _ever_stage(p: _Plan, s: ListSpec) -> pl.Expr:
    return p.ever(s.text("stage")) & (pl.col("hs_lead_status") == "UNQUALIFIED")


def _form(p: _Plan, s: ListSpec) -> pl.Expr:
    test = _lower("form").str.starts_with(s.text("form").lower())
    return p.event("form_submission", s.number("days"), test)


def _open_deals(p: _Plan, s: ListSpec) -> pl.Expr:
    is_open = ~pl.col("dealstage").is_in(["closedwon", "closedlost"])
    count = p.deal(pl.col("from_id").filter(is_open).n_unique())
    return ~pl.col(s.text("list")) & (count.fill_null(0) >= 2)


def _title(p: _Plan, s: ListSpec) -> pl.Expr:
    title = _lower("jobtitle").str.contains(s.text("title").lower(), literal=True)
    country = _lower("country") == s.text("country").lower()
    return title & (country | (_lower("industry") == "software"))


def _size_band(p: _Plan, s: ListSpec) -> pl.Expr:
    size = pl.col("numberofemployees").is_between(s.number("low"), s.number("high"))
    return size & pl.col("annualrevenue").is_not_null()


def _newsletter(p: _Plan, s: ListSpec) -> pl.Expr:
    test = _lower("campaign").str.starts_with("newsletter")
    quiet = pl.col("hs_lead_status").is_in(list(s.words("statuses")))
    clicked = p.event("email_click", s.number("days"), test)
    return clicked & ~quiet.fill_null(False)


SHAPES: Mapping[str, Callable[[_Plan, ListSpec], pl.Expr]] = {
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


def case_plan(
    frames: Mapping[str, pl.DataFrame], lists: tuple[ListSpec, ...], clock: Clock
) -> pl.LazyFrame:
    """The lazy plan of a case: one boolean column per list, in list order."""
    plan = _Plan(frames, clock)
    conditions = [(s.name, SHAPES[s.shape](plan, s)) for s in lists]
    frame = plan.frame()
    for name, condition in conditions:
        frame = frame.with_columns(condition.fill_null(False).alias(name))
    return frame.select("id", *(name for name, _ in conditions))


class PolarsRunner(Runner[pl.DataFrame]):
    """Polars data frames in memory, one lazy plan per case."""

    name = "polars"

    def load(self) -> None:
        frames = {}
        for table in _TABLES:
            frame = pl.read_parquet(parquet(self.root, table))
            key = {"contacts": "id", "events": "record_id", "history": "record_id"}
            if self.limit is not None and table in key:
                frame = frame.filter(pl.col(key[table]) <= self.limit)
            frames[table] = frame
        self.plan = case_plan(frames, self.case.lists, self.clock)

    def evaluate(self) -> pl.DataFrame:
        return self.plan.collect()

    def members(self, result: pl.DataFrame) -> Mapping[str, pa.Array]:
        return {
            spec.name: result.filter(pl.col(spec.name))["id"].to_arrow()
            for spec in self.case.lists
        }
