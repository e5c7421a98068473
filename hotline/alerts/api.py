"""Alerts over HTTP (DESIGN.md §3): `GET /alerts` (public), `POST /alerts`, `POST /alerts/{id}/publish`
(supervisor, administrator), `POST /public/subscriptions` and `/public/subscriptions/confirm`."""
from flask import Blueprint, g, jsonify, request

from hotline.alerts import limits, operations, queries, subscriptions
from hotline.alerts.schemas import CodeSent, SubscriptionConfirmed
from hotline.api.auth import require_role
from hotline.api.errors import ApiError
from hotline.cases.schemas import FieldErrors
from hotline.extensions import db

bp = Blueprint("alerts_api", __name__, url_prefix="/api/v1")
EDITORS = ("supervisor", "admin")


def _body() -> dict:
    from hotline.api.cases import json_body
    data = json_body()
    if not isinstance(data, dict):
        raise ApiError(400, "the body must be a JSON object")
    return data


def _whole_number(name: str, default: int, high: int) -> int:
    raw = request.args.get(name, str(default)).strip()
    # len first: int() of thousands of digits raises (Python's limit on long integer strings)
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9) or not 1 <= int(raw) <= high:
        raise ApiError(422, "invalid paging", {name: f"must be a whole number from 1 to {high}"})
    return int(raw)


@bp.get("/alerts")
def list_alerts():
    """Public: the published alerts, newest first."""
    page, per_page = _whole_number("page", 1, 100_000), _whole_number("per_page", 20, 100)
    result = queries.published_alerts(page, per_page, clamp=False)
    names = queries.district_names()
    return jsonify(items=[queries.alert_json(a, names) for a in result.items], total=result.total, page=result.page,
                   per_page=result.per_page)


@bp.post("/alerts")
@require_role(*EDITORS)
def create_alert():
    try:
        alert = operations.create_alert(operations.check_alert(_body()), g.user)
        db.session.commit()
    except FieldErrors as exc:
        db.session.rollback()
        raise ApiError(422, "some fields are invalid", exc.fields) from None
    return jsonify(queries.alert_json(alert)), 201


@bp.post("/alerts/<int:alert_id>/publish")
@require_role(*EDITORS)
def publish_alert(alert_id: int):
    try:
        alert = operations.publish_alert(alert_id, g.user)
        db.session.commit()
    except LookupError:
        db.session.rollback()
        raise ApiError(404, "no such alert") from None
    except operations.AlertRefused as exc:
        db.session.rollback()
        raise ApiError(409, f"only a draft can be published: {exc}") from None
    return jsonify(queries.alert_json(alert))


CODE_SENT = CodeSent(status="code_sent", message="if this number can receive SMS, a code is on its way; "
                                                  "it is valid for 10 minutes").model_dump(mode="json")


@bp.post("/public/subscriptions")
@limits.code_requests
def subscribe():
    """The same answer for every valid number, known or not (no enumeration)."""
    data = _body()
    try:
        subscriptions.request_subscription(data.get("phone"), data.get("district"), "api")
        db.session.commit()
    except FieldErrors as exc:
        db.session.rollback()
        raise ApiError(422, "some fields are invalid", exc.fields) from None
    return jsonify(CODE_SENT), 202


@bp.post("/public/subscriptions/confirm")
@limits.code_checks
def confirm():
    data = _body()
    try:
        confirmed = subscriptions.confirm_subscription(data.get("phone"), data.get("code"), "api")
        db.session.commit()  # a wrong code counts, even though the answer is an error
    except FieldErrors as exc:
        db.session.rollback()
        raise ApiError(422, "some fields are invalid", exc.fields) from None
    if not confirmed:
        raise ApiError(422, "the code is wrong or has expired", {"code": "wrong or expired; ask for a new code"})
    return jsonify(SubscriptionConfirmed(status="confirmed").model_dump(mode="json"))
