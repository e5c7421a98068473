"""Working days on China's official calendar (DESIGN.md §2 "Deadlines"): pure, no database."""
from datetime import UTC, date, datetime, timedelta, timezone

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.deadlines.calendar import (
    Overrides,
    add_working_days,
    due_at,
    is_working_day,
    official_years,
    period_crosses_unknown_year,
    year_is_known,
)

SHANGHAI = timezone(timedelta(hours=8))


@pytest.fixture(autouse=True)
def clean_database():
    """Overrides the suite's autouse database fixture: these tests need no app and no database."""
    yield


def d(text: str) -> date:
    return date.fromisoformat(text)


# --- the package's calendar as these tests assume it ----------------------------------------------

def test_package_knows_2026_but_not_2027():
    years = official_years()
    assert 2026 in years
    assert 2010 in years
    assert 2027 not in years
    assert 2031 not in years
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(d("2031-03-06"))


def test_spring_festival_2026_as_the_package_has_it():
    # 2026-02-15 (Sunday) .. 2026-02-23 (Monday) off; Saturdays 02-14 and 02-28 are make-up workdays.
    off = [d("2026-02-15") + timedelta(days=i) for i in range(9)]
    assert all(not is_working_day(day) for day in off)
    assert is_working_day(d("2026-02-13"))
    assert is_working_day(d("2026-02-14"))
    assert d("2026-02-14").weekday() == 5
    assert is_working_day(d("2026-02-24"))
    assert is_working_day(d("2026-02-28"))
    assert d("2026-02-28").weekday() == 5
    assert not is_working_day(d("2026-03-01"))


# --- the DESIGN worked example --------------------------------------------------------------------

def test_design_worked_example():
    # 9-30 is day 1, 10-1..10-7 holidays, 10-8, 10-9, Saturday 10-10, 10-12, 10-13, 10-14 are days 2-7.
    assert add_working_days(d("2026-09-29"), 7) == d("2026-10-14")


@pytest.mark.parametrize(("days", "last"), [
    (1, "2026-09-30"), (2, "2026-10-08"), (3, "2026-10-09"), (4, "2026-10-10"), (5, "2026-10-12"),
    (6, "2026-10-13"), (7, "2026-10-14"), (8, "2026-10-15"),
])
def test_national_day_2026_day_by_day(days, last):
    assert add_working_days(d("2026-09-29"), days) == d(last)


def test_received_during_national_day_starts_counting_after_it():
    assert add_working_days(d("2026-10-03"), 1) == d("2026-10-08")
    assert add_working_days(d("2026-10-01"), 7) == d("2026-10-15")


def test_due_at_worked_example():
    received = datetime(2026, 9, 29, 10, 0, tzinfo=SHANGHAI)
    last, end, fallback = due_at(received, 7)
    assert last == d("2026-10-14")
    assert end == datetime(2026, 10, 14, 16, 0, tzinfo=UTC)  # 24:00 in Shanghai
    assert end.utcoffset() == timedelta(0)
    assert fallback is False


def test_due_at_same_instant_given_in_utc():
    last, end, fallback = due_at(datetime(2026, 9, 29, 2, 0, tzinfo=UTC), 7)
    assert (last, end, fallback) == (d("2026-10-14"), datetime(2026, 10, 14, 16, 0, tzinfo=UTC), False)


# --- the local date of receipt counts, not the UTC date --------------------------------------------

def test_late_evening_receipt_is_that_local_day():
    last, end, _ = due_at(datetime(2026, 9, 29, 23, 30, tzinfo=SHANGHAI), 7)
    assert last == d("2026-10-14")
    assert end == datetime(2026, 10, 14, 16, 0, tzinfo=UTC)


def test_receipt_just_after_local_midnight_uses_the_local_date():
    received = datetime(2026, 9, 28, 17, 0, tzinfo=UTC)  # 2026-09-29 01:00 in Shanghai
    assert received.date() == d("2026-09-28")
    last, end, _ = due_at(received, 7)
    assert last == d("2026-10-14")  # counting from the UTC date would give 2026-10-13
    assert end == datetime(2026, 10, 14, 16, 0, tzinfo=UTC)


def test_receipt_just_before_local_midnight_in_utc():
    received = datetime(2026, 9, 29, 15, 59, tzinfo=UTC)  # 2026-09-29 23:59 in Shanghai
    assert due_at(received, 1)[0] == d("2026-09-30")
    received = datetime(2026, 9, 29, 16, 0, tzinfo=UTC)  # 2026-09-30 00:00 in Shanghai
    assert due_at(received, 1)[0] == d("2026-10-08")


def test_other_time_zone():
    received = datetime(2026, 9, 29, 10, 0, tzinfo=UTC)
    last, end, _ = due_at(received, 1, tz="Europe/London")
    assert last == d("2026-09-30")
    assert end == datetime(2026, 9, 30, 23, 0, tzinfo=UTC)  # 24:00 BST


# --- Spring Festival 2026 -------------------------------------------------------------------------

@pytest.mark.parametrize(("days", "last"), [
    (1, "2026-02-13"),
    (2, "2026-02-14"),  # the make-up Saturday counts
    (3, "2026-02-24"),  # 02-15..02-23 skipped
    (5, "2026-02-26"),
    (7, "2026-02-28"),  # the second make-up Saturday
    (8, "2026-03-02"),
    (15, "2026-03-11"),
])
def test_spring_festival_2026_from_thursday_before(days, last):
    assert add_working_days(d("2026-02-12"), days) == d(last)


@pytest.mark.parametrize(("days", "last"), [(1, "2026-02-24"), (3, "2026-02-26"), (5, "2026-02-28")])
def test_received_on_the_make_up_saturday(days, last):
    assert add_working_days(d("2026-02-14"), days) == d(last)


def test_received_during_spring_festival():
    assert add_working_days(d("2026-02-18"), 1) == d("2026-02-24")
    assert add_working_days(d("2026-02-23"), 7) == d("2026-03-03")


def test_spring_festival_due_at():
    last, end, fallback = due_at(datetime(2026, 2, 13, 18, 0, tzinfo=SHANGHAI), 7)
    assert last == d("2026-03-02")
    assert end == datetime(2026, 3, 2, 16, 0, tzinfo=UTC)
    assert fallback is False


# --- ordinary weeks -------------------------------------------------------------------------------

def test_day_of_receipt_not_counted():
    monday = d("2026-03-02")
    assert monday.weekday() == 0
    assert add_working_days(monday, 1) == d("2026-03-03")
    assert add_working_days(monday, 5) == d("2026-03-09")  # over the weekend


def test_friday_plus_one_is_monday():
    assert add_working_days(d("2026-03-06"), 1) == d("2026-03-09")


def test_weekend_receipt_counts_from_monday():
    assert add_working_days(d("2026-03-07"), 1) == d("2026-03-09")
    assert add_working_days(d("2026-03-08"), 1) == d("2026-03-09")


def test_zero_days_is_the_start_day():
    assert add_working_days(d("2026-03-02"), 0) == d("2026-03-02")
    assert add_working_days(d("2026-03-07"), 0) == d("2026-03-07")  # even a Saturday
    assert add_working_days(d("2026-10-01"), 0) == d("2026-10-01")  # even a holiday
    last, end, _ = due_at(datetime(2026, 10, 1, 9, 0, tzinfo=SHANGHAI), 0)
    assert last == d("2026-10-01")
    assert end == datetime(2026, 10, 1, 16, 0, tzinfo=UTC)


@pytest.mark.parametrize("days", [-1, -7])
def test_negative_days_raise(days):
    with pytest.raises(ValueError):
        add_working_days(d("2026-03-02"), days)
    with pytest.raises(ValueError):
        due_at(datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI), days)


# --- overrides ------------------------------------------------------------------------------------

def test_override_holiday_on_a_workday_shifts_the_due_date():
    overrides = {d("2026-03-03"): "holiday"}
    assert not is_working_day(d("2026-03-03"), overrides)
    assert add_working_days(d("2026-03-02"), 1, overrides) == d("2026-03-04")
    assert add_working_days(d("2026-03-02"), 5, overrides) == d("2026-03-10")


def test_override_workday_on_a_weekend_counts():
    overrides = {d("2026-03-07"): "workday"}
    assert is_working_day(d("2026-03-07"), overrides)
    assert add_working_days(d("2026-03-06"), 1, overrides) == d("2026-03-07")
    assert add_working_days(d("2026-03-06"), 2, overrides) == d("2026-03-09")


def test_override_wins_over_package_make_up_day_and_holiday():
    overrides = {d("2026-02-14"): "holiday", d("2026-10-08"): "holiday", d("2026-10-07"): "workday"}
    assert add_working_days(d("2026-02-12"), 2, overrides) == d("2026-02-24")
    assert add_working_days(d("2026-09-29"), 2, overrides) == d("2026-10-07")
    assert add_working_days(d("2026-09-29"), 7, overrides) == d("2026-10-14")  # one lost, one gained


def test_overrides_change_due_at():
    received = datetime(2026, 9, 29, 10, 0, tzinfo=SHANGHAI)
    last, end, fallback = due_at(received, 7, overrides={d("2026-10-10"): "holiday"})
    assert last == d("2026-10-15")
    assert end == datetime(2026, 10, 15, 16, 0, tzinfo=UTC)
    assert fallback is False


def test_empty_overrides_change_nothing():
    assert add_working_days(d("2026-09-29"), 7, {}) == d("2026-10-14")
    assert add_working_days(d("2026-09-29"), 7, None) == d("2026-10-14")


# --- years the package does not know: weekends only, flagged --------------------------------------

def test_unknown_year_falls_back_to_weekends_only():
    assert 2031 not in official_years()
    assert not year_is_known(2031)
    new_year = d("2031-01-01")  # a Wednesday: would be a holiday, but nobody knows it yet
    assert new_year.weekday() == 2
    assert is_working_day(new_year)
    assert not is_working_day(d("2031-01-04"))  # Saturday
    thursday = d("2031-03-06")
    assert add_working_days(thursday, 1) == d("2031-03-07")
    assert add_working_days(thursday, 2) == d("2031-03-10")
    assert add_working_days(thursday, 7) == d("2031-03-17")
    assert period_crosses_unknown_year(thursday, d("2031-03-17"))


def test_due_at_reports_fallback_in_unknown_year():
    last, end, fallback = due_at(datetime(2031, 3, 6, 10, 0, tzinfo=SHANGHAI), 7)
    assert last == d("2031-03-17")
    assert end == datetime(2031, 3, 17, 16, 0, tzinfo=UTC)
    assert fallback is True


def test_period_running_into_an_unknown_year_is_flagged():
    start = d("2026-12-29")  # Tuesday
    last, _, fallback = due_at(datetime(2026, 12, 29, 10, 0, tzinfo=SHANGHAI), 7)
    assert last == d("2027-01-07")  # 12-30, 12-31 known; 2027 weekends only
    assert fallback is True
    assert period_crosses_unknown_year(start, last)
    assert not period_crosses_unknown_year(start, d("2026-12-31"))
    assert due_at(datetime(2026, 12, 29, 10, 0, tzinfo=SHANGHAI), 2)[2] is False


def test_known_period_is_not_flagged():
    assert not period_crosses_unknown_year(d("2010-01-01"), d("2026-12-31"))
    assert period_crosses_unknown_year(d("2003-12-30"), d("2004-01-05"))


def test_some_imported_days_do_not_make_a_year_known():
    # Issue #7, bug 5: one imported day of a year must not silence its "no official calendar" warning.
    days = {d("2030-10-01"): "holiday", d("2031-01-01"): "holiday", d("2031-01-04"): "workday"}
    assert not year_is_known(2031, days)
    assert not year_is_known(2031, Overrides(days))
    assert period_crosses_unknown_year(d("2030-12-31"), d("2031-01-05"), Overrides(days, complete_years={2030}))
    last, _, fallback = due_at(datetime(2030, 12, 31, 10, 0, tzinfo=SHANGHAI), 2, overrides=days)
    assert last == d("2031-01-03")  # the imported days still count: 01-01 holiday, 01-02 day 1, 01-03 day 2
    assert fallback is True


def test_a_year_marked_complete_is_known():
    overrides = Overrides({d("2030-10-01"): "holiday", d("2031-01-01"): "holiday", d("2031-01-04"): "workday"},
                          complete_years={2030, 2031})
    assert year_is_known(2031, overrides)
    assert not period_crosses_unknown_year(d("2030-12-31"), d("2031-01-05"), overrides)
    last, _, fallback = due_at(datetime(2030, 12, 31, 10, 0, tzinfo=SHANGHAI), 2, overrides=overrides)
    assert last == d("2031-01-03")  # 01-01 declared holiday, 01-02 day 1, 01-03 day 2
    assert fallback is False
    assert add_working_days(d("2031-01-02"), 2, overrides) == d("2031-01-04")  # Saturday declared workday


# --- properties -----------------------------------------------------------------------------------

starts = st.dates(min_value=date(2010, 1, 1), max_value=date(2026, 12, 31))
lengths = st.integers(min_value=0, max_value=60)


@settings(max_examples=200, deadline=None)
@given(start=starts, days=lengths)
def test_last_day_is_a_working_day_and_not_before_the_start(start, days):
    last = add_working_days(start, days)
    assert last >= start
    if days > 0:
        assert last > start
        assert is_working_day(last)
    else:
        assert last == start


@settings(max_examples=200, deadline=None)
@given(start=starts, days=lengths)
def test_exactly_n_working_days_after_the_start(start, days):
    last = add_working_days(start, days)
    span = [start + timedelta(days=i) for i in range(1, (last - start).days + 1)]
    assert sum(is_working_day(day) for day in span) == days


@settings(max_examples=200, deadline=None)
@given(start=starts, a=st.integers(min_value=0, max_value=30), b=st.integers(min_value=0, max_value=30))
def test_adding_in_two_steps_equals_adding_at_once(start, a, b):
    assert add_working_days(add_working_days(start, a), b) == add_working_days(start, a + b)


@settings(max_examples=200, deadline=None)
@given(start=starts, days=st.integers(min_value=0, max_value=59))
def test_one_more_day_is_later(start, days):
    assert add_working_days(start, days + 1) > add_working_days(start, days)
