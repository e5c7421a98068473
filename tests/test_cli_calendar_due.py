"""`hotline calendar due`: the last day first on its line, in working days or (--natural) natural days."""
import pytest


def due(app, *args):
    return app.test_cli_runner().invoke(args=["calendar", "due", *args])


def test_designs_worked_example_in_natural_days(app):
    result = due(app, "--from", "2026-05-06T10:00:00+08:00", "--days", "60", "--natural")
    assert result.exit_code == 0 and result.output.startswith("2026-07-06 ")  # day 60 is Sunday 07-05
    assert "natural" in result.output


def test_working_days_stay_the_default(app):
    result = due(app, "--from", "2026-09-29T10:00:00+08:00", "--days", "7")
    assert result.exit_code == 0 and result.output.startswith("2026-10-14 ") and "working" in result.output


@pytest.mark.parametrize("start, days, last", [
    ("2026-09-21T09:00:00+08:00", 10, "2026-10-08"),  # a statutory holiday: the day after the holiday
    ("2026-10-03T09:00:00+08:00", 7, "2026-10-10"),  # a make-up Saturday is a working day
    ("2026-11-20T09:00:00+08:00", 1, "2026-11-23"),  # an ordinary Saturday moves to Monday
])
def test_natural_periods_end_on_a_working_day(app, start, days, last):
    result = due(app, "--from", start, "--days", str(days), "--natural")
    assert result.exit_code == 0 and result.output.split()[0] == last


def test_a_local_time_without_offset_is_shanghai(app):
    # 23:30 on 05-06 in Shanghai is 15:30 UTC: still 05-06, so the worked example holds.
    result = due(app, "--from", "2026-05-06T23:30:00", "--days", "60", "--natural")
    assert result.output.startswith("2026-07-06 ")


@pytest.mark.parametrize("days", ["-1", "100000"])
def test_unreasonable_lengths_are_refused(app, days):
    result = due(app, "--from", "2026-05-06T10:00:00+08:00", "--days", days, "--natural")
    assert result.exit_code != 0 and "--days" in result.output
