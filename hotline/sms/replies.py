"""Replies (上行短信) pushed by the gateways. Each is kept once per gateway message id; a reply of
TD, T or 退订 opts the number out of alerts and surveys at once (DESIGN.md §2: "an opt-out received by
reply is honoured at once"), and 退订全部 / TD全部 out of every message, case notices included."""
import hashlib
import logging
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from hotline.alerts.models import Subscription
from hotline.cases.validation import check_phone, mask_phone
from hotline.extensions import db
from hotline.sms.models import SmsInbound, SmsOptOut
from hotline.sms.receipts import BadReceipt, beijing_time
from hotline.types import utcnow

log = logging.getLogger(__name__)

# Compared after normalising (full-width → half-width, case, spaces and punctuation dropped).
# Only a whole reply counts: "我没有退订" or a sentence that happens to contain T is not an opt-out.
OPT_OUT_MARKETING = frozenset({"TD", "T", "退订"})
OPT_OUT_ALL = frozenset({"TD全部", "T全部", "退订全部", "全部退订"})


@dataclass(frozen=True)
class Reply:
    gateway_id: str
    phone: str  # as the gateway wrote it
    text: str
    at: datetime | None


def normalise(text: str) -> str:
    """'ｔｄ。' → 'TD', ' 退 订 ' → '退订'."""
    text = unicodedata.normalize("NFKC", text or "").upper()
    return "".join(ch for ch in text if not (ch.isspace() or unicodedata.category(ch)[0] in "PSZC"))


def opt_out_scope(text: str) -> str | None:
    word = normalise(text)
    if word in OPT_OUT_ALL:
        return "all"
    if word in OPT_OUT_MARKETING:
        return "marketing"
    return None


def parse_aliyun(body) -> list[Reply]:
    """SmsUp: [{phone_number, send_time, content, sign_name, dest_code, sequence_id}]"""
    replies = []
    for item in _items(body):
        if item.get("sequence_id") in (None, "") or not item.get("phone_number"):
            raise BadReceipt("sequence_id and phone_number are required")
        replies.append(Reply(str(item["sequence_id"])[:64], str(item["phone_number"]), str(item.get("content") or ""),
                             beijing_time(item.get("send_time"))))
    return replies


def parse_tencent(body) -> list[Reply]:
    """Reply callback: {extend, mobile, nationcode, sign, text, time}. It carries no message id, so the
    reply's own content (number, time, text) is its id: the same push twice is the same reply."""
    replies = []
    for item in _items(body):
        if not item.get("mobile"):
            raise BadReceipt("mobile is required")
        nationcode = str(item.get("nationcode") or "86")
        phone = str(item["mobile"]) if nationcode == "86" else f"+{nationcode}{item['mobile']}"
        text = str(item.get("text") or "")
        digest = hashlib.sha256(f"{phone}|{item.get('time')}|{text}".encode()).hexdigest()[:40]
        replies.append(Reply(f"sha:{digest}", phone, text, beijing_time(item.get("time"))))
    return replies


PARSERS = {"aliyun": parse_aliyun, "tencent": parse_tencent}


def record_reply(backend: str, reply: Reply) -> SmsInbound | None:
    """Keep the reply and act on it; a reply already kept (the gateway pushed it again) → None."""
    exists = select(SmsInbound.id).where(SmsInbound.backend == backend, SmsInbound.gateway_id == reply.gateway_id)
    if db.session.scalar(exists) is not None:
        return None
    try:
        phone = check_phone(reply.phone)
    except ValueError:
        phone = None
    scope = opt_out_scope(reply.text) if phone else None
    inbound = SmsInbound(backend=backend, gateway_id=reply.gateway_id, phone=(phone or reply.phone)[:20],
                         text=reply.text[:1000], received_at=reply.at or utcnow(),
                         action="opt_out" if scope else "none")
    try:
        with db.session.begin_nested():  # the same reply pushed twice at once: one row, one action
            db.session.add(inbound)
    except IntegrityError:
        return None
    if scope:
        opt_out(phone, scope, source="reply", detail=f"{backend}: {reply.text}"[:255])
    return inbound


def record_replies(backend: str, body) -> dict[str, int]:
    replies = PARSERS[backend](body)
    counts = {"recorded": 0, "duplicate": 0}
    for reply in replies:
        counts["recorded" if record_reply(backend, reply) else "duplicate"] += 1
    return counts


def opt_out(phone: str, scope: str, source: str, detail: str | None = None) -> SmsOptOut:
    """退订: record it (once per number; `all` widens `marketing`, never the other way), end any
    alert subscription and cancel the alerts already queued for the number."""
    from hotline.alerts.subscriptions import unsubscribe
    record = db.session.scalar(select(SmsOptOut).where(SmsOptOut.phone == phone).with_for_update())
    if record is None:
        record = SmsOptOut(phone=phone, scope=scope, source=source, detail=detail, opted_out_at=utcnow())
        try:
            with db.session.begin_nested():
                db.session.add(record)
        except IntegrityError:  # another reply from the number got there first
            record = db.session.scalar(select(SmsOptOut).where(SmsOptOut.phone == phone).with_for_update())
    if record.scope == "marketing" and scope == "all":
        record.scope, record.source, record.detail, record.opted_out_at = "all", source, detail, utcnow()
    subscription = db.session.scalar(select(Subscription).where(Subscription.phone == phone).with_for_update())
    if subscription is not None:
        unsubscribe(subscription, source)
    else:
        from hotline.alerts.operations import cancel_alerts_to
        cancel_alerts_to(phone)
    log.info("%s opted out of %s SMS (%s)", mask_phone(phone), record.scope, source)
    return record


def _items(body) -> list[dict]:
    items = body if isinstance(body, list) else [body]
    if not items or not all(isinstance(item, dict) for item in items):
        raise BadReceipt("expected a JSON object or an array of objects")
    return items
