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
    if not all(is_storable_text(v) for v in values):
        abort(400, description="the request contains a character that cannot be stored (NUL)")
