"""Demo data, rules: the `rules.seq` of a demo workspace and rules for benchmarks.

Both are rule text over the schema of :mod:`seqdsl.demo.schema`, laid out as
`seqdsl fmt` would lay them out, so formatting them changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence

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


#: The standing plays of `runtime_rules`, one per sequence: an industry, the label
#: of its list and the rest of the list's condition. The industries do not
#: overlap, so a contact is in at most one of the first ten lists; each holds
#: about 1.1 % of the demo contacts (its condition's share of its industry's).
_PLAYS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "Software",
        "pricing visitors",
        (
            "lifecyclestage is any of [lead, marketingqualifiedlead]",
            'had page_view where url contains "/pricing" in last 30 days',
        ),
    ),
    (
        "Financial Services",
        "email clickers",
        ("lifecyclestage < customer", "had email_click in last 21 days"),
    ),
    ("Healthcare", "MQLs", ("lifecyclestage is marketingqualifiedlead",)),
    ("Retail", "open leads", ("hs_lead_status is OPEN",)),
    (
        "Manufacturing",
        "pricing visitors",
        ('had page_view where url contains "/pricing" in last 60 days',),
    ),
    (
        "Marketing and Advertising",
        "frequent openers",
        (
            "lifecyclestage < customer",
            "had email_open at least 2 times in last 21 days",
        ),
    ),
    ("Consulting", "form fillers", ("had form_submission in last 30 days",)),
    (
        "Education",
        "frequent openers",
        ("had email_open at least 2 times in last 21 days",),
    ),
    ("Telecommunications", "new leads", ("hs_lead_status is NEW",)),
    (
        "Real Estate",
        "qualified leads",
        (
            "lifecyclestage is any of [marketingqualifiedlead, salesqualifiedlead,"
            " opportunity]",
        ),
    ),
)

#: Workflow triggers by label, each also restricted to one country.
_TRIGGERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "demo page visitors",
        ('had page_view where url contains "/demo" in last 7 days',),
    ),
    (
        "ebook readers",
        ('had form_submission where form starts with "ebook" in last 14 days',),
    ),
    ("SQLs", ("lifecyclestage is salesqualifiedlead",)),
    (
        "leads at big companies",
        ("lifecyclestage is lead", "company.numberofemployees >= 1000"),
    ),
    ("new MQLs", ("lifecyclestage changed to marketingqualifiedlead",)),
)
_TRIGGER_COUNTRIES = ("US", "GB", "DE", "CA", "FR", "IN", "AU", "BR", "NL", "ES", "SG")

#: The per-sender daily limits of every outreach sequence: high enough not to bind
#: at 1,000,000 contacts (about 2,500 a day at most), so enrollments grow with the
#: data.
_RUNTIME_LIMIT = 5000

#: Workflow actions after the clauses; `{label}` names the workflow's audience and
#: `{sequence}` an outreach sequence. The second enrolls in one.
_BODIES = (
    """\
  if company.numberofemployees >= 500 {{
    create task "Call {label}" for owner due in 1 business day
  }} else {{
    set hs_lead_status = ATTEMPTED_TO_CONTACT
  }}
  wait 2 days
  create task "Follow up {label}" for owner""",
    """\
  if industry is "{industry}" and email is known {{
    enroll in sequence "{sequence}" sender owner
  }} else {{
    create task "Qualify {label}" for owner due in 2 business days
  }}
  wait 1 business day
  set hs_lead_status = IN_PROGRESS""",
    """\
  split 50% {{
    create task "Call {label}" for owner due in 4 hours
  }} 50% {{
    set hs_lead_status = ATTEMPTED_TO_CONTACT
  }}
  wait 3 days
  create task "Check in with {label}" for owner""",
    """\
  branch on hs_lead_status {{
    NEW -> {{
      set hs_lead_status = ATTEMPTED_TO_CONTACT
    }}
    [OPEN, IN_PROGRESS] -> {{
      create task "Call {label}" for owner due in 1 business day
    }}
    else -> {{
      create task "Review {label}" for owner
    }}
  }}
  wait 2 business days
  create task "Follow up {label}" for owner""",
)


def _and(head: str, parts: Sequence[str], indent: str, more: str) -> str:
    """`head` and the parts joined by `and` on one line when it fits the
    formatter's width, else one part a line, continued with `more` indent."""
    line = f"{indent}{head}{' and '.join(parts)}"
    if len(line) <= WIDTH:
        return line
    rest = "".join(f"\n{more}and {part}" for part in parts[1:])
    return f"{indent}{head}{parts[0]}{rest}"


def _outreach_name(index: int) -> str:
    return f"Outreach {index + 1:02d}"


def _play(index: int) -> tuple[str, str, tuple[str, ...]]:
    """The industry, list name and list tests of the `index`-th play."""
    round_, slot = divmod(index, len(_PLAYS))
    _, label, parts = _PLAYS[slot]
    # later rounds pair each condition with another industry
    industry = _PLAYS[(slot + round_) % len(_PLAYS)][0]
    name = f"{industry} {label}" + (f" {round_ + 1}" if round_ else "")
    return industry, name, (f'industry is "{industry}"', *parts, "email is known")


def _outreach(index: int) -> str:
    """The `index`-th play: an active list, its standing enrollment and the
    four-step sequence it feeds."""
    _, name, tests = _play(index)
    label = _PLAYS[index % len(_PLAYS)][1]
    condition = _and("", tests, "  ", "  ")
    sequence = _outreach_name(index)
    slug = sequence.lower().replace(" ", "-")
    days = ("business days", "weekdays")[index % 2]
    return f"""\
list "{name}" active {{
{condition}
}}

enroll list "{name}" in sequence "{sequence}" sender owner

sequence "{sequence}" {{
  sender owner
  send window 08:00 to 18:00 in contact time zone
  follow up on {days}
  limit {_RUNTIME_LIMIT} enrollments per day per sender
  limit {_RUNTIME_LIMIT} emails per day per sender
  unenroll when replied or booked meeting or bounced or unsubscribed

  step "intro"                           email "{slug}-intro"
  step "nudge"    after 2 days           email "{slug}-nudge" in thread
  step "call"     after 1 business day   call "Call the {label}"
  step "breakup"  after 3 business days  email "{slug}-breakup"
}}
"""


def _workflow(index: int, sequences: int) -> str:
    """The `index`-th workflow: a trigger in one country, the usual clauses in a
    varying mix, then one of the bodies."""
    label, parts = _TRIGGERS[index % len(_TRIGGERS)]
    country = _TRIGGER_COUNTRIES[index % len(_TRIGGER_COUNTRIES)]
    audience = f"{label} in {country}"
    enroll = _and("enroll when ", (*parts, f'country is "{country}"'), "  ", "    ")
    reenroll = "  reenroll when had form_submission in last 7 days"
    clauses = [
        enroll,
        reenroll if index % 2 == 0 else "",
        "  goal lifecyclestage >= opportunity" if index % 4 != 3 else "",
        '  suppress when in list "Do not contact"',
        "  unenroll when hs_lead_status is UNQUALIFIED" if index % 3 == 0 else "",
        "  run on weekdays 08:00 to 18:00" if index % 2 == 1 else "",
    ]
    # the body that enrolls in a sequence needs one
    body = _BODIES[index % len(_BODIES)] if sequences else _BODIES[0]
    target = index % max(sequences, 1)
    actions = body.format(
        label=audience, sequence=_outreach_name(target), industry=_play(target)[0]
    )
    head = "\n".join(clause for clause in clauses if clause)
    name = f"Route {index + 1:02d} {audience}"
    return f'workflow "{name}" on contact {{\n{head}\n\n{actions}\n}}\n'


def runtime_rules(workflows: int = 20, sequences: int = 10) -> str:
    """Rules for timing runs of the runtime over the demo schema: `sequences`
    outreach sequences, each fed by its own active list, and `workflows`
    workflows (mixed triggers, goals, suppression, run windows, branches, waits,
    tasks; every fourth enrolls in a sequence). Same counts, same text.

    With the defaults about 11.5 % of the demo contacts are in one of the lists,
    and about 10 % are enrolled in a sequence after a daily run, at any size.
    """
    if workflows < 0 or sequences < 0:
        raise DemoError(
            f"`workflows` and `sequences` must be at least 0, got {workflows} and "
            f"{sequences}"
        )
    header = (
        f"# {sequences} outreach sequences and {workflows} workflows for timing"
        ' runs.\n\nlist "Do not contact" manual\n'
    )
    plays = [_outreach(index) for index in range(sequences)]
    flows = [_workflow(index, sequences) for index in range(workflows)]
    return "\n".join([header, *plays, *flows])
