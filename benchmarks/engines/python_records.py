"""Hand-written Python: a function per list, called once per contact record.

The timed evaluation includes turning the Arrow rows into dicts (`to_pylist`) and
grouping events, deals and history per contact, then runs every list's function on
every record. Each function follows the semantics: an unknown value fails every test.
Instants become naive UTC datetimes: pyarrow converts zone-aware ones about twice as
slowly, and a careful hand-writer would avoid that.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

import pyarrow as pa

from benchmarks.cases import Clock, ListSpec
from benchmarks.engines import Runner
from benchmarks.engines.records import Record, load_inputs, to_records
from seqdsl.demo import STAGES

#: A list's test: the record and the lists already decided for it.
Test = Callable[[Record, Mapping[str, bool]], bool]
Members = dict[str, list[int]]


def _naive(table: pa.Table) -> pa.Table:
    """Zone-aware instants to naive UTC ones (the same moments, cheaper to convert)."""
    for index, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type) and field.type.tz is not None:
            naive = table[index].cast(pa.timestamp(field.type.unit))
            table = table.set_column(index, field.name, naive)
    return table


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def _lower(value: object) -> str | None:
    return value.lower() if isinstance(value, str) else None


def _has(value: object, part: str) -> bool:
    """Case-insensitive `contains`; false for an unknown value."""
    text = _lower(value)
    return text is not None and part in text


def _starts(value: object, prefix: str) -> bool:
    text = _lower(value)
    return text is not None and text.startswith(prefix)


def _counter(
    clock: Clock, kind: str, days: int, test: Callable[[Record], bool] | None = None
) -> Callable[[Record], int]:
    """Counts a record's events of `kind` in the last `days` days that pass `test`."""
    since, now = _utc(clock.since(days)), _utc(clock.now)

    def count(record: Record) -> int:
        found = 0
        for event in record["events"]:
            at = event["occurred_at"]
            if event["type"] == kind and since <= at <= now:
                found += test is None or test(event)
        return found

    return count


def _stage_country(s: ListSpec, clock: Clock) -> Test:
    stages = frozenset(STAGES[STAGES.index(s.text("stage")) :])
    countries = frozenset(c.lower() for c in s.words("countries"))
    return lambda r, _: (
        r["lifecyclestage"] in stages and _lower(r["country"]) in countries
    )


def _or_groups(s: ListSpec, clock: Clock) -> Test:
    status, size = s.text("status"), s.number("size")

    def test(r: Record, _: Mapping[str, bool]) -> bool:
        stage, employees = r["lifecyclestage"], r["numberofemployees"]
        if stage == "lead" and r["hs_lead_status"] == status:
            return True
        return (
            stage == "marketingqualifiedlead"
            and employees is not None
            and (employees >= size)
        )

    return test


def _page_view(s: ListSpec, clock: Clock) -> Test:
    page = s.text("page").lower()
    count = _counter(
        clock, "page_view", s.number("days"), lambda e: _has(e["url"], page)
    )
    return lambda r, _: r["email"] is not None and count(r) >= 1


def _opens(s: ListSpec, clock: Clock) -> Test:
    count, times = _counter(clock, "email_open", s.number("days")), s.number("times")
    return lambda r, _: count(r) >= times


def _won_deal(s: ListSpec, clock: Clock) -> Test:
    amount = s.number("amount")

    def won(deal: Record) -> bool:
        value = deal["amount"]
        return deal["dealstage"] == "closedwon" and value is not None and value > amount

    return lambda r, _: (
        r["lifecyclestage"] not in (None, "other") and any(map(won, r["deals"]))
    )


def _company_size(s: ListSpec, clock: Clock) -> Test:
    size, stages = s.number("size"), ("salesqualifiedlead", "opportunity")

    def test(r: Record, _: Mapping[str, bool]) -> bool:
        employees = r["company_size"]
        return (
            employees is not None
            and employees >= size
            and (r["lifecyclestage"] in stages)
        )

    return test


def _owner_in_list(s: ListSpec, clock: Clock) -> Test:
    listed, owner = s.text("list"), s.text("owner").lower()
    return lambda r, done: done[listed] and _lower(r["hubspot_owner_id"]) == owner


def _new_contact(s: ListSpec, clock: Clock) -> Test:
    since, now = _utc(clock.since(s.number("days"))), _utc(clock.now)

    def test(r: Record, _: Mapping[str, bool]) -> bool:
        created = r["createdate"]
        return (
            created is not None and since <= created <= now and (r["email"] is not None)
        )

    return test


def _renewal(s: ListSpec, clock: Clock) -> Test:
    first, last = clock.today, clock.ahead(s.number("days"))

    def test(r: Record, _: Mapping[str, bool]) -> bool:
        due: dt.date | None = r["renewal_date"]
        return (
            due is not None
            and first <= due <= last
            and (r["lifecyclestage"] == "customer")
        )

    return test


def _interests(s: ListSpec, clock: Clock) -> Test:
    wanted = frozenset(s.words("interests"))
    return lambda r, _: (
        bool(r["interests"] and wanted.intersection(r["interests"]))
        and (r["hs_email_optout"] is False)
    )


def _ever_stage(s: ListSpec, clock: Clock) -> Test:
    stage, now = s.text("stage"), _utc(clock.now)

    def held(r: Record) -> bool:
        if r["lifecyclestage"] == stage:
            return True
        return any(h["value"] == stage and h["changed_at"] <= now for h in r["history"])

    return lambda r, _: r["hs_lead_status"] == "UNQUALIFIED" and held(r)


def _form(s: ListSpec, clock: Clock) -> Test:
    form = s.text("form").lower()
    count = _counter(
        clock,
        "form_submission",
        s.number("days"),
        lambda e: _starts(e["form"], form),
    )
    return lambda r, _: count(r) >= 1


def _open_deals(s: ListSpec, clock: Clock) -> Test:
    listed, closed = s.text("list"), (None, "closedwon", "closedlost")

    def test(r: Record, done: Mapping[str, bool]) -> bool:
        if done[listed]:
            return False
        return sum(deal["dealstage"] not in closed for deal in r["deals"]) >= 2

    return test


def _title(s: ListSpec, clock: Clock) -> Test:
    title, country = s.text("title").lower(), s.text("country").lower()

    def test(r: Record, _: Mapping[str, bool]) -> bool:
        if not _has(r["jobtitle"], title):
            return False
        return _lower(r["country"]) == country or _lower(r["industry"]) == "software"

    return test


def _size_band(s: ListSpec, clock: Clock) -> Test:
    low, high = s.number("low"), s.number("high")

    def test(r: Record, _: Mapping[str, bool]) -> bool:
        size = r["numberofemployees"]
        return (
            size is not None
            and low <= size <= high
            and (r["annualrevenue"] is not None)
        )

    return test


def _newsletter(s: ListSpec, clock: Clock) -> Test:
    count = _counter(
        clock,
        "email_click",
        s.number("days"),
        lambda e: _starts(e["campaign"], "newsletter"),
    )
    quiet = frozenset(s.words("statuses"))
    return lambda r, _: r["hs_lead_status"] not in quiet and count(r) >= 1


SHAPES: Mapping[str, Callable[[ListSpec, Clock], Test]] = {
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


class PythonRunner(Runner[Members]):
    """Rows to dicts, then one Python function per list and record."""

    name = "python-per-record"

    def load(self) -> None:
        self.inputs = load_inputs(
            self.root, self.case.lists, self.limit, prepare=_naive
        )
        self.tests = [
            (spec.name, SHAPES[spec.shape](spec, self.clock))
            for spec in self.case.lists
        ]

    def evaluate(self) -> Members:
        members: Members = {name: [] for name, _ in self.tests}
        for record in to_records(self.inputs):
            done: dict[str, bool] = {}
            for name, test in self.tests:
                done[name] = hit = test(record, done)
                if hit:
                    members[name].append(record["id"])
        return members

    def members(self, result: Members) -> Mapping[str, pa.Array]:
        return {name: pa.array(ids, pa.int64()) for name, ids in result.items()}
