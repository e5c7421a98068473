"""Clocks of a case: started and met by the workflow, computed from the rulebook in force on the
day the case was received and from the calendar (official days plus imported overrides)."""
import csv
import io
import logging
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from hotline.cases.models import Case
from hotline.cases.validation import is_storable_text
from hotline.deadlines import calendar, rulebook
from hotline.deadlines.models import CalendarDay, CalendarYear, CaseClock, DeadlineRule
from hotline.direct_insert import insert_now
from hotline.extensions import db
from hotline.reference.cache import cached

audit = logging.getLogger("hotline.audit")


def calendar_overrides() -> calendar.Overrides:
    """The imported days and the years marked complete: what every clock is computed with (cached per
    process, hotline/deadlines/rulebook.py; read-only)."""
    return rulebook.overrides()


def rule_of(version: str, clock: str) -> DeadlineRule | None:
    """The rule of `clock` in a rulebook version; None when the version has no such clock (Order 121
    has no reporter notice, art. 36)."""
    return db.session.scalar(select(DeadlineRule).where(DeadlineRule.version == version, DeadlineRule.clock == clock))


def _version_on(received_on: date) -> str | None:
    return rulebook.rulebook().version_on(received_on)


def rulebook_version_for(received_at: datetime) -> str | None:
    """The rulebook version in force on the local day of receipt (Order 20 before 2026-04-15, Order
    121 from then on); None when no version covers that day."""
    return _version_on(received_at.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date())


def earliest_effective_date() -> date | None:
    """The day the earliest rulebook version took effect: a case received before it has no rules
    (None when no rulebook is loaded at all)."""
    return rulebook.rulebook().earliest


def start_clock(case: Case, clock: str, started_at: datetime, immediate: bool = False) -> CaseClock | None:
    """Start a clock of the case's rulebook version (the one in force when it was received), with
    that rule's length and unit. None, and nothing started, when the version has no such clock.
    `immediate`: INSERT it now (hotline/direct_insert.py), not at the next flush."""
    tz = current_app.config["TIMEZONE"]
    version = case.rulebook_version or rulebook_version_for(case.received_at)
    rule = rulebook.rulebook().rule(version, clock) if version else None
    if rule is None:  # no rulebook loaded (a bare database), or no such clock in this version
        return None
    _, due, fallback = _due_for_start(started_at, rule.length, rule.unit, tz)
    entry = CaseClock(case_id=case.id, clock=clock, rule_version=rule.version, started_at=started_at,
                      length=rule.length, unit=rule.unit, due_at=due, fallback_calendar=fallback)
    if immediate:
        return insert_now(entry)
    db.session.add(entry)
    return entry


def _due_for_start(started_at: datetime, length: int, unit: str, tz: str) -> tuple[date, datetime, bool]:
    """calendar.due_at on today's calendar, remembered per local start day: every intake of a day starts
    the same few clocks, and counting the days cost a twentieth of an intake's CPU (issue #13). The memo
    lives with the calendar's cached copy (hotline/reference/cache.py), so an import drops both."""
    memo = cached("due_dates", dict)
    key = (started_at.astimezone(ZoneInfo(tz)).date(), length, unit, tz)
    found = memo.get(key)
    if found is None:
        found = memo[key] = calendar.due_at(started_at, length, tz, calendar_overrides(), unit)
    return found


def meet_clock(entry: CaseClock | None, at: datetime) -> None:
    if entry is not None and entry.met_at is None:
        entry.met_at = at
        entry.paused_at = None


def _open_clock(case_id: int, clock: str) -> CaseClock | None:
    return db.session.scalar(select(CaseClock).where(CaseClock.case_id == case_id, CaseClock.clock == clock,
                                                     CaseClock.met_at.is_(None)))


def recompute(entry: CaseClock, overrides: dict[date, str] | None = None) -> None:
    """Due = start + length + days paused + an approved extension, all in the clock's unit, on today's
    calendar."""
    tz = current_app.config["TIMEZONE"]
    days = entry.length + entry.paused_days + entry.extended_days
    _, entry.due_at, entry.fallback_calendar = calendar.due_at(
        entry.started_at, days, tz, calendar_overrides() if overrides is None else overrides, entry.unit or "working")


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


# Why mediation is suspended (中止): the time is not counted in the mediation period.
SUSPEND_REASONS = {"testing": "art. 22", "recusal": "art. 21"}


def pause(case_id: int, clock: str, at: datetime) -> None:
    entry = _open_clock(case_id, clock)
    if entry is not None and entry.paused_at is None:
        entry.paused_at = at


def resume(case_id: int, clock: str, at: datetime) -> None:
    """The days a clock was paused are not counted: its due date moves by that many, in the clock's
    unit (natural days for Order 121 mediation: art. 21 recusal, art. 22 testing; working days for
    Order 20 art. 20)."""
    entry = _open_clock(case_id, clock)
    if entry is None or entry.paused_at is None:
        return
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    overrides = calendar_overrides()
    entry.paused_days += calendar.days_between(entry.paused_at.astimezone(zone).date(),
                                               at.astimezone(zone).date(), entry.unit or "working", overrides)
    entry.paused_at = None
    _recompute_later(entry, overrides)


def running_clock(case_id: int, clock: str) -> CaseClock | None:
    """The case's clock of this name while it runs (not yet met)."""
    return _open_clock(case_id, clock)


def extension_length(entry: CaseClock) -> int:
    """The days (in the clock's unit) an approved extension adds, from the rulebook version the clock
    started with."""
    rule = rulebook.rulebook().rule(entry.rule_version, entry.clock)
    return rule.extension if rule is not None else 0


def due_if_extended(entry: CaseClock, overrides: dict[date, str] | None = None) -> datetime:
    """Where the due date would move if the extension were approved now."""
    days = entry.length + entry.paused_days + extension_length(entry)
    _, due, _fallback = calendar.due_at(entry.started_at, days, current_app.config["TIMEZONE"],
                                        calendar_overrides() if overrides is None else overrides,
                                        entry.unit or "working")
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
NAME_LENGTH = 64  # CalendarDay.name


def within_calendar_years(day: date) -> bool:
    """A day the calendar can hold. Far outside (0001-01-01, 9999-12-31) the deadline arithmetic
    overflows: a day before, or midnight of it in UTC, is not a date Python has (issue #12)."""
    return calendar.MIN_YEAR <= day.year <= calendar.MAX_YEAR


def _csv_records(text: str, errors: list):
    """(line number, fields) of each CSV record; a line the csv module cannot read (a field over its
    limit of 128 KiB) ends the reading with an error naming the line, rather than a traceback."""
    reader = enumerate(csv.reader(io.StringIO(text.lstrip("\ufeff"))), start=1)
    number = 0
    while True:
        try:
            number, fields = next(reader)
        except StopIteration:
            return
        except csv.Error:
            errors.append(_l("line %(line)s: not a readable CSV line", line=number + 1))
            return
        yield number, fields


def read_calendar_file(raw: bytes) -> list[tuple[date, str, str | None]]:
    """A calendar file as uploaded or given to the CLI: UTF-8 (with or without a BOM), then parsed."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CalendarImportError([_l("the file is not UTF-8 text")]) from None
    return parse_calendar_csv(text)


def parse_calendar_csv(text: str) -> list[tuple[date, str, str | None]]:
    """CSV `date,kind,name` (kind `holiday` or `workday`); a header line is allowed. Every bad line
    is reported with its number, and nothing is imported unless all lines are good. The CLI and the
    admin page both read a file through here, so both refuse the same lines the same way."""
    rows, errors = [], []
    for number, fields in _csv_records(text, errors):
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
        if not within_calendar_years(day):
            errors.append(_l("line %(line)s: “%(value)s” is outside the years the calendar holds (%(first)s to "
                             "%(last)s)", line=number, value=day.isoformat(), first=calendar.MIN_YEAR,
                             last=calendar.MAX_YEAR))
            continue
        kind = fields[1].strip().lower() if len(fields) > 1 else ""
        if kind not in KINDS:
            errors.append(_l("line %(line)s: the kind must be holiday or workday, not “%(value)s”", line=number,
                             value=kind[:40]))
            continue
        name = (fields[2].strip() if len(fields) > 2 else "") or None
        if name and len(name) > NAME_LENGTH:
            errors.append(_l("line %(line)s: the name is longer than 64 characters", line=number))
            continue
        if name and not is_storable_text(name):  # a NUL: PostgreSQL refuses the whole statement
            errors.append(_l("line %(line)s: the name contains a character that cannot be stored", line=number))
            continue
        rows.append((day, kind, name))
    if errors:
        raise CalendarImportError(errors)
    if not rows:
        raise CalendarImportError([_l("no days in the file")])
    return rows


def import_calendar_days(rows: list[tuple[date, str, str | None]]) -> tuple[int, int]:
    """Store the days (replacing earlier imports of the same dates) and recompute every running
    clock whose counting period they can move. Returns (days stored, clocks recomputed).
    Refuses (CalendarImportError) a day the calendar cannot hold or a name too long for its column,
    whoever calls: a caller that skipped parse_calendar_csv must not reach the arithmetic with them."""
    wrong = [_l("“%(value)s” is outside the years the calendar holds (%(first)s to %(last)s)", value=day.isoformat(),
                first=calendar.MIN_YEAR, last=calendar.MAX_YEAR) for day, _kind, _name in rows
             if not within_calendar_years(day)]
    wrong += [_l("line %(line)s: the name is longer than 64 characters", line=number)
              for number, (_day, _kind, name) in enumerate(rows, start=1) if name and len(name) > NAME_LENGTH]
    wrong += [_l("line %(line)s: the name contains a character that cannot be stored", line=number)
              for number, (_day, _kind, name) in enumerate(rows, start=1) if name and not is_storable_text(name)]
    if wrong:
        raise CalendarImportError(wrong[:20])
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
    # Days outside the calendar's years are refused on import; clamped here all the same, since local
    # midnight of 0001-01-01 east of UTC is in the year 0 and overflows when stored as UTC (issue #12).
    first = max(first, date(calendar.MIN_YEAR, 1, 1))
    last = min(last, date(calendar.MAX_YEAR, 12, 31))
    if first > last:
        return 0
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


# --- the rulebook from a region pack ----------------------------------------------------------------

_RULE_FIELDS = ("title", "effective_from", "verified", "starts", "length", "extension", "unit", "basis")


def _pack_values(version: dict, rule: dict) -> dict:
    return {"title": version["title"], "effective_from": date.fromisoformat(version["effective_from"]),
            "verified": version.get("verified", True), "starts": rule["starts"], "length": rule["length"],
            "extension": rule.get("extension", 0), "unit": rule.get("unit", "working"), "basis": rule["basis"]}


def _earlier_values(current: dict, version: dict, rule: dict) -> list[dict]:
    """What earlier packs shipped for this rule: the current values with each `was` of the version
    and of the rule applied (a row holding one of them was not edited by anyone here)."""
    version_was = [{}] + [{k: date.fromisoformat(v) if k == "effective_from" else v for k, v in w.items()}
                          for w in version.get("was", [])]
    return [{**current, **vw, **rw} for vw in version_was for rw in [{}] + rule.get("was", [])]


def load_deadline_rules(versions: list[dict]) -> dict[str, int]:
    """Load the pack's rulebook versions. A missing rule is added; a rule that still holds what this
    pack or an earlier one shipped is brought up to date (Order 20's effective date, Order 121's
    numbers); a rule an administrator edited is kept, and logged. A rule the pack removed (Order 121
    has no reporter notice, art. 36) is deleted unless an administrator edited it."""
    counts = {"added": 0, "updated": 0, "kept": 0, "removed": 0}
    for version in versions:
        for rule in version["rules"]:
            current = _pack_values(version, rule)
            row = rule_of(version["version"], rule["clock"])
            if row is None:
                db.session.add(DeadlineRule(version=version["version"], clock=rule["clock"], **current))
                counts["added"] += 1
                continue
            held = {name: getattr(row, name) for name in _RULE_FIELDS}
            if held == current:
                continue
            if held in _earlier_values(current, version, rule):
                for name, value in current.items():
                    setattr(row, name, value)
                counts["updated"] += 1
            else:
                audit.warning("rulebook %s %s: edited here, the pack's values are not applied (%s)",
                              version["version"], rule["clock"], current)
                counts["kept"] += 1
        for rule in version.get("removed", []):
            row = rule_of(version["version"], rule["clock"])
            if row is None:
                continue
            held = {name: getattr(row, name) for name in _RULE_FIELDS}
            if held in _earlier_values(_pack_values(version, rule), version, {}):
                db.session.delete(row)
                counts["removed"] += 1
            else:
                audit.warning("rulebook %s %s: the pack removes it, but it was edited here; kept",
                              version["version"], rule["clock"])
                counts["kept"] += 1
    db.session.flush()
    return counts


# --- rulebook administration: no open case may be left without its rules -------------------------------

class RulebookChangeRefused(ValueError):
    pass


def _open_cases_of(version: str) -> int:
    from hotline.cases.workflow import OPEN_STATUSES
    return db.session.scalar(select(func.count(Case.id)).where(Case.rulebook_version == version,
                                                               Case.status.in_(OPEN_STATUSES))) or 0


def delete_version(version: str, user_id: int | None) -> int:
    """Delete a rulebook version nobody's open case is handled under (their next clocks, mediation or
    a notice, would have no rule). Returns the rules deleted."""
    open_cases = _open_cases_of(version)
    if open_cases:
        raise RulebookChangeRefused(_l("%(count)s open cases are handled under %(version)s: it cannot be deleted "
                                       "until they are closed", count=open_cases, version=version))
    rules = db.session.scalars(select(DeadlineRule).where(DeadlineRule.version == version)).all()
    for rule in rules:
        db.session.delete(rule)
    db.session.flush()
    audit.info("rulebook version %s deleted by user %s", version, user_id)
    return len(rules)


def move_version(version: str, effective_from: date, user_id: int | None) -> None:
    """Move a version's effective date. Refused when a case was received between the old and the new
    date (it would now fall under another version than the one it keeps), or when the move would leave
    the version starting on the same day as another one."""
    rules = db.session.scalars(select(DeadlineRule).where(DeadlineRule.version == version)).all()
    if not rules:
        raise RulebookChangeRefused(_l("no such version"))
    old = rules[0].effective_from
    if old == effective_from:
        return
    clash = db.session.scalar(select(DeadlineRule.version).where(DeadlineRule.version != version,
                                                                 DeadlineRule.effective_from == effective_from))
    if clash:
        raise RulebookChangeRefused(_l("%(other)s takes effect on that day already", other=clash))
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    first, last = sorted((old, effective_from))
    between = db.session.scalar(select(func.count(Case.id)).where(
        Case.received_at >= datetime.combine(first, datetime.min.time(), tzinfo=zone),
        Case.received_at < datetime.combine(last, datetime.min.time(), tzinfo=zone))) or 0
    if between:
        raise RulebookChangeRefused(_l("%(count)s cases were received between %(first)s and %(last)s: moving the date "
                                       "would put them under another version than the one they keep", count=between,
                                       first=first.isoformat(), last=last.isoformat()))
    for rule in rules:
        rule.effective_from = effective_from
    db.session.flush()
    audit.info("rulebook version %s moved from %s to %s by user %s", version, old, effective_from, user_id)
