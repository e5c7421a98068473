"""A deadline is shown as its last day, never as the midnight after it (issue #7, bug 2)."""
from datetime import UTC, datetime

from hotline.deadlines.calendar import due_at
from hotline.deadlines.display import format_due, last_day


def test_a_period_ending_at_midnight_shows_its_last_day():
    last, end, _ = due_at(datetime(2026, 11, 26, 2, tzinfo=UTC), 7)
    assert end == datetime(2026, 12, 7, 16, tzinfo=UTC)  # 00:00 of 12-08 in Shanghai
    assert last_day(end) == last
    assert format_due(end) == last.isoformat() == "2026-12-07"
    assert format_due(end, with_time=True) == "2026-12-07 24:00"
    assert format_due(end, short=True) == "12-07"


def test_a_due_time_that_is_not_midnight_keeps_its_time():
    at = datetime(2026, 12, 7, 2, 30, tzinfo=UTC)
    assert format_due(at, with_time=True) == "2026-12-07 10:30"
    assert format_due(None) == ""
