"""Who may get which message, and when: plain rules over a clock the caller gives.

- Statutory notices (receipt, decision, closure, transfer: Order 121 art. 15, 33 and the like) go at
  any hour, uncapped; only an opt-out of `all` stops them.
- Marketing kinds (consumer alerts, rating and survey invitations; anything not named here) go only
  between 08:00 and 21:00 local time (`SMS_QUIET_START`/`SMS_QUIET_END`), at most `SMS_DAILY_CAP` a
  day to one number, and never to a number that opted out (DESIGN.md §2).
- Reminders to handlers wait for the same window (nobody is woken for a deadline days away), uncapped.
- A code the person just asked for (subscription confirmation) always goes at once.
A refusal is a verdict with its reason: the sender stores it on the message (`cancelled`)."""
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from hotline.extensions import db
from hotline.sms.models import SmsMessage, SmsOptOut

STATUTORY = frozenset({"receipt", "decision", "closure", "transfer"})
STAFF = frozenset({"reminder"})
REQUESTED = frozenset({"confirm"})
NOT_MARKETING = STATUTORY | STAFF | REQUESTED
# Sent at any hour and uncapped; only an opt-out of `all` stops one (the sender claims these in one
# statement that checks just that: hotline/sms/sending.py). A requested code goes even then: not here.
NOTICES = STATUTORY
LEFT = ("sending", "sent", "delivered")  # messages that count against the daily cap


@dataclass(frozen=True)
class Rules:
    timezone: str = "Asia/Shanghai"
    quiet_start: time = time(21, 0)  # marketing stops at this local time...
    quiet_end: time = time(8, 0)  # ...and starts again at this one
    daily_cap: int = 3  # marketing messages per number and local day

    @classmethod
    def from_config(cls, config) -> "Rules":
        return cls(timezone=config["TIMEZONE"], quiet_start=parse_clock(config["SMS_QUIET_START"]),
                   quiet_end=parse_clock(config["SMS_QUIET_END"]), daily_cap=int(config["SMS_DAILY_CAP"]))


@dataclass(frozen=True)
class Verdict:
    action: str  # send | wait | refuse
    until: datetime | None = None  # wait: the start of the next window (UTC)
    code: str | None = None  # refuse: opted_out | daily_cap
    reason: str | None = None

    @property
    def send(self) -> bool:
        return self.action == "send"


def parse_clock(value: str | time) -> time:
    """"08:00" → time(8, 0); a bad value is a configuration error, said plainly."""
    if isinstance(value, time):
        return value
    try:
        hours, minutes = str(value).strip().split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise ValueError(f"SMS quiet hours must look like 21:00, not {value!r}") from None


def is_marketing(kind: str) -> bool:
    return kind not in NOT_MARKETING


def keeps_quiet_hours(kind: str) -> bool:
    return is_marketing(kind) or kind in STAFF


def in_window(now: datetime, rules: Rules) -> bool:
    """True between quiet_end and quiet_start local time (08:00 ≤ t < 21:00 by default)."""
    local = now.astimezone(ZoneInfo(rules.timezone)).time()
    if rules.quiet_end <= rules.quiet_start:
        return rules.quiet_end <= local < rules.quiet_start
    return not (rules.quiet_start <= local < rules.quiet_end)  # a quiet spell within one day


def next_window(now: datetime, rules: Rules) -> datetime:
    """The next time the window opens after `now` (UTC); `now` itself when it is open."""
    if in_window(now, rules):
        return now
    zone = ZoneInfo(rules.timezone)
    local = now.astimezone(zone)
    opening = datetime.combine(local.date(), rules.quiet_end, tzinfo=zone)
    if opening <= local:
        opening = datetime.combine(local.date() + timedelta(days=1), rules.quiet_end, tzinfo=zone)
    return opening.astimezone(UTC)


def local_day(now: datetime, tz: str) -> tuple[datetime, date]:
    """The start of `now`'s local day (UTC) and that day."""
    zone = ZoneInfo(tz)
    day = now.astimezone(zone).date()
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC), day


def decide(kind: str, now: datetime, rules: Rules, *, opt_out: str | None, sent_today: int) -> Verdict:
    """The verdict for one message of `kind` at `now`: `opt_out` is the number's opt-out scope (None,
    marketing, all), `sent_today` the marketing messages that already left for it today."""
    if kind not in REQUESTED:
        if opt_out == "all":
            return Verdict("refuse", code="opted_out", reason="the number opted out of all messages (回复退订)")
        if opt_out and is_marketing(kind):
            return Verdict("refuse", code="opted_out", reason="the number opted out of alerts and surveys (回复TD)")
    if keeps_quiet_hours(kind) and not in_window(now, rules):
        return Verdict("wait", until=next_window(now, rules))
    if is_marketing(kind) and sent_today >= rules.daily_cap:
        return Verdict("refuse", code="daily_cap",
                       reason=f"the number already got {sent_today} alerts or surveys today (cap {rules.daily_cap})")
    return Verdict("send")


# -- look-ups for the sender ------------------------------------------------------------------------

def opt_out_scope(phone: str) -> str | None:
    return db.session.scalar(select(SmsOptOut.scope).where(SmsOptOut.phone == phone))


def marketing_left_today(phone: str, now: datetime, tz: str, exclude_id: int | None = None) -> int:
    """Marketing messages that left for `phone` since local midnight. The (to_phone, created_at) index
    bounds the rows read to the number's last few days (a message waits at most a night and its retries)."""
    day_start, _ = local_day(now, tz)
    query = select(func.count(SmsMessage.id)).where(
        SmsMessage.to_phone == phone, SmsMessage.created_at >= day_start - timedelta(days=3),
        SmsMessage.kind.not_in(sorted(NOT_MARKETING)), SmsMessage.status.in_(LEFT), SmsMessage.sending_at >= day_start)
    if exclude_id is not None:
        query = query.where(SmsMessage.id != exclude_id)
    return db.session.scalar(query) or 0

