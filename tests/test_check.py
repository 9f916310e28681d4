"""Tests for the check stage: names, types and structure, pass by pass."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from seqdsl import ast
from seqdsl.check import PASSES, check, check_text, check_workspace
from seqdsl.check.context import Context
from seqdsl.checked import CheckResult
from seqdsl.diagnostics import Diagnostic
from seqdsl.lint import RULES
from seqdsl.parse import ParseResult, parse_text
from seqdsl.schema import Kind
from seqdsl.workspace import Settings, Workspace

SCHEMA = """
object contact {
  email: string
  lifecyclestage: enum [subscriber, lead, opportunity, customer] ordered
  hs_lead_status: enum [NEW, OPEN, UNQUALIFIED, ATTEMPTED]
  interests: set [crm, cms, ops]
  numberofemployees: number
  createdate: datetime
  renewal_date: date
  hubspot_owner_id: owner
  hs_timezone: timezone
  opted_in: bool
  country: string label "Country"
  legacy_score: number deprecated
}
object company { name: string  size: number  tier: enum [a, b] }
object deal { amount: number  dealstage: enum [open, closedwon]  closedate: date }
event page_view { url: string }
event form_submission { form: string }
list "Customers" active { lifecyclestage is customer }
list "Do not contact" manual
list "Held" static { email is known }
list "Big deals" active on deal { amount > 1000 }
sequence "Intro" { step "hello" email "hello" step "nudge" after 2 days email "n" }
"""


#: These tests pin the check stage; lint rules are pinned in tests/test_lint.py.
NO_LINT = Settings(root=Path.cwd(), lint={"ignore": sorted(RULES)})


@functools.cache
def _schema() -> ParseResult:
    return parse_text(SCHEMA, "schema.seq")


def run(text: str) -> CheckResult:
    """Check `text` as `t.seq` in a workspace with SCHEMA as `schema.seq`."""
    return check([_schema(), parse_text(text, "t.seq")], NO_LINT)


def found(text: str) -> list[tuple[str, str]]:
    """(code, the text the span covers) of every diagnostic, all in `text`."""
    result = run(text)
    assert all(d.span.path == "t.seq" for d in result.diagnostics)
    return [(d.code, text[d.span.start : d.span.end]) for d in result.diagnostics]


def codes(text: str) -> list[str]:
    return [code for code, _ in found(text)]


def only(text: str) -> Diagnostic:
    result = run(text)
    assert len(result.diagnostics) == 1, result.diagnostics
    return result.diagnostics[0]


def in_list(condition: str, name: str = "T") -> str:
    return f'list "{name}" active {{ {condition} }}'


def in_workflow(body: str, object: str = "contact") -> str:
    return f'workflow "W" on {object} {{ {body} }}'


# ---------------------------------------------------------------- verbs and schema


def test_clean_workspace_has_checked_workspace() -> None:
    """A clean workspace gives a CheckedWorkspace with every declaration by name."""
    result = run('workflow "W" on contact { enroll when in list "Customers" }')
    assert result.ok
    assert result.workspace is not None
    assert set(result.workspace.workflows) == {"W"}
    assert set(result.workspace.sequences) == {"Intro"}


def test_lists_come_in_dependency_order() -> None:
    """Referenced lists come before the lists that read them."""
    text = 'list "Z" active { in list "Y" }\nlist "Y" active { in list "Customers" }'
    result = run(text)
    assert result.workspace is not None
    order = list(result.workspace.lists)
    assert order.index("Customers") < order.index("Y") < order.index("Z")


def test_schema_is_built_from_declarations() -> None:
    """Kinds, ordered enums, option order, labels and deprecation reach the schema."""
    result = run("")
    assert result.workspace is not None
    contact = result.workspace.schema.objects["contact"]
    stage = contact.properties["lifecyclestage"].type
    assert stage.kind is Kind.ENUM and stage.ordered
    assert [o.value for o in stage.options][:2] == ["subscriber", "lead"]
    assert contact.properties["country"].label == "Country"
    assert contact.properties["legacy_score"].deprecated
    assert contact.properties["hs_timezone"].type.kind is Kind.TIMEZONE
    assert result.workspace.schema.event("page_view") is not None
    assert result.workspace.schema.event("email_reply") is not None


def test_workspace_is_withheld_when_there_are_errors() -> None:
    """Any error means no CheckedWorkspace."""
    result = run(in_list("nosuch is known"))
    assert result.workspace is None and not result.ok


def test_check_workspace_shows_paths_relative_to_root(tmp_path: Path) -> None:
    """check_workspace parses every source and names files relative to the root."""
    (tmp_path / "rules").mkdir()
    (tmp_path / "schema.seq").write_text(SCHEMA, encoding="utf-8")
    rules = tmp_path / "rules" / "lists.seq"
    rules.write_text('list "X" active { nosuch is known }\n', encoding="utf-8")
    workspace = Workspace(Settings(root=tmp_path), (tmp_path / "schema.seq", rules))
    result = check_workspace(workspace)
    assert [d.span.path for d in result.diagnostics] == ["rules/lists.seq"]


def test_every_file_reports_in_one_run_sorted() -> None:
    """Problems of every file come back at once, sorted by file and offset."""
    text = SCHEMA + in_list("b is known", "B") + in_list("a is known", "A")
    first = parse_text(text, "a.seq")
    second = parse_text(in_list("c is known", "C"), "0.seq")
    result = check([first, second], Settings(root=Path.cwd()))
    assert [d.span.path for d in result.diagnostics] == ["0.seq", "a.seq", "a.seq"]
    starts = [d.span.start for d in result.diagnostics[1:]]
    assert starts == sorted(starts)


def test_a_crashing_pass_is_an_internal_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug in a pass becomes E999, never an exception."""

    def broken(ctx: Context) -> list[Diagnostic]:
        raise RuntimeError("boom")

    monkeypatch.setattr("seqdsl.check.PASSES", (*PASSES, broken))
    result = run("")
    assert [d.code for d in result.diagnostics] == ["E999"]
    assert "internal error" in result.diagnostics[0].message


def test_unknown_property_points_at_the_name_and_suggests() -> None:
    """A misspelt property is E101 on the word, with the nearest name as a hint."""
    problem = only(in_list("lifecyclestag is lead"))
    assert problem.code == "E101"
    assert "`lifecyclestag`" in problem.message
    assert "did you mean `lifecyclestage`?" in problem.hints
    assert found(in_list("lifecyclestag is lead")) == [("E101", "lifecyclestag")]


def test_associated_object_properties_resolve() -> None:
    """`company.x` reads the company; unknown parts are reported on their word."""
    assert codes(in_list("company.size >= 500")) == []
    assert found(in_list("company.sise >= 500")) == [("E101", "sise")]
    assert found(in_list("compny.size >= 500")) == [("E102", "compny")]


def test_property_of_another_object_is_hinted() -> None:
    """A plain name that only another object has suggests the dotted form."""
    problem = only(in_list("amount > 5"))
    assert "`deal` has a property `amount`: write `deal.amount`" in problem.hints


def test_event_name_used_as_property_is_hinted() -> None:
    """A plain name that is an event suggests `had`."""
    problem = only(in_list("page_view is known"))
    assert any("had page_view" in hint for hint in problem.hints)


def test_sequence_properties_are_readable() -> None:
    """The runtime's contact properties can be read in conditions."""
    text = in_list("currently_in_sequence is false and last_sequence_enrolled is known")
    assert codes(text) == []


def test_unknown_list_names_other_kinds() -> None:
    """An unknown list whose name is a sequence says so in a hint."""
    problem = only(in_list('in list "Intro"'))
    assert problem.code == "E105"
    assert 'there is a sequence called `"Intro"`' in problem.hints
    assert found(in_list('in list "Custmers"')) == [("E105", '"Custmers"')]


def test_unknown_event_and_field() -> None:
    """Events must be declared or built in; fields are those of the event."""
    assert found(in_list("had page_veiw")) == [("E103", "page_veiw")]
    assert found(in_list("had no page_veiw")) == [("E103", "page_veiw")]
    assert found(in_list('had page_view where uri is "x"')) == [("E104", "uri")]
    assert codes(in_list('had task_completed where task is "call"')) == []
    assert codes(in_list("had no email_reply in last 3 days")) == []


def test_object_used_as_event_is_hinted() -> None:
    """`had deal` suggests the quantifier form."""
    problem = only(in_list("had deal"))
    assert problem.code == "E103"
    assert "`deal` is an object: write `any deal where ...`" in problem.hints


def test_quantified_objects_accept_plurals() -> None:
    """`any deal`, `all deals`, `at least 2 companies` name declared objects."""
    assert codes(in_list("any deal where amount > 5")) == []
    assert codes(in_list("all deals where dealstage is closedwon")) == []
    assert codes(in_list("at least 2 companies where size > 5")) == []
    assert found(in_list("any dael where amount > 5")) == [("E102", "dael")]


def test_quantified_where_reads_the_associated_object() -> None:
    """Inside `any deal where`, names are the deal's properties."""
    assert found(in_list("any deal where email is known")) == [("E101", "email")]
    assert found(in_list("any deal where company.size > 1"))[0][0] == "E101"


def test_sequence_step_must_exist() -> None:
    """`start at step` names a step of the sequence, with the steps as a hint."""
    text = in_workflow('enroll in sequence "Intro" start at step "nudg"')
    problem = only(text)
    assert problem.code == "E110"
    assert "did you mean `nudge`?" in problem.hints
    assert found(text) == [("E110", '"nudg"')]


def test_unknown_workflow_and_sequence() -> None:
    """Actions name existing workflows and sequences."""
    assert found(in_workflow('enroll in workflow "Nope"')) == [("E107", '"Nope"')]
    assert found(in_workflow('enroll in sequence "Intr"')) == [("E106", '"Intr"')]
    assert found(in_workflow('unenroll from sequence "Intr"')) == [("E106", '"Intr"')]
    assert codes(in_workflow("unenroll from sequence")) == []


def test_duplicate_declarations_across_files_point_at_the_first() -> None:
    """A second declaration of a name is E109 with the first one's file and line."""
    first = parse_text(SCHEMA, "a.seq")
    second = parse_text('\nlist "Customers" manual\n', "b.seq")
    result = check([first, second], Settings(root=Path.cwd()))
    (problem,) = result.diagnostics
    assert problem.code == "E109" and problem.span.path == "b.seq"
    assert problem.hints[0].startswith("first declared at a.seq:")


def test_builtin_event_cannot_be_redeclared() -> None:
    """Declaring `email_reply` is E109."""
    assert found("event email_reply { x: string }") == [("E109", "email_reply")]


def test_repeated_properties_options_and_steps() -> None:
    """Repeats inside one declaration are E111."""
    assert codes("object thing { a: string  a: number }") == ["E111"]
    assert codes("object thing { a: enum [x, X] }") == ["E111"]
    assert codes('sequence "S" { step "a" email "x" step "a" email "y" }') == ["E111"]


def test_names_lost_to_syntax_errors_do_not_cascade() -> None:
    """A list whose declaration failed to parse is not also reported unknown."""
    text = 'list "Broken" active { email is }\nlist "User" active { in list "Broken" }'
    assert codes(text) == ["E001"]


# ---------------------------------------------------------------- types

OPERATORS = [
    ('email is "a@b.c"', None),
    ("interests is crm", "E201"),
    ("interests is not crm", "E201"),
    ("numberofemployees >= 10", None),
    ("createdate < 2026-01-01 09:00", None),
    ("renewal_date > 2026-01-01", None),
    ("lifecyclestage >= lead", None),
    ("hs_lead_status >= OPEN", "E206"),
    ("email > 5", "E201"),
    ('country is any of ["US", "CA"]', None),
    ("hs_lead_status is none of [NEW, OPEN]", None),
    ("opted_in is any of [true]", "E201"),
    ("interests is any of [crm]", "E201"),
    ('email contains "@acme"', None),
    ('hubspot_owner_id starts with "1"', None),
    ('hs_timezone ends with "York"', None),
    ('interests contains "crm"', "E201"),
    ("numberofemployees does not contain 5", "E201"),
    ("interests contains any of [crm, ops]", None),
    ('email contains any of ["@a", "@b"]', None),
    ('email contains none of ["@a"]', None),
    ("interests contains all of [crm]", None),
    ('email contains all of ["a"]', "E201"),
    ("interests is exactly [crm, cms]", None),
    ("hs_lead_status is exactly [NEW]", "E201"),
    ("interests is known", None),
    ("opted_in is unknown", None),
    ("numberofemployees is between 1 and 10", None),
    ("renewal_date is not between 2026-01-01 and 2026-02-01", None),
    ("email is between 1 and 2", "E201"),
    ("renewal_date is before 2026-01-01", None),
    ("createdate is on 2026-01-01", None),
    ("numberofemployees is after 5", "E201"),
    ("createdate in last 3 hours", None),
    ("renewal_date in next 7 days", None),
    ("renewal_date is more than 2 weeks ago", None),
    ("createdate is more than 30 minutes from now", None),
    ("numberofemployees in last 3 days", "E201"),
    ("renewal_date in last 3 hours", "E203"),
    ("createdate in last 2 business days", "E203"),
    ("lifecyclestage has ever been customer", None),
    ("interests has never been crm", "E201"),
    ("interests updated in last 7 days", None),
    ("email updated in last 1 business day", "E203"),
    ("renewal_date updated in last 3 hours", None),
    ("opted_in is true", None),
    ("opted_in is 1", "E202"),
    ("numberofemployees > lots", "E202"),
    ('numberofemployees > "12"', None),
    ("renewal_date is before 2026-01-01 10:00", "E202"),
    ("createdate is after tomorrow", "E202"),
    ("lifecyclestage is leed", "E108"),
    ('lifecyclestage is "Lead"', None),
    ("interests contains any of [crm, web]", "E108"),
    ('hs_timezone is "America/New_York"', None),
    ('hs_timezone is "Mars/Olympus"', "E207"),
    ('had page_view where url contains "/pricing" in last 1 business day', "E203"),
    ("had page_view at least 0 times in last 2 weeks", None),
    ("at least 0 deals where amount > 1", None),
]


@pytest.mark.parametrize(("condition", "code"), OPERATORS)
def test_operator_and_value_types(condition: str, code: str | None) -> None:
    """Each operator accepts exactly the kinds and values it is documented for."""
    assert codes(in_list(condition)) == ([code] if code else [])


def test_unordered_enum_comparison_suggests_ordered() -> None:
    """`>=` on an unordered enum is E206 with the fix in a hint."""
    problem = only(in_list("hs_lead_status >= OPEN"))
    assert problem.code == "E206"
    assert any("add `ordered`" in hint for hint in problem.hints)


def test_set_equality_suggests_set_operators() -> None:
    """`is` on a set hints at `contains any of` and `is exactly`."""
    problem = only(in_list("interests is crm"))
    assert "`contains any of [...]`" in problem.hints[0]


def test_unknown_option_lists_the_options() -> None:
    """E108 names the property, suggests the nearest option and lists them all."""
    problem = only(in_list("lifecyclestage is leed"))
    assert "`leed` is not an option of `lifecyclestage`" in problem.message
    assert "did you mean `lead`?" in problem.hints
    assert any(
        hint.startswith("valid options: subscriber, lead") for hint in problem.hints
    )


@pytest.mark.parametrize(
    ("clause", "code"),
    [
        ("enroll when email changed", None),
        ("reenroll when hs_lead_status changed to OPEN", None),
        ("enroll when hs_lead_status changed from NEW to OPEN", None),
        ("enroll when hs_lead_status changed to CLOSED", "E108"),
        ("goal email changed", "E204"),
        ("unenroll when email changed", "E204"),
        ('enroll when had form_submission where form changed to "x"', "E204"),
        ("enroll when any deal where amount changed", "E204"),
        ("goal had no email_reply since enrolled", None),
        ("suppress when had email_reply since enrolled", None),
        ("unenroll when had meeting_booked since enrolled", None),
        ("enroll when had page_view since enrolled", "E205"),
        ("reenroll when had page_view since enrolled", "E205"),
    ],
)
def test_change_and_enrollment_windows_by_place(clause: str, code: str | None) -> None:
    """`changed` only in enrollment triggers; `since enrolled` only once enrolled."""
    assert codes(in_workflow(clause)) == ([code] if code else [])


def test_change_and_since_enrolled_outside_workflows() -> None:
    """Lists can use neither `changed` nor `since enrolled`."""
    assert codes(in_list("email changed")) == ["E204"]
    assert found(in_list("had page_view since enrolled")) == [
        ("E205", "since enrolled")
    ]


def test_if_branches_allow_since_enrolled_not_changed() -> None:
    """An `if` condition may look back to the enrollment but not at changes."""
    body = "if had email_reply since enrolled { wait 1 day } else if email changed {}"
    assert codes(in_workflow(body)) == ["E204"]


# ---------------------------------------------------------------- lists


def test_list_reference_must_be_of_the_same_object() -> None:
    """`in list` of a deal list from a contact rule is E209."""
    problem = only(in_list('in list "Big deals"'))
    assert problem.code == "E209"
    assert "deal records" in problem.message
    assert codes('list "D" active on deal { in list "Big deals" }') == []


def test_list_cycles_are_spelled_out() -> None:
    """A cycle of lists is E301 naming every list on it, once per cycle."""
    text = (
        'list "A" active { in list "B" }\n'
        'list "B" active { in list "C" }\n'
        'list "C" active { in list "A" or in list "Customers" }'
    )
    problem = only(text)
    assert problem.code == "E301"
    assert '"A" -> "B" -> "C" -> "A"' in problem.message
    assert found(text)[0][1] == 'in list "B"'


def test_self_reference_is_a_cycle() -> None:
    """A list that reads itself is a cycle of one."""
    problem = only('list "A" active { email is known and not in list "A" }')
    assert '"A" -> "A"' in problem.message


def test_list_kind_and_condition_agree() -> None:
    """Manual lists have no condition; active and static lists need one."""
    assert codes('list "M" manual { email is known }') == ["E304"]
    assert codes('list "A" active') == ["E304"]
    assert codes('list "S" static') == ["E304"]


def test_list_object_must_exist() -> None:
    """`on OBJECT` names a declared object."""
    assert found('list "X" active on dael { amount > 1 }') == [("E102", "dael")]


def test_lists_default_to_contacts_that_must_be_declared() -> None:
    """Without `object contact`, a list without `on` reports the missing object."""
    result = check_text('list "X" active { email is known }')
    assert [d.code for d in result.diagnostics] == ["E102"]


# ---------------------------------------------------------------- workflows


def test_settings_come_before_actions() -> None:
    """A trigger after the first action is E302."""
    text = in_workflow("wait 1 day\n enroll when email is known")
    assert found(text) == [("E302", "enroll when email is known")]


def test_goal_existing_and_run_on_once() -> None:
    """Repeating `goal`, `existing` or `run on` is E302; goal hints at `or`."""
    problem = only(in_workflow("goal email is known goal opted_in is true"))
    assert problem.code == "E302"
    assert "combine the conditions with `or`" in problem.hints[0]
    assert codes(in_workflow("existing: skip existing: enroll")) == ["E302"]
    run_on = "run on weekdays 09:00 to 17:00 run on every day 08:00 to 09:00"
    assert codes(in_workflow(run_on)) == ["E302"]


def test_workflow_object_must_exist() -> None:
    """`on OBJECT` of a workflow names a declared object."""
    assert found('workflow "W" on dael { wait 1 day }') == [("E102", "dael")]


def test_sequence_actions_only_on_contacts() -> None:
    """Deals cannot be enrolled in sequences."""
    text = in_workflow('enroll in sequence "Intro"', "deal")
    assert codes(text) == ["E309"]
    assert codes(in_workflow("unenroll from sequence", "deal")) == ["E309"]


def test_owner_actions_need_an_owner_property() -> None:
    """`rotate owner` and `for owner` need a property of type owner."""
    assert codes(in_workflow('rotate owner among ["a", "b"]')) == []
    assert codes(in_workflow('rotate owner among ["a"]', "deal")) == ["E309"]
    assert codes(in_workflow('create task "x" for owner', "deal")) == ["E309"]
    assert codes(in_workflow('create task "x" for user ""', "deal")) == ["E202"]


def test_set_and_clear_targets() -> None:
    """Actions change the record's own declared properties, with typed values."""
    assert codes(in_workflow("set hs_lead_status = OPEN clear email")) == []
    assert codes(in_workflow("set hs_lead_status to CLOSED")) == ["E108"]
    assert codes(in_workflow('set numberofemployees = "many"')) == ["E202"]
    assert codes(in_workflow('set company.name = "x"')) == ["E208"]
    assert codes(in_workflow("clear currently_in_sequence")) == ["E208"]
    assert found(in_workflow("clear emial")) == [("E101", "emial")]


def test_list_actions_need_static_or_manual_lists() -> None:
    """Adding to an active list is E304; lists of other objects are E209."""
    assert (
        codes(in_workflow('add to list "Held" remove from list "Do not contact"')) == []
    )
    assert found(in_workflow('add to list "Customers"')) == [("E304", '"Customers"')]
    assert codes(in_workflow('remove from list "Held"', "deal")) == ["E209"]


def test_enroll_in_workflow_of_another_object() -> None:
    """A contact cannot be enrolled in a deal workflow."""
    text = 'workflow "D" on deal { wait 1 day }\n' + in_workflow(
        'enroll in workflow "D"'
    )
    assert found(text) == [("E209", '"D"')]


def test_branch_on_kinds_values_and_repeats() -> None:
    """`branch on` needs a branchable kind, typed values, and no value twice."""
    good = "branch on hs_lead_status { NEW -> { wait 1 day } [OPEN] -> {} else -> {} }"
    assert codes(in_workflow(good)) == []
    assert codes(in_workflow("branch on renewal_date { 2026-01-01 -> {} }")) == ["E201"]
    assert codes(in_workflow("branch on hs_lead_status { NOPE -> {} }")) == ["E108"]
    repeated = "branch on hs_lead_status { [NEW, OPEN] -> {} new -> {} }"
    assert found(in_workflow(repeated)) == [("E308", "new")]
    assert codes(in_workflow("branch on company.size { 1 -> {} 1.0 -> {} }")) == [
        "E308"
    ]


def test_split_shares() -> None:
    """Split shares are positive and add up to 100%."""
    assert codes(in_workflow("split 50% {} 50% {}")) == []
    assert codes(in_workflow("split 33.5% {} 66.5% {}")) == []
    assert codes(in_workflow("split 50% {} 40% {}")) == ["E303"]
    assert codes(in_workflow("split 100% {} 0% {}")) == ["E303"]


def test_waits() -> None:
    """`wait until P` needs a date property; `wait until had` checks the event."""
    assert codes(in_workflow("wait until renewal_date minus 2 days at 09:00")) == []
    assert codes(in_workflow("wait until monday at 10:00")) == []
    assert found(in_workflow("wait until email")) == [("E202", "email")]
    assert found(in_workflow("wait until renewl_date")) == [("E101", "renewl_date")]
    event = 'wait until had page_view where url contains "x" for at most 5 days'
    assert codes(in_workflow(event)) == []
    assert found(in_workflow("wait until had pageview for at most 1 day")) == [
        ("E103", "pageview")
    ]


def test_time_windows_run_forwards() -> None:
    """A run window or send window that ends before it starts is E306."""
    assert codes(in_workflow("run on weekdays 17:00 to 09:00")) == ["E306"]
    text = 'sequence "S" { send window 18:00 to 08:00 step "a" email "a" }'
    assert codes(text) == ["E306"]


def test_nested_statements_are_checked() -> None:
    """Actions deep inside branches are checked like top-level ones."""
    body = "if email is known { split 50% { clear nope } 50% { wait 1 day } }"
    assert found(in_workflow(body)) == [("E101", "nope")]


# ---------------------------------------------------------------- sequences


def test_sequence_settings_once() -> None:
    """Each setting once; the two limit kinds count separately."""
    text = (
        'sequence "S" { sender owner sender user "u" '
        "limit 5 emails per day per sender limit 5 enrollments per day per sender "
        'step "a" email "a" }'
    )
    assert found(text) == [("E305", 'sender user "u"')]
    twice = (
        'sequence "S" { follow up on weekdays follow up on every day '
        'step "a" call "c" }'
    )
    assert codes(twice) == ["E305"]


def test_sequence_needs_steps_and_a_first_step_without_delay() -> None:
    """No steps is E305; `after` on the first step is E305 with a hint."""
    assert found('sequence "S" { sender owner }') == [("E305", '"S"')]
    problem = only('sequence "S" { step "a" after 1 day email "x" }')
    assert problem.code == "E305"
    assert "due at enrollment" in problem.hints[0]


def test_limits_must_be_positive() -> None:
    """A limit of 0 is E307."""
    text = 'sequence "S" { limit 0 emails per day per sender step "a" email "a" }'
    assert codes(text) == ["E307"]


def test_sender_users_are_named() -> None:
    """An empty user name is refused."""
    text = 'sequence "S" { sender rotate among ["a", ""] step "a" email "a" }'
    assert codes(text) == ["E202"]


# ---------------------------------------------------------------- list enrollments


def test_list_enrollment_rules() -> None:
    """`enroll list` takes a contact list, an existing sequence and step."""
    assert codes('enroll list "Customers" in sequence "Intro" resume') == []
    assert codes('enroll list "Big deals" in sequence "Intro"') == ["E209"]
    text = 'enroll list "Customers" in sequence "Customers"'
    (problem,) = run(text).diagnostics
    assert problem.code == "E106"
    assert problem.span.start == text.rindex('"Customers"')
    step = 'enroll list "Customers" in sequence "Intro" start at step "bye"'
    assert found(step) == [("E110", '"bye"')]


def test_repeated_list_enrollment() -> None:
    """The same list enrolled in the same sequence twice is E109."""
    rule = 'enroll list "Customers" in sequence "Intro"\n'
    assert codes(rule + rule) == ["E109"]


def test_ast_is_untouched_by_check() -> None:
    """Checking returns the parsed modules as they were."""
    parsed = parse_text(SCHEMA, "s.seq")
    result = check([parsed], Settings(root=Path.cwd()))
    assert result.workspace is not None
    assert result.workspace.modules == (parsed.module,)
    assert isinstance(parsed.module.declarations[0], ast.ObjectDecl)
