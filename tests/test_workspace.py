"""Tests for the load stage's workspace half: `seqdsl.toml` and rule file discovery."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from seqdsl.workspace import (
    WEEKDAYS,
    Settings,
    WorkspaceError,
    find_root,
    load_sources_only,
    load_workspace,
)

FULL = """\
[workspace]
timezone = "America/New_York"
business_days = ["Mon", "tuesday", "wed", "thu", "fri"]
holidays = ["2026-12-25", 2027-01-01]
holiday_country = "us"
engine = "reference"

[data]
contacts = "data/contacts.csv"
events = "data/events.parquet"
tickets = "data/tickets.jsonl"

[state]
path = "state/run.duckdb"

[lint]
ignore = ["W001"]
"""


def write_toml(root: Path, text: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    path = root / "seqdsl.toml"
    path.write_text(text, encoding="utf-8")
    return path


def error_of(root: Path, text: str) -> WorkspaceError:
    write_toml(root, text)
    with pytest.raises(WorkspaceError) as caught:
        load_workspace(root)
    return caught.value


def test_full_settings_are_read_and_normalised(tmp_path: Path) -> None:
    """Every documented key is read; days, dates and country are normalised."""
    write_toml(tmp_path, FULL)
    settings = load_workspace(tmp_path).settings

    root = tmp_path.resolve()
    assert settings.root == root
    assert settings.timezone == "America/New_York"
    assert settings.business_days == ("mon", "tue", "wed", "thu", "fri")
    assert settings.holidays == (date(2026, 12, 25), date(2027, 1, 1))
    assert settings.holiday_country == "US"
    assert settings.engine == "reference"
    assert dict(settings.data) == {
        "contacts": root / "data/contacts.csv",
        "events": root / "data/events.parquet",
        "tickets": root / "data/tickets.jsonl",
    }
    assert settings.state_path == root / "state/run.duckdb"
    assert settings.lint == {"ignore": ["W001"]}
    assert settings.raw["workspace"]["engine"] == "reference"


def test_empty_toml_gives_the_defaults(tmp_path: Path) -> None:
    """An empty `seqdsl.toml` means UTC, Monday to Friday, DuckDB, no data."""
    write_toml(tmp_path, "")
    settings = load_workspace(tmp_path).settings

    assert settings == Settings(root=tmp_path)
    assert settings.timezone == "UTC"
    assert settings.business_days == WEEKDAYS[:5]
    assert settings.state_path == tmp_path.resolve() / ".seqdsl" / "state.duckdb"
    assert settings.engine == "duckdb"
    assert settings.data == {}


def test_the_toml_file_itself_can_be_given(tmp_path: Path) -> None:
    """`load_workspace` accepts the path of `seqdsl.toml` as well as its folder."""
    config = write_toml(tmp_path, '[workspace]\ntimezone = "Europe/Paris"\n')

    assert load_workspace(config).settings.timezone == "Europe/Paris"


def test_missing_toml_is_an_error_naming_it(tmp_path: Path) -> None:
    """A folder without `seqdsl.toml` is refused with the path that was looked for."""
    with pytest.raises(WorkspaceError) as caught:
        load_workspace(tmp_path)

    assert caught.value.path == tmp_path.resolve() / "seqdsl.toml"
    assert "no `seqdsl.toml`" in str(caught.value)


def test_toml_syntax_error_has_line_and_column(tmp_path: Path) -> None:
    """tomllib's position is lifted into the error's line and column."""
    error = error_of(tmp_path, '[workspace]\ntimezone = "UTC"\nengine = duckdb\n')

    assert (error.line, error.col) == (3, 10)
    assert str(error).endswith("seqdsl.toml:3:10: invalid toml: invalid value")


def test_toml_error_at_end_of_file_points_at_last_line(tmp_path: Path) -> None:
    """An error tomllib reports at the end of the document gets the last line."""
    error = error_of(tmp_path, "[workspace]\ntimezone = ")

    assert error.line == 2
    assert "at the end of the file" in error.message


def test_unknown_key_suggests_the_near_one(tmp_path: Path) -> None:
    """A misspelt key is refused at its line with a did-you-mean hint."""
    error = error_of(tmp_path, '[workspace]\n\n  timezon = "UTC"\n')

    assert error.message == "unknown key `timezon` in [workspace]"
    assert error.hint == "did you mean `timezone`?"
    assert (error.line, error.col) == (3, 3)


def test_unknown_table_suggests_the_near_one(tmp_path: Path) -> None:
    """A misspelt table name is located at its header."""
    error = error_of(tmp_path, '[data]\ncontacts = "c.csv"\n[workspce]\n')

    assert error.message == "unknown key `workspce` at the top level"
    assert error.hint == "did you mean `workspace`?"
    assert error.line == 3


def test_unknown_state_key_is_refused(tmp_path: Path) -> None:
    """[state] only knows `path`."""
    error = error_of(tmp_path, '[state]\nfile = "s.duckdb"\n')

    assert error.message == "unknown key `file` in [state]"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[workspace]\ntimezone = 5\n",
            "`timezone` in [workspace] must be a string, not an integer",
        ),
        (
            '[workspace]\nbusiness_days = "mon"\n',
            "`business_days` in [workspace] must be an array, not a string",
        ),
        (
            "[data]\ncontacts = true\n",
            "`contacts` in [data] must be a string, not a boolean",
        ),
        ('data = "x"\n', "`data` must be a table (`[data]`)"),
    ],
)
def test_wrong_value_types_name_both_types(
    tmp_path: Path, text: str, message: str
) -> None:
    """A value of the wrong toml type says what was expected and what was found."""
    error = error_of(tmp_path, text)

    assert error.message == message
    assert error.line is not None


def test_bad_time_zone_suggests_a_real_one(tmp_path: Path) -> None:
    """An unknown IANA zone is refused with the closest real name."""
    error = error_of(tmp_path, '[workspace]\ntimezone = "America/New_Yrok"\n')

    assert error.message == "unknown time zone `America/New_Yrok`"
    assert error.hint == "did you mean `America/New_York`?"
    assert error.line == 2


@pytest.mark.parametrize(
    ("days", "message"),
    [
        ('["mon", "funday"]', "`funday` is not a day of the week"),
        ('["mon", "monday"]', "`monday` is listed twice"),
        ("[]", "`business_days` must name at least one day"),
    ],
)
def test_bad_business_days_are_refused(tmp_path: Path, days: str, message: str) -> None:
    """Business days must be distinct week days, at least one."""
    error = error_of(tmp_path, f"[workspace]\nbusiness_days = {days}\n")

    assert error.message == message


@given(
    st.lists(st.sampled_from(WEEKDAYS), min_size=1, max_size=7, unique=True),
    st.booleans(),
)
def test_business_days_come_back_in_week_order(days: list[str], upper: bool) -> None:
    """Any non-empty set of days, in any order and case, is kept in week order."""
    import tempfile

    listed = ", ".join(f'"{day.upper() if upper else day}"' for day in days)
    with tempfile.TemporaryDirectory() as folder:
        write_toml(Path(folder), f"[workspace]\nbusiness_days = [{listed}]\n")
        settings = load_workspace(Path(folder)).settings

    assert settings.business_days == tuple(d for d in WEEKDAYS if d in days)


def test_bad_holiday_is_refused(tmp_path: Path) -> None:
    """A holiday that is not a date is refused with the expected format."""
    error = error_of(tmp_path, '[workspace]\nholidays = ["2026-13-01"]\n')

    assert error.message == "holiday `2026-13-01` is not a date"
    assert error.hint == "write dates as YYYY-MM-DD"


def test_unknown_holiday_country_is_refused(tmp_path: Path) -> None:
    """The holiday country must be one the holiday library knows."""
    error = error_of(tmp_path, '[workspace]\nholiday_country = "XX"\n')

    assert error.message == "`XX` is not a country the holiday calendar knows"


def test_unknown_engine_suggests_the_near_one(tmp_path: Path) -> None:
    """Only `duckdb` and `reference` are engines."""
    error = error_of(tmp_path, '[workspace]\nengine = "duckbd"\n')

    assert error.message.startswith("unknown engine `duckbd`")
    assert error.hint == "did you mean `duckdb`?"


def test_data_key_must_be_a_name(tmp_path: Path) -> None:
    """Keys of [data] other than the documented ones must be object names."""
    error = error_of(tmp_path, '[data]\n"my file" = "x.csv"\n')

    assert error.message == "unknown key `my file` in [data]"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("../outside.csv", "`contacts` path `../outside.csv` uses `..`"),
        (
            "data/../../outside.csv",
            "`contacts` path `data/../../outside.csv` uses `..`",
        ),
        ("/etc/passwd", "`contacts` path `/etc/passwd` is outside the workspace"),
        ("", "`contacts` in [data] is an empty path"),
    ],
)
def test_data_paths_never_leave_the_workspace(
    tmp_path: Path, value: str, message: str
) -> None:
    """`..`, absolute paths elsewhere and empty paths are refused."""
    error = error_of(tmp_path / "ws", f'[data]\ncontacts = "{value}"\n')

    assert error.message == message
    assert error.line == 2


def test_absolute_path_inside_the_workspace_is_allowed(tmp_path: Path) -> None:
    """An absolute path is fine as long as it points into the workspace."""
    inside = tmp_path.resolve() / "data" / "contacts.csv"
    write_toml(tmp_path, f'[data]\ncontacts = "{inside}"\n')

    assert load_workspace(tmp_path).settings.data["contacts"] == inside


def test_symlink_escaping_the_workspace_is_refused(tmp_path: Path) -> None:
    """A data path through a link that leads outside the workspace is refused."""
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "ws"
    root.mkdir()
    (root / "data").symlink_to(outside, target_is_directory=True)

    error = error_of(root, '[data]\ncontacts = "data/contacts.csv"\n')

    assert (
        error.message == "`contacts` path `data/contacts.csv` is outside the workspace"
    )


def test_state_path_outside_is_refused(tmp_path: Path) -> None:
    """The state file must live inside the workspace too."""
    error = error_of(tmp_path / "ws", '[state]\npath = "/tmp/state.duckdb"\n')

    assert error.message == "`path` path `/tmp/state.duckdb` is outside the workspace"


def test_settings_refuse_outside_paths_when_built_directly(tmp_path: Path) -> None:
    """Settings built in code keep the same promise as the toml reader."""
    root = tmp_path / "ws"
    root.mkdir()

    with pytest.raises(WorkspaceError, match="outside the workspace"):
        Settings(root=root, data={"contacts": tmp_path / "contacts.csv"})
    with pytest.raises(WorkspaceError, match="outside the workspace"):
        Settings(root=root, state_path=tmp_path / "state.duckdb")


def test_settings_are_frozen(tmp_path: Path) -> None:
    """Settings cannot be changed after loading."""
    settings = Settings(root=tmp_path)

    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        settings.timezone = "Europe/Paris"  # type: ignore[misc]


def test_sources_are_sorted_and_skip_hidden_folders(tmp_path: Path) -> None:
    """Rule files are every `*.seq` below the root except in hidden folders."""
    write_toml(tmp_path, "")
    for name in ("rules/b.seq", "a.seq", "rules/deep/c.seq", ".seqdsl/x.seq"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git/y.seq").write_text("")
    (tmp_path / ".hidden.seq").write_text("")
    (tmp_path / "notes.txt").write_text("")

    sources = load_workspace(tmp_path).sources

    root = tmp_path.resolve()
    assert sources == (root / "a.seq", root / "rules/b.seq", root / "rules/deep/c.seq")


def test_rule_file_linking_outside_is_refused(tmp_path: Path) -> None:
    """A `.seq` link to a file outside the workspace is refused."""
    (tmp_path / "elsewhere.seq").write_text("")
    root = tmp_path / "ws"
    write_toml(root, "")
    (root / "linked.seq").symlink_to(tmp_path / "elsewhere.seq")

    with pytest.raises(WorkspaceError, match="outside the workspace"):
        load_workspace(root)


def test_find_root_walks_up_to_the_toml(tmp_path: Path) -> None:
    """The root is the nearest folder above the start that holds `seqdsl.toml`."""
    write_toml(tmp_path, "")
    deep = tmp_path / "rules" / "deep"
    deep.mkdir(parents=True)
    (deep / "x.seq").write_text("")

    assert find_root(deep) == tmp_path.resolve()
    assert find_root(deep / "x.seq") == tmp_path.resolve()


def test_find_root_without_toml_is_an_error(tmp_path: Path) -> None:
    """Walking up without finding `seqdsl.toml` ends in a WorkspaceError."""
    if any((p / "seqdsl.toml").exists() for p in tmp_path.parents):
        pytest.skip("a seqdsl.toml above the temporary folder")

    with pytest.raises(WorkspaceError, match=r"no `seqdsl\.toml` here"):
        find_root(tmp_path)


def test_sources_only_uses_the_common_parent_as_root(tmp_path: Path) -> None:
    """Loose files and folders are checkable with default settings."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b" / "sub").mkdir(parents=True)
    (tmp_path / "a" / "one.seq").write_text("")
    (tmp_path / "b" / "sub" / "two.seq").write_text("")
    (tmp_path / "b" / "three.seq").write_text("")

    workspace = load_sources_only([tmp_path / "a" / "one.seq", tmp_path / "b"])

    root = tmp_path.resolve()
    assert workspace.settings == Settings(root=root)
    assert workspace.sources == (
        root / "a/one.seq",
        root / "b/sub/two.seq",
        root / "b/three.seq",
    )


def test_sources_only_refuses_missing_paths(tmp_path: Path) -> None:
    """A path that does not exist is named in the error."""
    with pytest.raises(WorkspaceError, match="no such file or folder"):
        load_sources_only([tmp_path / "missing.seq"])
    with pytest.raises(WorkspaceError, match="no rule files"):
        load_sources_only([])
