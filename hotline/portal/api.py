"""The consumer's JSON endpoints (DESIGN.md §3), no log-in: `POST /public/lookup`,
`POST /public/cases/{number}/rating` and `POST /public/cases/{number}/information`. Each checks the query
code; a wrong number and a wrong code give the same 404."""
from flask import Blueprint, jsonify

from hotline.api.errors import ApiError
from hotline.cases.schemas import FieldErrors
from hotline.extensions import db
from hotline.portal import information, lookup, ratings
from hotline.portal.lookup_limits import code_checks
from hotline.portal.schemas import InformationAdded, RatingOut

bp = Blueprint("portal_api", __name__, url_prefix="/api/v1/public")
NOT_FOUND = "no case with this number and query code"


def _body() -> dict:
    from hotline.api.cases import json_body
    data = json_body()
    if not isinstance(data, dict):
        raise ApiError(400, "the body must be a JSON object")
    return data


def _verified(number, code):
    try:
        case = lookup.find_case(number, code)
    except FieldErrors as exc:
        raise ApiError(422, "some fields are invalid", exc.fields) from None
    if case is None:
        raise ApiError(404, NOT_FOUND)
    return case


@bp.post("/lookup")
@code_checks
def lookup_case():
    data = _body()
    return jsonify(lookup.public_view(_verified(data.get("number"), data.get("code"))))


@bp.post("/cases/<number>/rating")
@code_checks
def rate(number: str):
    data = _body()
    case = _verified(number, data.get("code"))
    try:
        score, comment, fault = ratings.parse_rating(data)
        rating = ratings.rate_case(case, score, comment, fault)
        db.session.commit()
    except FieldErrors as exc:
        db.session.rollback()
        raise ApiError(422, "some fields are invalid", exc.fields) from None
    except ratings.RatingRefused as exc:
        db.session.rollback()
        raise ApiError(409, str(exc)) from None
    return jsonify(RatingOut(number=case.number, score=rating.score, comment=rating.comment,
                             bureau_at_fault=rating.bureau_at_fault,
                             rated_at=rating.rated_at.isoformat()).model_dump(mode="json")), 201


@bp.post("/cases/<number>/information")
@code_checks
def add_information(number: str):
    data = _body()
    case = _verified(number, data.get("code"))
    try:
        event = information.add_information(case, information.parse_information(data))
        db.session.commit()
    except FieldErrors as exc:
        db.session.rollback()
        raise ApiError(422, "some fields are invalid", exc.fields) from None
    except information.InformationRefused as exc:
        db.session.rollback()
        raise ApiError(409, str(exc)) from None
    return jsonify(InformationAdded(number=case.number, action=event.action,
                                    at=event.at.isoformat()).model_dump(mode="json")), 201
