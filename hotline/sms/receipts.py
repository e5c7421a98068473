"""Delivery receipts (状态报告) pushed by the gateways: parse each gateway's format, then move the
message forward, never back. A receipt is matched to the message's *current* attempt (by out-id, else
by the gateway's id for that attempt), so a late receipt for an attempt that was given up and sent
again touches nothing; a duplicate, or one arriving after a later state, changes nothing either."""
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from hotline.cases.validation import mask_phone
from hotline.extensions import db
from hotline.sms.models import SmsMessage
from hotline.types import utcnow

log = logging.getLogger(__name__)
BEIJING = ZoneInfo("Asia/Shanghai")  # both gateways write their times in Beijing time

# How far along a message is; a receipt only ever moves it to a higher rank. `delivered` outranks
# `failed`: a handset's confirmation is proof, whatever was reported before it.
RANK = {"sending": 1, "sent": 2, "failed": 3, "delivered": 4}


@dataclass(frozen=True)
class Receipt:
    out_id: str | None  # our attempt id, when the gateway echoes it (Aliyun out_id)
    gateway_id: str | None  # Aliyun biz_id, Tencent sid (SerialNo)
    phone: str | None
    delivered: bool
    at: datetime | None  # when the handset received it (or the report was made), UTC
    error_code: str | None


class BadReceipt(ValueError):
    """The body is not the gateway's receipt format."""


def parse_aliyun(body) -> list[Receipt]:
    """SmsReport: [{phone_number, send_time, report_time, success, err_code, err_msg, sms_size, biz_id, out_id}]"""
    receipts = []
    for item in _items(body):
        success = item.get("success")
        if not isinstance(success, bool):
            success = str(success).lower() == "true"
        receipts.append(Receipt(
            out_id=_text(item.get("out_id")), gateway_id=_text(item.get("biz_id")),
            phone=_text(item.get("phone_number")), delivered=success, at=beijing_time(item.get("report_time")),
            error_code=None if success else (_text(item.get("err_code")) or "FAILED")))
    return receipts


def parse_tencent(body) -> list[Receipt]:
    """Status callback: [{user_receive_time, nationcode, mobile, report_status, errmsg, description, sid}]"""
    receipts = []
    for item in _items(body):
        status = _text(item.get("report_status"))
        if status not in ("SUCCESS", "FAIL"):
            raise BadReceipt("report_status must be SUCCESS or FAIL")
        receipts.append(Receipt(
            out_id=None, gateway_id=_text(item.get("sid")), phone=_text(item.get("mobile")),
            delivered=status == "SUCCESS", at=beijing_time(item.get("user_receive_time")),
            error_code=None if status == "SUCCESS" else (_text(item.get("errmsg")) or "FAIL")))
    return receipts


PARSERS = {"aliyun": parse_aliyun, "tencent": parse_tencent}


def apply_receipt(backend: str, receipt: Receipt) -> str:
    """Record one receipt; says what happened: `updated`, `unchanged` or `unmatched`."""
    message = _find(backend, receipt)
    if message is None:
        # A receipt for an attempt no longer current, or one that beat our own commit of its gateway id:
        # acknowledged (the gateway would only push it again) and left to reconciliation.
        log.info("SMS receipt from %s matches no current attempt (out-id %s, id %s, to %s)", backend,
                 receipt.out_id, receipt.gateway_id, mask_phone(receipt.phone))
        return "unmatched"
    target = "delivered" if receipt.delivered else "failed"
    if message.status not in RANK or RANK[message.status] >= RANK[target]:
        return "unchanged"  # a duplicate, an out-of-order report, or a message queued/cancelled meanwhile
    message.status = target
    if receipt.gateway_id and not message.gateway_id:
        message.gateway_id = receipt.gateway_id
    if message.sent_at is None:  # the receipt beat the sender's commit: it did leave
        message.sent_at = utcnow()
    if receipt.delivered:
        message.delivered_at = receipt.at or utcnow()
        message.error_code = message.error = None
    else:
        message.error_code = receipt.error_code[:64]
        message.error = "delivery failed (receipt)"
    return "updated"


def apply_receipts(backend: str, body) -> dict[str, int]:
    """Parse and apply a push; counts per outcome. Raises BadReceipt before changing anything."""
    receipts = PARSERS[backend](body)
    counts = {"updated": 0, "unchanged": 0, "unmatched": 0}
    for receipt in receipts:
        counts[apply_receipt(backend, receipt)] += 1
    return counts


def _find(backend: str, receipt: Receipt) -> SmsMessage | None:
    query = select(SmsMessage).with_for_update()
    if receipt.out_id:  # it names its attempt: only that one, and only while it is the message's current attempt
        message = db.session.scalars(query.where(SmsMessage.attempt_id == receipt.out_id)).first()
    elif receipt.gateway_id:
        message = db.session.scalars(query.where(SmsMessage.gateway_id == receipt.gateway_id)).first()
    else:
        return None
    if message is not None and message.backend not in (None, backend):
        return None  # another gateway's message: ids are only unique within one gateway
    return message


def _items(body) -> list[dict]:
    items = body if isinstance(body, list) else [body]
    if not items or not all(isinstance(item, dict) for item in items):
        raise BadReceipt("expected a JSON array of objects")
    return items


def _text(value) -> str | None:
    if value is None or value == "":
        return None
    return str(value)[:64]


def beijing_time(value) -> datetime | None:
    """'2026-11-25 10:03:04' (Beijing time) or a Unix timestamp → aware UTC; anything else → None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    try:
        return datetime.strptime(str(value), "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING).astimezone(UTC)
    except ValueError:
        return None
