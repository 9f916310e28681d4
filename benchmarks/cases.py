"""Benchmark cases: the rule text of each case and its lists as (shape, parameters).

seqdsl reads the rule text. The hand-written alternatives cannot, so every list is
recognised here as one of the known condition shapes of `seqdsl.demo.benchmark_rules`
with its constants; each alternative implements each shape by hand. A list that matches
no shape stops the benchmark rather than being skipped.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Mapping

import attrs

from seqdsl.demo import DEFAULT_AS_OF, benchmark_rules, demo_rules
from seqdsl.demo.rules import runtime_rules

Param = str | int | tuple[str, ...]

#: The zone of the demo workspace; "today" and "in last N days" are counted in it.
ZONE = "America/New_York"

_WORDS = r"(?P<{0}>[^\]]*)"
_TEXT = r'"(?P<{0}>[^"]*)"'
_INT = r"(?P<{0}>\d+)"
_WORD = r"(?P<{0}>\w+)"


def _pattern(template: str) -> re.Pattern[str]:
    """Compile a shape written with `{kind:name}` holes into an anchored regex."""
    kinds = {"words": _WORDS, "text": _TEXT, "int": _INT, "word": _WORD}
    parts = re.split(r"\{(\w+):(\w+)\}", template)
    pieces = []
    for index, part in enumerate(parts):
        if index % 3 == 0:
            pieces.append(re.escape(part))
        elif index % 3 == 1:
            pieces.append(kinds[part].format(parts[index + 1]))
    return re.compile("".join(pieces) + r"\Z")


#: The condition shapes the alternatives implement, by shape name. They are matched
#: against the condition with parentheses dropped and `=` read as `is` (see
#: `_normalised`); each alternative implements the grouping the shape intends, and
#: the agreement check catches a text whose grouping differs.
SHAPES: Mapping[str, re.Pattern[str]] = {
    name: _pattern(template)
    for name, template in {
        "stage_country": "lifecyclestage >= {word:stage} and country is any of "
        "[{words:countries}]",
        "or_groups": "lifecyclestage is lead and hs_lead_status is {word:status} or "
        "lifecyclestage is marketingqualifiedlead and numberofemployees >= "
        "{int:size}",
        "page_view": "email is known and had page_view where url contains "
        "{text:page} in last {int:days} days",
        "opens": "had email_open at least {int:times} times in last {int:days} days",
        "won_deal": "lifecyclestage is not other and any deal where amount > "
        "{int:amount} and dealstage is closedwon",
        "company_size": "company.numberofemployees >= {int:size} and "
        "lifecyclestage is any of [salesqualifiedlead, opportunity]",
        "owner_in_list": "in list {text:list} and hubspot_owner_id is {text:owner}",
        "new_contact": "createdate in last {int:days} days and email is known",
        "renewal": "renewal_date in next {int:days} days and lifecyclestage is "
        "customer",
        "interests": "interests contains any of [{words:interests}] and "
        "hs_email_optout is false",
        "ever_stage": "lifecyclestage has ever been {word:stage} and "
        "hs_lead_status is UNQUALIFIED",
        "form": "had form_submission where form starts with {text:form} in last "
        "{int:days} days",
        "open_deals": "not in list {text:list} and at least 2 deals where dealstage "
        "is none of [closedwon, closedlost]",
        # jobtitle and (country or industry)
        "title": "jobtitle contains {text:title} and country is {text:country} or "
        'industry is "Software"',
        "size_band": "numberofemployees is between {int:low} and {int:high} and "
        "annualrevenue is known",
        # clicked and (status unknown or status none of [...])
        "newsletter": 'had email_click where campaign starts with "newsletter" in '
        "last {int:days} days and hs_lead_status is unknown or hs_lead_status is "
        "none of [{words:statuses}]",
    }.items()
}


def _normalised(condition: str) -> str:
    """One line, single spaces, no parentheses, `=` spelled `is`."""
    flat = " ".join(condition.replace("(", " ").replace(")", " ").split())
    return flat.replace(" = ", " is ")


_LIST = re.compile(r'list\s+"(?P<name>[^"]+)"\s+active\s*\{(?P<body>[^{}]*)\}')


class UnknownShape(Exception):
    """A benchmark list whose condition no hand-written alternative implements."""


@attrs.frozen
class ListSpec:
    """One list: its name, the shape of its condition and the shape's constants."""

    name: str
    shape: str
    params: Mapping[str, Param]

    def text(self, key: str) -> str:
        return str(self.params[key])

    def number(self, key: str) -> int:
        value = self.params[key]
        assert isinstance(value, int), f"{self.name}: `{key}` is not a number"
        return value

    def words(self, key: str) -> tuple[str, ...]:
        value = self.params[key]
        assert isinstance(value, tuple), f"{self.name}: `{key}` is not a list"
        return value


def _param(key: str, raw: str) -> Param:
    if raw.isdigit():
        return int(raw)
    if key in ("countries", "interests", "statuses"):
        return tuple(item.strip().strip('"') for item in raw.split(","))
    return raw


def recognise(rules: str) -> tuple[ListSpec, ...]:
    """The lists of `rules`, each matched to exactly one shape."""
    specs = []
    for found in _LIST.finditer(rules):
        body = _normalised(found["body"])
        shapes = [name for name, regex in SHAPES.items() if regex.match(body)]
        if len(shapes) != 1:
            raise UnknownShape(f"list {found['name']!r}: no single shape for {body!r}")

        match = SHAPES[shapes[0]].match(body)
        assert match is not None
        params = {key: _param(key, raw) for key, raw in match.groupdict().items()}
        specs.append(ListSpec(found["name"], shapes[0], params))
    return tuple(specs)


@attrs.frozen
class Clock:
    """The run's "now" and the window bounds every alternative computes the same way."""

    now: dt.datetime = DEFAULT_AS_OF
    zone: str = ZONE

    @property
    def today(self) -> dt.date:
        return self.now.astimezone(zoneinfo.ZoneInfo(self.zone)).date()

    def since(self, days: int) -> dt.datetime:
        """Midnight `days` days before today, in the zone, as a UTC instant."""
        day = self.today - dt.timedelta(days=days)
        midnight = dt.datetime.combine(day, dt.time(), zoneinfo.ZoneInfo(self.zone))
        return midnight.astimezone(dt.UTC)

    def ahead(self, days: int) -> dt.date:
        return self.today + dt.timedelta(days=days)


@attrs.frozen
class Case:
    """A benchmark case: rules for seqdsl and the same lists for the alternatives.

    A runtime case is a full run (lists, workflows, sequences) that needs the
    runtime: `runs` are the as-ofs of its runs, relative to "now", in order. The
    earlier runs make the state (not timed); the last one is the run measured.
    """

    name: str
    title: str
    rules: str
    runs: tuple[dt.timedelta, ...] = ()

    @property
    def runtime(self) -> bool:
        return bool(self.runs)

    @property
    def lists(self) -> tuple[ListSpec, ...]:
        return () if self.runtime else recognise(self.rules)


_NOW, _HOUR, _DAY = dt.timedelta(0), dt.timedelta(hours=1), dt.timedelta(days=1)


def _one_list(name: str, condition: str) -> str:
    return f'list "{name}" active {{\n  {condition}\n}}\n'


CASES: tuple[Case, ...] = (
    Case(
        "property",
        "property rule",
        _one_list(
            "Property rule",
            "lifecyclestage >= marketingqualifiedlead and "
            'country is any of ["US", "CA"]',
        ),
    ),
    Case(
        "or-groups",
        "OR of groups",
        _one_list(
            "OR of groups",
            "(lifecyclestage is lead and hs_lead_status is NEW) or "
            "(lifecyclestage is marketingqualifiedlead and numberofemployees >= 200)",
        ),
    ),
    Case(
        "event-window",
        "event-window rule",
        _one_list(
            "Event window",
            'email is known and had page_view where url contains "/pricing" '
            "in last 30 days",
        ),
    ),
    Case("lists-50", "50 mixed lists", benchmark_rules(50)),
    Case(
        "daily-run",
        "daily run (workflows, sequences)",
        demo_rules(),
        runs=(-_DAY, _NOW),
    ),
    Case(
        "runtime-daily",
        "runtime: daily run (20 workflows, 10 sequences)",
        runtime_rules(workflows=20, sequences=10),
        runs=(-_DAY, _NOW),
    ),
    Case(
        "runtime-hourly",
        "runtime: hourly run (20 workflows, 10 sequences)",
        runtime_rules(workflows=20, sequences=10),
        runs=(-_DAY, _NOW, _HOUR),
    ),
)

CASE_NAMES = tuple(case.name for case in CASES)


def case_named(name: str) -> Case:
    return next(case for case in CASES if case.name == name)
