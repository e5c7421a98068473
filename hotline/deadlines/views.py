"""Deadline pages: notices, the overdue queue, the holiday calendar and the rulebook (admin)."""
import logging
from datetime import date
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from hotline.auth.models import ROLES
from hotline.auth.views import roles_required
from hotline.cases.validation import is_storable_text
from hotline.deadlines import calendar, queries
from hotline.deadlines.calendar import UNITS
from hotline.deadlines.models import CalendarDay, DeadlineRule, Notification
from hotline.deadlines.operations import (
    KINDS,
    CalendarImportError,
    CalendarYearError,
    RulebookChangeRefused,
    delete_version,
    import_calendar_days,
    mark_year_complete,
    move_version,
    parse_calendar_csv,
    remove_calendar_day,
    unmark_year_complete,
    year_coverage,
)
from hotline.extensions import db
from hotline.labels import label
from hotline.paging import page_number
from hotline.types import utcnow

audit = logging.getLogger("hotline.audit")
bp = Blueprint("deadlines", __name__)

# Two keepers saving the same day, year or version at once: the second meets the first's row (a unique
# key) and is told so, instead of a 500 (issue #12).
CONCURRENT_CHANGE = _l("Someone else changed the calendar at the same moment; nothing was saved. Try again.")

# 起算: the event a rule's period counts from, as the rulebook reads it.
STARTS = {"receipt": _l("day of receipt"), "acceptance": _l("day of acceptance"),
          "termination": _l("day mediation ended"), "decision": _l("day of the decision"),
          "triage": _l("day it entered triage"), "finding": _l("day the violation was found"),
          "dispute": _l("day the dispute arose")}


@bp.get("/notices")
@roles_required(*ROLES)
def notices():
    return render_template("deadlines/notices.html", result=queries.notices(current_user, page_number()))


@bp.post("/notices/read")
@roles_required(*ROLES)
def mark_read():
    db.session.execute(update(Notification).where(queries.notices_for(current_user), Notification.read_at.is_(None))
                       .values(read_at=utcnow()), execution_options={"synchronize_session": False})
    db.session.commit()
    return redirect(url_for("deadlines.notices"))


@bp.get("/overdue")
@roles_required("supervisor", "admin", "bureau")
def overdue():
    """超期: every case past a statutory due date, until the action that meets it is taken."""
    by_bureau = {name or _("centre"): n for name, n in queries.overdue_by_bureau(current_user).items()}
    return render_template("deadlines/overdue.html", result=queries.overdue_queue(current_user, page_number()),
                           by_bureau=by_bureau, now=utcnow(),
                           missing_years=queries.calendar_warning_years(utcnow()))


# Who keeps the calendar, the rulebook and the routing rules: the centre, supervisors and
# administrators alike (README "Supervisors ... keep ... the holiday calendar and the deadline rulebook").
KEEPERS = ("supervisor", "admin")
CALENDAR_FILE_LIMIT = 200_000  # bytes: a year's schedule is a few dozen lines


@bp.route("/admin/calendar", methods=["GET", "POST"])
@roles_required(*KEEPERS)
def calendar_days():
    """The holiday calendar: which years are covered, days added one by one or by CSV."""
    if request.method == "GET":
        return _calendar_page()
    errors: list = []
    upload = request.files.get("file")
    text = request.form.get("text", "")
    if upload and upload.filename:
        raw = upload.read(CALENDAR_FILE_LIMIT + 1)
        if len(raw) > CALENDAR_FILE_LIMIT:  # cut short, it would import part of the file, or fail mid-character
            errors = [_("the file is larger than %(size)s KB", size=CALENDAR_FILE_LIMIT // 1000)]
        else:
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                errors = [_("the file is not UTF-8 text")]
    if not errors:
        try:
            days, clocks = import_calendar_days(parse_calendar_csv(text))
            db.session.commit()
        except CalendarImportError as exc:
            db.session.rollback()
            errors = exc.errors
        except IntegrityError:
            db.session.rollback()
            errors = [CONCURRENT_CHANGE]
        else:
            flash(_("%(days)s days imported; %(clocks)s open deadlines recomputed.", days=days, clocks=clocks), "ok")
            return redirect(url_for("deadlines.calendar_days"))
    return _calendar_page(import_errors=errors, import_text=text, status=422)


@bp.post("/admin/calendar/day")
@roles_required(*KEEPERS)
def calendar_add_day():
    """One holiday or make-up working day, from the date picker."""
    form = request.form
    errors: dict[str, str] = {}
    try:
        day = date.fromisoformat(form.get("day", "").strip())
        if not calendar.MIN_YEAR <= day.year <= calendar.MAX_YEAR:
            raise ValueError
    except ValueError:
        errors["day"] = _("pick a date")
    kind = form.get("kind", "")
    if kind not in KINDS:
        errors["kind"] = _("pick holiday or make-up working day")
    name = form.get("name", "").strip()
    if len(name) > 64:
        errors["name"] = _("at most 64 characters")
    elif not is_storable_text(name):  # a NUL: PostgreSQL refuses the statement (a 500)
        errors["name"] = _("contains a character that cannot be stored")
    if errors:
        return _calendar_page(day_errors=errors, day_values=form, status=422)
    try:
        clocks = import_calendar_days([(day, kind, name or None)])[1]
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return _calendar_page(day_errors={"day": str(CONCURRENT_CHANGE)}, day_values=form, status=409)
    audit.info("calendar day %s saved as %s by user %s", day, kind, current_user.id)
    flash(_("%(day)s saved as %(kind)s; %(clocks)s open deadlines recomputed.", day=day.isoformat(),
            kind=label(kind), clocks=clocks), "ok")
    return redirect(url_for("deadlines.calendar_days"))


@bp.post("/admin/calendar/day/<day>/delete")
@roles_required(*KEEPERS)
def calendar_remove_day(day: str):
    try:
        clocks = remove_calendar_day(date.fromisoformat(day))
    except ValueError:
        abort(404)
    db.session.commit()
    audit.info("calendar day %s removed by user %s", day, current_user.id)
    flash(_("%(day)s removed: the official calendar applies to it again; %(clocks)s open deadlines recomputed.",
            day=day, clocks=clocks), "ok")
    return redirect(url_for("deadlines.calendar_days"))


@bp.post("/admin/calendar/year")
@roles_required(*KEEPERS)
def calendar_year():
    """Mark a year's imported schedule complete (its deadlines stop warning), or take the mark back."""
    try:
        year = int(request.form.get("year", ""))
        if not calendar.MIN_YEAR <= year <= calendar.MAX_YEAR:
            raise ValueError
    except ValueError:
        flash(_("not a year the calendar can hold"), "error")
        return redirect(url_for("deadlines.calendar_days"))
    try:
        if request.form.get("complete") == "1":
            clocks = mark_year_complete(year, current_user.id)
            message = _("%(year)s marked complete; %(clocks)s open deadlines recomputed.", year=year, clocks=clocks)
        else:
            clocks = unmark_year_complete(year, current_user.id)
            message = _("%(year)s is no longer marked complete; %(clocks)s open deadlines recomputed.", year=year,
                        clocks=clocks)
        db.session.commit()
    except CalendarYearError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("deadlines.calendar_days"))
    except IntegrityError:
        db.session.rollback()
        flash(str(CONCURRENT_CHANGE), "error")
        return redirect(url_for("deadlines.calendar_days"))
    flash(message, "ok")
    return redirect(url_for("deadlines.calendar_days"))


def _calendar_page(import_errors=(), import_text="", day_errors=None, day_values=None, status=200):
    now = utcnow()
    missing = queries.calendar_warning_years(now)
    local_year = now.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).year
    years = year_coverage(set(range(local_year, local_year + 2)) | set(missing))
    days = db.session.scalars(select(CalendarDay).order_by(CalendarDay.day.desc()).limit(400)).all()
    return render_template("deadlines/calendar.html", days=days, years=years, official=calendar.official_years(),
                           missing_years=missing, import_errors=import_errors, import_text=import_text,
                           day_errors=day_errors or {}, day_values=day_values or {}), status


@bp.route("/admin/deadlines", methods=["GET", "POST"])
@roles_required(*KEEPERS)
def rulebook():
    """The rulebook: versions with their effective dates. A case keeps the version in force on the
    day it was received; a change here applies to clocks started after it."""
    if request.method == "POST" and request.form.get("new_version"):
        return _new_version()
    if request.method == "POST" and request.form.get("version_action"):
        return _change_version()
    if request.method == "POST":
        return _save_rule()
    rules = db.session.scalars(select(DeadlineRule).order_by(DeadlineRule.effective_from.desc(),
                                                             DeadlineRule.id)).all()
    versions: dict[str, list[DeadlineRule]] = {}
    for rule in rules:
        versions.setdefault(rule.version, []).append(rule)
    return render_template("deadlines/rulebook.html", versions=versions, starts=STARTS, units=UNITS, can_edit=True)


def _save_rule():
    raw_id = request.form.get("id", "").strip()
    if not raw_id:  # a form without a rule: nothing to save
        flash(_("Pick a rule to change."), "error")
        return redirect(url_for("deadlines.rulebook"))
    if not (raw_id.isascii() and raw_id.isdigit() and len(raw_id) <= 9):  # "abc", "²", a huge id: issue #12
        abort(400, description=_("no such rule"))
    rule = db.session.get(DeadlineRule, int(raw_id))
    if rule is None:
        abort(404)
    try:
        length, extension = int(request.form["length"]), int(request.form.get("extension") or 0)
        if not (0 < length <= 365 and 0 <= extension <= 365):
            raise ValueError
    except (KeyError, ValueError):
        flash(_("length and extension must be whole numbers of days"), "error")
        return redirect(url_for("deadlines.rulebook"))
    unit = request.form.get("unit") or rule.unit
    if unit not in UNITS:
        flash(_("the unit must be working days or natural days"), "error")
        return redirect(url_for("deadlines.rulebook"))
    rule.length, rule.extension, rule.unit = length, extension, unit
    rule.basis = request.form.get("basis", rule.basis).strip()[:255] or rule.basis
    verified = request.form.get("verified") == "on"
    for sibling in db.session.scalars(select(DeadlineRule).where(DeadlineRule.version == rule.version)):
        sibling.verified = verified
    db.session.commit()
    audit.info("rulebook %s %s set to %s %s (+%s) by user %s", rule.version, rule.clock, rule.length, rule.unit,
               rule.extension, current_user.id)
    flash(_("Rule saved."), "ok")
    return redirect(url_for("deadlines.rulebook"))


def _change_version():
    """Move a version's effective date, or delete it: refused when open cases would be left without
    their rules (issue #8)."""
    version = request.form.get("version", "").strip()[:32]
    try:
        if request.form.get("version_action") == "delete":
            delete_version(version, current_user.id)
            message = _("Version %(name)s deleted.", name=version)
        else:
            try:
                effective = date.fromisoformat(request.form.get("effective_from", ""))
            except ValueError:
                raise RulebookChangeRefused(_l("the effective date must be a date (YYYY-MM-DD)")) from None
            move_version(version, effective, current_user.id)
            message = _("Version %(name)s now takes effect on %(date)s.", name=version, date=effective.isoformat())
    except RulebookChangeRefused as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("deadlines.rulebook"))
    db.session.commit()
    flash(message, "ok")
    return redirect(url_for("deadlines.rulebook"))


def _new_version():
    """A new rulebook version, effective from a date, starting as a copy of the latest one."""
    name = request.form.get("new_version", "").strip()[:32]
    title = request.form.get("title", "").strip()[:128] or name
    if not name:
        flash(_("the version needs a code"), "error")
        return redirect(url_for("deadlines.rulebook"))
    try:
        effective = date.fromisoformat(request.form.get("effective_from", ""))
    except ValueError:
        flash(_("the effective date must be a date (YYYY-MM-DD)"), "error")
        return redirect(url_for("deadlines.rulebook"))
    if db.session.scalar(select(DeadlineRule.id).where(DeadlineRule.version == name)):
        flash(_("a version with this name exists already"), "error")
        return redirect(url_for("deadlines.rulebook"))
    latest = db.session.scalar(select(DeadlineRule.version).order_by(DeadlineRule.effective_from.desc()).limit(1))
    for rule in db.session.scalars(select(DeadlineRule).where(DeadlineRule.version == latest)).all():
        db.session.add(DeadlineRule(version=name, title=title, effective_from=effective, verified=False,
                                    clock=rule.clock, starts=rule.starts, length=rule.length,
                                    extension=rule.extension, unit=rule.unit, basis=rule.basis))
    try:
        db.session.commit()
    except IntegrityError:  # the same version added by someone else at the same moment
        db.session.rollback()
        flash(_("a version with this name exists already"), "error")
        return redirect(url_for("deadlines.rulebook"))
    flash(_("Version %(name)s added; check its numbers and mark it verified.", name=name), "ok")
    return redirect(url_for("deadlines.rulebook"))
