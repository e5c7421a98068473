"""Rate limits of everything that checks a query code (look-up, rating, adding information), on the
page and the API alike: failed checks per case number and client (10 an hour), failed checks per case
number from everywhere (a higher cap: a code cannot be guessed from many clients, and a stranger who
knows a number cannot lock its owner out with a few wrong codes), and all checks per client. Only
failures count per number, so a consumer who looks their case up often is never locked out by it."""
from flask import current_app, request
from flask_limiter.util import get_remote_address

from hotline.cases.numbers import normalise_case_number
from hotline.extensions import limiter
from hotline.security import request_json

DEFAULTS = {"PUBLIC_LOOKUP_RATE_LIMIT": "20 per minute", "PUBLIC_LOOKUP_NUMBER_RATE_LIMIT": "10 per hour",
            "PUBLIC_LOOKUP_NUMBER_CAP": "200 per hour"}


def _setting(name: str):
    return lambda: current_app.config.get(name) or DEFAULTS[name]


def number_key() -> str:
    """The case number of the request (the URL's, a JSON body's or a form's), as its digits."""
    value = (request.view_args or {}).get("number")
    if value is None:
        # Whatever the content type claims: the API reads a JSON body regardless, so the key must too.
        data = request.form if request.form else request_json()
        value = data.get("number") if hasattr(data, "get") else None
    digits = normalise_case_number(value if isinstance(value, str) else "")[:20]
    return f"number:{digits or get_remote_address()}"


def number_client_key() -> str:
    return f"{number_key()}:{get_remote_address()}"


def _failed(response) -> bool:
    return response.status_code == 404


def code_checks(view):
    view = limiter.shared_limit(_setting("PUBLIC_LOOKUP_NUMBER_RATE_LIMIT"), scope="lookup-number-client",
                                key_func=number_client_key, methods=["POST"], deduct_when=_failed)(view)
    view = limiter.shared_limit(_setting("PUBLIC_LOOKUP_NUMBER_CAP"), scope="lookup-number",
                                key_func=number_key, methods=["POST"], deduct_when=_failed)(view)
    return limiter.shared_limit(_setting("PUBLIC_LOOKUP_RATE_LIMIT"), scope="lookup-client", methods=["POST"])(view)
