"""Staff pages for consumer alerts: supervisors and administrators write, preview, publish, withdraw
and watch the sending."""
from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from hotline.alerts import operations, queries
from hotline.alerts.models import ConsumerAlert
from hotline.auth.models import User
from hotline.auth.views import roles_required
from hotline.cases.schemas import FieldErrors
from hotline.extensions import db
from hotline.outbox.models import OutboxJob
from hotline.paging import page_number
from hotline.reference.models import Category

bp = Blueprint("alerts", __name__, url_prefix="/manage/alerts")
EDITORS = ("supervisor", "admin")
STATUSES = ("draft", "published", "withdrawn")


def _alert(alert_id: int) -> ConsumerAlert:
    alert = db.session.get(ConsumerAlert, alert_id)
    if alert is None:
        abort(404)
    return alert


def _categories() -> list[Category]:
    """Top-level goods and service categories: what an alert is about."""
    return list(db.session.scalars(select(Category).where(Category.parent_code.is_(None),
                                                          Category.axis.in_(("goods", "service")))
                                   .order_by(Category.axis, Category.position, Category.code)))


@bp.get("")
@roles_required(*EDITORS)
def index():
    status = request.args.get("status") if request.args.get("status") in STATUSES else None
    result = queries.staff_alerts(page_number(), status=status)
    return render_template("alerts/index.html", result=result, status=status, statuses=STATUSES,
                           districts=queries.district_names())


def _form_values() -> dict:
    return {"title": request.form.get("title", ""), "body": request.form.get("body", ""),
            "sms_text": request.form.get("sms_text", ""), "district": request.form.get("district", ""),
            "categories": request.form.getlist("categories")}


def _render_form(alert, values: dict, errors: dict, status: int = 200):
    return render_template("alerts/form.html", alert=alert, values=values, errors=errors,
                           districts=queries.districts(), categories=_categories(),
                           signature=operations.signature(), opt_out=operations.OPT_OUT_LINE,
                           limit=operations.SMS_LIMIT), status


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*EDITORS)
def new():
    if request.method == "GET":
        return _render_form(None, {"categories": []}, {})
    values = _form_values()
    try:
        alert = operations.create_alert(operations.check_alert(values), current_user)
        db.session.commit()
    except FieldErrors as exc:
        db.session.rollback()
        return _render_form(None, values, exc.fields, 422)
    return redirect(url_for("alerts.preview", alert_id=alert.id))


@bp.route("/<int:alert_id>/edit", methods=["GET", "POST"])
@roles_required(*EDITORS)
def edit(alert_id: int):
    alert = _alert(alert_id)
    if alert.status != "draft":
        flash(_("Only a draft can be edited."), "error")
        return redirect(url_for("alerts.show", alert_id=alert.id))
    if request.method == "GET":
        values = {"title": alert.title, "body": alert.body, "sms_text": alert.sms_text,
                  "district": alert.district or "", "categories": list(alert.categories or [])}
        return _render_form(alert, values, {})
    values = _form_values()
    try:
        operations.update_alert(alert, operations.check_alert(values), current_user)
        db.session.commit()
    except FieldErrors as exc:
        db.session.rollback()
        return _render_form(alert, values, exc.fields, 422)
    return redirect(url_for("alerts.preview", alert_id=alert.id))


@bp.get("/<int:alert_id>/preview")
@roles_required(*EDITORS)
def preview(alert_id: int):
    """The public page as it will look, and the exact SMS."""
    alert = _alert(alert_id)
    return render_template("alerts/preview.html", alert=alert, sms=operations.sms_message_text(alert.sms_text),
                           sms_length=operations.sms_length(alert.sms_text), limit=operations.SMS_LIMIT,
                           districts=queries.district_names(), category_names=_category_names(alert))


def _category_names(alert: ConsumerAlert) -> list[str]:
    codes = list(alert.categories or [])
    if not codes:
        return []
    names = dict(db.session.execute(select(Category.code, Category.name).where(Category.code.in_(codes))).all())
    return [names.get(code, code) for code in codes]


@bp.get("/<int:alert_id>")
@roles_required(*EDITORS)
def show(alert_id: int):
    alert = _alert(alert_id)
    people = {u.id: u for u in db.session.scalars(select(User).where(
        User.id.in_([i for i in (alert.created_by_id, alert.published_by_id) if i])))}
    return render_template("alerts/show.html", alert=alert, progress=_progress(alert), people=people,
                           districts=queries.district_names(), category_names=_category_names(alert),
                           sms=operations.sms_message_text(alert.sms_text))


@bp.post("/<int:alert_id>/publish")
@roles_required(*EDITORS)
def publish(alert_id: int):
    _alert(alert_id)
    try:
        operations.publish_alert(alert_id, current_user)
        db.session.commit()
        flash(_("Published. The SMS are being queued to the subscribers."), "ok")
    except operations.AlertRefused:
        db.session.rollback()
        flash(_("This alert was already published or withdrawn."), "error")
    return redirect(url_for("alerts.show", alert_id=alert_id))


@bp.post("/<int:alert_id>/withdraw")
@roles_required(*EDITORS)
def withdraw(alert_id: int):
    _alert(alert_id)
    try:
        operations.withdraw_alert(alert_id, current_user)
        db.session.commit()
        flash(_("Withdrawn: the alert is off the public page and unsent SMS are cancelled."), "ok")
    except operations.AlertRefused:
        db.session.rollback()
        flash(_("Only a published alert can be withdrawn."), "error")
    return redirect(url_for("alerts.show", alert_id=alert_id))


def _progress(alert: ConsumerAlert) -> dict:
    pending = db.session.scalar(select(OutboxJob.id).where(
        OutboxJob.task == "alert_fanout", OutboxJob.done_at.is_(None),
        OutboxJob.dedupe_key.startswith(f"alert_fanout:{alert.id}:", autoescape=True)).limit(1))
    return {"status": alert.status, "recipients": alert.recipients or 0, "queuing": pending is not None,
            "counts": operations.progress(alert.id)}


@bp.get("/<int:alert_id>/progress")
@roles_required(*EDITORS)
def progress(alert_id: int):
    """Polled by alerts.js on the detail page."""
    response = jsonify(_progress(_alert(alert_id)))
    response.headers["Cache-Control"] = "no-store"
    return response


_STATUS_NAMES = {"draft": _l("draft"), "published": _l("published"), "withdrawn": _l("withdrawn")}


@bp.app_template_filter("alert_status")
def alert_status(status: str) -> str:
    return str(_STATUS_NAMES.get(status, status))
