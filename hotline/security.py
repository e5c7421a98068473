"""Response headers every page gets, helpers the templates share, and the checks every request passes
before a view reads it: text that cannot be stored, API bodies that are not UTF-8 JSON."""
import json
from decimal import Decimal

from flask import Response, request
from flask_babel import get_locale
from werkzeug.routing import IntegerConverter

from hotline.cases.validation import mask_phone

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'")


def add_security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if request.path.startswith(("/cases", "/console", "/station", "/inbox", "/triage", "/overdue", "/notices",
                                "/extensions", "/intake", "/api/v1")):
        response.headers.setdefault("Cache-Control", "no-store")  # personal data stays off shared caches
    return response


def inject_template_helpers() -> dict:
    from flask_login import current_user
    unread = pending_extensions = 0
    if current_user and current_user.is_authenticated:
        from hotline.deadlines.queries import pending_extension_count, unread_count
        unread = unread_count(current_user)
        if current_user.role in ("supervisor", "admin"):
            pending_extensions = pending_extension_count()
    return {"mask_phone": mask_phone, "current_locale": str(get_locale()), "unread_notices": unread,
            "pending_extensions": pending_extensions}


def refuse_unstorable_input() -> None:
    """A NUL or a lone surrogate in the path, the query or a form field can never match or be stored
    (PostgreSQL refuses NUL): answer 400 before any view sees it."""
    from flask import abort

    from hotline.cases.validation import is_storable_text
    values = [request.path, *request.args.keys(), *request.args.values()]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        values += [*request.form.keys(), *request.form.values()]
    if request.path.startswith(("/api/v1/public/", "/sms/")) and request.content_length \
            and request.mimetype not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        values += _json_strings()  # the public and gateway APIs (the staff API names the field in its 422)
    if not all(is_storable_text(v) for v in values):
        abort(400, description="the request contains a character that cannot be stored (NUL)")


def _json_strings(limit: int = 10_000) -> list[str]:
    """Every key and string of a JSON body (the API parses bodies whatever their content type), walked
    without recursion so a deeply nested body cannot exhaust the stack; unreadable bodies are left to
    the view's own 400."""
    found, stack = [], [request_json()]
    while stack and len(found) < limit:
        item = stack.pop()
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, dict):
            found.extend(k for k in item if isinstance(k, str))
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def request_json():
    """The request's body read as JSON whatever its content type (as a client may send it), or None when
    it is not UTF-8 JSON or is too deeply nested to decode: for rate-limit keys and checks that must
    never raise. The API itself reads bodies strictly (`read_json_body`)."""
    try:
        return json.loads(request.get_data(cache=True).decode("utf-8"))
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return None


# Issue #12 item 9: the API reads JSON only. RFC 8259 §8.1: JSON between systems is UTF-8; json.loads
# would otherwise guess UTF-16 or UTF-32 from the bytes and read a text/plain or form body as JSON.
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def is_json_type(mimetype: str) -> bool:
    return mimetype == "application/json" or (mimetype.startswith("application/") and mimetype.endswith("+json"))


def json_body_text() -> str | None:
    """The body of an API request as text, None when it has none. 415 when it is not sent as JSON (text/plain,
    a form, no content type at all, or a charset other than UTF-8); 400 when its bytes are not UTF-8."""
    from flask import abort
    data = request.get_data(cache=True)
    if not data:
        return None
    if not is_json_type(request.mimetype):
        abort(415, description="send the body as JSON (Content-Type: application/json)")
    charset = (request.mimetype_params.get("charset") or "utf-8").lower().replace("_", "-")
    if charset not in ("utf-8", "utf8"):
        abort(415, description="send JSON as UTF-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        abort(400, description="the body is not UTF-8 text")


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def _no_duplicate_keys(pairs: list) -> dict:
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"the key {key!r} appears twice")
        seen[key] = value
    return seen


def read_json_body():
    """The API's JSON body, strictly: UTF-8 and a JSON content type (see json_body_text), numbers with a
    fraction or an exponent as Decimal so an amount is never a float, no NaN or Infinity, no key twice.
    None for an empty body; 400 for anything that is not JSON."""
    from flask import abort
    text = json_body_text()
    if text is None:
        return None
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant,
                          object_pairs_hook=_no_duplicate_keys)
    except ValueError as exc:
        abort(400, description=f"the body is not valid JSON: {exc}")
    except RecursionError:
        abort(400, description="the body is nested too deeply")


def refuse_non_json_body() -> None:
    """Before any API view: a write whose body is not UTF-8 JSON is answered 415 or 400 at once, whatever
    the endpoint (the ones that take no body too), before authentication reads anything."""
    if request.path.startswith("/api/") and request.method in WRITE_METHODS:
        json_body_text()


class IdConverter(IntegerConverter):
    """`<int:…>` in every route: a row id, so at most the largest integer column value (2**31 - 1).
    A larger number is a 404 at routing; it once reached the database, which refused it with a 500
    (PostgreSQL: integer out of range; SQLite: too large to convert), issue #12."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)
