"""Log-in limits that guessing cannot turn into a lock-out (issue #12, docs/decisions.md).

Only failed log-ins count (a shift logging in at 08:00 uses up nothing). Three allowances:
- per account from one client (HOTLINE_LOGIN_RATE_LIMIT): guessing one account from one place;
- per client over all accounts (HOTLINE_LOGIN_CLIENT_RATE_LIMIT): one machine spraying many names;
- per account from every client (HOTLINE_LOGIN_ACCOUNT_RATE_LIMIT): many machines on one account.
The client is the address after ProxyFix (HOTLINE_TRUSTED_PROXIES). A browser an account has logged in
from before holds a signed device cookie naming it; for that account such a browser is counted on its
own allowance (HOTLINE_LOGIN_RATE_LIMIT per device) instead of the three above, so a flood of failures,
from any address against any names, never locks out a user at their usual browser who types the right
password. A stolen device cookie gains a guesser one more allowance, no more."""
import logging
import secrets

from flask import Flask, Response, current_app, g, request
from flask.logging import default_handler
from flask_limiter.util import get_remote_address
from itsdangerous import BadSignature, URLSafeTimedSerializer

from hotline.extensions import limiter

DEVICE_COOKIE = "hotline_device"
DEVICE_DAYS = 180
DEVICE_ACCOUNTS = 8  # a shared shift computer remembers its last few accounts


def account() -> str:
    """The account a log-in names, as the limits key it (case and spaces do not make a new account)."""
    return (request.form.get("username") or "").strip().lower()[:64]


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="login-device")


def _device() -> dict:
    """The device cookie's contents ({"n": nonce, "a": [accounts]}), or {} when absent or forged."""
    if "login_device" not in g:
        try:
            value = _serializer().loads(request.cookies.get(DEVICE_COOKIE, ""), max_age=DEVICE_DAYS * 86400)
        except (BadSignature, ValueError):
            value = None
        valid = isinstance(value, dict) and isinstance(value.get("n"), str) and isinstance(value.get("a"), list)
        g.login_device = value if valid else {}
    return g.login_device


def known_device() -> bool:
    """This browser logged in to the named account before."""
    return bool(account()) and account() in _device().get("a", [])


def remember_device(response: Response, username: str) -> None:
    """After a successful log-in: add the account to this browser's device cookie."""
    device = _device()
    accounts = [username.strip().lower()] + [a for a in device.get("a", []) if a != username.strip().lower()]
    value = _serializer().dumps({"n": device.get("n") or secrets.token_urlsafe(12), "a": accounts[:DEVICE_ACCOUNTS]})
    response.set_cookie(DEVICE_COOKIE, value, max_age=DEVICE_DAYS * 86400, path="/login", httponly=True,
                        samesite="Lax", secure=current_app.config.get("SESSION_COOKIE_SECURE", False))


def _failed(_response) -> bool:
    return not g.get("login_succeeded")


def _unknown_device() -> bool:
    return not known_device()


def login_limits(view):
    """The log-in view's limits, on POST only, deducted for failures only."""
    def setting(name):
        return lambda: current_app.config[name]

    rules = (
        ("LOGIN_RATE_LIMIT", lambda: f"client-account:{get_remote_address()}:{account()}", known_device),
        ("LOGIN_CLIENT_RATE_LIMIT", lambda: f"client:{get_remote_address()}", known_device),
        ("LOGIN_ACCOUNT_RATE_LIMIT", lambda: f"account:{account()}", known_device),
        ("LOGIN_RATE_LIMIT", lambda: f"device:{_device().get('n')}:{account()}", _unknown_device),
    )
    for name, key, exempt in rules:
        view = limiter.limit(setting(name), key_func=key, methods=["POST"], deduct_when=_failed,
                             exempt_when=exempt)(view)
    return view


def log_limiter_storage(app: Flask) -> None:
    """Flask-Limiter warns on its own logger when its store (Redis) is down and it counts in memory;
    make sure that warning reaches the app's log (its logger has only a NullHandler of its own)."""
    logger = logging.getLogger("flask-limiter")
    logger.setLevel(logging.INFO)
    if not any(h is default_handler for h in logger.handlers) and not logging.getLogger().handlers:
        logger.addHandler(default_handler)
