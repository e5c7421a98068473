"""Accounts and tokens: plain functions used by the CLI, the log-in page and the API."""
import functools
import hashlib
import logging
import secrets
from datetime import timedelta

from sqlalchemy import bindparam, or_, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from hotline.auth.models import ROLES, ApiToken, User
from hotline.auth.sessions import end_every_session
from hotline.extensions import db
from hotline.reference.models import Bureau, Station
from hotline.types import utcnow

audit = logging.getLogger("hotline.audit")
MIN_PASSWORD_LENGTH = 10
# Checked against a dummy hash when the user does not exist, so timing does not reveal names.
_DUMMY_HASH = generate_password_hash("not-a-real-password")
# A token's last use is written at most this often: no write on every API request.
TOKEN_USE_RESOLUTION = timedelta(minutes=1)


class AccountError(ValueError):
    pass


def create_user(username: str, password: str, role: str, *, display_name: str | None = None,
                bureau_code: str | None = None, station_code: str | None = None) -> User:
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    _check_password(password)
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


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")


def _user(username: str) -> User:
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise AccountError(f"no user {username!r}")
    return user


def set_password(username: str, password: str) -> User:
    """A new password ends every session of the user (a copied cookie included)."""
    _check_password(password)
    user = _user(username)
    user.password_hash = generate_password_hash(password)
    end_every_session(user)
    return user


def deactivate_user(username: str) -> User:
    """The account can no longer log in or use its tokens, and its sessions end now."""
    user = _user(username)
    user.active = False
    end_every_session(user)
    return user


def authenticate(username: str, password: str) -> User | None:
    """The user if the password is right and the account active. Every path costs one password hash
    (a dummy one for an unknown name), so timing tells neither whether a name exists nor whether it
    is deactivated."""
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    user.last_login_at = utcnow()
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(username: str) -> str:
    user = _user(username)
    token = "hl_" + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user_id=user.id, prefix=token[:10], token_hash=_digest(token)))
    return token


@functools.cache
def _token_statement():
    # Built once: constructing it cost about a third of the look-up's CPU (issue #13).
    return (select(User, ApiToken.id, ApiToken.last_used_at).join(ApiToken, ApiToken.user_id == User.id)
            .where(ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked_at.is_(None)))


def user_for_token(token: str) -> User | None:
    """The user of a valid token, found with one indexed statement that also reads the token's last use.
    That is written at most once every TOKEN_USE_RESOLUTION, not on every request. (Not a joined eager
    load of the token row: building its aliased joins cost more CPU per request than the query itself.)"""
    found = db.session.execute(_token_statement(), {"token_hash": _digest(token)}).first()
    if found is None or not found[0].active:
        return None
    user, token_id, last_used = found
    now = utcnow()
    if last_used is None or now - last_used >= TOKEN_USE_RESOLUTION:
        _note_token_use(token_id, now)
    return user


def _note_token_use(token_id: int, now) -> None:
    """Committed at once, on the request's own connection (a second one could starve the pool when many
    requests with a fresh token arrive together), without expiring what the request has loaded. The
    time is guarded, so of several requests in the same minute only the first writes. If the session
    holds changes already (a caller that checks a token mid-transaction), the time rides along."""
    session = db.session()
    with session.no_autoflush:
        session.execute(update(ApiToken).where(
            ApiToken.id == token_id,
            or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= now - TOKEN_USE_RESOLUTION))
            .values(last_used_at=now), execution_options={"synchronize_session": False})
    if session.new or session.dirty or session.deleted:
        return
    expire, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire


def tokens(username: str | None = None) -> list[ApiToken]:
    """Every token (of one user), newest first; only prefixes and dates, never a token."""
    query = select(ApiToken).join(ApiToken.user).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    if username is not None:
        query = query.where(ApiToken.user_id == _user(username).id)
    return list(db.session.scalars(query))


def revoke_tokens(*, prefix: str | None = None, username: str | None = None, by: str) -> list[ApiToken]:
    """Revoke the token with this prefix, or every live token of a user; each written to the audit log."""
    if (prefix is None) == (username is None):
        raise AccountError("give a token prefix or a user, not both")
    query = select(ApiToken).where(ApiToken.revoked_at.is_(None))
    if prefix is not None:
        rows = list(db.session.scalars(query.where(ApiToken.prefix == prefix.strip())))
        if not rows:
            raise AccountError(f"no live token with prefix {prefix!r}")
        if len(rows) > 1:
            raise AccountError(f"{len(rows)} live tokens share the prefix {prefix!r}: revoke them with --user")
    else:
        rows = list(db.session.scalars(query.where(ApiToken.user_id == _user(username).id)))
    for row in rows:
        _revoke(row, by)
    return rows


def revoke_token(token_id: int, by: str) -> ApiToken | None:
    """Revoke one token by its id (the admin page); None when there is no such token."""
    row = db.session.get(ApiToken, token_id)
    if row is not None and row.revoked_at is None:
        _revoke(row, by)
    return row


def _revoke(row: ApiToken, by: str) -> None:
    row.revoked_at = utcnow()
    audit.info("API token %s of user %s revoked by %s", row.prefix, row.user.username, by)
