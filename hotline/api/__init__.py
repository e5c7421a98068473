"""The JSON API under /api/v1 (DESIGN.md §3)."""
from flask import Blueprint, request

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def register_error_handlers(app) -> None:
    """API paths answer every error in the JSON shape; pages keep their HTML error pages."""
    from hotline.api.errors import ApiError, error_response

    @app.errorhandler(ApiError)
    def api_error(exc: ApiError):
        return error_response(exc.status, exc.message, exc.fields, exc.code)
    # HTTP errors and a database outage: hotline/errors.py answers API paths in this JSON shape too.

from hotline.api import answers, cases, openapi  # noqa: E402,F401  (routes register on import)
