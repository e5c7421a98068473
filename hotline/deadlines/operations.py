"""Clocks of a case: started and met by the workflow, computed from the rulebook in force on the
day the case was received and from the calendar (official days plus imported overrides)."""
import csv
import io
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


def refresh_overdue(case: Case, now: datetime) -> None:
    """A case stays overdue while any running clock is past its due date."""
    case.overdue = db.session.scalar(
        select(CaseClock.id).where(CaseClock.case_id == case.id, CaseClock.met_at.is_(None),
                                   CaseClock.due_at < now).limit(1)) is not None


class CalendarImportError(ValueError):
    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


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
            errors.append(f"line {number}: {fields[0].strip()!r} is not a date (YYYY-MM-DD)")
            continue
        kind = fields[1].strip().lower() if len(fields) > 1 else ""
        if kind not in ("holiday", "workday"):
            errors.append(f"line {number}: kind must be holiday or workday, not {kind!r}")
            continue
        rows.append((day, kind, (fields[2].strip() if len(fields) > 2 else "") or None))
    if errors:
        raise CalendarImportError(errors)
    if not rows:
        raise CalendarImportError(["no days in the file"])
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


def years_without_calendar(years) -> list[int]:
    """Which of these years neither the package nor an import covers (weekends-only fallback)."""
    imported = {row.year for row in db.session.scalars(select(CalendarDay.day))}
    official = calendar.official_years()
    return [y for y in years if y not in official and y not in imported]
