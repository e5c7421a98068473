"""The API's one error shape: {"error": {"code", "message", "fields"}} for every failure."""
from flask import jsonify
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
         409: "conflict", 413: "too_large", 415: "unsupported_media_type", 422: "invalid_fields",
         429: "too_many_requests", 500: "server_error", 503: "unavailable"}


class ApiError(Exception):
    def __init__(self, status: int, message: str, fields: dict[str, str] | None = None, code: str | None = None):
        super().__init__(message)
        self.status, self.message, self.fields = status, message, fields or {}
        self.code = code or CODES.get(status, "error")


def error_response(status: int, message: str, fields: dict | None = None, code: str | None = None):
    body = {"error": {"code": code or CODES.get(status, "error"), "message": message, "fields": fields or {}}}
    response = jsonify(body)
    response.status_code = status
    return response


def from_http_exception(exc: HTTPException):
    response = error_response(exc.code or 500, exc.description or exc.name)
    if exc.code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="hotline"'
    return response


def from_database_down(exc: OperationalError):
    return error_response(503, "the database is unavailable; try again shortly")
