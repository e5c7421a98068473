"""Clocks of a case: started and met by the workflow, computed from the rulebook in force on the
day the case was received and from the calendar (official days plus imported overrides)."""
import csv
import io
import logging
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from hotline.cases.models import Case
from hotline.deadlines import calendar
from hotline.deadlines.models import CalendarDay, CalendarYear, CaseClock, DeadlineRule
from hotline.extensions import db

audit = logging.getLogger("hotline.audit")


def calendar_overrides() -> calendar.Overrides:
    """The imported days and the years marked complete: what every clock is computed with."""
    return calendar.Overrides({row.day: row.kind for row in db.session.scalars(select(CalendarDay))},
                              db.session.scalars(select(CalendarYear.year)))


def rule_in_force(clock: str, received_on: date) -> DeadlineRule | None:
    """The rule of the latest rulebook version that took effect on or before the day of receipt."""
    return db.session.scalar(
        select(DeadlineRule).where(DeadlineRule.clock == clock, DeadlineRule.effective_from <= received_on)
        .order_by(DeadlineRule.effective_from.desc()).limit(1))


def rulebook_version_for(received_at: datetime) -> str | None:
    """The rulebook version in force on the local day of receipt (Order 20 before 2026-04-15, Order
    121 from then on); None when no version covers that day."""
    received_on = received_at.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()
    return db.session.scalar(select(DeadlineRule.version).where(DeadlineRule.effective_from <= received_on)
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


def _recompute_later(entry: CaseClock, overrides: dict[date, str] | None = None) -> None:
    """Recompute a clock whose due date moves later (an extension, a pause): the new due date earns
    its own reminder and escalation, as after a calendar import."""
    before = entry.due_at
    recompute(entry, overrides)
    if entry.due_at > before:
        entry.reminded_at = entry.escalated_at = None


def meet(case_id: int, clock: str, at: datetime) -> None:
    meet_clock(_open_clock(case_id, clock), at)


def meet_all(case_id: int, at: datetime) -> None:
    for entry in db.session.scalars(select(CaseClock).where(CaseClock.case_id == case_id,
                                                            CaseClock.met_at.is_(None))):
        meet_clock(entry, at)


def restart(case: Case, clock: str, at: datetime) -> None:
    """A clock that runs again from now (a case back in triage gets a fresh triage day)."""
    existing = db.session.scalar(select(CaseClock).where(CaseClock.case_id == case.id, CaseClock.clock == clock))
    if existing is None:
        start_clock(case, clock, at)
        return
    existing.started_at, existing.met_at, existing.paused_at = at, None, None
    existing.paused_days = existing.extended_days = 0
    existing.reminded_at = existing.escalated_at = None
    recompute(existing)


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
    _recompute_later(entry, overrides)


def running_clock(case_id: int, clock: str) -> CaseClock | None:
    """The case's clock of this name while it runs (not yet met)."""
    return _open_clock(case_id, clock)


def extension_length(entry: CaseClock) -> int:
    """The working days an approved extension adds, from the rulebook version the clock started with."""
    rule = db.session.scalar(select(DeadlineRule).where(DeadlineRule.version == entry.rule_version,
                                                        DeadlineRule.clock == entry.clock))
    return rule.extension if rule is not None else 0


def due_if_extended(entry: CaseClock, overrides: dict[date, str] | None = None) -> datetime:
    """Where the due date would move if the extension were approved now."""
    days = entry.length + entry.paused_days + extension_length(entry)
    _, due, _fallback = calendar.due_at(entry.started_at, days, current_app.config["TIMEZONE"],
                                        calendar_overrides() if overrides is None else overrides)
    return due


def extend(case_id: int, clock: str) -> bool:
    """An approved extension (once): the rule's extension length is added. False if not possible."""
    entry = _open_clock(case_id, clock)
    if entry is None or entry.extended_days:
        return False
    length = extension_length(entry)
    if not length:
        return False
    entry.extended_days = length
    _recompute_later(entry)
    return True


def clocks_of(case_id: int) -> list[CaseClock]:
    return list(db.session.scalars(select(CaseClock).where(CaseClock.case_id == case_id).order_by(CaseClock.id)))


def refresh_overdue(case: Case, now: datetime) -> None:
    """A case stays overdue while any running clock is past its due date."""
    case.overdue = db.session.scalar(
        select(CaseClock.id).where(CaseClock.case_id == case.id, CaseClock.met_at.is_(None),
                                   CaseClock.due_at < now).limit(1)) is not None


class CalendarImportError(ValueError):
    """Every bad line of an import (translatable messages naming the line); nothing was stored."""

    def __init__(self, errors: list):
        super().__init__("; ".join(map(str, errors)))
        self.errors = errors


KINDS = ("holiday", "workday")


def parse_calendar_csv(text: str) -> list[tuple[date, str, str | None]]:
    """CSV `date,kind,name` (kind `holiday` or `workday`); a header line is allowed. Every bad line
    is reported with its number, and nothing is imported unless all lines are good."""
    rows, errors = [], []
    for number, fields in enumerate(csv.reader(io.StringIO(text.lstrip("\ufeff"))), start=1):
        if not fields or not "".join(fields).strip() or fields[0].strip().startswith("#"):
            continue
        if number == 1 and fields[0].strip().lower() == "date":
            continue
        try:
            day = date.fromisoformat(fields[0].strip())
        except ValueError:
            errors.append(_l("line %(line)s: “%(value)s” is not a date (YYYY-MM-DD)", line=number,
                             value=fields[0].strip()[:40]))
            continue
        kind = fields[1].strip().lower() if len(fields) > 1 else ""
        if kind not in KINDS:
            errors.append(_l("line %(line)s: the kind must be holiday or workday, not “%(value)s”", line=number,
                             value=kind[:40]))
            continue
        name = (fields[2].strip() if len(fields) > 2 else "") or None
        if name and len(name) > 64:
            errors.append(_l("line %(line)s: the name is longer than 64 characters", line=number))
            continue
        rows.append((day, kind, name))
    if errors:
        raise CalendarImportError(errors)
    if not rows:
        raise CalendarImportError([_l("no days in the file")])
    return rows


def import_calendar_days(rows: list[tuple[date, str, str | None]]) -> tuple[int, int]:
    """Store the days (replacing earlier imports of the same dates) and recompute every running
    clock whose counting period they can move. Returns (days stored, clocks recomputed)."""
    changed = []
    for day, kind, name in rows:
        existing = db.session.get(CalendarDay, day)
        if existing is None:
            db.session.add(CalendarDay(day=day, kind=kind, name=name))
            changed.append(day)
        elif existing.kind != kind or existing.name != name:
            existing.kind, existing.name = kind, name
            changed.append(day)
    db.session.flush()
    return len(rows), recompute_open_clocks(min(changed), max(changed)) if changed else 0


def remove_calendar_day(day: date) -> int:
    """Take back an imported day (the official calendar applies to it again). Returns the clocks
    recomputed; 0 when the day was not imported."""
    row = db.session.get(CalendarDay, day)
    if row is None:
        return 0
    db.session.delete(row)
    db.session.flush()
    return recompute_open_clocks(day, day)


def recompute_open_clocks(first: date, last: date) -> int:
    """Running clocks started before `last` and due on or after `first` may move: recompute them."""
    tz = ZoneInfo(current_app.config["TIMEZONE"])
    start_bound = datetime.combine(last, datetime.min.time(), tzinfo=tz)
    due_bound = datetime.combine(first, datetime.min.time(), tzinfo=tz)
    overrides = calendar_overrides()
    moved_later: set[int] = set()
    count = 0
    query = select(CaseClock).where(CaseClock.met_at.is_(None), CaseClock.started_at < start_bound,
                                    CaseClock.due_at >= due_bound)
    for entry in db.session.scalars(query).all():
        before = entry.due_at
        recompute(entry, overrides)
        if entry.due_at > before:  # a later due date earns its own reminder and escalation
            entry.reminded_at = entry.escalated_at = None
            moved_later.add(entry.case_id)
        count += 1
    now = datetime.now(tz)
    for case in db.session.scalars(select(Case).where(Case.id.in_(moved_later), Case.overdue.is_(True))):
        refresh_overdue(case, now)
    return count


def complete_years() -> set[int]:
    return set(db.session.scalars(select(CalendarYear.year)))


def years_without_calendar(years) -> list[int]:
    """Which of these years neither the package covers nor anyone marked complete (weekends-only
    fallback). A year with some imported days but not marked complete is still listed."""
    official, marked = calendar.official_years(), complete_years()
    return [y for y in years if y not in official and y not in marked]


class CalendarYearError(ValueError):
    pass


def mark_year_complete(year: int, user_id: int | None) -> int:
    """The whole State Council schedule of `year` is imported: deadlines in it are no longer flagged.
    The row keeps who marked it and when. Returns the open clocks recomputed."""
    if year in calendar.official_years():
        raise CalendarYearError(_l("%(year)s is covered by the official calendar already", year=year))
    if not calendar.MIN_YEAR <= year <= calendar.MAX_YEAR:
        raise CalendarYearError(_l("not a year the calendar can hold"))
    if db.session.get(CalendarYear, year) is not None:
        return 0
    first, last = date(year, 1, 1), date(year, 12, 31)
    if db.session.scalar(select(CalendarDay.day).where(CalendarDay.day.between(first, last)).limit(1)) is None:
        # Every year has official holidays: with none imported, the schedule is surely missing.
        raise CalendarYearError(_l("no day of %(year)s is imported yet: import its holidays and make-up working "
                                   "days first", year=year))
    db.session.add(CalendarYear(year=year, marked_by_id=user_id))
    db.session.flush()
    audit.info("calendar year %s marked complete by user %s", year, user_id)
    return recompute_open_clocks(first, date(year + 1, 1, 1))


def unmark_year_complete(year: int, user_id: int | None) -> int:
    """Undo a mark: the year warns again. Returns the open clocks recomputed."""
    row = db.session.get(CalendarYear, year)
    if row is None:
        return 0
    audit.info("calendar year %s unmarked by user %s (marked by user %s at %s)", year, user_id, row.marked_by_id,
               row.marked_at.isoformat())
    db.session.delete(row)
    db.session.flush()
    return recompute_open_clocks(date(year, 1, 1), date(year + 1, 1, 1))


def year_coverage(years) -> list[dict]:
    """For the calendar page: each year's source (the package, marked complete, or partly imported),
    with the number of imported days and who marked it complete and when."""
    from hotline.auth.models import User
    official = calendar.official_years()
    marks = {row.year: row for row in db.session.scalars(select(CalendarYear))}
    imported: dict[int, int] = {}
    for day in db.session.scalars(select(CalendarDay.day)):
        imported[day.year] = imported.get(day.year, 0) + 1
    years = list(years)
    first = min(years, default=0)
    wanted = sorted(set(years) | {y for y in imported if y >= first} | set(marks))
    rows = []
    for year in wanted:
        mark = marks.get(year)
        marked_by = db.session.get(User, mark.marked_by_id) if mark and mark.marked_by_id else None
        rows.append({"year": year, "official": year in official, "complete": mark is not None,
                     "imported": imported.get(year, 0), "marked_at": mark.marked_at if mark else None,
                     "marked_by": marked_by.display_name if marked_by else None})
    return rows
