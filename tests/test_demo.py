"""Tests for the demo data generator: determinism, shape and consistency."""

from __future__ import annotations

import datetime as dt
import re
import tempfile
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seqdsl import ast
from seqdsl.check import check, check_workspace
from seqdsl.data import load_data
from seqdsl.demo import (
    DEFAULT_AS_OF,
    FILES,
    INTERESTS,
    MARKER,
    OBJECTS,
    STAGES,
    DemoError,
    DemoSpec,
    GenerateReport,
    benchmark_rules,
    demo_rules,
    generate,
    schema_text,
    settings_text,
)
from seqdsl.format import format_text
from seqdsl.parse import parse_text
from seqdsl.workspace import Settings, load_workspace

SPEC = DemoSpec(contacts=1000, format="csv")
N = SPEC.contacts
BUILTIN_EVENTS = {"email_reply", "meeting_booked", "email_bounce", "unsubscribe"}


@pytest.fixture(scope="module")
def csv_demo(tmp_path_factory: pytest.TempPathFactory) -> GenerateReport:
    return generate(tmp_path_factory.mktemp("csv") / "demo", SPEC)


@pytest.fixture(scope="module")
def parquet_demo(tmp_path_factory: pytest.TempPathFactory) -> GenerateReport:
    spec = DemoSpec(contacts=SPEC.contacts, format="parquet")
    return generate(tmp_path_factory.mktemp("parquet") / "demo", spec)


@pytest.fixture(scope="module")
def db(parquet_demo: GenerateReport) -> Iterator[duckdb.DuckDBPyConnection]:
    """The Parquet demo files as views named after the tables."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for table, _ in FILES.values():
        path = parquet_demo.out_dir / "data" / f"{table}.parquet"
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{path}')")
    yield con
    con.close()


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[Any, ...]]:
    return con.execute(sql).fetchall()


def _value(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    return con.execute(sql).fetchall()[0][0]


def _files(folder: Path) -> dict[str, bytes]:
    found = (p for p in folder.rglob("*") if p.is_file())
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in found}


# ---------------------------------------------------------------- determinism


def test_same_seed_writes_identical_files(
    csv_demo: GenerateReport, tmp_path: Path
) -> None:
    """One spec generated twice gives byte-identical CSV and workspace files."""
    again = generate(tmp_path / "again", SPEC)

    first, second = _files(csv_demo.out_dir), _files(again.out_dir)
    assert sorted(first) == sorted(second)
    assert len(first) == len(FILES) + 4  # data, settings, schema, rules, marker
    assert first == second


def test_another_seed_changes_the_data(tmp_path: Path) -> None:
    """Another seed gives other contacts and events."""
    seven = generate(tmp_path / "seven", DemoSpec(contacts=50, format="csv"))
    spec = DemoSpec(contacts=50, seed=8, format="csv")
    eight = generate(tmp_path / "eight", spec)

    for name in ("contacts", "events"):
        path = f"data/{name}.csv"
        assert (seven.out_dir / path).read_bytes() != (
            eight.out_dir / path
        ).read_bytes()


# ------------------------------------------------------------ counts and shape


def test_row_counts_follow_the_spec(
    parquet_demo: GenerateReport, db: duckdb.DuckDBPyConnection
) -> None:
    """Records come in the asked numbers, and the report tells the truth."""
    counts = {
        table: _value(db, f"SELECT count(*) FROM {table}")
        for table, _ in FILES.values()
    }

    assert counts["contacts"] == N
    assert counts["companies"] == N // 10
    assert counts["deals"] == N // 5
    assert 0.5 < counts["history"] / counts["contacts"] < 2.5
    assert 0 < counts["memberships"] < N * 0.02
    assert parquet_demo.rows == {
        f"data/{table}.parquet": counts[table] for table, _ in FILES.values()
    }


def test_explicit_counts_and_no_activity(tmp_path: Path) -> None:
    """No companies and no activity work; only bounces and opt-outs remain."""
    spec = DemoSpec(contacts=300, companies=0, deals=7, events_per_contact=0)
    report = generate(tmp_path / "demo", spec)
    con = duckdb.connect()
    events = report.out_dir / "data" / "events.parquet"
    types = _rows(con, f"SELECT DISTINCT type FROM '{events}' ORDER BY type")

    assert report.rows["data/companies.parquet"] == 0
    assert report.rows["data/deals.parquet"] == 7
    assert {row[0] for row in types} <= {"email_bounce", "unsubscribe"}


def test_associations_point_at_existing_records(
    db: duckdb.DuckDBPyConnection,
) -> None:
    """Every association joins two records that exist in their files."""
    dangling = _value(
        db,
        """
        SELECT count(*) FROM associations a
        WHERE NOT EXISTS (
            SELECT 1 FROM contacts c
            WHERE a.from_type = 'contact' AND c.id = a.from_id
            UNION ALL
            SELECT 1 FROM deals d WHERE a.from_type = 'deal' AND d.id = a.from_id)
        OR NOT EXISTS (
            SELECT 1 FROM contacts WHERE a.to_type = 'contact' AND id = a.to_id
            UNION ALL
            SELECT 1 FROM companies c
            WHERE a.to_type = 'company' AND c.id = a.to_id)
        """,
    )
    kinds = _rows(
        db, "SELECT DISTINCT from_type, to_type FROM associations ORDER BY 1, 2"
    )

    assert dangling == 0
    pairs = [("contact", "company"), ("deal", "company"), ("deal", "contact")]
    assert kinds == pairs


def test_contacts_have_at_most_one_primary_company(
    db: duckdb.DuckDBPyConnection,
) -> None:
    """A contact has no company, one primary one, or two with one primary."""
    shapes = _rows(
        db,
        """
        SELECT n, primaries, count(*) FROM (
            SELECT from_id, count(*) AS n,
                count(*) FILTER (WHERE "primary") AS primaries
            FROM associations WHERE from_type = 'contact' GROUP BY from_id)
        GROUP BY ALL ORDER BY ALL
        """,
    )
    with_company = sum(row[2] for row in shapes)

    assert [row[:2] for row in shapes] == [(1, 1), (2, 1)]
    assert 0.6 < with_company / N < 0.95


def test_deals_have_one_primary_company_and_contact(
    db: duckdb.DuckDBPyConnection,
) -> None:
    """A deal has one primary company and 1-3 contacts, one primary."""
    per_deal = _rows(
        db,
        """
        SELECT d.id,
            count(*) FILTER (WHERE a.to_type = 'company' AND a."primary"),
            count(*) FILTER (WHERE a.to_type = 'contact'),
            count(*) FILTER (WHERE a.to_type = 'contact' AND a."primary")
        FROM deals d JOIN associations a
            ON a.from_type = 'deal' AND a.from_id = d.id
        GROUP BY d.id
        """,
    )

    assert len(per_deal) == N // 5
    assert all(row[1] == row[3] == 1 and 1 <= row[2] <= 3 for row in per_deal)


def test_company_domains_are_unique(tmp_path: Path) -> None:
    """More companies than name pairs still get distinct domains."""
    spec = DemoSpec(contacts=10, companies=3000, deals=0, events_per_contact=0)
    report = generate(tmp_path / "demo", spec)
    path = report.out_dir / "data" / "companies.parquet"
    con = duckdb.connect()

    total, distinct = _rows(
        con, f"SELECT count(*), count(DISTINCT domain) FROM '{path}'"
    )[0]

    assert total == distinct == 3000


# ---------------------------------------------------------------- events


def test_events_fall_between_createdate_and_as_of(
    db: duckdb.DuckDBPyConnection,
) -> None:
    """No event is after the as-of time or before its contact was created."""
    late = _value(
        db, f"SELECT count(*) FROM events WHERE occurred_at > '{DEFAULT_AS_OF}'"
    )
    early = _value(
        db,
        """
        SELECT count(*) FROM events e JOIN contacts c ON c.id = e.record_id
        WHERE e.occurred_at < c.createdate
        """,
    )

    assert late == 0
    assert early == 0


def test_orphan_events_are_about_a_tenth_of_a_percent(
    db: duckdb.DuckDBPyConnection,
) -> None:
    """Some events name no contact, about 0.1% of them."""
    orphans, total = _rows(
        db,
        """
        SELECT
            count(*) FILTER (WHERE record_id NOT IN (SELECT id FROM contacts)),
            count(*)
        FROM events
        """,
    )[0]

    assert orphans > 0
    assert 0.0005 < orphans / total < 0.002


def test_activity_is_recent_and_heavy_tailed(
    db: duckdb.DuckDBPyConnection,
) -> None:
    """Most events are recent; many contacts are quiet, a few very busy."""
    recent = _value(
        db,
        f"""
        SELECT avg((occurred_at >= TIMESTAMPTZ '{DEFAULT_AS_OF}' - INTERVAL 90 DAY
            )::INT)
        FROM events
        """,
    )
    quiet, busiest = _rows(
        db,
        """
        SELECT avg((coalesce(n, 0) <= 2)::INT), max(n) FROM contacts c
        LEFT JOIN (SELECT record_id, count(*) AS n FROM events GROUP BY 1) e
            ON e.record_id = c.id
        """,
    )[0]

    assert recent > 0.75
    assert quiet > 0.3
    assert busiest >= 100


def test_event_fields_belong_to_their_types(
    db: duckdb.DuckDBPyConnection,
) -> None:
    """Each event type fills its own fields, with realistic pages and forms."""
    filled = dict(
        _rows(
            db,
            """
            SELECT type, [campaign IS NOT NULL, url IS NOT NULL, form IS NOT NULL,
                page_url IS NOT NULL]
            FROM events GROUP BY ALL HAVING count(*) > 0
            """,
        )
    )
    forms = {row[0] for row in _rows(db, "SELECT DISTINCT form FROM events")}

    assert filled["email_open"] == [True, False, False, False]
    assert filled["email_click"] == [True, True, False, False]
    assert filled["page_view"] == [False, True, False, False]
    assert filled["form_submission"] == [False, False, True, True]
    assert filled["email_reply"] == [False, False, False, False]
    assert "webinar-2026-q4" in forms
    pricing = "SELECT count(*) FROM events WHERE url LIKE '%/pricing'"
    assert _value(db, pricing) > 0


@settings(max_examples=5, deadline=None)
@given(
    seed=st.integers(min_value=0, max_value=2**63 - 1),
    as_of=st.datetimes(
        min_value=dt.datetime(2001, 1, 1),
        max_value=dt.datetime(2090, 1, 1),
        timezones=st.sampled_from([dt.UTC, dt.timezone(-dt.timedelta(hours=5))]),
    ),
)
def test_nothing_happens_after_as_of(seed: int, as_of: dt.datetime) -> None:
    """For any seed and "now", nothing is dated after `as_of`."""
    spec = DemoSpec(contacts=60, seed=seed, as_of=as_of)
    with tempfile.TemporaryDirectory() as folder:
        data = generate(Path(folder) / "demo", spec).out_dir / "data"
        con = duckdb.connect()
        latest = [
            _value(con, f"SELECT max({column}) FROM '{data}/{table}.parquet'")
            for table, column in (
                ("contacts", "createdate"),
                ("contacts", "last_activity_date"),
                ("events", "occurred_at"),
                ("history", "changed_at"),
            )
        ]

    assert all(moment is None or moment <= as_of for moment in latest)


# ------------------------------------------------------- contacts and history


def test_lifecycle_history_leads_to_the_current_stage(
    db: duckdb.DuckDBPyConnection,
) -> None:
    """Stage history holds earlier stages in order and ends at the current one."""
    rows = _rows(
        db,
        """
        SELECT c.id, c.lifecyclestage, c.createdate,
            list(h.value ORDER BY h.changed_at, h.value),
            min(h.changed_at), max(h.changed_at)
        FROM contacts c JOIN history h
            ON h.record_id = c.id AND h.property = 'lifecyclestage'
        GROUP BY ALL
        """,
    )

    assert len(rows) == N
    for _, stage, created, values, first, last in rows:
        positions = [STAGES.index(value) for value in values]
        assert positions == sorted(set(positions))
        assert values[-1] == stage
        assert created <= first <= last <= DEFAULT_AS_OF
    assert any(len(row[3]) > 1 for row in rows)


def test_lead_status_history_ends_at_the_current_value(
    db: duckdb.DuckDBPyConnection,
) -> None:
    """The latest recorded lead status is the contact's current one."""
    mismatched = _value(
        db,
        """
        SELECT count(*) FROM contacts c JOIN (
            SELECT record_id, arg_max(value, changed_at) AS latest FROM history
            WHERE property = 'hs_lead_status' GROUP BY record_id
        ) h ON h.record_id = c.id
        WHERE h.latest IS DISTINCT FROM c.hs_lead_status
        """,
    )
    changed = _value(
        db,
        "SELECT count(DISTINCT record_id) FROM history"
        " WHERE property = 'hs_lead_status'",
    )

    assert mismatched == 0
    assert changed > N * 0.05


def test_emails_are_unique_with_some_unknown_and_invalid(
    db: duckdb.DuckDBPyConnection,
) -> None:
    """Valid-looking emails are unique; some are unknown or invalid."""
    valid = r"^[^@\s]+@[^@\s]+\.[a-z.]+$"
    unknown, invalid, mixed, total, distinct = _rows(
        db,
        f"""
        SELECT count(*) FILTER (WHERE email IS NULL),
            count(*) FILTER (WHERE NOT regexp_matches(lower(email), '{valid}')),
            count(*) FILTER (WHERE email <> lower(email)),
            count(*) FILTER (WHERE regexp_matches(lower(email), '{valid}')),
            count(DISTINCT lower(email)) FILTER (
                WHERE regexp_matches(lower(email), '{valid}'))
        FROM contacts
        """,
    )[0]

    assert unknown > 0
    assert invalid > 0
    assert mixed > 0
    assert total == distinct


def test_contact_values_are_plausible(db: duckdb.DuckDBPyConnection) -> None:
    """Owners, renewals, bounces and stages take the documented values."""
    stats = _rows(
        db,
        f"""
        SELECT count(DISTINCT hubspot_owner_id), max(hubspot_owner_id),
            count(*) FILTER (WHERE renewal_date BETWEEN DATE '{DEFAULT_AS_OF.date()}'
                AND DATE '{DEFAULT_AS_OF.date()}' + 90),
            count(*) FILTER (WHERE hs_email_bad_address),
            count(*) FILTER (WHERE hs_email_hard_bounce_reason IS NOT NULL),
            mode(lifecyclestage), count(*) FILTER (WHERE hs_lead_status IS NULL)
        FROM contacts
        """,
    )[0]
    stages = {
        row[0] for row in _rows(db, "SELECT DISTINCT lifecyclestage FROM contacts")
    }

    assert stats[0] == 20
    assert stats[1] == "owner-20"
    assert stats[2] > 0
    assert stats[3] == stats[4] > 0
    assert stats[5] == "lead"
    assert stats[6] > 0
    assert stages == set(STAGES)


# ---------------------------------------------------------------- formats


def test_csv_writes_sets_with_semicolons_and_instants_in_utc(
    csv_demo: GenerateReport,
) -> None:
    """CSV sets are `;`-joined options and instants are ISO 8601 with a Z."""
    con = duckdb.connect()
    data = csv_demo.out_dir / "data"
    sets = _rows(
        con, f"SELECT interests FROM read_csv('{data}/contacts.csv', all_varchar=true)"
    )
    instants = _rows(
        con, f"SELECT occurred_at FROM read_csv('{data}/events.csv', all_varchar=true)"
    )

    options = {item for (text,) in sets if text for item in text.split(";")}
    assert options == set(INTERESTS)
    assert any(text and ";" in text for (text,) in sets)
    iso = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
    assert all(iso.fullmatch(text) for (text,) in instants)


def test_csv_and_parquet_hold_the_same_records(
    csv_demo: GenerateReport, parquet_demo: GenerateReport
) -> None:
    """Both formats carry the same values in the same order."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for table, columns in FILES.values():
        csv = csv_demo.out_dir / "data" / f"{table}.csv"
        parquet = parquet_demo.out_dir / "data" / f"{table}.parquet"
        as_text = ", ".join(_csv_text(column) for column in columns)
        from_csv = _rows(con, f"SELECT * FROM read_csv('{csv}', all_varchar=true)")
        from_parquet = _rows(con, f"SELECT {as_text} FROM '{parquet}'")
        assert from_csv == from_parquet, table


def _csv_text(column: str) -> str:
    quoted = f'"{column}"'
    if column == "interests":
        return f"array_to_string({quoted}, ';')"
    if column in ("createdate", "last_activity_date", "occurred_at", "changed_at"):
        return f"strftime({quoted}, '%Y-%m-%dT%H:%M:%SZ')"
    return f"{quoted}::VARCHAR"


# ---------------------------------------------------------------- workspace


def test_workspace_checks_and_loads(csv_demo: GenerateReport) -> None:
    """The workspace checks clean and its data loads without warnings."""
    workspace = load_workspace(csv_demo.out_dir)
    result = check_workspace(workspace)
    assert result.diagnostics == ()
    assert result.workspace is not None

    con = duckdb.connect()
    loaded = load_data(con, workspace.settings, result.workspace.schema)

    assert loaded.warnings == ()
    assert loaded.rows["obj_contact"] == N
    assert loaded.orphan_events > 0


def test_settings_name_every_file(csv_demo: GenerateReport) -> None:
    """`seqdsl.toml` names each data file, the zone, calendar and state."""
    text = (csv_demo.out_dir / "seqdsl.toml").read_text(encoding="utf-8")
    config = tomllib.loads(text)

    assert config["workspace"]["timezone"] == "America/New_York"
    weekdays = ["mon", "tue", "wed", "thu", "fri"]
    assert config["workspace"]["business_days"] == weekdays
    assert "2026-12-25" in config["workspace"]["holidays"]
    assert config["state"] == {"path": ".seqdsl/state.duckdb"}
    assert set(config["data"]) == set(FILES)
    paths = [csv_demo.out_dir / path for path in config["data"].values()]
    assert all(path.is_file() for path in paths)


def test_schema_declares_exactly_the_file_columns(
    db: duckdb.DuckDBPyConnection,
) -> None:
    """Objects declare their files' columns; events declare every field."""
    parsed = parse_text(schema_text(), "schema.seq")
    assert parsed.ok
    objects = {
        d.name: d for d in parsed.module.declarations if isinstance(d, ast.ObjectDecl)
    }
    events = [d for d in parsed.module.declarations if isinstance(d, ast.EventDecl)]

    for name, table in (
        ("contact", "contacts"),
        ("company", "companies"),
        ("deal", "deals"),
    ):
        columns = [row[0] for row in _rows(db, f"DESCRIBE {table}")]
        assert columns == ["id", *(p.name for p in objects[name].properties)]
    event_columns = [row[0] for row in _rows(db, "DESCRIBE events")]
    fields = dict.fromkeys(f.name for event in events for f in event.fields)
    assert event_columns == ["record_id", "type", "occurred_at", *fields]
    types = {row[0] for row in _rows(db, "SELECT DISTINCT type FROM events")}
    assert types == {event.name for event in events} | BUILTIN_EVENTS
    assert set(objects) == set(OBJECTS)


def test_refuses_a_folder_that_holds_other_files(tmp_path: Path) -> None:
    """A non-empty folder without the marker is left alone, with an error."""
    keep = tmp_path / "notes.txt"
    keep.write_text("mine")

    with pytest.raises(DemoError, match="not a demo workspace"):
        generate(tmp_path, DemoSpec(contacts=10))

    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    assert keep.read_text() == "mine"


def test_regenerates_an_earlier_demo_workspace(tmp_path: Path) -> None:
    """A demo folder is overwritten, and files of the other format go away."""
    out = tmp_path / "demo"
    generate(out, DemoSpec(contacts=20, format="csv"))
    generate(out, DemoSpec(contacts=20, format="parquet"))

    data = sorted(p.name for p in (out / "data").iterdir())
    assert data == sorted(f"{table}.parquet" for table, _ in FILES.values())
    assert (out / MARKER).is_file()


def test_reports_a_place_it_cannot_write(tmp_path: Path) -> None:
    """A path below a file, or a file, gives a DemoError, not a traceback."""
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")

    with pytest.raises(DemoError, match="cannot write"):
        generate(blocker / "demo", DemoSpec(contacts=10))
    with pytest.raises(DemoError, match="not a folder"):
        generate(blocker, DemoSpec(contacts=10))


def test_holidays_follow_the_workspace_zone() -> None:
    """The calendar takes the holidays of the zone's country, US otherwise."""
    london = settings_text(DemoSpec(timezone="Europe/London"))
    new_york = settings_text(DemoSpec())

    assert '"2026-12-28"' in london  # Boxing Day, moved to a Monday
    assert '"2026-12-28"' not in new_york
    assert '"2027-01-18"' in new_york  # Martin Luther King Jr. Day


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"contacts": 0}, "contacts"),
        ({"companies": -1}, "must not be negative"),
        ({"events_per_contact": -1.0}, "events_per_contact"),
        ({"seed": -5}, "seed"),
        ({"as_of": dt.datetime(2026, 12, 1)}, "time zone"),
        ({"timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"format": "json"}, "format"),
    ],
)
def test_spec_refuses_bad_values(changes: dict[str, Any], message: str) -> None:
    """Impossible specs fail with a DemoError naming the field."""
    with pytest.raises(DemoError, match=message):
        DemoSpec(**changes)


# ---------------------------------------------------------------- rules


def _codes(text: str) -> set[str]:
    """The diagnostic codes of `text` checked against the demo schema."""
    files = [parse_text(schema_text(), "schema.seq"), parse_text(text, "rules.seq")]
    result = check(files, Settings(root=Path.cwd()))
    return {item.code for item in result.diagnostics}


@settings(max_examples=8, deadline=None)
@given(st.integers(min_value=0, max_value=70))
def test_benchmark_rules_check_clean_and_repeat(n_lists: int) -> None:
    """Benchmark lists check without errors, repeat, and refer back."""
    text = benchmark_rules(n_lists)
    names = re.findall(r'^list "([^"]+)"', text, flags=re.MULTILINE)

    assert text == benchmark_rules(n_lists)
    assert len(names) == len(set(names)) == n_lists
    # nothing reads a benchmark list: only its members matter (lint L013)
    assert _codes(text) <= {"L013"}
    assert format_text(text).text == text
    for index, name in enumerate(names):
        body = text.split(f'list "{name}"')[1].split("\n}")[0]
        assert set(re.findall(r'in list "([^"]+)"', body)) <= set(names[:index])


def test_benchmark_rules_mix_the_shapes() -> None:
    """Fifty lists cover events, counts, associations, sets and history."""
    text = benchmark_rules(50)

    for phrase in (
        'had page_view where url contains "/pricing" in last 7 days',
        "at least",
        "any deal where amount > 10000 and dealstage is closedwon",
        "company.numberofemployees >=",
        'in list "Bench',
        "createdate in last",
        "renewal_date in next",
        "interests contains any of",
        "has ever been",
        "\n  or lifecyclestage",
    ):
        assert phrase in text, phrase


def test_demo_rules_check_clean_for_their_quarter() -> None:
    """The demo rules lint clean and name the as-of quarter's webinar."""
    text = demo_rules(dt.datetime(2027, 2, 1, tzinfo=dt.UTC))
    module = parse_text(text).module
    kinds = [type(d).__name__ for d in module.declarations]

    assert _codes(text) == set()
    assert 'form is "webinar-2027-q1"' in text
    assert kinds.count("ListDecl") == 5
    assert kinds.count("WorkflowDecl") == 2
    assert kinds.count("SequenceDecl") == 2


def test_generated_rule_files_are_already_formatted() -> None:
    """`seqdsl fmt` leaves the demo schema and rules unchanged."""
    for text in (schema_text(), demo_rules()):
        assert format_text(text).text == text
