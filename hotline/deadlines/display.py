"""How a deadline reads to people. A period ends at 24:00 of its last day, stored as 00:00 of the
next day (UTC); people are shown the last day itself ("2026-12-07", "2026-12-07 24:00")."""
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo


def last_day(due_at: datetime, tz: str = "Asia/Shanghai") -> date:
    """The last day of the period that ends at `due_at` (the day before, when it is local midnight)."""
    local = due_at.astimezone(ZoneInfo(tz))
    if local.hour == 0 and local.minute == 0 and local.second == 0 and local.microsecond == 0:
        return local.date() - timedelta(days=1)
    return local.date()


def format_due(due_at: datetime | None, tz: str = "Asia/Shanghai", with_time: bool = False,
               short: bool = False) -> str:
    """"2026-12-07" (or "12-07" when short), "2026-12-07 24:00" with the time; "" for none."""
    if due_at is None:
        return ""
    local = due_at.astimezone(ZoneInfo(tz))
    day = last_day(due_at, tz)
    text = day.strftime("%m-%d" if short else "%Y-%m-%d")
    if not with_time:
        return text
    if day != local.date():  # ends at midnight: the end of its last day
        return f"{text} 24:00"
    return f"{text} {local:%H:%M}"
