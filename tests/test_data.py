"""Tests for the load stage's data half: data files into typed DuckDB tables."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seqdsl.data import DataError, LoadReport, load_data
from seqdsl.schema import (
    EventSchema,
    Kind,
    ObjectSchema,
    Option,
    Property,
    Schema,
    Type,
)
from seqdsl.workspace import Settings

STRING = Type(Kind.STRING)
LIFECYCLE = Type(
    Kind.ENUM,
    (
        Option("subscriber"),
        Option("lead"),
        Option("marketingqualifiedlead", "Marketing Qualified Lead"),
        Option("customer"),
    ),
    ordered=True,
)
INTERESTS = Type(Kind.SET, (Option("crm", "CRM Tools"), Option("cms"), Option("ops")))


def _object(name: str, *properties: Property) -> ObjectSchema:
    return ObjectSchema(name, {prop.name: prop for prop in properties})


CONTACT = _object(
    "contact",
    Property("email", STRING, label="Email"),
    Property("lifecyclestage", LIFECYCLE, label="Lifecycle Stage"),
    Property("numberofemployees", Type(Kind.NUMBER), label="Number of Employees"),
    Property("interests", INTERESTS),
    Property("createdate", Type(Kind.DATETIME), label="Create Date"),
    Property("renewal_date", Type(Kind.DATE)),
    Property("do_not_contact", Type(Kind.BOOL)),
)
COMPANY = _object("company", Property("name", STRING), Property("domain", STRING))
EVENTS = {
    "page_view": EventSchema("page_view", {"url": Property("url", STRING)}),
    "email_open": EventSchema(
        "email_open", {"opens": Property("opens", Type(Kind.NUMBER))}
    ),
}
SCHEMA = Schema({"contact": CONTACT, "company": COMPANY}, EVENTS)
CONTACTS = "id,email\nc1,a@example.com\nc2,b@example.com\n"


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    yield connection
    connection.close()


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def workspace(root: Path, zone: str = "UTC", **files: str) -> Settings:
    """Write each CSV text to `data/<key>.csv` and name it in the settings."""
    data = {
        key: write(root / "data" / f"{key}.csv", text) for key, text in files.items()
    }
    return Settings(root=root, timezone=zone, data=data)


def load(
    con: duckdb.DuckDBPyConnection,
    root: Path,
    *,
    zone: str = "UTC",
    schema: Schema = SCHEMA,
    needed: Mapping[str, frozenset[str]] | None = None,
    **files: str,
) -> LoadReport:
    return load_data(con, workspace(root, zone, **files), schema, needed)


def failure(con: duckdb.DuckDBPyConnection, root: Path, **files: str) -> DataError:
    with pytest.raises(DataError) as caught:
        load_data(con, workspace(root, **files), SCHEMA)
    return caught.value


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[Any, ...]]:
    return con.execute(sql).fetchall()


def utc(day: date, hour: int = 0, minute: int = 0, micro: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, 0, micro, tzinfo=UTC)


# -- objects from CSV


def test_csv_cells_are_typed_by_the_schema(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """Each property kind is read from text into its DuckDB type."""
    contacts = (
        "id,email,lifecyclestage,numberofemployees,interests,createdate,"
        "renewal_date,do_not_contact\n"
        "c1,a@x.com,LEAD,12.5,ops;crm,2026-01-05T09:30:00Z,2026-02-01,Yes\n"
        "c2,,Marketing Qualified Lead,,,,,0\n"
        "c3,c@x.com,customer,7,CRM Tools; cms ;,2026-01-05,2026-03-01,FALSE\n"
    )
    report = load(con, tmp_path, contacts=contacts)

    assert report.rows["obj_contact"] == 3
    assert rows(con, "SELECT * FROM obj_contact ORDER BY id") == [
        (
            "c1",
            "a@x.com",
            "lead",
            12.5,
            ["crm", "ops"],
            utc(date(2026, 1, 5), 9, 30),
            date(2026, 2, 1),
            True,
        ),
        ("c2", None, "marketingqualifiedlead", None, None, None, None, False),
        (
            "c3",
            "c@x.com",
            "customer",
            7.0,
            ["cms", "crm"],
            utc(date(2026, 1, 5)),
            date(2026, 3, 1),
            False,
        ),
    ]


def test_table_columns_have_the_schema_types(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """`obj_contact` has `id` NOT NULL and one typed column per property."""
    load(con, tmp_path, contacts=CONTACTS)

    described = [(r[0], r[1], r[2]) for r in rows(con, "DESCRIBE obj_contact")]
    assert described == [
        ("id", "VARCHAR", "NO"),
        ("email", "VARCHAR", "YES"),
        ("lifecyclestage", "VARCHAR", "YES"),
        ("numberofemployees", "DOUBLE", "YES"),
        ("interests", "VARCHAR[]", "YES"),
        ("createdate", "TIMESTAMP WITH TIME ZONE", "YES"),
        ("renewal_date", "DATE", "YES"),
        ("do_not_contact", "BOOLEAN", "YES"),
    ]


def test_absent_property_is_a_null_column_with_a_warning(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """A property missing from the file is unknown for every record, and said so."""
    report = load(con, tmp_path, contacts=CONTACTS)

    assert rows(con, "SELECT count(createdate) FROM obj_contact") == [(0,)]
    assert (
        "data/contacts.csv: no column for property `createdate`; "
        "it is unknown for every record"
    ) in report.warnings


def test_hubspot_export_headers_map_by_label(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """`Record ID` is the id and labels (any case) name the properties."""
    contacts = (
        "Record ID,EMAIL,Lifecycle Stage,Create Date,Associated Company,interests\n"
        "101,a@x.com,Lead,2026-01-05 10:00,Acme,cms\n"
    )
    load(con, tmp_path, contacts=contacts)

    assert rows(
        con, "SELECT id, email, lifecyclestage, createdate, interests FROM obj_contact"
    ) == [("101", "a@x.com", "lead", utc(date(2026, 1, 5), 10), ["cms"])]


@pytest.mark.parametrize("header", ["hs_object_id", "Contact ID", "ID"])
def test_id_header_aliases(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, header: str
) -> None:
    """HubSpot's other id headers are read as the record id."""
    load(con, tmp_path, contacts=f"{header},email\n7,a@x.com\n")

    assert rows(con, "SELECT id FROM obj_contact") == [("7",)]


def test_missing_id_column_lists_the_headers(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """A file without an id column names the file and its headers."""
    error = failure(con, tmp_path, contacts="Email,Company ID\na@x.com,1\n")

    assert str(error) == (
        "data/contacts.csv: no id column; expected one of `id`, `Record ID`, "
        "`hs_object_id` or `Contact ID`; the file has `Email`, `Company ID`"
    )


def test_repeated_header_reads_the_first_with_a_warning(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """Headers equal but for case are one name; the first column is read."""
    contacts = "id,Lifecycle Stage,LIFECYCLE STAGE\n1,lead,customer\n"
    report = load(con, tmp_path, contacts=contacts)

    assert rows(con, "SELECT lifecyclestage FROM obj_contact") == [("lead",)]
    assert (
        "data/contacts.csv: more than one column is named `Lifecycle Stage`; "
        "`lifecyclestage` is read from the first"
    ) in report.warnings


def test_needed_limits_the_columns(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """Only the properties the rules read become columns."""
    needed = {"contact": frozenset({"email"})}
    load(con, tmp_path, needed=needed, contacts=CONTACTS)

    assert [r[0] for r in rows(con, "DESCRIBE obj_contact")] == ["id", "email"]
    assert [r[0] for r in rows(con, "DESCRIBE obj_company")] == ["id"]


def test_header_with_quotes_is_quoted_safely(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """Headers and values from files never break out of the SQL."""
    schema = Schema(
        {"contact": _object("contact", Property("note", STRING, label='say "hi"'))}, {}
    )
    contacts = 'id,"say ""hi"""\n1,"x\'); DROP TABLE obj_contact; --"\n'
    load(con, tmp_path, schema=schema, contacts=contacts)

    assert rows(con, "SELECT note FROM obj_contact") == [
        ("x'); DROP TABLE obj_contact; --",)
    ]


def test_objects_without_files_are_empty_tables(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """Declared objects with no data file load as empty typed tables, with a warning."""
    report = load(con, tmp_path, contacts=CONTACTS)

    assert rows(con, "SELECT count(*) FROM obj_company") == [(0,)]
    assert report.rows["obj_company"] == 0
    assert (
        "no data file for `company` ([data] companies); it has no records"
        in report.warnings
    )
    for table in ("associations", "events", "property_history", "list_memberships"):
        assert rows(con, f"SELECT count(*) FROM {table}") == [(0,)]


def test_contacts_are_required(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    """Without a contacts file there is nothing to run on."""
    error = failure(con, tmp_path)

    assert error.message == "[data] names no `contacts` file; it is required"


def test_object_files_by_singular_or_plural_key(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """`companies` and `company` both name the company file; unknown keys warn."""
    report = load(
        con,
        tmp_path,
        contacts=CONTACTS,
        company="id,name\nk1,Acme\n",
        tickets="id\n1\n",
        evnets="record_id,type,occurred_at\n",
    )

    assert rows(con, "SELECT id, name FROM obj_company") == [("k1", "Acme")]
    assert (
        "[data] `tickets` names no object of the schema; its file is not read"
    ) in report.warnings
    assert (
        "[data] `evnets` names no object of the schema; its file is not read; "
        "did you mean `events`?"
    ) in report.warnings


def test_session_time_zone_is_utc(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """Loading pins the connection's time zone to UTC."""
    con.execute("SET TimeZone = 'Asia/Tokyo'")
    load(con, tmp_path, contacts=CONTACTS)

    assert rows(con, "SELECT current_setting('TimeZone')") == [("UTC",)]


# -- instants


def test_datetimes_with_and_without_offsets_across_dst(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """Local times use the workspace zone on both sides of a DST change."""
    cells = {
        "before": "2026-03-07T09:00:00",  # EST, UTC-5
        "dst_day": "2026-03-08 09:00",  # EDT from 02:00 that day, UTC-4
        "midnight": "2026-03-08",  # a bare date is local midnight, still EST
        "offset": "2026-03-08T09:00:00+01:00",
        "zulu": "2026-03-08T09:00:00.250Z",
        "fall_back": "2026-11-01T09:00:00",  # EST again
        "compact": "2026-03-08T09:00:00-0700",
    }
    contacts = "id,createdate\n" + "".join(f"{k},{v}\n" for k, v in cells.items())
    load(con, tmp_path, zone="America/New_York", contacts=contacts)

    found = dict(rows(con, "SELECT id, createdate FROM obj_contact"))
    assert found == {
        "before": utc(date(2026, 3, 7), 14),
        "dst_day": utc(date(2026, 3, 8), 13),
        "midnight": utc(date(2026, 3, 8), 5),
        "offset": utc(date(2026, 3, 8), 8),
        "zulu": utc(date(2026, 3, 8), 9, 0, 250000),
        "fall_back": utc(date(2026, 11, 1), 14),
        "compact": utc(date(2026, 3, 8), 16),
    }


OFFSETS = [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))]
INSTANTS = st.datetimes(
    min_value=datetime(1900, 1, 1),
    max_value=datetime(2200, 1, 1),
    timezones=st.sampled_from(OFFSETS),
)


@settings(max_examples=10, deadline=None)
@given(st.lists(INSTANTS, min_size=1, max_size=30))
def test_any_instant_with_an_offset_loads_exactly(moments: list[datetime]) -> None:
    """ISO 8601 instants with an offset load as the same instants in UTC."""
    contacts = "id,createdate\n" + "".join(
        f"{n},{moment.isoformat()}\n" for n, moment in enumerate(moments)
    )
    with tempfile.TemporaryDirectory() as folder, duckdb.connect() as con:
        load(con, Path(folder), zone="Asia/Kolkata", contacts=contacts)
        loaded = rows(con, "SELECT createdate FROM obj_contact ORDER BY id::INT")

    assert [moment for (moment,) in loaded] == moments


# -- unreadable cells


@pytest.mark.parametrize(
    ("column", "cell", "message"),
    [
        ("createdate", "2026-13-01", "cannot read `2026-13-01` as a datetime"),
        ("createdate", "yesterday", "cannot read `yesterday` as a datetime"),
        (
            "createdate",
            "2026-01-05T10:00:00 Mars/Base",
            "cannot read `2026-01-05T10:00:00 Mars/Base` as a datetime",
        ),
        ("numberofemployees", "12 people", "cannot read `12 people` as a number"),
        (
            "do_not_contact",
            "maybe",
            "cannot read `maybe` as a bool (expected true/false, yes/no or 1/0)",
        ),
        (
            "renewal_date",
            "01/02/2026",
            "cannot read `01/02/2026` as a date (expected YYYY-MM-DD)",
        ),
        (
            "renewal_date",
            "2026-02-30",
            "cannot read `2026-02-30` as a date (expected YYYY-MM-DD)",
        ),
    ],
)
def test_unreadable_cell_names_file_row_column_value(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, column: str, cell: str, message: str
) -> None:
    """The first unreadable cell is reported with its data row and value."""
    contacts = f"id,{column}\nc1,\nc2,\nc3,{cell}\nc4,{cell}\n"
    error = failure(con, tmp_path, contacts=contacts)

    assert (error.file, error.row, error.column, error.value) == (
        Path("data/contacts.csv"),
        3,
        column,
        cell,
    )
    assert str(error).startswith(f"data/contacts.csv:3: column `{column}`: {message}")


def test_unknown_enum_option_lists_the_valid_ones(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """An enum cell that is neither a value nor a label is refused."""
    error = failure(con, tmp_path, contacts="id,lifecyclestage\n1,lead\n2,prospect\n")

    assert str(error) == (
        "data/contacts.csv:2: column `lifecyclestage`: `prospect` is not an option "
        "of `lifecyclestage`; expected one of: subscriber, lead, "
        "marketingqualifiedlead, customer"
    )


def test_unknown_set_option_names_the_item(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """A set cell with one unknown item names that item."""
    error = failure(con, tmp_path, contacts="id,interests\n1,crm;cms\n2,cms;seo;ops\n")

    assert error.row == 2
    assert error.value == "cms;seo;ops"
    assert error.message.startswith("`seo` is not an option of `interests`")


def test_first_failing_row_is_found_in_a_big_file(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """Row numbers stay right when DuckDB reads a file in parallel."""
    lines = [f"c{i},{i}" for i in range(200_000)]
    lines[150_123] = "c150123,many"
    lines[170_000] = "c170000,lots"
    error = failure(con, tmp_path, contacts="id,numberofemployees\n" + "\n".join(lines))

    assert (error.row, error.value) == (150_124, "many")


def test_duplicate_id_names_both_rows(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """A repeated id is refused with the row that had it first."""
    error = failure(con, tmp_path, contacts="id,email\nc1,a\nc2,b\nc3,c\nc2,d\n")

    assert str(error) == (
        "data/contacts.csv:4: column `id`: duplicate id `c2`; row 2 has the same id"
    )


def test_empty_id_is_refused(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    """Every record needs an id."""
    error = failure(con, tmp_path, contacts="Record ID,email\n1,a\n,b\n")

    assert str(error) == (
        "data/contacts.csv:2: column `Record ID`: is empty; every row needs a value"
    )


def test_missing_file_names_the_path(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """A data file that does not exist is named relative to the workspace."""
    settings = Settings(
        root=tmp_path, data={"contacts": tmp_path / "data" / "nope.csv"}
    )

    with pytest.raises(DataError) as caught:
        load_data(con, settings, SCHEMA)

    assert str(caught.value) == "data/nope.csv: file not found"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "contacts.xlsx",
            "id\n1\n",
            "unknown file type; use .csv, .parquet, .jsonl or .ndjson",
        ),
        ("contacts.csv", "", "the file is empty; it needs a header"),
        ("contacts.parquet", "id\n1\n", "cannot read the file"),
    ],
)
def test_unreadable_files_are_data_errors(
    con: duckdb.DuckDBPyConnection,
    tmp_path: Path,
    name: str,
    content: str,
    message: str,
) -> None:
    """Files of the wrong kind are refused with a message, not a traceback."""
    settings = Settings(
        root=tmp_path, data={"contacts": write(tmp_path / name, content)}
    )

    with pytest.raises(DataError) as caught:
        load_data(con, settings, SCHEMA)

    assert caught.value.file == Path(name)
    assert caught.value.message.startswith(message)


def test_ragged_csv_row_is_a_data_error(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """A row with too many cells is refused with DuckDB's line number."""
    lines = ["id,email", *(f"{i},x" for i in range(3000)), "3000,x,extra"]
    error = failure(con, tmp_path, contacts="\n".join(lines) + "\n")

    assert error.message.startswith("cannot read the file: CSV Error on Line: 3002")


def test_file_name_with_glob_characters_is_read_literally(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """Brackets and stars in a file name are not patterns."""
    write(tmp_path / "data" / "contacts1.csv", "id\nwrong\n")
    path = write(tmp_path / "data" / "contacts[1].csv", "id\nright\n")
    load_data(con, Settings(root=tmp_path, data={"contacts": path}), SCHEMA)

    assert rows(con, "SELECT id FROM obj_contact") == [("right",)]


# -- Parquet and JSON Lines


def test_parquet_native_types_are_converted(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """Typed Parquet columns are used as they are, naive timestamps as local time."""
    table = pa.table(
        {
            "hs_object_id": pa.array([1, 2], pa.int64()),
            "numberofemployees": pa.array([3, None], pa.int32()),
            "do_not_contact": pa.array([True, False]),
            "interests": pa.array([["OPS", "crm"], []], pa.list_(pa.string())),
            "createdate": pa.array([datetime(2026, 7, 1, 9), None], pa.timestamp("us")),
            "renewal_date": pa.array([date(2026, 1, 2), None], pa.date32()),
            "Lifecycle Stage": ["Lead", "customer"],
        }
    )
    path = tmp_path / "contacts.parquet"
    pq.write_table(table, path)
    settings = Settings(
        root=tmp_path, timezone="Europe/Berlin", data={"contacts": path}
    )
    load_data(con, settings, SCHEMA)

    assert rows(con, "SELECT * EXCLUDE (email) FROM obj_contact ORDER BY id") == [
        (
            "1",
            "lead",
            3.0,
            ["crm", "ops"],
            utc(date(2026, 7, 1), 7),
            date(2026, 1, 2),
            True,
        ),
        ("2", "customer", None, [], None, None, False),
    ]


def test_parquet_instants_with_zone_are_kept(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """A Parquet timestamp with a zone is already an instant."""
    table = pa.table(
        {
            "record_id": ["c1"],
            "type": ["page_view"],
            "occurred_at": pa.array(
                [datetime(2026, 1, 1, 12, tzinfo=UTC)], pa.timestamp("ms", "UTC")
            ),
            "url": ["/pricing"],
        }
    )
    path = tmp_path / "events.parquet"
    pq.write_table(table, path)
    contacts = write(tmp_path / "contacts.csv", CONTACTS)
    settings = Settings(
        root=tmp_path,
        timezone="Asia/Tokyo",
        data={"contacts": contacts, "events": path},
    )
    load_data(con, settings, SCHEMA)

    assert rows(con, "SELECT record_id, occurred_at, url FROM events") == [
        ("c1", utc(date(2026, 1, 1), 12), "/pricing")
    ]


def test_parquet_error_rows_are_file_rows(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """Errors in a Parquet file count its rows from 1."""
    path = tmp_path / "contacts.parquet"
    pq.write_table(
        pa.table({"id": ["a", "b", "c"], "renewal_date": ["2026-01-01", None, "soon"]}),
        path,
    )

    with pytest.raises(DataError) as caught:
        load_data(con, Settings(root=tmp_path, data={"contacts": path}), SCHEMA)

    assert str(caught.value).startswith(
        "contacts.parquet:3: column `renewal_date`: cannot read `soon`"
    )


def test_json_lines_cells_and_arrays(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """JSON Lines values of any JSON type are read; arrays fill sets."""
    records = [
        {
            "id": 1,
            "interests": ["crm", "OPS"],
            "numberofemployees": 5,
            "do_not_contact": True,
            "createdate": "2026-01-05T10:00:00+02:00",
        },
        {
            "id": "two",
            "interests": "cms;crm",
            "numberofemployees": "7.5",
            "do_not_contact": "no",
            "email": None,
            "renewal_date": "2026-05-01",
        },
    ]
    path = write(
        tmp_path / "contacts.jsonl", "".join(json.dumps(r) + "\n" for r in records)
    )
    load_data(con, Settings(root=tmp_path, data={"contacts": path}), SCHEMA)

    assert rows(
        con,
        "SELECT id, interests, numberofemployees, do_not_contact, createdate, "
        "renewal_date FROM obj_contact",
    ) == [
        ("1", ["crm", "ops"], 5.0, True, utc(date(2026, 1, 5), 8), None),
        ("two", ["cms", "crm"], 7.5, False, None, date(2026, 5, 1)),
    ]


def test_json_lines_error_row(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    """An unreadable JSON Lines value is reported with its line."""
    path = write(
        tmp_path / "c.ndjson", '{"id": 1}\n{"id": 2, "numberofemployees": "many"}\n'
    )

    with pytest.raises(DataError) as caught:
        load_data(con, Settings(root=tmp_path, data={"contacts": path}), SCHEMA)

    assert (caught.value.row, caught.value.value) == (2, "many")


# -- events


EVENTS_CSV = (
    "record_id,type,occurred_at,url,opens,extra\n"
    "c1,page_view,2026-01-05T10:00:00Z,/pricing,,x\n"
    "c2,email_open,2026-01-05 11:00,,3,\n"
    "c1,webinar,2026-01-05T12:00:00Z,,,\n"
    "ghost,page_view,2026-01-06T10:00:00Z,/,,\n"
    "c1,email_reply,2026-01-07T10:00:00Z,,,\n"
    "ghost,email_open,2026-01-08T10:00:00Z,,1,\n"
    "k1,page_view,2026-01-09T10:00:00Z,/careers,,\n"
)


def test_events_load_with_typed_fields(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """Events get a typed column per declared field of any event type."""
    report = load(
        con, tmp_path, contacts=CONTACTS, companies="id\nk1\n", events=EVENTS_CSV
    )

    assert report.rows["events"] == 6
    assert [r[:2] for r in rows(con, "DESCRIBE events")] == [
        ("record_id", "VARCHAR"),
        ("type", "VARCHAR"),
        ("occurred_at", "TIMESTAMP WITH TIME ZONE"),
        ("task", "VARCHAR"),
        ("url", "VARCHAR"),
        ("opens", "DOUBLE"),
    ]
    assert rows(con, "SELECT record_id, type, occurred_at, url, opens FROM events")[
        :2
    ] == [
        ("c1", "page_view", utc(date(2026, 1, 5), 10), "/pricing", None),
        ("c2", "email_open", utc(date(2026, 1, 5), 11), None, 3.0),
    ]


def test_undeclared_event_types_are_skipped_with_a_warning(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """Events of types the schema does not know are counted and left out."""
    report = load(con, tmp_path, contacts=CONTACTS, events=EVENTS_CSV)

    assert rows(con, "SELECT count(*) FROM events WHERE type = 'webinar'") == [(0,)]
    assert (
        "data/events.csv: skipped 1 events of undeclared types: `webinar` (1)"
        in report.warnings
    )


def test_orphan_events_are_counted_not_fatal(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """Events of unknown records are counted with examples in file order."""
    report = load(
        con, tmp_path, contacts=CONTACTS, companies="id\nk1\n", events=EVENTS_CSV
    )

    assert (report.orphan_events, report.orphan_examples) == (2, ("ghost",))


def test_orphan_examples_are_the_first_five_in_file_order(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """At most five orphan record ids are kept as examples, first seen first."""
    ghosts = ["z", "y", "c1", "x", "w", "y", "v", "u"]
    events = "record_id,type,occurred_at\n" + "".join(
        f"{ghost},page_view,2026-01-05\n" for ghost in ghosts
    )
    report = load(con, tmp_path, contacts=CONTACTS, events=events)

    assert report.orphan_events == 7
    assert report.orphan_examples == ("z", "y", "x", "w", "v")
    assert report.rows["events"] == 8


def test_event_without_time_is_refused(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """`occurred_at` is required on every event."""
    events = "record_id,type,occurred_at\nc1,page_view,2026-01-05\nc1,page_view,\n"
    error = failure(con, tmp_path, contacts=CONTACTS, events=events)

    assert str(error) == (
        "data/events.csv:2: column `occurred_at`: is empty; every row needs a value"
    )


def test_events_file_needs_its_columns(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """A missing fixed column is named with the headers the file has."""
    error = failure(con, tmp_path, contacts=CONTACTS, events="record_id,kind,at\n")

    assert (
        str(error)
        == "data/events.csv: no `type` column; the file has `record_id`, `kind`, `at`"
    )


def test_event_field_with_two_types_is_refused(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """One field name must have one type across event types."""
    events = {
        "a": EventSchema("a", {"n": Property("n", STRING)}),
        "b": EventSchema("b", {"n": Property("n", Type(Kind.NUMBER))}),
    }
    with pytest.raises(DataError) as caught:
        load(
            con,
            tmp_path,
            schema=Schema({"contact": CONTACT}, events),
            contacts=CONTACTS,
        )

    assert str(caught.value) == (
        "event field `n` is string in `a` but number in `b`; "
        "one field name needs one type across events"
    )


# -- associations, history, memberships


def test_associations_canonicalise_types_and_default_primary(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """Object types may be plural; `primary` defaults to false."""
    associations = (
        "from_type,from_id,to_type,to_id,primary\n"
        "contacts,c1,Company,k1,true\n"
        "contact,c2,companies,k1,\n"
    )
    load(con, tmp_path, contacts=CONTACTS, associations=associations)

    assert rows(con, "SELECT * FROM associations") == [
        ("contact", "c1", "company", "k1", True),
        ("contact", "c2", "company", "k1", False),
    ]


def test_association_with_unknown_object_type_is_refused(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """An association type must be a declared object."""
    associations = "from_type,from_id,to_type,to_id\ncontact,c1,ticket,t1\n"
    error = failure(con, tmp_path, contacts=CONTACTS, associations=associations)

    assert str(error) == (
        "data/associations.csv:1: column `to_type`: `ticket` is not an option of "
        "`to_type`; expected one of: company, contact"
    )


HISTORY_HEADER = "object_type,record_id,property,value,changed_at\n"


def test_history_values_are_canonical_options(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """Enum and set values in history are stored as option values."""
    history = HISTORY_HEADER + (
        "contact,c1,lifecyclestage,Marketing Qualified Lead,2026-01-05T10:00:00Z\n"
        "contacts,c1,interests,OPS;CRM Tools,2026-01-06T10:00:00Z\n"
        "contact,c1,email,New@X.com,2026-01-07T10:00:00Z\n"
        "contact,c1,lifecyclestage,,2026-01-08T10:00:00Z\n"
    )
    load(con, tmp_path, contacts=CONTACTS, property_history=history)

    assert rows(
        con, "SELECT object_type, property, value, changed_at FROM property_history"
    ) == [
        (
            "contact",
            "lifecyclestage",
            "marketingqualifiedlead",
            utc(date(2026, 1, 5), 10),
        ),
        ("contact", "interests", "crm;ops", utc(date(2026, 1, 6), 10)),
        ("contact", "email", "New@X.com", utc(date(2026, 1, 7), 10)),
        ("contact", "lifecyclestage", None, utc(date(2026, 1, 8), 10)),
    ]


def test_history_with_unknown_option_is_refused(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """A history value that is no option of its property is refused."""
    history = HISTORY_HEADER + (
        "contact,c1,email,whatever,2026-01-05T10:00:00Z\n"
        "contact,c1,lifecyclestage,prospect,2026-01-05T10:00:00Z\n"
    )
    error = failure(con, tmp_path, contacts=CONTACTS, property_history=history)

    assert str(error).startswith(
        "data/property_history.csv:2: column `value`: `prospect` is not an option "
        "of `contact.lifecyclestage`; expected one of: subscriber, lead"
    )


def test_history_of_undeclared_properties_is_skipped(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """Changes to undeclared properties are left out, with a warning."""
    history = HISTORY_HEADER + (
        "contact,c1,hs_analytics_source,ORGANIC,2026-01-05T10:00:00Z\n"
        "contact,c1,email,a@x.com,2026-01-05T10:00:00Z\n"
    )
    report = load(con, tmp_path, contacts=CONTACTS, property_history=history)

    assert rows(con, "SELECT property FROM property_history") == [("email",)]
    assert (
        "data/property_history.csv: skipped 1 changes of undeclared properties: "
        "`contact.hs_analytics_source` (1)"
    ) in report.warnings


def test_list_memberships_load(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    """Manual list memberships are list name and record id."""
    memberships = "list,record_id\nVIP customers,c1\nVIP customers,c2\n"
    report = load(con, tmp_path, contacts=CONTACTS, list_memberships=memberships)

    assert report.rows["list_memberships"] == 2
    assert rows(con, "SELECT * FROM list_memberships ORDER BY record_id") == [
        ("VIP customers", "c1"),
        ("VIP customers", "c2"),
    ]


def test_failed_load_leaves_no_staging_tables(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """The text copies of the files are dropped even when loading fails."""
    failure(con, tmp_path, contacts="id,numberofemployees\n1,many\n")

    tables = rows(con, "SELECT table_name FROM duckdb_tables() WHERE temporary")
    assert [name for (name,) in tables if name.startswith("_seqdsl")] == []
    assert tables != []


def test_reloading_replaces_the_tables(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """Loading twice into one connection leaves the second load's data."""
    load(con, tmp_path, contacts=CONTACTS)
    load(con, tmp_path, contacts="id\nonly\n")

    assert rows(con, "SELECT id FROM obj_contact") == [("only",)]
    assert [r[0] for r in rows(con, "SHOW TABLES") if r[0].startswith("_seqdsl")] == []
