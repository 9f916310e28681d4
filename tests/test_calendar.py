"""Tests for the calendar: zones, DST, business days, windows and parsing."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pendulum
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from seqdsl.calendar import (
    Calendar,
    CalendarError,
    DayRule,
    HolidayRegion,
    TimeWindow,
    parse_instant,
)

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
OFFICE_HOURS = TimeWindow(dt.time(8), dt.time(18))
_EVERY = DayRule.EVERY_DAY


def ny(*fields: int, fold: int = 0) -> dt.datetime:
    """A New York clock time from (year, month, day[, hour[, minute]])."""
    return _at(fields, NEW_YORK).replace(fold=fold)


def berlin(*fields: int) -> dt.datetime:
    return _at(fields, BERLIN)


def utc(*fields: int) -> dt.datetime:
    return _at(fields, dt.UTC)


def _at(fields: tuple[int, ...], zone: dt.tzinfo) -> dt.datetime:
    year, month, day, hour, minute = (*fields, 0, 0)[:5]
    return dt.datetime(year, month, day, hour, minute, tzinfo=zone)


@pytest.fixture
def calendar() -> Calendar:
    holidays = ["2026-12-25", "2027-01-01"]
    return Calendar.build("America/New_York", holidays=holidays)


# --- DST in New York: 2026-03-08 02:00 -> 03:00, 2026-11-01 02:00 -> 01:00


def test_time_in_spring_gap_resolves_to_gap_end(calendar: Calendar) -> None:
    """A local time the clocks skip resolves to the instant they jump."""
    found = calendar.at_local_time(dt.date(2026, 3, 8), dt.time(2, 30))
    assert found == ny(2026, 3, 8, 3, 0)


def test_window_starting_in_gap_opens_at_gap_end(calendar: Calendar) -> None:
    """A 02:30 window start opens at 03:00 when clocks jump 02:00 -> 03:00."""
    window = TimeWindow(dt.time(2, 30), dt.time(4))
    found = calendar.next_opening(ny(2026, 3, 8, 1, 50), window, _EVERY)
    assert found == ny(2026, 3, 8, 3, 0)


def test_window_inside_spring_gap_skips_the_day(calendar: Calendar) -> None:
    """A window the clocks skip entirely does not open that day."""
    window = TimeWindow(dt.time(2, 5), dt.time(2, 45))
    found = calendar.next_opening(ny(2026, 3, 8, 0, 0), window, _EVERY)
    assert found == ny(2026, 3, 9, 2, 5)


def test_fall_back_resolves_repeated_time_to_first(calendar: Calendar) -> None:
    """A local time that occurs twice resolves to its first occurrence."""
    found = calendar.at_local_time(dt.date(2026, 11, 1), dt.time(1, 30))
    assert found == utc(2026, 11, 1, 5, 30)


def test_window_reopens_in_repeated_fall_back_hour(calendar: Calendar) -> None:
    """After a window closes, the repeated hour shows its clock times again."""
    window = TimeWindow(dt.time(1), dt.time(1, 30))
    after_close = ny(2026, 11, 1, 1, 45)
    found = calendar.next_opening(after_close, window, DayRule.EVERY_DAY)
    # compared in UTC: Python never equates a repeated local time across zones
    assert found == utc(2026, 11, 1, 6, 0)
    local = found.astimezone(NEW_YORK)
    assert (local.hour, local.minute, local.fold) == (1, 0, 1)


def test_fall_back_day_is_25_hours_long(calendar: Calendar) -> None:
    """Start of day is local midnight, so the fall-back day lasts 25 hours."""
    day = dt.date(2026, 11, 1)
    start = calendar.start_of_day(day)
    length = calendar.start_of_day(day + dt.timedelta(days=1)) - start
    assert length == dt.timedelta(hours=25)


def test_add_days_keeps_clock_over_spring_forward(calendar: Calendar) -> None:
    """One day after 09:00 is 09:00 the next day, only 23 hours later."""
    found = calendar.add(ny(2026, 3, 7, 9, 0), 1, "days")
    assert found == ny(2026, 3, 8, 9, 0)
    assert found - ny(2026, 3, 7, 9, 0) == dt.timedelta(hours=23)


def test_add_hours_is_elapsed_time_over_fall_back(calendar: Calendar) -> None:
    """Hours are elapsed time, so 24 hours lands an hour earlier by the clock."""
    found = calendar.add(ny(2026, 10, 31, 9, 0), 24, "hours")
    assert found == ny(2026, 11, 1, 8, 0)


# --- DST in Berlin: 2026-03-29 02:00 -> 03:00, 2026-10-25 03:00 -> 02:00


def test_berlin_add_week_keeps_wall_clock_over_both_changes() -> None:
    """Weeks keep the local clock time in the contact's zone across DST."""
    calendar = Calendar.build("America/New_York")
    zone = "Europe/Berlin"
    spring = calendar.add(berlin(2026, 3, 25, 9, 0), 1, "weeks", zone)
    autumn = calendar.add(berlin(2026, 10, 21, 9, 0), 1, "weeks", zone)
    assert spring == berlin(2026, 4, 1, 9, 0) == utc(2026, 4, 1, 7, 0)
    assert autumn == berlin(2026, 10, 28, 9, 0) == utc(2026, 10, 28, 8, 0)


def test_berlin_spring_gap_and_fall_back_window() -> None:
    """Berlin's 02:00-03:00 gap and repeated 02:00-03:00 hour are handled."""
    calendar = Calendar.build("Europe/Berlin")
    window = TimeWindow(dt.time(2, 15), dt.time(2, 45))
    spring = calendar.next_opening(berlin(2026, 3, 29), window, _EVERY)
    first = calendar.next_opening(berlin(2026, 10, 25), window, _EVERY)
    later = first + dt.timedelta(minutes=30)
    second = calendar.next_opening(later, window, _EVERY)
    assert spring == berlin(2026, 3, 30, 2, 15)
    assert first == utc(2026, 10, 25, 0, 15)
    assert second == utc(2026, 10, 25, 1, 15)


# --- business days and holidays


def test_holiday_is_not_a_business_day(calendar: Calendar) -> None:
    """Explicit holidays and non-business weekdays are not business days."""
    assert not calendar.is_business_day(dt.date(2026, 12, 25))
    assert not calendar.is_business_day(dt.date(2026, 12, 26))
    assert calendar.is_business_day(dt.date(2026, 12, 24))


def test_day_rules_differ_on_holidays(calendar: Calendar) -> None:
    """Weekdays ignore holidays, business days skip them, every day is open."""
    christmas, saturday = dt.date(2026, 12, 25), dt.date(2026, 12, 26)
    assert calendar.allows(christmas, DayRule.WEEKDAYS)
    assert not calendar.allows(christmas, DayRule.BUSINESS_DAYS)
    assert not calendar.allows(saturday, DayRule.WEEKDAYS)
    assert calendar.allows(saturday, DayRule.EVERY_DAY)


def test_business_day_window_skips_holiday(calendar: Calendar) -> None:
    """A send due on Christmas Eve evening waits for Monday the 28th."""
    found = calendar.next_opening(
        ny(2026, 12, 24, 19, 0), OFFICE_HOURS, DayRule.BUSINESS_DAYS
    )
    assert found == ny(2026, 12, 28, 8, 0)


def test_add_business_days_over_holiday(calendar: Calendar) -> None:
    """One business day after Thursday before Christmas is the next Monday."""
    found = calendar.add(ny(2026, 12, 24, 10, 30), 1, "business_days")
    assert found == ny(2026, 12, 28, 10, 30)


def test_business_days_from_weekend_and_backward(calendar: Calendar) -> None:
    """From a Saturday the first counted day is Monday; negative goes back."""
    saturday = ny(2026, 12, 5, 11, 0)
    assert calendar.add(saturday, 1, "business_days") == ny(2026, 12, 7, 11, 0)
    assert calendar.add(saturday, 2, "business day") == ny(2026, 12, 8, 11, 0)
    assert calendar.add(saturday, -1, "business_days") == ny(2026, 12, 4, 11, 0)
    assert calendar.add(saturday, 0, "business_days") == saturday


def test_custom_business_days() -> None:
    """Business days come from the settings, e.g. a Sunday-Thursday week."""
    week = ["sun", "Mon", "tue", "wed", "thu"]
    calendar = Calendar.build("Asia/Jerusalem", week)
    assert calendar.is_business_day(dt.date(2026, 12, 6))
    assert not calendar.is_business_day(dt.date(2026, 12, 4))
    assert calendar.allows(dt.date(2026, 12, 4), DayRule.WEEKDAYS)


def test_holiday_country_is_looked_up_lazily() -> None:
    """Without `years`, a country's holidays apply in any year."""
    calendar = Calendar.build("America/New_York", holiday_country="US")
    assert not calendar.is_business_day(dt.date(2026, 7, 3))
    assert not calendar.is_business_day(dt.date(2031, 11, 27))
    assert calendar.is_business_day(dt.date(2026, 7, 2))
    assert dt.date(2026, 11, 26) in calendar.holiday_dates(range(2026, 2027))


def test_holiday_country_merges_for_given_years() -> None:
    """With `years`, the country's holidays for those years join the others."""
    calendar = Calendar.build(
        "Europe/Berlin",
        holidays=["2026-12-24"],
        holiday_country="de",
        years=range(2026, 2027),
    )
    assert calendar.region is None
    assert {dt.date(2026, 5, 1), dt.date(2026, 12, 24)} <= calendar.holidays
    assert not calendar.is_business_day(dt.date(2026, 5, 1))
    assert calendar.is_business_day(dt.date(2027, 5, 3))


def test_holiday_subdivision() -> None:
    """`GB-ENG` has Easter Monday as a holiday, `GB-SCT` does not."""
    england = Calendar.build("Europe/London", holiday_country="GB-ENG")
    scotland = Calendar.build("Europe/London", holiday_country="GB-SCT")
    assert not england.is_business_day(dt.date(2026, 4, 6))
    assert scotland.is_business_day(dt.date(2026, 4, 6))


def test_build_looks_up_no_holidays_until_asked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Build only validates the country; a year's holidays load when first asked."""
    asked: list[int] = []
    looked_up = HolidayRegion.dates

    def counting(region: HolidayRegion, year: int) -> frozenset[dt.date]:
        asked.append(year)
        return looked_up(region, year)

    monkeypatch.setattr(HolidayRegion, "dates", counting)
    calendar = Calendar.build("America/Chicago", ["mon", "tue"], ["2026-12-24"], "CA")
    assert len(asked) == 1  # the one probe that validates `CA`
    assert not calendar.is_business_day(dt.date(2029, 12, 25))  # a Tuesday
    assert calendar.is_business_day(dt.date(2029, 12, 18))
    assert set(asked[1:]) == {2029}


# --- send windows


def test_friday_evening_send_lands_monday_morning(calendar: Calendar) -> None:
    """Friday 18:00 is past an 08:00-18:00 weekday window: Monday 08:00."""
    found = calendar.next_opening(
        ny(2026, 12, 4, 18, 0), OFFICE_HOURS, DayRule.WEEKDAYS
    )
    assert found == ny(2026, 12, 7, 8, 0)
    assert found.tzinfo is dt.UTC


def test_window_in_contact_zone(calendar: Calendar) -> None:
    """The window is read in the contact's zone, not the workspace zone."""
    friday_noon_ny = ny(2026, 12, 4, 12, 0)
    found = calendar.next_opening(
        friday_noon_ny, OFFICE_HOURS, DayRule.WEEKDAYS, "Europe/Berlin"
    )
    assert found == berlin(2026, 12, 7, 8, 0)


def test_after_close_rolls_into_next_day(calendar: Calendar) -> None:
    """Past the window's end, the next opening is the next day's start."""
    found = calendar.next_opening(ny(2026, 12, 1, 23, 59), OFFICE_HOURS, _EVERY)
    assert found == ny(2026, 12, 2, 8, 0)


def test_window_uses_local_date_not_utc_date(calendar: Calendar) -> None:
    """At 02:00 UTC it is still the previous evening in New York."""
    found = calendar.next_opening(utc(2026, 12, 3, 2, 0), OFFICE_HOURS, _EVERY)
    assert found == ny(2026, 12, 3, 8, 0)


def test_inside_window_returns_at_unchanged(calendar: Calendar) -> None:
    """An instant already inside the window is its own next opening, in UTC."""
    at = pendulum.datetime(2026, 12, 2, 9, 15, tz="America/New_York")
    found = calendar.next_opening(at, OFFICE_HOURS, DayRule.BUSINESS_DAYS)
    assert found == at
    assert type(found) is dt.datetime
    assert found.tzinfo is dt.UTC


def test_whole_day_window_opens_at_local_midnight(calendar: Calendar) -> None:
    """With no window, a weekend instant moves to Monday's local midnight."""
    saturday = ny(2026, 12, 5, 15, 0)
    found = calendar.next_opening(saturday, None, DayRule.BUSINESS_DAYS)
    assert found == ny(2026, 12, 7, 0, 0)


def test_no_allowed_day_within_a_year_is_an_error() -> None:
    """A calendar whose every business day is a holiday cannot place a send."""
    mondays = [dt.date(2026, 1, 5) + dt.timedelta(weeks=n) for n in range(60)]
    calendar = Calendar.build("UTC", ["mon"], mondays)
    with pytest.raises(CalendarError, match="no allowed day within a year"):
        calendar.next_opening(utc(2026, 1, 1), None, DayRule.BUSINESS_DAYS)


def test_next_weekday_at_counts_the_instant_itself(calendar: Calendar) -> None:
    """`until monday at 10:00` ends at once on Monday 10:00, else next one."""
    monday_ten = ny(2026, 12, 7, 10, 0)
    assert calendar.next_weekday_at(monday_ten, 0, dt.time(10)) == monday_ten
    later = calendar.next_weekday_at(ny(2026, 12, 7, 10, 1), 0, dt.time(10))
    earlier = calendar.next_weekday_at(ny(2026, 12, 7, 9, 0), 0, dt.time(10))
    assert later == ny(2026, 12, 14, 10, 0)
    assert earlier == monday_ten


def test_next_weekday_at_in_repeated_fall_back_hour(calendar: Calendar) -> None:
    """Early in the repeated hour, that Sunday's second 01:30 still counts."""
    second_pass = ny(2026, 11, 1, 1, 10, fold=1)
    found = calendar.next_weekday_at(second_pass, 6, dt.time(1, 30))
    assert found == utc(2026, 11, 1, 6, 30)


# --- "today" and relative days


def test_today_start_near_midnight_utc(calendar: Calendar) -> None:
    """At 03:00 UTC it is still yesterday in New York, so today began there."""
    late_evening, midnight = utc(2026, 12, 2, 3, 0), utc(2026, 12, 2, 5, 0)
    assert calendar.today_start(late_evening) == utc(2026, 12, 1, 5, 0)
    assert calendar.today_start(midnight) == midnight


def test_today_start_east_of_utc() -> None:
    """At 23:30 UTC it is already tomorrow in Berlin."""
    calendar = Calendar.build("Europe/Berlin")
    now = utc(2026, 12, 1, 23, 30)
    assert calendar.today_start(now) == utc(2026, 12, 1, 23, 0)
    assert calendar.local_date(now) == dt.date(2026, 12, 2)


def test_days_before_start_crosses_dst(calendar: Calendar) -> None:
    """`in last 7 days` starts at local midnight a week ago, across DST."""
    now = ny(2026, 3, 10, 12, 0)
    assert calendar.days_before_start(now, 7) == ny(2026, 3, 3, 0, 0)
    assert calendar.days_before_start(now, 7) == utc(2026, 3, 3, 5, 0)


# --- zones, parsing and errors


def test_zone_or_default_falls_back_and_normalises(calendar: Calendar) -> None:
    """Unknown zones fall back; other case and HubSpot `_slash_` forms resolve."""
    assert calendar.zone_or_default(None) == "America/New_York"
    assert calendar.zone_or_default("Mars/Base") == "America/New_York"
    assert calendar.zone_or_default("") == "America/New_York"
    assert calendar.zone_or_default("europe/berlin") == "Europe/Berlin"
    assert calendar.zone_or_default("america_slash_los_angeles") == (
        "America/Los_Angeles"
    )


def test_unknown_contact_zone_uses_workspace_zone(calendar: Calendar) -> None:
    """A contact with a bad zone gets the window in the workspace zone."""
    at = utc(2026, 12, 2, 3, 0)
    found = calendar.next_opening(at, OFFICE_HOURS, _EVERY, "??")
    assert found == ny(2026, 12, 2, 8, 0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-01 09:00", utc(2026, 12, 1, 14, 0)),
        ("2026-12-01T09:00:00Z", utc(2026, 12, 1, 9, 0)),
        ("2026-12-01T09:00-05:00", utc(2026, 12, 1, 14, 0)),
        ("2026-12-01", utc(2026, 12, 1, 5, 0)),
        ("2026-03-08 02:30", utc(2026, 3, 8, 7, 0)),
        (" 2026-12-01T09:00+01:00 ", utc(2026, 12, 1, 8, 0)),
    ],
)
def test_parse_instant(text: str, expected: dt.datetime) -> None:
    """ISO 8601 text without an offset is read in the given zone."""
    found = parse_instant(text, "America/New_York")
    assert found == expected
    assert found.tzinfo is dt.UTC


@pytest.mark.parametrize("text", ["2026-13-01", "today", "09:00", "P1D", ""])
def test_parse_instant_rejects_non_instants(text: str) -> None:
    """Text that is not a date or date-time fails, quoting the text."""
    with pytest.raises(CalendarError, match=f"`{text}`"):
        parse_instant(text, "UTC")


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"zone": "Mars/Base"}, "unknown time zone `Mars/Base`"),
        ({"business_days": ["mon", "funday"]}, "unknown weekday `funday`"),
        ({"holidays": ["2026-02-30"]}, "holiday `2026-02-30` is not a date"),
        ({"holiday_country": "XX"}, "unknown holiday country `XX`"),
        ({"holiday_country": "US-ZZ"}, "unknown holiday country `US-ZZ`"),
        ({"business_days": []}, "non-empty set of weekdays"),
    ],
)
def test_build_rejects_bad_settings(settings: dict[str, object], message: str) -> None:
    """Bad settings raise CalendarError naming the offending value."""
    arguments: dict[str, object] = {"zone": "UTC", **settings}
    with pytest.raises(CalendarError, match=message):
        Calendar.build(**arguments)  # type: ignore[arg-type]


def test_naive_datetimes_and_bad_units_are_rejected(calendar: Calendar) -> None:
    """Naive inputs, unknown units and empty windows raise CalendarError."""
    with pytest.raises(CalendarError, match="has no time zone"):
        calendar.next_opening(dt.datetime(2026, 1, 1), None, _EVERY)
    with pytest.raises(CalendarError, match="has no time zone"):
        calendar.add(dt.datetime(2026, 1, 1), 1, "hours")
    with pytest.raises(CalendarError, match="unknown duration unit `years`"):
        calendar.add(utc(2026, 1, 1), 1, "years")
    with pytest.raises(CalendarError, match="must come before its end"):
        TimeWindow(dt.time(18), dt.time(8))


# --- properties

ZONES = [
    "America/New_York",
    "Europe/Berlin",
    "Australia/Lord_Howe",
    "America/Santiago",
    "Asia/Kolkata",
    "Pacific/Chatham",
]
PROPERTY_CALENDAR = Calendar.build(
    "America/New_York",
    holidays=["2025-12-24", "2026-03-09", "2026-11-02"],
    holiday_country="US",
)

instants = st.datetimes(
    min_value=dt.datetime(2025, 1, 1),
    max_value=dt.datetime(2027, 12, 31),
    timezones=st.just(dt.UTC),
).map(lambda at: at.replace(second=0, microsecond=0))
clock_minutes = st.integers(min_value=0, max_value=24 * 60 - 1)
Scenario = tuple[str, dt.datetime, TimeWindow | None]


def _offset_changes(zone: str, year: int) -> list[dt.datetime]:
    """The instants in `year` at which `zone` changes its offset, to the minute."""
    tz = zoneinfo.ZoneInfo(zone)
    hour, minute = dt.timedelta(hours=1), dt.timedelta(minutes=1)
    probe = dt.datetime(year, 1, 1, tzinfo=dt.UTC)
    changes = []
    while probe.year == year:
        offset = probe.astimezone(tz).utcoffset()
        if (probe + hour).astimezone(tz).utcoffset() != offset:
            exact = probe + minute
            while exact.astimezone(tz).utcoffset() == offset:
                exact += minute
            changes.append(exact)
        probe += hour
    return changes


CHANGES = {zone: _offset_changes(zone, 2026) for zone in ZONES}


def _clock(minutes: int) -> dt.time:
    return dt.time(minutes // 60, minutes % 60)


@st.composite
def windows(draw: st.DrawFn) -> TimeWindow | None:
    """Minute-aligned windows, often in the night hours where DST happens."""
    if draw(st.booleans()) and draw(st.booleans()):
        return None
    start = draw(st.one_of(st.integers(0, 240), clock_minutes))
    end = draw(st.integers(start + 1, 24 * 60))
    if end == 24 * 60:
        return TimeWindow(_clock(start), dt.time.max)
    return TimeWindow(_clock(start), _clock(end))


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    """A zone, a minute-aligned instant and a window; half of them around a
    DST change, with the window starting near the skipped or repeated hour.
    """
    zone = draw(st.sampled_from(ZONES))
    if not CHANGES[zone] or draw(st.booleans()):
        return zone, draw(instants), draw(windows())

    change = draw(st.sampled_from(CHANGES[zone]))
    at = change + dt.timedelta(minutes=draw(st.integers(-12 * 60, 12 * 60)))
    tz = zoneinfo.ZoneInfo(zone)
    before = (change - dt.timedelta(minutes=1)).astimezone(tz)
    near = before.hour * 60 + before.minute + draw(st.integers(-90, 90))
    start = min(max(near, 0), 24 * 60 - 2)
    end = draw(st.integers(start + 1, min(start + 180, 24 * 60 - 1)))
    return zone, at, TimeWindow(_clock(start), _clock(end))


def _is_open(
    at: dt.datetime, window: TimeWindow | None, rule: DayRule, zone: str
) -> bool:
    local = at.astimezone(zoneinfo.ZoneInfo(zone))
    if not PROPERTY_CALENDAR.allows(local.date(), rule):
        return False
    return window is None or window.start <= local.time() < window.end


@settings(max_examples=300, deadline=None)
@given(scenarios(), st.sampled_from(DayRule))
def test_next_opening_properties(scenario: Scenario, rule: DayRule) -> None:
    """next_opening is >= `at`, open, idempotent and the first open minute."""
    zone, at, window = scenario
    found = PROPERTY_CALENDAR.next_opening(at, window, rule, zone)

    assert found >= at
    assert found.tzinfo is dt.UTC
    assert _is_open(found, window, rule, zone)
    assert PROPERTY_CALENDAR.next_opening(found, window, rule, zone) == found

    # windows and zone changes fall on whole minutes: a minute scan is exact
    if found - at <= dt.timedelta(days=4):
        probe = at
        while probe < found:
            assert not _is_open(probe, window, rule, zone), probe
            probe += dt.timedelta(minutes=1)


@settings(max_examples=100, deadline=None)
@given(scenarios(), st.integers(-30, 30).filter(bool))
def test_add_business_days_lands_on_a_business_day(
    scenario: Scenario, amount: int
) -> None:
    """Adding business days lands on a business day on the right side of `at`."""
    zone, at, _ = scenario
    found = PROPERTY_CALENDAR.add(at, amount, "business_days", zone)
    local = found.astimezone(zoneinfo.ZoneInfo(zone))
    assert PROPERTY_CALENDAR.is_business_day(local.date())
    assert (found > at) if amount > 0 else (found < at)


@settings(max_examples=100, deadline=None)
@given(scenarios(), st.integers(-400, 400))
def test_add_days_agrees_with_pendulum(scenario: Scenario, days: int) -> None:
    """Day arithmetic matches pendulum where the target clock time is unique."""
    zone, at, _ = scenario
    tz = zoneinfo.ZoneInfo(zone)
    local = at.astimezone(tz)
    target = local.replace(tzinfo=None) + dt.timedelta(days=days)
    target = target.replace(tzinfo=tz)
    assume(target.utcoffset() == target.replace(fold=1).utcoffset())

    expected = pendulum.instance(at).in_timezone(zone).add(days=days)
    assert PROPERTY_CALENDAR.add(at, days, "days", zone) == expected
