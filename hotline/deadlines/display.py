"""How a deadline reads to people. A period ends at 24:00 of its last day, stored as 00:00 of the
next day (UTC); people are shown the last day itself ("2026-12-07", "2026-12-07 24:00")."""
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo


def _local(moment: datetime, tz: str) -> datetime:
    """`moment` in local time; at the edge of the calendar (the first hours of year 1, the last of
    9999) the conversion overflows, and the moment is shown as it is stored (issue #12)."""
    try:
        return moment.astimezone(ZoneInfo(tz))
    except OverflowError:
        return moment


def last_day(due_at: datetime, tz: str = "Asia/Shanghai") -> date:
    """The last day of the period that ends at `due_at` (the day before, when it is local midnight)."""
    local = _local(due_at, tz)
    # date.min has no day before it (an OverflowError, issue #12): it reads as itself
    if local.hour == 0 and local.minute == 0 and local.second == 0 and local.microsecond == 0 \
            and local.date() > date.min:
        return local.date() - timedelta(days=1)
    return local.date()


def format_due(due_at: datetime | None, tz: str = "Asia/Shanghai", with_time: bool = False,
               short: bool = False) -> str:
    """"2026-12-07" (or "12-07" when short), "2026-12-07 24:00" with the time; "" for none."""
    if due_at is None:
        return ""
    local = _local(due_at, tz)
    day = last_day(due_at, tz)
    text = day.strftime("%m-%d" if short else "%Y-%m-%d")
    if not with_time:
        return text
    if day != local.date():  # ends at midnight: the end of its last day
        return f"{text} 24:00"
    return f"{text} {local:%H:%M}"
