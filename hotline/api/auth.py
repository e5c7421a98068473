"""API authentication: a Bearer token, or the browser session (then CSRF applies to writes)."""
from functools import wraps

from flask import g, request
from flask_login import current_user

from hotline.api.errors import ApiError
from hotline.auth.operations import user_for_token
from hotline.extensions import csrf


def api_user():
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return user_for_token(header[7:].strip())
    if current_user.is_authenticated:
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            csrf.protect()  # a cookie-authenticated write must prove it came from our page
        return current_user._get_current_object()
    return None


def require_role(*roles: str):
    """Authenticate the request and check its role; `g.user` holds the user afterwards."""
    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            user = api_user()
            if user is None:
                raise ApiError(401, "authentication required: send Authorization: Bearer TOKEN")
            if roles and user.role not in roles:
                raise ApiError(403, "your role may not do this")
            g.user = user
            return view(*args, **kwargs)
        return wrapped
    return decorate
