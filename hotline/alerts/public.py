"""Public pages (no log-in): the published alerts, and subscribing to them by SMS or ending it."""
from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from hotline.alerts import limits, queries, subscriptions
from hotline.cases.schemas import FieldErrors
from hotline.extensions import db
from hotline.paging import page_number

bp = Blueprint("public", __name__, url_prefix="/alerts")
PHONE_KEY = "alert_phone"  # the number being confirmed on this device, so it need not be typed twice


@bp.get("")
def alerts():
    result = queries.published_alerts(page_number())
    return render_template("public/alerts.html", result=result, districts=queries.district_names())


@bp.get("/<int:alert_id>")
def alert(alert_id: int):
    found = queries.published_alert(alert_id)
    if found is None:
        abort(404)  # a draft or a withdrawn alert is not public
    return render_template("public/alert.html", alert=found, districts=queries.district_names())


def _phone_form(template: str, errors: dict, status: int = 200, **context):
    return render_template(template, errors=errors, districts=queries.districts(),
                           phone=request.form.get("phone", session.get(PHONE_KEY, "")), **context), status


@bp.route("/subscribe", methods=["GET", "POST"])
@limits.code_requests
def subscribe():
    if request.method == "GET":
        return _phone_form("public/subscribe.html", {}, district=request.args.get("district", ""))
    try:
        subscriptions.request_subscription(request.form.get("phone"), request.form.get("district"), "web")
        db.session.commit()
    except FieldErrors as exc:
        db.session.rollback()
        return _phone_form("public/subscribe.html", exc.fields, 422, district=request.form.get("district", ""))
    session[PHONE_KEY] = subscriptions.check_mobile(request.form.get("phone"))
    return redirect(url_for("public.confirm"))


@bp.route("/subscribe/confirm", methods=["GET", "POST"])
@limits.code_checks
def confirm():
    if request.method == "GET":
        return _phone_form("public/confirm.html", {})
    try:
        confirmed = subscriptions.confirm_subscription(request.form.get("phone"), request.form.get("code"), "web")
        db.session.commit()
    except FieldErrors as exc:
        db.session.rollback()
        return _phone_form("public/confirm.html", exc.fields, 422)
    if not confirmed:
        return _phone_form("public/confirm.html", {"code": _("The code is wrong or has expired. Ask for a new one.")},
                           422)
    session.pop(PHONE_KEY, None)
    subscription = subscriptions.subscription_by_phone(subscriptions.check_mobile(request.form.get("phone")))
    return render_template("public/subscribed.html", subscription=subscription, districts=queries.district_names(),
                           link=url_for("public.unsubscribe_link", token=subscriptions.unsubscribe_token(subscription),
                                        _external=True))


@bp.route("/unsubscribe", methods=["GET", "POST"])
@limits.code_requests
def unsubscribe():
    if request.method == "GET":
        return _phone_form("public/unsubscribe.html", {})
    try:
        subscriptions.request_unsubscribe_code(request.form.get("phone"))
        db.session.commit()
    except FieldErrors as exc:
        db.session.rollback()
        return _phone_form("public/unsubscribe.html", exc.fields, 422)
    session[PHONE_KEY] = subscriptions.check_mobile(request.form.get("phone"))
    return redirect(url_for("public.unsubscribe_confirm"))


@bp.route("/unsubscribe/confirm", methods=["GET", "POST"])
@limits.code_checks
def unsubscribe_confirm():
    if request.method == "GET":
        return _phone_form("public/unsubscribe_confirm.html", {})
    try:
        done = subscriptions.unsubscribe_with_code(request.form.get("phone"), request.form.get("code"))
        db.session.commit()
    except FieldErrors as exc:
        db.session.rollback()
        return _phone_form("public/unsubscribe_confirm.html", exc.fields, 422)
    if not done:
        return _phone_form("public/unsubscribe_confirm.html",
                           {"code": _("The code is wrong or has expired. Ask for a new one.")}, 422)
    session.pop(PHONE_KEY, None)
    return render_template("public/unsubscribed.html")


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe_link(token: str):
    """The link shown after subscribing. GET only asks (mail scanners and link previews open links);
    the button posts."""
    subscription = subscriptions.subscription_for_token(token)
    if subscription is None:
        abort(404)
    if request.method == "POST":
        subscriptions.unsubscribe(subscription, "link")
        db.session.commit()
        return render_template("public/unsubscribed.html")
    return render_template("public/unsubscribe_link.html", subscription=subscription)
