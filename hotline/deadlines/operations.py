"""Clocks of a case: started and met by the workflow, computed from the rulebook in force on the
day the case was received and from the calendar (official days plus imported overrides)."""
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from hotline.cases.models import Case
from hotline.deadlines import calendar
from hotline.deadlines.models import CalendarDay, CaseClock, DeadlineRule
from hotline.extensions import db


def calendar_overrides() -> dict[date, str]:
    return {row.day: row.kind for row in db.session.scalars(select(CalendarDay))}


def rule_in_force(clock: str, received_on: date) -> DeadlineRule | None:
    """The rule of the latest rulebook version that took effect on or before the day of receipt."""
    return db.session.scalar(
        select(DeadlineRule).where(DeadlineRule.clock == clock, DeadlineRule.effective_from <= received_on)
        .order_by(DeadlineRule.effective_from.desc()).limit(1))


def start_clock(case: Case, clock: str, started_at: datetime) -> CaseClock | None:
    tz = current_app.config["TIMEZONE"]
    received_on = case.received_at.astimezone(ZoneInfo(tz)).date()
    rule = rule_in_force(clock, received_on)
    if rule is None:  # no rulebook loaded (a bare database): no clock rather than a wrong one
        return None
    _, due, fallback = calendar.due_at(started_at, rule.length, tz, calendar_overrides())
    entry = CaseClock(case_id=case.id, clock=clock, rule_version=rule.version, started_at=started_at,
                      length=rule.length, due_at=due, fallback_calendar=fallback)
    db.session.add(entry)
    return entry


def meet_clock(entry: CaseClock | None, at: datetime) -> None:
    if entry is not None and entry.met_at is None:
        entry.met_at = at
        entry.paused_at = None


def _open_clock(case_id: int, clock: str) -> CaseClock | None:
    return db.session.scalar(select(CaseClock).where(CaseClock.case_id == case_id, CaseClock.clock == clock,
                                                     CaseClock.met_at.is_(None)))


def recompute(entry: CaseClock, overrides: dict[date, str] | None = None) -> None:
    """Due = start + length + working days paused + an approved extension, on today's calendar."""
    tz = current_app.config["TIMEZONE"]
    days = entry.length + entry.paused_days + entry.extended_days
    _, entry.due_at, entry.fallback_calendar = calendar.due_at(
        entry.started_at, days, tz, calendar_overrides() if overrides is None else overrides)


def meet(case_id: int, clock: str, at: datetime) -> None:
    meet_clock(_open_clock(case_id, clock), at)


def meet_all(case_id: int, at: datetime) -> None:
    for entry in db.session.scalars(select(CaseClock).where(CaseClock.case_id == case_id,
                                                            CaseClock.met_at.is_(None))):
        meet_clock(entry, at)


def restart(case: Case, clock: str, at: datetime) -> None:
    """A clock that runs again from now (a case back in triage gets a fresh triage day)."""
    existing = db.session.scalar(select(CaseClock).where(CaseClock.case_id == case.id, CaseClock.clock == clock))
    if existing is not None:
        db.session.delete(existing)
        db.session.flush()
    start_clock(case, clock, at)


def pause(case_id: int, clock: str, at: datetime) -> None:
    entry = _open_clock(case_id, clock)
    if entry is not None and entry.paused_at is None:
        entry.paused_at = at


def resume(case_id: int, clock: str, at: datetime) -> None:
    """The working days a clock was paused are not counted: its due date moves by that many."""
    entry = _open_clock(case_id, clock)
    if entry is None or entry.paused_at is None:
        return
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    overrides = calendar_overrides()
    entry.paused_days += calendar.working_days_between(entry.paused_at.astimezone(zone).date(),
                                                       at.astimezone(zone).date(), overrides)
    entry.paused_at = None
    recompute(entry, overrides)


def extend(case_id: int, clock: str) -> bool:
    """An approved extension (once): the rule's extension length is added. False if not possible."""
    entry = _open_clock(case_id, clock)
    if entry is None or entry.extended_days:
        return False
    rule = db.session.scalar(select(DeadlineRule).where(DeadlineRule.version == entry.rule_version,
                                                        DeadlineRule.clock == clock))
    if rule is None or not rule.extension:
        return False
    entry.extended_days = rule.extension
    recompute(entry)
    return True


def clocks_of(case_id: int) -> list[CaseClock]:
    return list(db.session.scalars(select(CaseClock).where(CaseClock.case_id == case_id).order_by(CaseClock.id)))
