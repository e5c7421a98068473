"""Accounts and tokens: plain functions used by the CLI, the log-in page and the API."""
import hashlib
import secrets

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from hotline.auth.models import ROLES, ApiToken, User
from hotline.extensions import db
from hotline.reference.models import Bureau, Station
from hotline.types import utcnow

MIN_PASSWORD_LENGTH = 10
# Checked against a dummy hash when the user does not exist, so timing does not reveal names.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


class AccountError(ValueError):
    pass


def create_user(username: str, password: str, role: str, *, display_name: str | None = None,
                bureau_code: str | None = None, station_code: str | None = None) -> User:
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    if db.session.scalar(select(User.id).where(User.username == username)):
        raise AccountError(f"user {username!r} exists already")
    bureau = station = None
    if role == "bureau":
        bureau = db.session.scalar(select(Bureau).where(Bureau.code == (bureau_code or "")))
        if bureau is None:
            raise AccountError("a bureau user needs --bureau with a known bureau code")
    if role == "station":
        station = db.session.scalar(select(Station).where(Station.code == (station_code or "")))
        if station is None:
            raise AccountError("a station user needs --station with a known station code")
    # scrypt (Werkzeug's default): memory-hard, the strong choice without another dependency.
    user = User(username=username, display_name=display_name or username, role=role,
                password_hash=generate_password_hash(password), bureau=bureau, station=station)
    db.session.add(user)
    db.session.flush()
    return user


def set_sms_reminders(username: str, mobile: str | None, reminders: bool) -> User:
    """A handler's mobile number and consent to deadline reminders by SMS."""
    from hotline.cases.validation import check_phone
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise AccountError(f"no user {username!r}")
    if mobile is not None:
        try:
            phone = check_phone(mobile)
        except ValueError:
            phone = None
        if not phone or len(phone) != 11 or not phone.startswith("1"):
            raise AccountError("--mobile must be a mainland mobile number")
        user.mobile = phone
    if reminders and not user.mobile:
        raise AccountError("SMS reminders need a mobile number (--mobile)")
    user.sms_reminders = reminders
    return user


def authenticate(username: str, password: str) -> User | None:
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not user.active or not check_password_hash(user.password_hash, password):
        return None
    user.last_login_at = utcnow()
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(username: str) -> str:
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise AccountError(f"no user {username!r}")
    token = "hl_" + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user_id=user.id, prefix=token[:10], token_hash=_digest(token)))
    return token


def user_for_token(token: str) -> User | None:
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token),
                                                   ApiToken.revoked_at.is_(None)))
    if row is None or not row.user.active:
        return None
    return row.user
