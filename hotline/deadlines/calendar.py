"""Periods on China's official calendar, with an administrator's overrides: working days (工作日)
and natural days (日, 自然日; Order 121 art. 45).

Pure functions: the overrides are passed in as a mapping {date: "holiday" | "workday"}; an
`Overrides` mapping also carries the years whose whole schedule was imported (marked complete)."""
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import chinese_calendar

MIN_YEAR, MAX_YEAR = 2000, 2100  # the years an administrator may mark complete


@cache  # the package's data is fixed for the life of the process
def official_years() -> range:
    """The years the chinesecalendar package has the State Council's schedule for."""
    years = sorted({d.year for d in chinese_calendar.holidays})
    return range(years[0], years[-1] + 1)


class Overrides(dict):
    """Imported days {date: kind}, plus the years an administrator or supervisor marked complete.

    Imported days always count as holidays or working days; only a year marked complete (or one
    the package has) counts as covered: a year with a few imported days still warns (issue #7)."""

    def __init__(self, days: Mapping[date, str] | Iterable[tuple[date, str]] = (),
                 complete_years: Iterable[int] = ()):
        super().__init__(days)
        self.complete_years = frozenset(complete_years)


def is_working_day(day: date, overrides: Mapping[date, str] | None = None) -> bool:
    """An imported day wins; then the package; for a year neither knows, weekends only."""
    if overrides and day in overrides:
        return overrides[day] == "workday"
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


def year_is_known(year: int, overrides: Mapping[date, str] | None = None) -> bool:
    """The package has the State Council's schedule for the year, or the year is marked complete.
    Some imported days of a year do not make it known."""
    if year in official_years():
        return True
    return isinstance(overrides, Overrides) and year in overrides.complete_years


def add_working_days(start: date, days: int, overrides: Mapping[date, str] | None = None) -> date:
    """The last day of an N-working-day period. The start day itself is not counted (day 1 is
    the first working day after it)."""
    if days < 0:
        raise ValueError("days must be zero or more")
    day = start
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if is_working_day(day, overrides):
            counted += 1
    return day


def add_natural_days(start: date, days: int, overrides: Mapping[date, str] | None = None) -> date:
    """The last day of an N-natural-day period (Order 121 art. 45). The start day is not counted;
    a last day that is not a working day (a statutory holiday, or a weekend that is not a make-up
    working day) moves to the first working day after it."""
    if days < 0:
        raise ValueError("days must be zero or more")
    day = start + timedelta(days=days)
    while days and not is_working_day(day, overrides):
        day += timedelta(days=1)
    return day


UNITS = ("working", "natural")


def add_days(start: date, days: int, unit: str = "working", overrides: Mapping[date, str] | None = None) -> date:
    """The last day of a period of `days` in `unit` ('working' or 'natural')."""
    if unit == "natural":
        return add_natural_days(start, days, overrides)
    if unit != "working":
        raise ValueError(f"unknown unit {unit!r}")
    return add_working_days(start, days, overrides)


def days_between(first: date, last: date, unit: str = "working", overrides: Mapping[date, str] | None = None) -> int:
    """Days after `first` up to and including `last`, in `unit` (a pause's length, say)."""
    if unit == "natural":
        return max((last - first).days, 0)
    return working_days_between(first, last, overrides)


def working_days_between(first: date, last: date, overrides: Mapping[date, str] | None = None) -> int:
    """Working days after `first` up to and including `last` (0 when last <= first)."""
    count, day = 0, first
    while day < last:
        day += timedelta(days=1)
        count += is_working_day(day, overrides)
    return count


def period_crosses_unknown_year(start: date, last: date, overrides: Mapping[date, str] | None = None) -> bool:
    return any(not year_is_known(y, overrides) for y in range(start.year, last.year + 1))


def due_at(received: datetime, days: int, tz: str = "Asia/Shanghai",
           overrides: Mapping[date, str] | None = None, unit: str = "working") -> tuple[date, datetime, bool]:
    """(last day, the instant the period ends, whether a weekends-only fallback year is involved).

    The period ends at 24:00 local time of its last day, i.e. 00:00 of the next day."""
    zone = ZoneInfo(tz)
    start = received.astimezone(zone).date()
    last = add_days(start, days, unit, overrides)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return last, end, period_crosses_unknown_year(start, last, overrides)
