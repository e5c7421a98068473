"""The Open311 GeoReport v2 endpoints under /open311/v2/, each as `.xml` or `.json`.

Reads are public and limited per client; `POST requests` needs `api_key`, a staff API token whose role may
register cases, and nothing else authenticates here: no browser session, so the blueprint needs no CSRF
token (a cookie alone can never write through it). Every error, the app's own (413, 429, a database
outage) included, answers in the specification's <errors> format with its HTTP status."""
import hashlib

from flask import Blueprint, current_app, request
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from hotline.auth.models import User
from hotline.auth.operations import user_for_token
from hotline.cases.access import CAN_REGISTER
from hotline.extensions import db, limiter
from hotline.open311 import intake, queries
from hotline.open311.render import FORMATS, Open311Error, error_response, respond
from hotline.open311.services import definition_json, discovery_json, load_catalog, service_json
from hotline.types import utcnow

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
DEFAULT_READ_LIMIT = "120 per minute"


def _read_limit() -> str:
    return current_app.config.get("OPEN311_RATE_LIMIT") or DEFAULT_READ_LIMIT


def _create_limit_key() -> str:
    """Creation is limited per api_key (one integration), as `POST /api/v1/cases` is per token."""
    key = request.form.get("api_key") or request.args.get("api_key")
    if key:
        return "open311-key:" + hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()[:32]
    return f"client:{get_remote_address()}"


reads = limiter.shared_limit(_read_limit, scope="open311-read")  # one budget per client for every read


def _format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise Open311Error(404, str(_l("no such format: use .xml or .json")))
    return fmt


def staff_user(required: bool) -> User | None:
    """The user of the request's staff API token: `api_key` (the specification's), or an
    `Authorization: Bearer` header (kept out of URLs and their logs). Missing or unknown: 403."""
    key = (request.form.get("api_key") if request.method == "POST" else None) or request.args.get("api_key")
    header = request.headers.get("Authorization", "")
    if not key and header.startswith("Bearer "):
        key = header[7:].strip()
    if not key:
        if required:
            raise Open311Error(403, str(_l("api_key is missing: send a staff API token as api_key")))
        return None
    user = user_for_token(key)
    if user is None:
        raise Open311Error(403, str(_l("invalid api_key")))
    return user


@bp.get("/discovery.<fmt>")
@reads
def discovery(fmt: str):
    return respond(_format(fmt), "discovery", discovery_json(load_catalog()))


@bp.get("/services.<fmt>")
@reads
def services(fmt: str):
    fmt = _format(fmt)
    return respond(fmt, "services", [service_json(s) for s in load_catalog().services()])


@bp.get("/services/<service_code>.<fmt>")
@reads
def service_definition(service_code: str, fmt: str):
    fmt = _format(fmt)
    catalog = load_catalog()
    service = catalog.service(service_code)
    if service is None:
        raise Open311Error(404, f"service_code: {_l('no such service')}")
    return respond(fmt, "service_definition", definition_json(service, catalog))


@bp.get("/requests.<fmt>")
@reads
def list_requests(fmt: str):
    fmt = _format(fmt)
    user = staff_user(required=False)
    catalog = load_catalog()
    filters = queries.parse_filters(request.args, catalog, utcnow(), current_app.config["TIMEZONE"])
    return respond(fmt, "service_requests", queries.find_requests(user, filters, catalog))


@bp.get("/requests/<number>.<fmt>")
@reads
def get_request(number: str, fmt: str):
    fmt = _format(fmt)
    found = queries.find_request(staff_user(required=False), number, load_catalog())
    if found is None:
        raise Open311Error(404, f"service_request_id: {_l('no such request')}")
    return respond(fmt, "service_requests", [found])


@bp.post("/requests.<fmt>")
@limiter.limit(lambda: current_app.config["API_CREATE_RATE_LIMIT"], key_func=_create_limit_key, methods=["POST"])
def create_request(fmt: str):
    """登记 a case from a form-encoded Open311 request; 200 with service_request_id = the case number."""
    fmt = _format(fmt)
    if request.content_length and request.mimetype not in FORM_TYPES:
        raise Open311Error(400, str(_l("send the request as application/x-www-form-urlencoded")))
    user = staff_user(required=True)
    if user.role not in CAN_REGISTER:
        raise Open311Error(403, str(_l("the user of this api_key may not register cases")))
    catalog = load_catalog()
    code = (request.form.get("service_code") or "").strip()
    if not code:
        raise Open311Error(400, f"service_code: {_l('required')}")
    service = catalog.service(code)
    if service is None:
        raise Open311Error(404, f"service_code: {_l('no such service')}")
    submission = intake.read_form(request.form, service, catalog)
    registered = intake.register(submission, user)
    return respond(fmt, "service_requests", [{
        "service_request_id": registered.case.number, "service_notice": intake.service_notice(registered),
        "account_id": submission.account_id}])


def _rollback_quietly() -> None:
    # With the database gone mid-transaction the rollback fails too; that must not turn a 503 into a 500.
    try:
        db.session.rollback()
    except OperationalError:
        current_app.logger.warning("rollback failed: the database connection is gone")


def _error_format() -> str:
    fmt = (request.view_args or {}).get("fmt")
    return fmt if fmt in FORMATS else "xml"  # XML: the format the specification requires


@bp.errorhandler(Open311Error)
def open311_error(exc: Open311Error):
    db.session.rollback()
    return error_response(_error_format(), exc.status, exc.descriptions)


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException):
    status = exc.code or 500
    if status >= 500:
        from hotline.errors import reference_id
        _rollback_quietly()
        reference = reference_id()
        current_app.logger.error("server error, reference %s", reference,
                                 exc_info=getattr(exc, "original_exception", None) or exc)
        return error_response(_error_format(), status, [str(_l("server error, reference %(reference)s",
                                                                   reference=reference))])
    if status == 429:
        return error_response(_error_format(), status, [f"{_l('too many requests')}: {exc.description}"])
    return error_response(_error_format(), status, [exc.description or exc.name])


@bp.errorhandler(OperationalError)
def database_down(exc: OperationalError):
    _rollback_quietly()
    current_app.logger.error("database unavailable (Open311)", exc_info=exc)
    return error_response(_error_format(), 503, [str(_l("The database is unavailable; try again shortly."))])
