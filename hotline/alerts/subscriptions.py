"""订阅消费警示: a number asks for alerts by SMS and proves it is theirs with a 6-digit code (stored
only as a hash, valid 10 minutes, a few attempts). The consent's time and channel are kept. Every
answer is the same whether a number is known or not, so nobody can learn who subscribed."""
import hashlib
import hmac
import logging
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from hotline.alerts.models import Subscription
from hotline.alerts.queries import district_codes
from hotline.cases.schemas import FieldErrors
from hotline.cases.validation import check_phone, mask_phone
from hotline.extensions import db
from hotline.sms.models import SmsOptOut
from hotline.types import utcnow

log = logging.getLogger(__name__)

CODE_TEMPLATE = "SUBSCRIPTION_CODE"
CODE_LIFETIME = timedelta(minutes=10)
MAX_ATTEMPTS = 5  # wrong codes before the code is void and a new one must be asked for
CHANNELS = ("web", "api", "hotline", "reply")


def check_mobile(value) -> str:
    """A mainland mobile number (alerts go by SMS), normalised; raises FieldErrors on `phone`."""
    try:
        phone = check_phone(value if isinstance(value, str) else "")
    except ValueError as exc:
        raise FieldErrors({"phone": str(exc)}) from None
    if not (len(phone) == 11 and phone.startswith("1")):
        raise FieldErrors({"phone": str(_l("not a mobile number"))})
    return phone


def check_district(value) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or value not in district_codes():
        raise FieldErrors({"district": str(_l("not a district of this city"))})
    return value


def _code_hash(phone: str, intent: str, code: str) -> str:
    # The intent ("sub:<district>" or "unsub") is bound into the hash: a code proves one request only.
    message = f"{phone}:{intent}:{code}".encode()
    return hmac.new(current_app.config["SECRET_KEY"].encode(), message, hashlib.sha256).hexdigest()


def _send_code(subscription: Subscription, intent: str) -> None:
    from hotline.sms.operations import queue_message
    code = f"{secrets.randbelow(1_000_000):06d}"
    subscription.confirm_code_hash = _code_hash(subscription.phone, intent, code)
    subscription.confirm_expires_at = utcnow() + CODE_LIFETIME
    subscription.confirm_attempts = 0
    # A message the number's owner just asked for: its kind (in the region pack, "confirm") goes at once, at
    # any hour, even to a number that opted out of alerts: it is how they opt back in (hotline/sms/policy.py).
    from hotline.sms.templates import registry
    kind = registry(current_app.config["REGION"]).templates[CODE_TEMPLATE].kind
    queue_message(kind=kind, template_code=CODE_TEMPLATE,
                  params={"code": code, "minutes": int(CODE_LIFETIME.total_seconds() // 60)},
                  to_phone=subscription.phone, dedupe_key=f"subscription:{subscription.phone}:{secrets.token_hex(6)}")


def request_subscription(phone, district, channel: str) -> None:
    """Send a confirmation code. A new number is kept as pending; a confirmed one stays confirmed (for
    its current district) until the code for the new district comes back."""
    phone, district = check_mobile(phone), check_district(district)
    subscription = db.session.scalar(select(Subscription).where(Subscription.phone == phone).with_for_update())
    if subscription is None:
        try:
            with db.session.begin_nested():
                subscription = Subscription(phone=phone, status="pending", channel=channel, created_at=utcnow())
                db.session.add(subscription)
        except IntegrityError:  # the same number asked twice at once: use the row the other request made
            subscription = db.session.scalar(select(Subscription).where(Subscription.phone == phone)
                                             .with_for_update())
    if subscription.status != "confirmed":
        subscription.status, subscription.district, subscription.channel = "pending", district, channel
    _send_code(subscription, f"sub:{district or ''}")
    log.info("subscription code sent to %s (%s)", mask_phone(phone), channel)


def _use_code(phone: str, code, intents: list[str]) -> tuple[Subscription | None, str | None]:
    """The subscription and the intent the code proves, or (None, None). Wrong codes count against the
    limit; an expired or used-up code never matches."""
    subscription = db.session.scalar(select(Subscription).where(Subscription.phone == phone).with_for_update())
    if subscription is None or not subscription.confirm_code_hash or not isinstance(code, str):
        return None, None
    expired = subscription.confirm_expires_at is None or subscription.confirm_expires_at < utcnow()
    if expired or subscription.confirm_attempts >= MAX_ATTEMPTS:
        return None, None
    code = code.strip()
    for intent in intents:
        if hmac.compare_digest(_code_hash(phone, intent, code), subscription.confirm_code_hash):
            subscription.confirm_code_hash = subscription.confirm_expires_at = None
            return subscription, intent
    subscription.confirm_attempts += 1
    return None, None


def confirm_subscription(phone, code, channel: str) -> bool:
    """Confirm with the code sent: consent is recorded with its time and channel."""
    phone = check_mobile(phone)
    intents = ["sub:"] + [f"sub:{d}" for d in sorted(district_codes())]
    subscription, intent = _use_code(phone, code, intents)
    if subscription is None:
        return False
    subscription.status, subscription.district = "confirmed", intent[4:] or None
    subscription.consent_at, subscription.channel, subscription.unsubscribed_at = utcnow(), channel, None
    # A number that once replied TD and now asks again, with its own code, wants alerts again.
    db.session.execute(delete(SmsOptOut).where(SmsOptOut.phone == phone, SmsOptOut.scope == "marketing"))
    log.info("subscription of %s confirmed (%s)", mask_phone(phone), channel)
    return True


def request_unsubscribe_code(phone) -> None:
    """Send a code to end a subscription; an unknown number gets nothing, and the caller says the same."""
    phone = check_mobile(phone)
    subscription = db.session.scalar(select(Subscription).where(Subscription.phone == phone).with_for_update())
    if subscription is not None and subscription.status == "confirmed":
        _send_code(subscription, "unsub")
        log.info("unsubscribe code sent to %s", mask_phone(phone))


def unsubscribe_with_code(phone, code) -> bool:
    phone = check_mobile(phone)
    subscription, _intent = _use_code(phone, code, ["unsub"])
    if subscription is None:
        return False
    unsubscribe(subscription, "page")
    return True


def unsubscribe(subscription: Subscription, source: str) -> None:
    """退订: no alert goes to the number any more, not even one already queued."""
    from hotline.alerts.operations import cancel_alerts_to
    if subscription.status != "unsubscribed":
        subscription.status, subscription.unsubscribed_at = "unsubscribed", utcnow()
    cancel_alerts_to(subscription.phone)
    log.info("subscription of %s ended (%s)", mask_phone(subscription.phone), source)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="alert-unsubscribe")


def unsubscribe_token(subscription: Subscription) -> str:
    """A link that ends this subscription without a code; it names the consent it ends, so a later
    subscription of the same number needs a new link."""
    return _serializer().dumps([subscription.id, subscription.phone, int(subscription.consent_at.timestamp())])


def subscription_for_token(token: str) -> Subscription | None:
    try:
        sub_id, phone, consent = _serializer().loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    subscription = db.session.get(Subscription, sub_id) if isinstance(sub_id, int) else None
    if subscription is None or subscription.phone != phone or subscription.consent_at is None:
        return None
    if int(subscription.consent_at.timestamp()) != consent:
        return None
    return subscription


def subscription_by_phone(phone: str) -> Subscription | None:
    return db.session.scalar(select(Subscription).where(Subscription.phone == phone))
