"""Cases over HTTP: `POST /cases`, `GET /cases`, `GET /cases/{number}`, `GET /callers/{phone}`."""
import json
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import current_app, g, jsonify, request
from sqlalchemy.orm.exc import StaleDataError

from hotline.api import bp
from hotline.api.auth import require_role
from hotline.api.errors import ApiError
from hotline.auth.models import ROLES
from hotline.cases import queries
from hotline.cases.access import CAN_REGISTER
from hotline.cases.actions import ActionRefused, parse_action, take_action
from hotline.cases.operations import register_case
from hotline.cases.repeats import repeat_json
from hotline.cases.schemas import FieldErrors, parse_case
from hotline.cases.serialise import case_detail, case_summary, deadlines_json
from hotline.cases.validation import check_phone
from hotline.extensions import db


def json_body():
    """The request's JSON, with numbers read as Decimal so an amount is never a float."""
    try:
        return json.loads(request.get_data(cache=True) or b"null", parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"the body is not valid JSON: {exc}") from None
    except RecursionError:
        raise ApiError(400, "the body is nested too deeply") from None


@bp.post("/cases")
@require_role(*CAN_REGISTER)
def create_case():
    try:
        data = parse_case(json_body())
        registered = register_case(data, g.user)
        db.session.commit()
    except FieldErrors as exc:
        db.session.rollback()
        raise ApiError(422, "some fields are invalid", exc.fields) from None
    case = registered.case
    body = {"number": case.number, "status": case.status, "query_code": registered.query_code,
            "deadlines": [{"clock": d["clock"], "due": d["due"]} for d in deadlines_json(case.id)],
            # 重复举报 (Order 121 art. 35): an earlier report of the same reporter about the same business
            "repeat_of": repeat_json(registered.repeat_of)}
    if registered.linked:
        body["linked"] = {"number": registered.linked.case.number, "status": registered.linked.case.status,
                          "query_code": registered.linked.query_code}
    return jsonify(body), 201


MAX_PAGE = 100_000


def _whole_number(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name, str(default)).strip()
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
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
def case_action(number: str):
    """Take one workflow action; 409 when the status does not allow it or the case changed meanwhile."""
    case = queries.case_for(g.user, number)
    if case is None:
        raise ApiError(404, "no such case")
    try:
        take_action(case, g.user, parse_action(json_body()))
        db.session.commit()
    except FieldErrors as exc:
        db.session.rollback()
        raise ApiError(422, "some fields are invalid", exc.fields) from None
    except ActionRefused as exc:
        db.session.rollback()
        raise ApiError(409, str(exc)) from None
    except StaleDataError:
        db.session.rollback()
        raise ApiError(409, "the case was changed by someone else meanwhile; reload it") from None
    return jsonify(case_detail(case, g.user))


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
