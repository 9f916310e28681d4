"""Demo data, vocabulary: the names, shares and choices the generator draws from.

Choices are written as `value weight` pairs; `-` is an unknown value. The SQL draws
from a list that repeats each value by its weight; :func:`variables` hands every
such list to DuckDB.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence

from seqdsl.demo.spec import DemoSpec


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
COUNTRIES: dict[str, tuple[int, str, str, str]] = {
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


def variables(spec: DemoSpec) -> dict[str, object]:
    """Every value the SQL reads, by DuckDB variable name."""
    countries = list(COUNTRIES.values())
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
        "country_codes": list(COUNTRIES),
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
