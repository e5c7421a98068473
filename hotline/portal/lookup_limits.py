"""Rate limits of everything that checks a query code (look-up, rating, adding information), on the
page and the API alike: failed checks per case number, so one case's code cannot be guessed from many
clients, and all checks per client. Failures only count per number, so a consumer who looks their
case up often is never locked out by it."""
from flask import current_app, request
from flask_limiter.util import get_remote_address

from hotline.cases.numbers import normalise_case_number
from hotline.extensions import limiter

DEFAULTS = {"PUBLIC_LOOKUP_RATE_LIMIT": "20 per minute", "PUBLIC_LOOKUP_NUMBER_RATE_LIMIT": "10 per hour"}


def _setting(name: str):
    return lambda: current_app.config.get(name) or DEFAULTS[name]


def number_key() -> str:
    """The case number of the request (the URL's, a JSON body's or a form's), as its digits."""
    value = (request.view_args or {}).get("number")
    if value is None:
        data = request.get_json(silent=True) if request.is_json else request.form
        value = data.get("number") if hasattr(data, "get") else None
    digits = normalise_case_number(value if isinstance(value, str) else "")[:20]
    return f"number:{digits or get_remote_address()}"


def _failed(response) -> bool:
    return response.status_code == 404


def code_checks(view):
    view = limiter.shared_limit(_setting("PUBLIC_LOOKUP_NUMBER_RATE_LIMIT"), scope="lookup-number",
                                key_func=number_key, methods=["POST"], deduct_when=_failed)(view)
    return limiter.shared_limit(_setting("PUBLIC_LOOKUP_RATE_LIMIT"), scope="lookup-client", methods=["POST"])(view)
