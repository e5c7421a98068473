"""The JSON API under /api/v1 (DESIGN.md §3)."""
from flask import Blueprint, request
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def register_error_handlers(app) -> None:
    """API paths answer every error in the JSON shape; pages keep their HTML error pages."""
    from hotline.api.errors import ApiError, error_response, from_database_down, from_http_exception

    @app.errorhandler(ApiError)
    def api_error(exc: ApiError):
        return error_response(exc.status, exc.message, exc.fields, exc.code)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if is_api_request():
            return from_http_exception(exc)
        if exc.code in (403, 404):
            from flask import render_template
            return render_template(f"errors/{exc.code}.html"), exc.code
        return exc

    @app.errorhandler(OperationalError)
    def database_down(exc: OperationalError):
        from hotline.extensions import db
        db.session.rollback()
        if is_api_request():
            return from_database_down(exc)
        return "数据库暂时不可用，请稍后再试 / The database is unavailable; try again shortly.", 503


from hotline.api import answers, cases, openapi  # noqa: E402,F401  (routes register on import)
