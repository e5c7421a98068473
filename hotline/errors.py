"""Error pages: every error a person can meet is the app's own page, in their language, with the
header; API paths keep the JSON shape of hotline/api/errors.py. A 500 logs a short reference id
that the page shows, so a call to the help desk finds the traceback."""
import secrets

from flask import Flask, current_app, render_template, request
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

# (title, what to do) for each status a page can answer.
MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Go back and try again.")),
    401: (_l("Please log in"), _l("Log in to open this page.")),
    403: (_l("Not allowed"), _l("You may not open this page.")),
    404: (_l("Page not found"), _l("Nothing here, or nothing you may see.")),
    405: (_l("Not allowed this way"), _l("This page cannot be used this way. Go back and use the page's own buttons.")),
    413: (_l("Too large"), _l("What you sent is too large.")),
    429: (_l("Too many attempts"), _l("Too many attempts. Wait a minute and try again.")),
    500: (_l("Something went wrong"), _l("The error has been recorded. If it happens again, call the administrator "
                                         "and give the reference below.")),
    503: (_l("Temporarily unavailable"), _l("The database is unavailable; try again shortly.")),
}


def reference_id() -> str:
    return secrets.token_hex(4)


def error_page(status: int, reference: str | None = None):
    title, advice = MESSAGES.get(status, MESSAGES[500] if status >= 500 else MESSAGES[400])
    try:
        return render_template("errors/error.html", status=status, title=title, advice=advice,
                               reference=reference), status
    except Exception:  # the page itself failed (the database is down, say): plain text, never a second 500
        current_app.logger.exception("error page %s could not be rendered", status)
        return f"{status} · {title} / {reference or ''}", status, {"Content-Type": "text/plain; charset=utf-8"}


def _rollback_quietly(db) -> None:
    """Roll back the failed transaction; with the database gone mid-transaction the rollback fails too,
    and that must not turn the 503 into a 500 (the pool replaces the dead connection later)."""
    try:
        db.session.rollback()
    except OperationalError:
        current_app.logger.warning("rollback failed: the database connection is gone")


def register_error_pages(app: Flask) -> None:
    from hotline.api import is_api_request
    from hotline.api.errors import from_database_down, from_http_exception
    from hotline.extensions import db

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        reference = None
        if status >= 500:
            _rollback_quietly(db)
            reference = reference_id()
            original = getattr(exc, "original_exception", None) if isinstance(exc, InternalServerError) else None
            current_app.logger.error("server error, reference %s", reference, exc_info=original or exc)
        if is_api_request():
            return from_http_exception(exc)
        if request.blueprint is None and request.path.startswith("/open311/"):
            # no Open311 route matched, so its blueprint's handlers never ran: answer in its error format
            from hotline.open311.render import error_response
            fmt = "json" if request.path.endswith(".json") else "xml"
            return error_response(fmt, status, [exc.description or exc.name])
        return error_page(status, reference)

    @app.errorhandler(OperationalError)
    def database_down(exc: OperationalError):
        _rollback_quietly(db)
        reference = reference_id()
        current_app.logger.error("database unavailable, reference %s", reference, exc_info=exc)
        if is_api_request():
            return from_database_down(exc)
        return error_page(503, reference)
