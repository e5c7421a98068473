"""Cases over HTTP: `POST /cases`, `GET /cases`, `GET /cases/{number}`, `GET /callers/{phone}`.
Both writes take an `Idempotency-Key` header (hotline/api/idempotency.py)."""
import hashlib
from zoneinfo import ZoneInfo

from flask import current_app, g, jsonify, request
from flask_limiter.util import get_remote_address
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from hotline.api import bp
from hotline.api.auth import require_role
from hotline.api.errors import ApiError
from hotline.api.idempotency import idempotent, record_answer
from hotline.auth.models import ROLES
from hotline.cases import queries
from hotline.cases.access import CAN_REGISTER
from hotline.cases.actions import ActionForbidden, ActionRefused, parse_action, take_action
from hotline.cases.operations import register_case
from hotline.cases.repeats import repeat_json
from hotline.cases.schemas import FieldErrors, parse_case
from hotline.cases.serialise import case_detail, case_summary
from hotline.cases.validation import check_phone
from hotline.extensions import db, limiter
from hotline.security import read_json_body


def json_body():
    """The request's JSON, strictly (hotline/security.py: 415 unless sent as UTF-8 JSON, 400 unless JSON),
    with numbers read as Decimal so an amount is never a float."""
    return read_json_body()


def create_limit_key() -> str:
    """Intake is limited per API token (a phone system or a platform feed), else per staff session."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return "token:" + hashlib.sha256(header[7:].strip().encode()).hexdigest()[:32]
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return f"client:{get_remote_address()}"


def created_body(registered) -> dict:
    case = registered.case
    body = {"number": case.number, "status": case.status, "query_code": registered.query_code,
            # the clocks just started, as they are in hand (no query)
            "deadlines": [{"clock": c.clock, "due": c.due_at.isoformat()} for c in registered.clocks],
            # 重复举报 (Order 121 art. 35): an earlier report of the same reporter about the same business
            "repeat_of": repeat_json(registered.repeat_of)}
    if registered.linked:
        body["linked"] = {"number": registered.linked.case.number, "status": registered.linked.case.status,
                          "query_code": registered.linked.query_code}
    return body


@bp.post("/cases")
@limiter.limit(lambda: current_app.config["API_CREATE_RATE_LIMIT"], key_func=create_limit_key, methods=["POST"])
@require_role(*CAN_REGISTER)
@idempotent
def create_case():
    try:
        data = parse_case(json_body())
        registered = register_case(data, g.user)
        body = created_body(registered)
        record_answer(201, body)  # with the case, in one transaction
        db.session.commit()
    except FieldErrors as exc:
        db.session.rollback()
        raise ApiError(422, "some fields are invalid", exc.fields) from None
    return jsonify(body), 201


MAX_PAGE = 100_000


def _whole_number(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name, str(default)).strip()
    # len first: int() of thousands of digits raises (Python's limit on long integer strings)
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9) or not low <= int(raw) <= high:
        raise ApiError(422, "invalid paging", {name: f"must be a whole number from {low} to {high}"})
    return int(raw)


def _page_args() -> tuple[int, int]:
    return _whole_number("page", 1, 1, MAX_PAGE), _whole_number("per_page", current_app.config["PER_PAGE"], 1, 200)


@bp.get("/cases")
@require_role(*ROLES)
def list_cases():
    page, per_page = _page_args()
    filters = {name: request.args.get(name) for name in queries.FILTERS if request.args.get(name)}
    result = queries.list_cases(g.user, filters, page, per_page, clamp=False)
    return jsonify(items=[case_summary(c, g.user) for c in result.items], total=result.total, page=result.page,
                   per_page=result.per_page)


@bp.get("/cases/<number>")
@require_role(*ROLES)
def get_case(number: str):
    case = queries.case_for(g.user, number)
    if case is None:
        raise ApiError(404, "no such case")
    return jsonify(case_detail(case, g.user))


@bp.post("/cases/<number>/actions")
@require_role(*ROLES)
@idempotent
def case_action(number: str):
    """Take one workflow action; 403 when the user's role may not take it (or the case is at another
    bureau), 409 when the status does not allow it or the case changed meanwhile."""
    case = queries.case_for(g.user, number)
    if case is None:
        raise ApiError(404, "no such case")
    try:
        take_action(case, g.user, parse_action(json_body()))
        db.session.flush()
        body = case_detail(case, g.user)
        record_answer(200, body)
        db.session.commit()
    except FieldErrors as exc:
        db.session.rollback()
        raise ApiError(422, "some fields are invalid", exc.fields) from None
    except ActionForbidden as exc:
        db.session.rollback()
        raise ApiError(403, str(exc)) from None
    except ActionRefused as exc:
        db.session.rollback()
        raise ApiError(409, str(exc)) from None
    except StaleDataError:
        db.session.rollback()
        raise ApiError(409, "the case was changed by someone else meanwhile; reload it") from None
    return jsonify(body)


@bp.get("/callers/<phone>")
@require_role(*ROLES)
def caller(phone: str):
    try:
        normalised = check_phone(phone)
    except ValueError as exc:
        raise ApiError(422, "invalid phone number", {"phone": str(exc)}) from None
    cases = queries.caller_history(g.user, normalised)
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    # Display fields in the configured time zone next to the contract's ISO `received_at` (UTC): a
    # browser that cut the ISO string showed the day before for calls between 00:00 and 08:00.
    return jsonify(phone=normalised, items=[
        {**case_summary(c, g.user), "received_on": f"{c.received_at.astimezone(zone):%Y-%m-%d}",
         "received_local": f"{c.received_at.astimezone(zone):%Y-%m-%d %H:%M}"} for c in cases])
