"""Response headers every page gets, and helpers the templates share."""
from flask import Response, request
from flask_babel import get_locale

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
    """The request's body read as JSON whatever its content type (as the API reads it), or None when it
    is not JSON or is too deeply nested to decode: for rate-limit keys and checks that must never raise."""
    try:
        return request.get_json(silent=True, force=True)
    except RecursionError:
        return None
