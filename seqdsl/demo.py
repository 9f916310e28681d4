"""Demo data: writes a seeded, realistic CRM workspace for tutorials and benchmarks.

`generate` fills a folder with data files (contacts, companies, deals,
associations, events, property history, manual list memberships), a
`seqdsl.toml` that names them, a `schema.seq` that declares exactly their
columns, and a small `rules.seq`. `benchmark_rules` returns many lists of mixed
shapes over the same schema.

All randomness comes from DuckDB's `hash()` of (seed, purpose, record, index),
so the output depends only on the spec and the DuckDB version, never on threads
or run order. The SQL below is fixed text; every value from the spec enters it
as a DuckDB variable.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import textwrap
import time
import zoneinfo
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Literal

import attrs
import duckdb
import holidays

__all__ = [
    "DEFAULT_AS_OF",
    "EVENTS",
    "FILES",
    "INTERESTS",
    "MARKER",
    "OBJECTS",
    "STAGES",
    "DemoError",
    "DemoSpec",
    "GenerateReport",
    "benchmark_rules",
    "demo_rules",
    "generate",
    "schema_text",
    "settings_text",
]

log = logging.getLogger("seqdsl.demo")

DEFAULT_AS_OF = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)

#: The file that marks a folder as a demo workspace, safe to regenerate.
MARKER = ".seqdsl-demo"


class DemoError(Exception):
    """A demo workspace cannot be written as asked; the message says why."""


def _check_spec(spec: DemoSpec) -> None:
    if spec.contacts < 1:
        raise DemoError(f"`contacts` must be at least 1, got {spec.contacts}")
    if min(spec.n_companies, spec.n_deals) < 0:
        raise DemoError("`companies` and `deals` must not be negative")
    if not 0 <= spec.events_per_contact <= 10_000:
        raise DemoError("`events_per_contact` must be between 0 and 10000")
    if not 0 <= spec.seed < 2**63:
        raise DemoError(f"`seed` must be in [0, 2**63), got {spec.seed}")
    if spec.as_of.utcoffset() is None:
        raise DemoError("`as_of` needs a time zone, e.g. 2026-12-01T12:00Z")
    if spec.format not in ("parquet", "csv"):
        raise DemoError(f"`format` must be parquet or csv, got {spec.format!r}")
    try:
        zoneinfo.ZoneInfo(spec.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise DemoError(f"unknown time zone `{spec.timezone}`") from None


@attrs.frozen
class DemoSpec:
    """How big the demo workspace is, its seed and its "now"."""

    contacts: int = 10_000
    companies: int | None = None
    deals: int | None = None
    events_per_contact: float = 10.0
    seed: int = 7
    as_of: dt.datetime = DEFAULT_AS_OF
    format: Literal["parquet", "csv"] = "parquet"
    timezone: str = "America/New_York"

    def __attrs_post_init__(self) -> None:
        _check_spec(self)

    @property
    def n_companies(self) -> int:
        return self.contacts // 10 if self.companies is None else self.companies

    @property
    def n_deals(self) -> int:
        return self.contacts // 5 if self.deals is None else self.deals


@attrs.frozen
class GenerateReport:
    """What `generate` wrote: rows per data file (relative path), seconds taken."""

    out_dir: Path
    rows: Mapping[str, int]
    seconds: float


# ---------------------------------------------------------------- vocabulary
#
# Choices are written as `value weight` pairs; `-` is an unknown value. SQL
# draws from a list that repeats each value by its weight.


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def _shares(text: str) -> dict[str | None, int]:
    shares: dict[str | None, int] = {}
    for item in text.split(","):
        value, weight = item.strip().rsplit(" ", 1)
        shares[None if value == "-" else value] = int(weight)
    return shares


_STAGE_SHARES = _shares(
    "subscriber 18, lead 33, marketingqualifiedlead 15, salesqualifiedlead 8, "
    "opportunity 6, customer 13, evangelist 2, other 5"
)
_STATUS_SHARES = _shares(
    "NEW 20, OPEN 14, IN_PROGRESS 14, UNQUALIFIED 10, ATTEMPTED_TO_CONTACT 15, "
    "CONNECTED 10, - 17"
)
_DEAL_STAGE_SHARES = _shares(
    "appointmentscheduled 14, qualifiedtobuy 14, presentationscheduled 11, "
    "decisionmakerboughtin 9, contractsent 8, closedwon 25, closedlost 19"
)
STAGES = tuple(str(stage) for stage in _STAGE_SHARES)
LEAD_STATUSES = tuple(status for status in _STATUS_SHARES if status is not None)
DEAL_STAGES = tuple(str(stage) for stage in _DEAL_STAGE_SHARES)
INTERESTS = ("crm", "cms", "ops", "sales", "service")
_CUSTOMER = STAGES.index("customer")

_FIRST_NAMES = _words("""
    Olivia Liam Emma Noah Ava Oliver Sophia Elijah Isabella James Mia William
    Amelia Benjamin Harper Lucas Evelyn Henry Abigail Theodore Emily Jack Ella
    Levi Sofia Alexander Jackson Avery Mateo Scarlett Daniel Grace Michael Chloe
    Mason Victoria Sebastian Riley Ethan Aria Logan Lily Owen Aurora Samuel Zoey
    Jacob Nora Asher Hannah Aiden Priya Arjun Ananya Rohan Lea Lukas Amélie Hugo
    Ingrid Mateus Camila Rafael Yuki Kenji Fatima Omar Aisha Chen Wei Sanjay
    Freya Finn Maja Jonas Zoë
""")
_LAST_NAMES = _words("""
    Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez
    Lopez Hernandez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin
    Lee Perez Thompson White Harris Sanchez Clark Ramirez Lewis Robinson Walker
    Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson
    Baker Hall Rivera Patel Campbell Mitchell Carter Roberts Sharma Gupta Müller
    Schmidt Schneider Fischer Weber Dubois Laurent Bernard Moreau Silva Santos
    Oliveira Costa Tanaka Sato Kim Park O'Brien Murphy Kelly Walsh Byrne Novak
    Larsen Berg
""")
_COMPANY_WORDS = _words("""
    Alder Amber Arbor Aspen Atlas Birch Bright Cedar Clear Cobalt Copper Crest
    Delta Ember Fern Flint Forge Glacier Harbor Indigo Iron Jade Kestrel Lark
    Maple Mesa Nova Oak Onyx Orbit Pine Prairie Quill Raven River Sage Silver
    Slate Sparrow Spruce Stone Summit Terra Thistle Vale Willow Zephyr
    Northfield Bluewater
""")
_COMPANY_KINDS = _words("""
    Labs Systems Analytics Software Solutions Group Partners Health Logistics
    Robotics Capital Media Networks Energy Foods Studios Consulting Security
    Cloud Dynamics Retail Bio Works Industries
""")
_TITLES = _shares(
    "Marketing Manager 12, Sales Representative 10, Account Executive 9, "
    "Software Engineer 8, Operations Manager 7, Director of Marketing 6, "
    "VP Sales 4, RevOps Manager 5, Customer Success Manager 6, CEO 3, CTO 2, "
    "Founder 3, Product Manager 6, Head of Growth 3, Analyst 6, - 10"
)
_INDUSTRIES = _shares(
    "Software 22, Financial Services 10, Healthcare 9, Retail 8, "
    "Manufacturing 8, Education 6, Marketing and Advertising 8, Real Estate 5, "
    "Logistics 5, Media 4, Nonprofit 3, Consulting 7, Telecommunications 5"
)
_FREE_MAIL = _shares(
    "gmail.com 50, yahoo.com 12, outlook.com 15, hotmail.com 8, icloud.com 8, "
    "proton.me 4, aol.com 3"
)
_COMPANY_STAGES = _shares("lead 45, subscriber 20, marketingqualifiedlead 20, other 15")
_EMAIL_KINDS = _shares("plain 80, mixed 13, unknown 5, invalid 2")
_PRIOR_WEIGHTS = (11, 6, 3)  # of holding 0, 1 or 2 earlier stages
_EVENT_SHARES = _shares(
    "page_view 40, email_open 34, email_click 12, form_submission 7, "
    "email_reply 5, meeting_booked 2"
)
_PAGES = _shares(
    "/ 14, /pricing 11, /pricing/enterprise 3, /demo 5, /features/workflows 4, "
    "/features/sequences 4, /features/lists 3, /features/reporting 3, "
    "/blog/lead-scoring-basics 5, /blog/revops-metrics-that-matter 4, "
    "/blog/crm-data-hygiene 4, /blog/sales-handoff-playbook 3, "
    "/blog/webinar-recap 3, /customers 4, /integrations/hubspot 3, "
    "/docs/getting-started 5, /careers 3, /contact 3, /about 2"
)
#: form: (weight, page it is on); {quarter} becomes e.g. 2026-q4 from the event time
_FORMS: dict[str, tuple[int, str]] = {
    "webinar-{quarter}": (30, "/webinars/{quarter}"),
    "contact-us": (15, "/contact"),
    "demo-request": (15, "/demo"),
    "ebook-revops-playbook": (12, "/resources/ebook-revops-playbook"),
    "ebook-lead-scoring": (8, "/resources/ebook-lead-scoring"),
    "newsletter-signup": (12, "/blog"),
    "trial-signup": (8, "/pricing"),
}
#: country: (weight, own top-level domain, time zones, cities)
_COUNTRIES: dict[str, tuple[int, str, str, str]] = {
    "US": (
        44,
        ".us",
        "America/New_York America/Chicago America/Denver America/Los_Angeles",
        "New York|Boston|Chicago|Austin|Denver|Seattle|San Francisco|Atlanta|Miami",
    ),
    "CA": (8, ".ca", "America/Toronto America/Vancouver", "Toronto|Vancouver|Montreal"),
    "GB": (12, ".co.uk", "Europe/London", "London|Manchester|Edinburgh|Bristol"),
    "DE": (8, ".de", "Europe/Berlin", "Berlin|Munich|Hamburg|Cologne"),
    "FR": (6, ".fr", "Europe/Paris", "Paris|Lyon|Toulouse|Nantes"),
    "AU": (5, ".com.au", "Australia/Sydney Australia/Melbourne", "Sydney|Melbourne"),
    "IN": (6, ".in", "Asia/Kolkata", "Bengaluru|Mumbai|Pune|Hyderabad|Delhi"),
    "BR": (4, ".com.br", "America/Sao_Paulo", "São Paulo|Rio de Janeiro|Curitiba"),
    "NL": (3, ".nl", "Europe/Amsterdam", "Amsterdam|Rotterdam|Utrecht"),
    "ES": (2, ".es", "Europe/Madrid", "Madrid|Barcelona|Valencia"),
    "SG": (2, ".sg", "Asia/Singapore", "Singapore"),
}
_BOUNCE_REASONS = (
    "Mailbox does not exist",
    "Domain not found",
    "Rejected as spam",
    "Mailbox full",
)
_DEAL_KINDS = ("New business", "Expansion", "Add-on seats", "Pilot", "Upgrade")
_CAMPAIGNS = _words("""
    product-update webinar-invite case-study-digest renewal-reminder
    onboarding-1 onboarding-2 pricing-change event-followup
""")
_SITE = "https://www.example.com"


def _weighted(shares: Mapping[str | None, int]) -> list[str | None]:
    return [value for value, weight in shares.items() for _ in range(weight)]


def _positions(weights: Sequence[int]) -> list[int]:
    """1-based positions, each repeated by its weight."""
    return [i + 1 for i, weight in enumerate(weights) for _ in range(weight)]


def _variables(spec: DemoSpec) -> dict[str, object]:
    """Every value the SQL reads, by DuckDB variable name."""
    countries = list(_COUNTRIES.values())
    return {
        "seed": spec.seed,
        "as_of": spec.as_of.astimezone(dt.UTC),
        "as_of_s": math.floor(spec.as_of.timestamp()),
        "n_contacts": spec.contacts,
        "n_companies": spec.n_companies,
        "n_deals": spec.n_deals,
        "mean_events": float(spec.events_per_contact),
        "stages": STAGES,
        "customer": _CUSTOMER,
        "stage_pick": [i - 1 for i in _positions(list(_STAGE_SHARES.values()))],
        "prior_pick": [n - 1 for n in _positions(_PRIOR_WEIGHTS)],
        "status_pick": _weighted(_STATUS_SHARES),
        "deal_stage_pick": _weighted(_DEAL_STAGE_SHARES),
        "company_stage_pick": _weighted(_COMPANY_STAGES),
        "email_kind_pick": _weighted(_EMAIL_KINDS),
        "first_names": _FIRST_NAMES,
        "last_names": _LAST_NAMES,
        "company_words": _COMPANY_WORDS,
        "company_kinds": _COMPANY_KINDS,
        "name_space": len(_COMPANY_WORDS) * len(_COMPANY_KINDS),
        "titles": _weighted(_TITLES),
        "industries": _weighted(_INDUSTRIES),
        "country_pick": _positions([country[0] for country in countries]),
        "country_codes": list(_COUNTRIES),
        "country_tlds": [country[1] for country in countries],
        "country_zones": [country[2].split() for country in countries],
        "country_cities": [country[3].split("|") for country in countries],
        "free_mail": list(_FREE_MAIL),
        "free_mail_pick": _positions(list(_FREE_MAIL.values())),
        "bounce_reasons": _BOUNCE_REASONS,
        "deal_kinds": _DEAL_KINDS,
        "event_types": [*_EVENT_SHARES, "email_bounce", "unsubscribe"],
        "event_pick": _positions(list(_EVENT_SHARES.values())),
        "bounce": len(_EVENT_SHARES) + 1,
        "unsubscribe": len(_EVENT_SHARES) + 2,
        "campaigns": _CAMPAIGNS,
        "pages": list(_PAGES),
        "page_pick": _positions(list(_PAGES.values())),
        "form_pick": _positions([form[0] for form in _FORMS.values()]),
        "form_names": list(_FORMS),
        "form_pages": [page for _, page in _FORMS.values()],
        "site": _SITE,
    }


# ---------------------------------------------------------------- schema


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
_WIDTH = 88


def _declare(name: str, kind: str) -> str:
    """A property line; a long option list continues under its first option."""
    head = f"  {name}: "
    if "[" not in kind:
        return f"{head}{kind}\n"
    indent = " " * (len(head) + kind.index("[") + 1)
    return textwrap.fill(head + kind, _WIDTH, subsequent_indent=indent) + "\n"


def schema_text() -> str:
    """The `schema.seq` of a demo workspace: a declaration per object and event."""
    blocks = ["# Schema of the generated demo data, matching its columns."]
    for name, properties in OBJECTS.items():
        body = "".join(_declare(key, kind) for key, kind in properties.items())
        blocks.append(f"object {name} {{\n{body}}}")
    for name, fields in EVENTS.items():
        blocks.append(f"event {name} {{ {'  '.join(f'{f}: string' for f in fields)} }}")
    return "\n\n".join(blocks) + "\n"


# ---------------------------------------------------------------- SQL
#
# u(purpose, a, b) is a uniform draw in [0, 1) keyed by the seed; purposes are
# distinct strings so that no two draws are correlated.

_MACROS = """
CREATE MACRO var(name) AS getvariable(name);
CREATE MACRO u(purpose, a, b := 0) AS
    (hash(var('seed'), purpose, a, b) >> 11)::DOUBLE / 9007199254740992.0;
CREATE MACRO gauss(purpose, a, b := 0) AS
    sqrt(-2 * ln(1 - u(purpose, a, b))) * cos(2 * pi() * u(purpose || '~', a, b));
CREATE MACRO pick(vals, x) AS vals[1 + floor(x * len(vals))::BIGINT];
CREATE MACRO ago(days) AS to_timestamp(var('as_of_s') - floor(days * 86400));
CREATE MACRO today() AS var('as_of')::DATE;
CREATE MACRO later(t, seconds) AS to_timestamp(epoch(t) + floor(seconds));
-- an exponential age with mean `tau` days, truncated to at most `cap` days
CREATE MACRO recent(x, tau, cap) AS -tau * ln(1 - x * (1 - exp(-cap / tau)));
CREATE MACRO quarterly(text, t) AS
    replace(text, '{quarter}', year(t) || '-q' || quarter(t));
"""

_COMPANIES = """
CREATE TABLE w_companies AS
WITH drawn AS (
    SELECT range + 1 AS id,
        -- a prime stride visits every word pair before any repeats
        (range * 7919) % var('name_space') AS slot,
        range // var('name_space') AS lap,
        pick(var('country_pick'), u('co.country', id)) AS country_idx,
        greatest(1, round(exp(ln(40) + 1.6 * gauss('co.size', id))))::BIGINT
            AS size
    FROM range(var('n_companies'))
), named AS (
    SELECT *,
        var('company_words')[1 + slot % len(var('company_words'))] AS word,
        var('company_kinds')[1 + slot // len(var('company_words'))] AS kind
    FROM drawn
)
SELECT id, country_idx,
    word || ' ' || kind AS name,
    lower(word || kind) || CASE WHEN lap > 0 THEN lap::VARCHAR ELSE '' END
        || CASE WHEN u('co.tld', id) < 0.6 THEN '.com'
           ELSE var('country_tlds')[country_idx] END AS domain,
    CASE WHEN u('co.size_known', id) < 0.95 THEN size END AS numberofemployees,
    pick(var('industries'), u('co.industry', id)) AS industry,
    CASE WHEN u('co.revenue_known', id) < 0.85 THEN
        (round(size * exp(ln(150000) + 0.5 * gauss('co.revenue', id)), -3))::BIGINT
    END AS annualrevenue
FROM named ORDER BY id
"""

_CONTACTS_DRAWN = """
CREATE TABLE w_contacts AS
WITH drawn AS (
    SELECT range + 1 AS id,
        CASE WHEN var('n_companies') > 0 AND u('ct.has_company', id) < 0.78
        THEN 1 + floor(var('n_companies') * pow(u('ct.company', id), 1.6))
        END::BIGINT AS company_id,
        floor(u('ct.second_company', id) * (var('n_companies') - 1))::BIGINT
            AS second_offset,
        1095 * pow(u('ct.created', id), 1.3) AS age_days,
        pick(var('stage_pick'), u('ct.stage', id)) AS stage_idx,
        pick(var('email_kind_pick'), u('ct.email_kind', id)) AS email_kind,
        floor(len(var('first_names')) * u('ct.first', id))::INT AS first_idx,
        floor(len(var('last_names')) * u('ct.last', id))::INT AS last_idx,
        pick(var('free_mail_pick'), u('ct.mail', id)) AS mail_idx,
        u('ct.optout', id) < 0.04 AS optout,
        u('ct.bad', id) AS bad_draw,
        -- log-normal activity with the asked mean: median about a third of it
        CASE WHEN var('mean_events') > 0 THEN floor(
            exp(ln(var('mean_events')) - 1.125 + 1.5 * gauss('ct.activity', id))
            + u('ct.activity_round', id))
        ELSE 0 END::BIGINT AS n_events
    FROM range(var('n_contacts'))
)
SELECT * EXCLUDE (second_offset, bad_draw),
    var('first_names')[first_idx + 1] AS firstname,
    var('last_names')[last_idx + 1] AS lastname,
    CASE WHEN company_id IS NOT NULL AND var('n_companies') > 1
        AND u('ct.has_second', id) < 0.03
    THEN (company_id + second_offset) % var('n_companies') + 1
    END AS second_company_id,
    CASE email_kind WHEN 'unknown' THEN false WHEN 'invalid' THEN bad_draw < 0.6
        ELSE bad_draw < 0.015 END AS bad_address
FROM drawn ORDER BY id
"""

_DEALS = """
CREATE TABLE w_deals AS
WITH drawn AS (
    SELECT range + 1 AS id,
        CASE WHEN var('n_companies') > 0
        THEN 1 + floor(var('n_companies') * pow(u('dl.company', id), 1.3))
        END::BIGINT AS company_id,
        pick(var('deal_stage_pick'), u('dl.stage', id)) AS dealstage,
        730 * pow(u('dl.created', id), 1.4) AS age_days,
        u('dl.pipeline', id) < 0.15 AS renewal
    FROM range(var('n_deals'))
), dated AS (
    SELECT *, ago(age_days) AS createdate,
        CASE WHEN dealstage IN ('closedwon', 'closedlost')
        THEN least(ago(age_days)::DATE + (7 + floor(120 * u('dl.close', id)))::INT,
                   today())
        ELSE today() + (floor(130 * u('dl.close', id)) - 10)::INT END AS closedate
    FROM drawn
)
SELECT d.id, d.company_id, d.dealstage, d.createdate, d.closedate,
    coalesce(c.name, 'Direct') || ' - ' || CASE WHEN renewal
        THEN 'Renewal ' || year(d.closedate)
        ELSE pick(var('deal_kinds'), u('dl.kind', d.id)) END AS dealname,
    CASE WHEN u('dl.amount_known', d.id) < 0.97 THEN greatest(100,
        round(exp(ln(9000) + 1.1 * gauss('dl.amount', d.id)), -2))::BIGINT
    END AS amount,
    CASE WHEN renewal THEN 'renewals' ELSE 'default' END AS pipeline
FROM dated d LEFT JOIN w_companies c ON c.id = d.company_id
ORDER BY d.id
"""

# a deal's contacts are consecutive members of its company, else any contacts
_DEAL_CONTACTS = """
CREATE TABLE w_deal_contacts AS
WITH members AS (
    SELECT company_id, list(id ORDER BY id) AS ids
    FROM w_contacts WHERE company_id IS NOT NULL GROUP BY company_id
), pool AS (
    SELECT d.id AS deal_id, m.ids,
        coalesce(len(m.ids), var('n_contacts')) AS size,
        least(1 + floor(3 * pow(u('dl.contacts', d.id), 2)), size)::BIGINT
            AS wanted,
        floor(size * u('dl.first_contact', d.id))::BIGINT AS start
    FROM w_deals d LEFT JOIN members m USING (company_id)
), slots AS (
    SELECT deal_id, ids, size, start, unnest(range(wanted)) AS j FROM pool
)
SELECT deal_id,
    CASE WHEN ids IS NULL THEN (start + j) % size + 1
    ELSE ids[1 + (start + j) % size] END AS contact_id,
    j = 0 AS is_primary
FROM slots ORDER BY deal_id, j
"""

# regular events, a bounce per bad address, an unsubscribe per opt-out, orphans;
# sorted while the rows are narrow numbers, given their text only when written
_EVENTS_DRAWN = """
CREATE TABLE w_drawn_events AS
WITH skeleton AS (
    SELECT id AS record_id, unnest(range(n_events)) AS k, NULL::BIGINT AS fixed,
        age_days, email_kind <> 'unknown' AS reachable
    FROM w_contacts
    UNION ALL
    SELECT id, -1, var('bounce'), age_days, true FROM w_contacts WHERE bad_address
    UNION ALL
    SELECT id, -2, var('unsubscribe'), age_days, true FROM w_contacts WHERE optout
    UNION ALL
    SELECT var('n_contacts') + 1 + range, 0, NULL, 1095, true
    FROM range(var('n_orphans'))
)
SELECT record_id, k,
    coalesce(fixed, CASE WHEN reachable
        THEN pick(var('event_pick'), u('ev.type', record_id, k))
        ELSE list_position(var('event_types'), 'page_view') END) AS type_idx,
    var('as_of_s') - floor(86400 * recent(u('ev.age', record_id, k), 35, age_days))
        AS at_s,
    pick(var('page_pick'), u('ev.page', record_id, k)) AS page_idx,
    pick(var('form_pick'), u('ev.form', record_id, k)) AS form_idx,
    u('ev.campaign', record_id, k) AS c
FROM skeleton;
CREATE TABLE w_events AS
SELECT * FROM w_drawn_events ORDER BY at_s, record_id, k;
DROP TABLE w_drawn_events;
"""

_EVENTS = """
CREATE VIEW out_events AS
WITH named AS (
    SELECT *, var('event_types')[type_idx] AS type,
        make_timestamp((at_s * 1000000)::BIGINT) AS utc
    FROM w_events
)
SELECT record_id, type, to_timestamp(at_s) AS occurred_at,
    CASE WHEN type IN ('email_open', 'email_click') THEN
        CASE WHEN c < 0.45
        THEN 'newsletter-' || year(utc) || '-' || lpad(month(utc)::VARCHAR, 2, '0')
        ELSE pick(var('campaigns'), (c - 0.45) / 0.55) END
    END AS campaign,
    CASE WHEN type IN ('page_view', 'email_click')
        THEN var('site') || var('pages')[page_idx] END AS url,
    CASE WHEN type = 'form_submission'
        THEN quarterly(var('form_names')[form_idx], utc) END AS form,
    CASE WHEN type = 'form_submission'
        THEN var('site') || quarterly(var('form_pages')[form_idx], utc)
    END AS page_url
FROM named
"""

# what a contact row needs from other tables, in id order; email addresses that
# would repeat get a number
_PEOPLE = """
CREATE TABLE w_people AS
WITH activity AS (
    SELECT record_id AS id, to_timestamp(max(at_s)) AS last_activity
    FROM w_events GROUP BY record_id
), won AS (
    SELECT DISTINCT dc.contact_id AS id
    FROM w_deal_contacts dc JOIN w_deals d ON d.id = dc.deal_id
    WHERE d.dealstage = 'closedwon'
), joined AS (
    SELECT c.*, a.last_activity, co.numberofemployees AS company_size,
        co.annualrevenue AS company_revenue, co.industry AS company_industry,
        coalesce(CASE WHEN u('ct.same_country', c.id) < 0.85 THEN co.country_idx END,
            pick(var('country_pick'), u('ct.country', c.id))) AS country_idx,
        -- buyers on a won deal are customers at least
        CASE WHEN won.id IS NOT NULL AND c.stage_idx < var('customer')
        THEN var('customer') ELSE c.stage_idx END AS stage,
        strip_accents(lower(c.firstname || '.' || c.lastname)) AS local,
        coalesce(co.domain, var('free_mail')[mail_idx]) AS domain
    FROM w_contacts c
    LEFT JOIN w_companies co ON co.id = c.company_id
    LEFT JOIN activity a ON a.id = c.id
    LEFT JOIN won ON won.id = c.id
), ranked AS (
    -- the same name at the same domain (company or free mail) is one address
    SELECT id, row_number() OVER (PARTITION BY first_idx, last_idx,
        coalesce(company_id, -mail_idx) ORDER BY id) AS rank
    FROM w_contacts
)
SELECT joined.*, CASE WHEN rank > 1 THEN rank::VARCHAR ELSE '' END AS suffix
FROM joined JOIN ranked USING (id) ORDER BY id
"""

_CONTACTS = """
CREATE TABLE out_contacts AS
WITH mailed AS (
    SELECT *, CASE email_kind
        WHEN 'unknown' THEN NULL
        WHEN 'mixed' THEN strip_accents(firstname || '.' || lastname) || suffix || '@'
            || upper(domain[1]) || domain[2:]
        WHEN 'invalid' THEN [
            local || suffix || '@' || split_part(domain, '.', 1),
            local || suffix || '.' || domain,
            local || suffix || '@@' || domain,
            'n/a',
            firstname || ' ' || lastname || ' @' || domain
        ][1 + floor(5 * u('ct.invalid', id))::BIGINT]
        ELSE local || suffix || '@' || domain END AS email
    FROM w_people
)
SELECT id, email, firstname, lastname,
    var('stages')[stage + 1] AS lifecyclestage,
    pick(var('status_pick'), u('ct.status', id)) AS hs_lead_status,
    CASE WHEN u('ct.owned', id) < 0.96 THEN 'owner-' || lpad(
        (1 + floor(20 * pow(u('ct.owner', id), 1.5)))::BIGINT::VARCHAR, 2, '0')
    END AS hubspot_owner_id,
    CASE WHEN u('ct.zone_known', id) < 0.8
        THEN pick(var('country_zones')[country_idx], u('ct.zone', id)) END
        AS hs_timezone,
    CASE WHEN company_id IS NOT NULL THEN company_size
        WHEN u('ct.size_known', id) < 0.5 THEN greatest(1,
            round(exp(ln(8) + 1.4 * gauss('ct.size', id))))::BIGINT
    END AS numberofemployees,
    company_revenue AS annualrevenue,
    var('country_codes')[country_idx] AS country,
    coalesce(company_industry, CASE WHEN u('ct.industry_known', id) < 0.6
        THEN pick(var('industries'), u('ct.industry', id)) END) AS industry,
    ago(age_days) AS createdate,
    last_activity AS last_activity_date,
    CASE WHEN stage IN (var('customer'), var('customer') + 1)
        OR u('ct.renews', id) < 0.03
        THEN today() + (floor(395 * u('ct.renewal', id)) - 30)::INT
    END AS renewal_date,
    bad_address AS hs_email_bad_address,
    CASE WHEN bad_address THEN pick(var('bounce_reasons'), u('ct.bounce', id)) END
        AS hs_email_hard_bounce_reason,
    optout AS hs_email_optout,
    nullif(list_filter([
        CASE WHEN u('ct.crm', id) < 0.40 THEN 'crm' END,
        CASE WHEN u('ct.cms', id) < 0.25 THEN 'cms' END,
        CASE WHEN u('ct.ops', id) < 0.20 THEN 'ops' END,
        CASE WHEN u('ct.sales', id) < 0.30 THEN 'sales' END,
        CASE WHEN u('ct.service', id) < 0.15 THEN 'service' END
    ], lambda x: x IS NOT NULL), []) AS interests,
    pick(var('titles'), u('ct.title', id)) AS jobtitle,
    CASE WHEN u('ct.city_known', id) < 0.88
        THEN pick(var('country_cities')[country_idx], u('ct.city', id)) END AS city
FROM mailed
"""

_COMPANIES_OUT = """
CREATE TABLE out_companies AS
WITH pipeline AS (
    SELECT company_id, bool_or(dealstage = 'closedwon') AS won,
        bool_or(dealstage NOT IN ('closedwon', 'closedlost')) AS open
    FROM w_deals WHERE company_id IS NOT NULL GROUP BY company_id
)
SELECT c.id, c.name, c.domain, c.numberofemployees, c.industry,
    var('country_codes')[c.country_idx] AS country, c.annualrevenue,
    CASE WHEN p.won THEN 'customer' WHEN p.open THEN 'opportunity'
    ELSE pick(var('company_stage_pick'), u('co.stage', c.id)) END AS lifecyclestage
FROM w_companies c LEFT JOIN pipeline p ON p.company_id = c.id
ORDER BY c.id
"""

_DEALS_OUT = """
CREATE TABLE out_deals AS
SELECT id, dealname, amount, dealstage, pipeline, closedate, createdate
FROM w_deals ORDER BY id
"""

_ASSOCIATIONS = """
CREATE TABLE out_associations AS
SELECT * FROM (
    SELECT 'contact' AS from_type, id AS from_id, 'company' AS to_type,
        company_id AS to_id, true AS "primary"
    FROM w_contacts WHERE company_id IS NOT NULL
    UNION ALL
    SELECT 'contact', id, 'company', second_company_id, false
    FROM w_contacts WHERE second_company_id IS NOT NULL
    UNION ALL
    SELECT 'deal', id, 'company', company_id, true
    FROM w_deals WHERE company_id IS NOT NULL
    UNION ALL
    SELECT 'deal', deal_id, 'contact', contact_id, is_primary
    FROM w_deal_contacts
) ORDER BY from_type, from_id, to_type, to_id
"""

# earlier lifecycle stages come first, the current one last; steps split the
# contact's lifetime into equal slices, one change at a random point in each
_HISTORY = """
CREATE TABLE out_history AS
WITH staged AS (
    SELECT id, createdate, hs_lead_status,
        var('as_of_s') - epoch(createdate) AS span,
        list_position(var('stages'), lifecyclestage) - 1 AS stage
    FROM out_contacts
), steps AS (
    SELECT *, unnest(range(prior + 1)) AS j FROM (
        SELECT *, least(stage, pick(var('prior_pick'), u('hi.prior', id))) AS prior
        FROM staged
    )
), rows AS (
    SELECT id, 'lifecyclestage' AS property, var('stages')[stage - prior + j + 1]
        AS value,
        later(createdate, CASE WHEN j = 0 THEN 0
            ELSE span * (j + u('hi.when', id, j)) / (prior + 1) END) AS changed_at
    FROM steps
    UNION ALL
    SELECT id, 'hs_lead_status', 'NEW',
        later(createdate, 0.1 * span * u('hi.new', id))
    FROM staged
    WHERE u('hi.status', id) < 0.25 AND hs_lead_status <> 'NEW'
    UNION ALL
    SELECT id, 'hs_lead_status', hs_lead_status,
        later(createdate, span * (0.5 + 0.5 * u('hi.set', id)))
    FROM staged
    WHERE u('hi.status', id) < 0.25 AND hs_lead_status IS NOT NULL
)
SELECT 'contact' AS object_type, id AS record_id, property, value, changed_at
FROM rows ORDER BY record_id, property, changed_at, value
"""

_MEMBERSHIPS = """
CREATE TABLE out_memberships AS
SELECT 'Do not contact' AS "list", id AS record_id
FROM w_contacts WHERE u('dnc', id) < 0.01 ORDER BY id
"""


#: Each step reads only tables made by the steps before it. Working tables are
#: `w_<name>`; the files are written from `out_<table>`.
_BEFORE_EVENTS = (_COMPANIES, _CONTACTS_DRAWN, _DEALS, _DEAL_CONTACTS)
_FROM_EVENTS = (_EVENTS_DRAWN, _EVENTS, _PEOPLE, _CONTACTS, _COMPANIES_OUT)
_LAST = (_DEALS_OUT, _ASSOCIATIONS, _HISTORY, _MEMBERSHIPS)


def _build(con: duckdb.DuckDBPyConnection, spec: DemoSpec) -> None:
    """Create the output tables `out_<table>` in an empty connection."""
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    for name, value in _variables(spec).items():
        con.execute(f"SET VARIABLE {name} = ?", [value])
    con.execute(_MACROS)
    for step in _BEFORE_EVENTS:
        con.execute(step)

    # about 0.1% of the events belong to no contact
    (regular,) = _one(con, "SELECT coalesce(sum(n_events), 0) FROM w_contacts")
    con.execute("SET VARIABLE n_orphans = ?", [round(regular / 1000)])
    for step in (*_FROM_EVENTS, *_LAST):
        con.execute(step)


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[int, ...]:
    """The single row of an aggregate query."""
    return tuple(con.execute(sql).fetchall()[0])


def _export(
    con: duckdb.DuckDBPyConnection, table: str, columns: Sequence[str], path: Path
) -> int:
    """Write a table's declared columns; CSV gets ISO instants and `;` sets."""
    if path.suffix == ".parquet":
        projection = ", ".join(_quote(c) for c in columns)
        con.sql(f"SELECT {projection} FROM out_{table}").write_parquet(str(path))
    else:
        stored = con.table(f"out_{table}")
        types = dict(zip(stored.columns, stored.types, strict=True))
        projection = ", ".join(_csv_column(c, str(types[c])) for c in columns)
        relation = con.sql(f"SELECT {projection} FROM out_{table}")
        relation.write_csv(str(path), header=True, timestamp_format=_ISO_UTC)
    (count,) = _one(con, f"SELECT count(*) FROM out_{table}")
    return count


_ISO_UTC = "%Y-%m-%dT%H:%M:%SZ"


def _quote(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def _csv_column(column: str, kind: str) -> str:
    name = _quote(column)
    if kind == "TIMESTAMP WITH TIME ZONE":
        # as a plain UTC timestamp the CSV writer formats it without zone work
        return f"make_timestamp(epoch_us({name})) AS {name}"
    if kind.endswith("[]"):
        return f"array_to_string({name}, ';') AS {name}"
    return name


# ---------------------------------------------------------------- workspace


def generate(out_dir: Path, spec: DemoSpec) -> GenerateReport:
    """Write a complete demo workspace into `out_dir` (new, empty or a demo)."""
    started = time.perf_counter()
    try:
        rows = _write(out_dir, spec)
    except (OSError, duckdb.IOException) as error:
        reason = getattr(error, "strerror", None) or error
        raise DemoError(
            f"cannot write the demo workspace `{out_dir}`: {reason}"
        ) from None
    seconds = time.perf_counter() - started
    log.info("demo workspace %s written in %.1f s", out_dir, seconds)
    return GenerateReport(out_dir, rows, seconds)


def _write(out_dir: Path, spec: DemoSpec) -> dict[str, int]:
    _claim(out_dir)
    (out_dir / "data").mkdir(exist_ok=True)

    rows: dict[str, int] = {}
    with duckdb.connect() as con:
        _build(con, spec)
        for table, columns in FILES.values():
            relative = f"data/{table}.{spec.format}"
            rows[relative] = _export(con, table, columns, out_dir / relative)
            log.debug("wrote %s rows to %s", rows[relative], relative)

    (out_dir / "seqdsl.toml").write_text(settings_text(spec), encoding="utf-8")
    (out_dir / "schema.seq").write_text(schema_text(), encoding="utf-8")
    (out_dir / "rules.seq").write_text(demo_rules(spec.as_of), encoding="utf-8")
    return rows


def _claim(out_dir: Path) -> None:
    """Make `out_dir` a demo workspace; refuse folders holding anything else."""
    if out_dir.exists() and not out_dir.is_dir():
        raise DemoError(f"`{out_dir}` exists and is not a folder")
    marker = out_dir / MARKER
    if out_dir.exists() and any(out_dir.iterdir()) and not marker.exists():
        raise DemoError(
            f"`{out_dir}` is not empty and is not a demo workspace (no `{MARKER}` "
            "file); choose a new or empty folder"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    marker.write_text("A seqdsl demo workspace; `seqdsl demo-data` rewrites it.\n")

    # files of an earlier run in the other format would be stale
    for table, _ in FILES.values():
        for old in (out_dir / "data").glob(f"{table}.*"):
            if old.suffix in (".csv", ".parquet"):
                old.unlink()


def _holidays(spec: DemoSpec) -> list[dt.date]:
    """Public holidays in the 120 days after `as_of`, of the workspace zone's country
    (US when the zone is not one of the demo countries)."""
    zones = {zone: code for code, c in _COUNTRIES.items() for zone in c[2].split()}
    country = zones.get(spec.timezone, "US")
    start = spec.as_of.date()
    calendar = holidays.country_holidays(country, years=[start.year, start.year + 1])
    end = start + dt.timedelta(days=120)
    return sorted(day for day in calendar if start <= day <= end)


def settings_text(spec: DemoSpec) -> str:
    """The `seqdsl.toml` of a demo workspace."""
    dates = ", ".join(f'"{day.isoformat()}"' for day in _holidays(spec))
    lines = [
        f"# Demo workspace: seed {spec.seed}, data as of {_instant(spec.as_of)}.",
        "",
        "[workspace]",
        f'timezone = "{spec.timezone}"',
        'business_days = ["mon", "tue", "wed", "thu", "fri"]',
        f"holidays = [{dates}]",
        "",
        "[data]",
    ]
    for key, (table, _) in FILES.items():
        lines.append(f'{key} = "data/{table}.{spec.format}"')
    lines += ["", "[state]", 'path = ".seqdsl/state.duckdb"']
    return "\n".join(lines) + "\n"


def _instant(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime(_ISO_UTC)


# ---------------------------------------------------------------- rules


def _quarter(moment: dt.datetime) -> str:
    return f"{moment.year}-q{(moment.month - 1) // 3 + 1}"


def demo_rules(as_of: dt.datetime = DEFAULT_AS_OF) -> str:
    """A small realistic rule set for the demo workspace: 5 lists, 2 workflows, 2
    sequences. The webinar form is the one of `as_of`'s quarter."""
    webinar = f"webinar-{_quarter(as_of)}"
    since = (as_of - dt.timedelta(days=60)).date().isoformat()
    return f"""\
# Rules for the generated demo workspace.

list "Do not contact" manual

list "Webinar registrants" active {{
  had form_submission where form is "{webinar}" in last 30 days
  and email is known
  and lifecyclestage < customer
}}

list "Pricing page visitors" active {{
  had page_view at least 2 times where url contains "/pricing" in last 14 days
  and lifecyclestage is any of [lead, marketingqualifiedlead]
}}

list "Renewals due" active {{
  lifecyclestage is any of [customer, evangelist] and renewal_date in next 90 days
}}

list "Nurture pool" static {{
  lifecyclestage is any of [subscriber, lead] and createdate is after {since}
}}

workflow "Route pricing page visitors" on contact {{
  enroll when in list "Pricing page visitors" and email is known
  goal lifecyclestage >= salesqualifiedlead
  suppress when in list "Do not contact"
  unenroll when hs_lead_status is UNQUALIFIED
  run on weekdays 08:00 to 18:00

  if company.numberofemployees >= 1000 {{
    create task "Call the pricing visitor" for owner due in 4 hours
  }} else if country is any of ["US", "CA", "GB"] {{
    enroll in sequence "Product follow-up" sender owner
  }} else {{
    add to list "Nurture pool"
  }}
  wait 2 business days
  set hs_lead_status = IN_PROGRESS
}}

workflow "Renewal outreach" on contact {{
  enroll when in list "Renewals due" and email is known
  suppress when in list "Do not contact"
  unenroll when lifecyclestage is other

  split 50% {{
    enroll in sequence "Renewal check-in" sender owner
  }} 50% {{
    create task "Renewal call" for owner due in 2 business days
  }}
  wait until renewal_date minus 14 days at 09:00
  create task "Confirm the renewal" for owner due in 1 business day
}}

enroll list "Webinar registrants" in sequence "Product follow-up" sender owner

sequence "Product follow-up" {{
  sender owner
  send window 09:00 to 17:00 in contact time zone
  follow up on business days
  limit 100 enrollments per day per sender
  limit 300 emails per day per sender
  unenroll when replied or booked meeting or bounced or unsubscribed

  step "intro"                              email "pricing-intro"
  step "case study"  after 3 days           email "pricing-case-study" in thread
  step "call"        after 2 business days  call "Walk through the plans"
}}

sequence "Renewal check-in" {{
  sender owner
  send window 08:30 to 17:30 in contact time zone
  follow up on weekdays
  limit 200 emails per day per sender
  unenroll when replied or booked meeting or unsubscribed
  unenroll when company replied

  step "check in"                         email "renewal-check-in"
  step "reminder"  after 5 days           email "renewal-reminder" in thread
  step "call"      after 3 business days  task "Call before the renewal date"
}}
"""


#: Condition shapes for benchmark lists, by a short label for the list name. The
#: constants vary with each use of a shape; `earlier` names an earlier list.
#: A newline marks where a condition too long for one line is broken.
_SHAPES: Mapping[str, str] = {
    "stage and country": "lifecyclestage >= {stage}\n"
    "and country is any of [{countries}]",
    "lead groups": "lifecyclestage is lead and hs_lead_status is {status}\n"
    "or lifecyclestage is marketingqualifiedlead and numberofemployees >= {size}",
    "page visitors": 'email is known\nand had page_view where url contains "{page}"'
    " in last {days} days",
    "email openers": "had email_open at least {times} times in last {days2} days",
    "won deal buyers": "lifecyclestage is not other\n"
    "and any deal where amount > {amount} and dealstage is closedwon",
    "big companies": "company.numberofemployees >= {size}\n"
    "and lifecyclestage is any of [salesqualifiedlead, opportunity]",
    "owner slice": 'in list "{earlier}"\nand hubspot_owner_id is "{owner}"',
    "new contacts": "createdate in last {days} days\nand email is known",
    "renewals": "renewal_date in next {days2} days\nand lifecyclestage is customer",
    "interests": "interests contains any of [{interests}]\n"
    "and hs_email_optout is false",
    "recycled": "lifecyclestage has ever been {stage}\n"
    "and hs_lead_status is UNQUALIFIED",
    "form fillers": 'had form_submission where form starts with "{form}"'
    " in last {days2} days",
    "open pipeline": 'not in list "{earlier}"\nand at least 2 deals where'
    " dealstage is none of [closedwon, closedlost]",
    "titles": 'jobtitle contains "{title}"\n'
    'and (country is "{country}" or industry is "Software")',
    "size band": "numberofemployees is between {size} and {size10}\n"
    "and annualrevenue is known",
    "newsletter clickers": 'had email_click where campaign starts with "newsletter"'
    " in last {days2} days\n"
    "and (hs_lead_status is unknown or hs_lead_status is none of [NEW, OPEN])",
}
_BENCH_PAGES = ("/pricing", "/demo", "/features/", "/blog/", "/careers")
_BENCH_FORMS = ("webinar", "ebook", "demo-request", "contact-us")
_BENCH_TITLES = ("Manager", "VP", "Director", "Engineer", "Founder")


def _shape_values(v: int) -> dict[str, object]:
    """Constants for the `v`-th use of a shape, cycling through plausible ones."""
    codes = list(_COUNTRIES)
    return {
        "stage": STAGES[1 + v % 5],
        "countries": ", ".join(f'"{c}"' for c in codes[v % 4 : v % 4 + 2]),
        "country": codes[v % len(codes)],
        "status": LEAD_STATUSES[v % 3],
        "size": (50, 200, 500, 1000, 5000)[v % 5],
        "size10": (50, 200, 500, 1000, 5000)[v % 5] * 10,
        "page": _BENCH_PAGES[v % len(_BENCH_PAGES)],
        "days": (7, 30, 3, 14, 90)[v % 5],
        "days2": (14, 60, 30, 7)[v % 4],
        "times": 2 + v % 4,
        "amount": (10_000, 5_000, 25_000, 50_000)[v % 4],
        "owner": f"owner-{1 + v % 20:02d}",
        "interests": ", ".join(INTERESTS[v % 4 : v % 4 + 2]),
        "form": _BENCH_FORMS[v % len(_BENCH_FORMS)],
        "title": _BENCH_TITLES[v % len(_BENCH_TITLES)],
    }


def _benchmark_lists(n_lists: int) -> Iterator[str]:
    shapes = list(_SHAPES.items())
    names: list[str] = []
    for index in range(n_lists):
        label, shape = shapes[index % len(shapes)]
        values = _shape_values(index // len(shapes))
        if names:
            # shapes that read `earlier` never come first
            values["earlier"] = names[(index * 7) % len(names)]
        names.append(f"Bench {index + 1:03d} {label}")
        yield f'list "{names[-1]}" active {{\n{_indent(shape.format(**values))}\n}}\n'


def _indent(condition: str) -> str:
    """One line when it fits the formatter's width, else the marked lines."""
    lines = condition.split("\n")
    if len("  " + " ".join(lines)) <= _WIDTH:
        return "  " + " ".join(lines)
    return "\n".join("  " + line for line in lines)


def benchmark_rules(n_lists: int = 50) -> str:
    """`n_lists` active lists of mixed shapes over the demo schema; same n, same
    text."""
    if n_lists < 0:
        raise DemoError(f"`n_lists` must be at least 0, got {n_lists}")
    header = f"# {n_lists} benchmark lists over the demo schema.\n"
    return "\n".join([header, *_benchmark_lists(n_lists)])
