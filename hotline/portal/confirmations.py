"""The consumer's phone is confirmed by an SMS code before an online case is registered (Order 121
art. 10: the complainant's real phone number). As with alert subscriptions (hotline/alerts/subscriptions.py):
a 6-digit code, stored only as an HMAC of phone, purpose and code, valid 10 minutes, 5 tries, used once."""
import hashlib
import hmac
import logging
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from hotline.cases.validation import mask_phone
from hotline.extensions import db
from hotline.portal.models import PhoneConfirmation
from hotline.sms.operations import queue_message
from hotline.types import utcnow

log = logging.getLogger(__name__)

CODE_TEMPLATE = "SUBMIT_CODE"
CODE_LIFETIME = timedelta(minutes=10)
MAX_ATTEMPTS = 5


def _code_hash(phone: str, purpose: str, code: str) -> str:
    message = f"{phone}:{purpose}:{code}".encode()
    return hmac.new(current_app.config["SECRET_KEY"].encode(), message, hashlib.sha256).hexdigest()


def _row(phone: str, purpose: str) -> PhoneConfirmation | None:
    return db.session.scalar(select(PhoneConfirmation).where(PhoneConfirmation.phone == phone,
                                                             PhoneConfirmation.purpose == purpose).with_for_update())


def send_code(phone: str, purpose: str = "submit") -> None:
    """A new code for the number (the previous one is void), sent at once (SMS kind `confirm`)."""
    code = f"{secrets.randbelow(1_000_000):06d}"
    row = _row(phone, purpose)
    if row is None:
        try:
            with db.session.begin_nested():
                row = PhoneConfirmation(phone=phone, purpose=purpose, code_hash="", expires_at=utcnow())
                db.session.add(row)
        except IntegrityError:  # two requests for one number at once: use the other's row
            row = _row(phone, purpose)
    row.code_hash, row.expires_at = _code_hash(phone, purpose, code), utcnow() + CODE_LIFETIME
    row.attempts, row.confirmed_at, row.created_at = 0, None, utcnow()
    queue_message(kind="confirm", template_code=CODE_TEMPLATE,
                  params={"code": code, "minutes": int(CODE_LIFETIME.total_seconds() // 60)},
                  to_phone=phone, dedupe_key=f"confirm:{purpose}:{phone}:{secrets.token_hex(6)}")
    log.info("confirmation code (%s) sent to %s", purpose, mask_phone(phone))


def use_code(phone: str, code, purpose: str = "submit") -> bool:
    """True once for the right code within its lifetime; a wrong code counts against the tries (the
    caller commits that count even when it refuses the request)."""
    row = _row(phone, purpose)
    if row is None or not row.code_hash or row.confirmed_at is not None or not isinstance(code, str):
        return False
    if row.expires_at < utcnow() or row.attempts >= MAX_ATTEMPTS:
        return False
    if hmac.compare_digest(_code_hash(phone, purpose, code.strip()), row.code_hash):
        row.code_hash, row.confirmed_at = "", utcnow()  # used: the same code never confirms twice
        return True
    row.attempts += 1
    return False
