"""Demo data, rules: the `rules.seq` of a demo workspace and lists for benchmarks.

Both are rule text over the schema of :mod:`seqdsl.demo.schema`, laid out as
`seqdsl fmt` would lay them out, so formatting them changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping

from seqdsl.demo.schema import WIDTH
from seqdsl.demo.spec import DEFAULT_AS_OF, DemoError
from seqdsl.demo.vocabulary import COUNTRIES, INTERESTS, LEAD_STATUSES, STAGES


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
    codes = list(COUNTRIES)
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
    if len("  " + " ".join(lines)) <= WIDTH:
        return "  " + " ".join(lines)
    return "\n".join("  " + line for line in lines)


def benchmark_rules(n_lists: int = 50) -> str:
    """`n_lists` active lists of mixed shapes over the demo schema; same n, same
    text."""
    if n_lists < 0:
        raise DemoError(f"`n_lists` must be at least 0, got {n_lists}")
    header = f"# {n_lists} benchmark lists over the demo schema.\n"
    return "\n".join([header, *_benchmark_lists(n_lists)])
