"""Deadline pages: notices, the overdue queue, the holiday calendar and the rulebook (admin)."""
from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select, update

from hotline.auth.models import ROLES
from hotline.auth.views import roles_required
from hotline.deadlines import calendar, queries
from hotline.deadlines.models import CalendarDay, DeadlineRule, Notification
from hotline.deadlines.operations import CalendarImportError, import_calendar_days, parse_calendar_csv
from hotline.extensions import db
from hotline.types import utcnow

bp = Blueprint("deadlines", __name__)


@bp.get("/notices")
@roles_required(*ROLES)
def notices():
    return render_template("deadlines/notices.html", rows=queries.notices(current_user))


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
    rows = queries.overdue_queue(current_user)
    by_bureau: dict[str, int] = {}
    for case, _clock in rows:
        name = case.bureau.short_name if case.bureau else _("centre")
        by_bureau[name] = by_bureau.get(name, 0) + 1
    return render_template("deadlines/overdue.html", rows=rows, by_bureau=by_bureau, now=utcnow(),
                           missing_years=queries.calendar_warning_years(utcnow()))


@bp.route("/admin/calendar", methods=["GET", "POST"])
@roles_required("admin", "supervisor")
def calendar_days():
    errors: list[str] = []
    if request.method == "POST":
        if current_user.role != "admin":
            return redirect(url_for("deadlines.calendar_days"))
        upload = request.files.get("file")
        text = request.form.get("text", "")
        if upload and upload.filename:
            raw = upload.read(200_000)
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                errors = [_("the file is not UTF-8 text")]
        if not errors:
            try:
                days, clocks = import_calendar_days(parse_calendar_csv(text))
                db.session.commit()
                flash(_("%(days)s days imported; %(clocks)s open deadlines recomputed.", days=days, clocks=clocks),
                      "ok")
                return redirect(url_for("deadlines.calendar_days"))
            except CalendarImportError as exc:
                db.session.rollback()
                errors = exc.errors
    days = db.session.scalars(select(CalendarDay).order_by(CalendarDay.day.desc()).limit(400)).all()
    official = calendar.official_years()
    return render_template("deadlines/calendar.html", days=days, errors=errors, official=official,
                           missing_years=queries.calendar_warning_years(utcnow()), today=date.today()), \
        (422 if errors else 200)


@bp.route("/admin/deadlines", methods=["GET", "POST"])
@roles_required("admin", "supervisor")
def rulebook():
    """The rulebook: versions with their effective dates. A case keeps the version in force on the
    day it was received; a change here applies to clocks started after it."""
    if request.method == "POST" and current_user.role == "admin" and request.form.get("new_version"):
        return _new_version()
    if request.method == "POST" and current_user.role == "admin":
        rule = db.session.get(DeadlineRule, int(request.form.get("id", 0) or 0))
        try:
            length, extension = int(request.form["length"]), int(request.form.get("extension") or 0)
            if not (0 < length <= 365 and 0 <= extension <= 365):
                raise ValueError
        except (KeyError, ValueError):
            flash(_("length and extension must be whole numbers of working days"), "error")
            return redirect(url_for("deadlines.rulebook"))
        if rule is not None:
            rule.length, rule.extension = length, extension
            rule.basis = request.form.get("basis", rule.basis).strip()[:255] or rule.basis
            verified = request.form.get("verified") == "on"
            for sibling in db.session.scalars(select(DeadlineRule).where(DeadlineRule.version == rule.version)):
                sibling.verified = verified
            db.session.commit()
            flash(_("Rule saved."), "ok")
        return redirect(url_for("deadlines.rulebook"))
    rules = db.session.scalars(select(DeadlineRule).order_by(DeadlineRule.effective_from.desc(),
                                                             DeadlineRule.id)).all()
    versions: dict[str, list[DeadlineRule]] = {}
    for rule in rules:
        versions.setdefault(rule.version, []).append(rule)
    return render_template("deadlines/rulebook.html", versions=versions, can_edit=current_user.role == "admin")


def _new_version():
    """A new rulebook version, effective from a date, starting as a copy of the latest one."""
    name = request.form.get("new_version", "").strip()[:32]
    title = request.form.get("title", "").strip()[:128] or name
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
                                    extension=rule.extension, basis=rule.basis))
    db.session.commit()
    flash(_("Version %(name)s added; check its numbers and mark it verified.", name=name), "ok")
    return redirect(url_for("deadlines.rulebook"))
