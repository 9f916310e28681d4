"""Local time for the runtime and engines: days, windows, holidays and zones.

Every question about local time goes through here: which day an instant falls
on in the workspace zone, when "today" starts, whether a date is a business
day, when a send window next opens in a contact's zone, and what "3 days" or
"2 business days" after an instant is. Inputs must be timezone-aware; every
instant returned is a plain :class:`datetime.datetime` in UTC.

Local times that clocks skip or repeat are resolved by one rule everywhere:
a local time is the *first instant of that day at which the clock shows it or
later*. A time inside a spring-forward gap (02:30 when clocks jump from 02:00 to
03:00) therefore resolves to the end of the gap (03:00 local), and a time that
occurs twice in a fall-back night resolves to its first occurrence.

The hot paths (:meth:`Calendar.next_opening`, :meth:`Calendar.add`) use stdlib
`zoneinfo`, which is about 25 times faster than pendulum's `add` here;
pendulum parses instants that the stdlib parser does not take, and serves as the
oracle for day arithmetic in the tests.
"""

from __future__ import annotations

import enum
import functools
import logging
import math
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import attrs
import holidays as holiday_data
import pendulum

__all__ = [
    "Calendar",
    "CalendarError",
    "DayRule",
    "HolidayRegion",
    "TimeWindow",
    "Weekday",
    "parse_instant",
]

log = logging.getLogger("seqdsl.calendar")

Weekday = int
"""A day of the week, 0 = Monday ... 6 = Sunday, as `datetime.date.weekday`."""

_MIDNIGHT = time(0)
_ONE_DAY = timedelta(days=1)
_MAX_DAYS = 366
_PROBE_YEAR = 2024  # any year will do to ask `holidays` if a region exists
_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_DAY_NAMES = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)
_WEEKDAY_BY_NAME = {
    name: number
    for names in (_DAY_NAMES, _FULL_DAY_NAMES)
    for number, name in enumerate(names)
}
_MON_TO_FRI: frozenset[Weekday] = frozenset(range(5))
Dates = frozenset[date]

# unit spellings accepted by `Calendar.add`, mapped to the canonical unit
_UNITS = {
    "minute": "minutes",
    "minutes": "minutes",
    "hour": "hours",
    "hours": "hours",
    "day": "days",
    "days": "days",
    "week": "weeks",
    "weeks": "weeks",
    "business_day": "business_days",
    "business_days": "business_days",
    "business day": "business_days",
    "business days": "business_days",
}


class CalendarError(ValueError):
    """Bad calendar input: unknown zone, weekday, unit or date; naive times."""


def _check_window(window: TimeWindow, field: object, value: time) -> None:
    if value.tzinfo is not None:
        raise CalendarError(f"window time {value} must not carry a time zone")
    if window.start >= window.end:
        raise CalendarError(
            f"window start {window.start} must come before its end {window.end}"
        )


@attrs.frozen
class TimeWindow:
    """A daily window of local clock times, start included and end excluded."""

    start: time = attrs.field(validator=_check_window)
    end: time = attrs.field(validator=_check_window)

    def __contains__(self, clock: time) -> bool:
        return self.start <= clock < self.end


class DayRule(enum.Enum):
    """Which days a send or run window opens on."""

    EVERY_DAY = "every day"
    WEEKDAYS = "weekdays"
    BUSINESS_DAYS = "business days"


# enum members read from the class are slow on 3.11; the hot path compares these
_EVERY_DAY = DayRule.EVERY_DAY
_WEEKDAYS = DayRule.WEEKDAYS


@attrs.frozen
class HolidayRegion:
    """A country of the `holidays` package, maybe with a subdivision."""

    country: str
    subdivision: str | None = None

    @classmethod
    def parse(cls, text: str) -> HolidayRegion:
        """Read `US`, `de` or `GB-ENG`; CalendarError on an unknown region."""
        country, _, subdivision = text.strip().upper().partition("-")
        region = cls(country, subdivision or None)
        try:
            region.dates(_PROBE_YEAR)
        except NotImplementedError as error:
            raise CalendarError(
                f"unknown holiday country `{text}` ({error}); expected an "
                "ISO 3166 code such as `US`, `DE` or `GB-ENG`"
            ) from None
        return region

    def dates(self, year: int) -> Dates:
        """The region's holidays in one year, computed once per process."""
        return _region_year(self.country, self.subdivision, year)


@functools.lru_cache(maxsize=1024)
def _region_year(country: str, subdiv: str | None, year: int) -> Dates:
    log.debug("loading %s holidays for %s", country, year)
    found = holiday_data.country_holidays(country, subdiv=subdiv, years=year)
    return frozenset(day for day in found if day.year == year)


def _default_tz(calendar: Calendar) -> ZoneInfo:
    return _require_zone(calendar.zone)


@attrs.frozen
class Calendar:
    """The workspace calendar: its zone, business days and holidays.

    `holidays` holds explicit dates; `region` adds a country's holidays, looked
    up per year when first needed. :meth:`build` validates settings text.
    """

    zone: str
    business_days: frozenset[Weekday] = _MON_TO_FRI
    holidays: frozenset[date] = frozenset()
    region: HolidayRegion | None = None
    _tz: ZoneInfo = attrs.field(
        init=False,
        eq=False,
        repr=False,
        default=attrs.Factory(_default_tz, takes_self=True),
    )
    # memo of is_business_day: the hot loops ask about the same few days
    _memo: dict[date, bool] = attrs.field(
        init=False, eq=False, repr=False, factory=dict
    )

    def __attrs_post_init__(self) -> None:
        days = self.business_days
        if not days or not days <= frozenset(range(7)):
            raise CalendarError(
                f"business days must be a non-empty set of weekdays 0-6, "
                f"got {sorted(days)}"
            )

    @classmethod
    def build(
        cls,
        zone: str,
        business_days: Sequence[str] = _DAY_NAMES[:5],
        holidays: Sequence[str | date] = (),
        holiday_country: str | None = None,
        years: range | None = None,
    ) -> Calendar:
        """Validate settings text into a calendar.

        With `years`, the country's holidays for those years are merged into
        `holidays`; without, they are looked up lazily for any year.
        """
        canonical = _require_zone(zone).key
        days = frozenset(_weekday(name) for name in business_days)
        dates = frozenset(_holiday(value) for value in holidays)
        region = None
        if holiday_country:
            region = HolidayRegion.parse(holiday_country)

        if region is not None and years is not None:
            for year in years:
                dates |= region.dates(year)
            region = None
        return cls(canonical, days, dates, region)

    def holiday_dates(self, years: Iterable[int]) -> Dates:
        """Every holiday, explicit or regional, in `years` (e.g. for SQL)."""
        wanted = set(years)
        found = {day for day in self.holidays if day.year in wanted}
        if self.region is not None:
            for year in wanted:
                found |= self.region.dates(year)
        return frozenset(found)

    def is_business_day(self, day: date) -> bool:
        """A configured business weekday that is no holiday."""
        known = self._memo.get(day)
        if known is None:
            region = self.region
            known = (
                day.weekday() in self.business_days
                and day not in self.holidays
                and (region is None or day not in region.dates(day.year))
            )
            self._memo[day] = known
        return known

    def allows(self, day: date, rule: DayRule) -> bool:
        """Whether `rule` lets a window open on `day` (weekdays: Mon-Fri)."""
        if rule is _EVERY_DAY:
            return True
        if rule is _WEEKDAYS:
            return day.weekday() < 5
        return self.is_business_day(day)

    def zone_or_default(self, zone: str | None) -> str:
        """The canonical name of `zone`, or the workspace zone's if unusable."""
        return self._zone(zone).key

    def local_date(self, at: datetime, zone: str | None = None) -> date:
        """The calendar date of `at` in `zone` (default the workspace zone)."""
        return _aware(at).astimezone(self._zone(zone)).date()

    def at_local_time(
        self, day: date, time_of_day: time, zone: str | None = None
    ) -> datetime:
        """The first instant of `day` whose clock shows `time_of_day` or later.

        In a spring-forward gap that is the end of the gap; a time that occurs
        twice resolves to its first occurrence.
        """
        return _local_instant(day, _clock(time_of_day), self._zone(zone))

    def start_of_day(self, day: date, zone: str | None = None) -> datetime:
        """The first instant of `day` in `zone`, in UTC (DST-safe)."""
        return _local_instant(day, _MIDNIGHT, self._zone(zone))

    def today_start(self, now: datetime) -> datetime:
        """Midnight that starts `now`'s day in the workspace zone."""
        return self.start_of_day(self.local_date(now))

    def days_before_start(self, now: datetime, days: int) -> datetime:
        """Midnight `days` days before today (for "in last N days")."""
        return self.start_of_day(self.local_date(now) - timedelta(days=days))

    def add(
        self, at: datetime, amount: int, unit: str, zone: str | None = None
    ) -> datetime:
        """Move `at` by `amount` units (`minutes`, `hours`, `days`, `weeks`,
        `business_days`; singular forms are accepted too).

        Minutes and hours are elapsed time. Days and weeks keep the local
        clock time in `zone` across DST changes. Business days step over days
        that are not business days, keeping the clock time, so from a Saturday
        one business day is the Monday; zero business days leaves `at`
        unchanged. Negative amounts go backward.
        """
        canonical = _UNITS.get(unit)
        if canonical is None:
            raise CalendarError(
                f"unknown duration unit `{unit}`; expected minutes, hours, "
                "days, weeks or business_days"
            )
        at = _aware(at)
        if amount == 0:
            return _utc(at)
        if canonical == "minutes":
            return _utc(at) + timedelta(minutes=amount)
        if canonical == "hours":
            return _utc(at) + timedelta(hours=amount)

        tz = self._zone(zone)
        local = at.astimezone(tz)
        if canonical == "business_days":
            day = self._step_business_days(local.date(), amount)
        else:
            days = amount * 7 if canonical == "weeks" else amount
            day = local.date() + timedelta(days=days)
        return _local_instant(day, local.time(), tz)

    def next_opening(
        self,
        at: datetime,
        window: TimeWindow | None,
        rule: DayRule,
        zone: str | None = None,
    ) -> datetime:
        """The earliest instant at or after `at` that is open in `zone`.

        An instant is open when its local date (in `zone`, default the
        workspace zone) is allowed by `rule` and its local clock time is inside
        `window` (any time when `window` is None). So on a spring-forward day
        a window starting at 02:30 opens at 03:00, when the clocks jump past
        its start; a window lying wholly inside the gap does not open that
        day. In a fall-back night the window is open whenever the clock reads
        inside it, the repeated hour included. Raises CalendarError when no
        day within a year is allowed.
        """
        tz = self._zone(zone)
        local = _aware(at).astimezone(tz)
        day = local.date()
        start, end = (window.start, window.end) if window else (_MIDNIGHT, None)
        if self.allows(day, rule) and _shows(local, day, start, end):
            return _utc(at)

        not_before = local.astimezone(UTC)
        for _ in range(_MAX_DAYS + 1):
            if self.allows(day, rule):
                opening = _opening(day, start, end, tz, not_before)
                if opening is not None:
                    return opening
            day += _ONE_DAY
        raise CalendarError(
            f"no allowed day within a year after {not_before.isoformat()} "
            f"for `{rule.value}`"
        )

    def next_weekday_at(
        self,
        at: datetime,
        weekday: Weekday,
        time_of_day: time,
        zone: str | None = None,
    ) -> datetime:
        """The first instant at or after `at` on `weekday` at `time_of_day`.

        `at` itself counts, so "until monday at 10:00" reached at Monday 10:00
        ends now. The clock time resolves as in :meth:`at_local_time`, except
        that a time repeated later the same night still counts after `at`.
        """
        if weekday not in range(7):
            raise CalendarError(f"weekday must be 0 (Mon) to 6, got {weekday}")
        tz = self._zone(zone)
        local = _aware(at).astimezone(tz)
        clock = _clock(time_of_day)
        day = local.date() + timedelta(days=(weekday - local.weekday()) % 7)

        not_before = local.astimezone(UTC)
        found = _local_instant(day, clock, tz)
        if found >= not_before:
            return found
        # a fall-back night may show the clock time a second time
        again = _instant(day, clock, tz, fold=1)
        if again >= not_before:
            return again
        return _local_instant(day + timedelta(weeks=1), clock, tz)

    def _zone(self, zone: str | None) -> ZoneInfo:
        if zone is None:
            return self._tz
        found = _find_zone(zone) if isinstance(zone, str) else None
        return self._tz if found is None else found

    def _step_business_days(self, day: date, amount: int) -> date:
        step = _ONE_DAY if amount > 0 else -_ONE_DAY
        for _ in range(abs(amount)):
            for _ in range(_MAX_DAYS):
                day += step
                if self.is_business_day(day):
                    break
            else:
                raise CalendarError(f"no business day within a year of {day}")
        return day


def parse_instant(text: str, zone: str) -> datetime:
    """Read an ISO 8601 date or date-time; without an offset it is in `zone`.

    A bare date means the first instant of that day. Returns a UTC instant.
    """
    tz = _require_zone(zone)
    try:
        parsed: object = datetime.fromisoformat(text)
    except ValueError:
        parsed = _parse_with_pendulum(text)

    if isinstance(parsed, datetime):
        if parsed.tzinfo is None:
            return _local_instant(parsed.date(), parsed.time(), tz)
        return _utc(parsed)
    if isinstance(parsed, date):
        return _local_instant(parsed, _MIDNIGHT, tz)
    raise CalendarError(f"expected a date or date-time, got `{text}`")


def _parse_with_pendulum(text: str) -> object:
    try:
        return pendulum.parse(text.strip(), exact=True, tz=None)
    except (ValueError, OverflowError):
        raise CalendarError(
            f"cannot read `{text}` as an ISO 8601 date or date-time"
        ) from None


def _opening(
    day: date,
    start: time,
    end: time | None,
    tz: ZoneInfo,
    not_before: datetime,
) -> datetime | None:
    """The first open instant of `day` at or after `not_before`, if any."""
    first, again = _day_openings(day, start, end, tz)
    if first is None or first >= not_before:
        return first
    # only on `not_before`'s own day, after the first opening
    if again is not None and again >= not_before:
        return again
    return None


@functools.lru_cache(maxsize=1 << 16)
def _day_openings(
    day: date, start: time, end: time | None, tz: ZoneInfo
) -> tuple[datetime | None, datetime | None]:
    """When the window opens on `day`, and opens again if a fall-back repeats
    `start`; None where clocks skip all of the window.
    """
    first = _local_instant(day, start, tz)
    if not _shows(first.astimezone(tz), day, start, end):
        return None, None

    again = _instant(day, start, tz, fold=1)
    if again == first or not _shows(again.astimezone(tz), day, start, end):
        return first, None
    return first, again


def _shows(local: datetime, day: date, start: time, end: time | None) -> bool:
    """Whether a local datetime lies on `day` with its clock in [start, end)."""
    if local.date() != day:
        return False
    clock = local.time()
    return start <= clock and (end is None or clock < end)


@functools.lru_cache(maxsize=1 << 16)
def _local_instant(day: date, clock: time, tz: ZoneInfo) -> datetime:
    """The first instant of `day` whose clock shows `clock` or later."""
    found = _instant(day, clock, tz, fold=0)
    local = found.astimezone(tz)
    if local.time() == clock and local.date() == day:
        return found
    return _gap_end(day, clock, tz)


def _instant(day: date, clock: time, tz: ZoneInfo, fold: int) -> datetime:
    local = datetime(
        day.year,
        day.month,
        day.day,
        clock.hour,
        clock.minute,
        clock.second,
        clock.microsecond,
        tz,
        fold=fold,
    )
    return local.astimezone(UTC)


def _gap_end(day: date, clock: time, tz: ZoneInfo) -> datetime:
    """The transition instant that skips over a nonexistent local time."""
    # fold=1 reads the time with the later offset, landing before the jump,
    # fold=0 with the earlier one, landing after it; transitions are whole
    # seconds, so a bisection over seconds finds the jump
    before = math.floor(_instant(day, clock, tz, fold=1).timestamp())
    after = math.ceil(_instant(day, clock, tz, fold=0).timestamp())
    offset_after = datetime.fromtimestamp(after, tz).utcoffset()

    while after - before > 1:
        middle = (before + after) // 2
        if datetime.fromtimestamp(middle, tz).utcoffset() == offset_after:
            after = middle
        else:
            before = middle
    return datetime.fromtimestamp(after, UTC)


def _aware(at: datetime) -> datetime:
    if at.tzinfo is not UTC and at.utcoffset() is None:
        raise CalendarError(f"datetime {at.isoformat()} has no time zone")
    return at


def _utc(at: datetime) -> datetime:
    """`at` as a plain stdlib datetime in UTC, unwrapping pendulum types."""
    if at.tzinfo is UTC and type(at) is datetime:
        return at
    if type(at) is not datetime:
        at = datetime.combine(at.date(), at.timetz()).replace(fold=at.fold)
    return at.astimezone(UTC)


def _clock(time_of_day: time) -> time:
    if time_of_day.tzinfo is not None:
        raise CalendarError(f"time {time_of_day} must not carry a time zone")
    return time_of_day


def _weekday(name: str) -> Weekday:
    number = _WEEKDAY_BY_NAME.get(name.strip().casefold())
    if number is None:
        raise CalendarError(
            f"unknown weekday `{name}`; expected one of {', '.join(_DAY_NAMES)}"
        )
    return number


def _holiday(value: str | date) -> date:
    if isinstance(value, datetime):
        raise CalendarError(f"holiday {value.isoformat()} must be a plain date")
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise CalendarError(
            f"holiday `{value}` is not a date; expected YYYY-MM-DD"
        ) from None


def _require_zone(name: str) -> ZoneInfo:
    found = _find_zone(name)
    if found is None:
        raise CalendarError(
            f"unknown time zone `{name}`; expected an IANA name such as "
            "`America/New_York`"
        )
    return found


@functools.lru_cache(maxsize=4096)
def _find_zone(name: str) -> ZoneInfo | None:
    """Find a zone by IANA name, ignoring case, also in HubSpot's `_slash_`
    form (`america_slash_new_york`).
    """
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        pass
    folded = name.strip().casefold().replace("_slash_", "/")
    key = _zone_keys().get(folded)
    if key is None:
        log.debug("unknown time zone %r", name)
        return None
    return ZoneInfo(key)


@functools.cache
def _zone_keys() -> dict[str, str]:
    return {key.casefold(): key for key in available_timezones()}
