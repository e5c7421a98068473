"""Rate limits of the subscription endpoints, shared by the page and the API: per phone number (each
request sends an SMS, and a number's owner should not be flooded) and per client."""
from flask import current_app, request
from flask_limiter.util import get_remote_address

from hotline.extensions import limiter
from hotline.security import request_json

DEFAULTS = {"ALERT_CODE_RATE_LIMIT_PHONE": "5 per hour", "ALERT_CODE_RATE_LIMIT_CLIENT": "20 per hour",
            "ALERT_CONFIRM_RATE_LIMIT_PHONE": "10 per hour", "ALERT_CONFIRM_RATE_LIMIT_CLIENT": "30 per hour"}


def _setting(name: str):
    return lambda: current_app.config.get(name, DEFAULTS[name])


def phone_key() -> str:
    """The number in the request (JSON or form) as the SMS would go to it (check_phone), so "+86 139-0000-1111",
    full-width digits or an extension all count against 13900001111."""
    from hotline.cases.validation import check_phone
    data = request.form if request.form else request_json()
    value = data.get("phone") if hasattr(data, "get") else None
    try:
        phone = check_phone(value) if isinstance(value, str) else ""
    except ValueError:
        phone = ""
    return f"phone:{phone or get_remote_address()}"


def code_requests(view):
    """Asking for a code (subscribe, unsubscribe): each one sends an SMS."""
    view = limiter.shared_limit(_setting("ALERT_CODE_RATE_LIMIT_PHONE"), scope="alert-code-phone",
                                key_func=phone_key, methods=["POST"])(view)
    return limiter.shared_limit(_setting("ALERT_CODE_RATE_LIMIT_CLIENT"), scope="alert-code-client",
                                methods=["POST"])(view)


def code_checks(view):
    """Entering a code: on top of the attempts each code allows, so codes cannot be tried at scale."""
    view = limiter.shared_limit(_setting("ALERT_CONFIRM_RATE_LIMIT_PHONE"), scope="alert-confirm-phone",
                                key_func=phone_key, methods=["POST"])(view)
    return limiter.shared_limit(_setting("ALERT_CONFIRM_RATE_LIMIT_CLIENT"), scope="alert-confirm-client",
                                methods=["POST"])(view)
