"""SMS: messages are queued with the change that causes them (same transaction, with their outbox
job) and sent by the outbox relay through hotline/sms/sending.py, at most once each."""
from datetime import datetime

from hotline.direct_insert import insert_now
from hotline.extensions import db
from hotline.outbox.operations import enqueue
from hotline.outbox.relay import handler
from hotline.sms.models import SmsMessage
from hotline.sms.templates import TEMPLATES  # noqa: F401  (code → text, registered in the region pack)


def queue_message(*, kind: str, template_code: str, params: dict, to_phone: str, dedupe_key: str,
                  case_id: int | None = None, alert_id: int | None = None,
                  not_before: datetime | None = None, immediate: bool = False) -> SmsMessage:
    """Queue one message in the caller's transaction. Whether it may go, and when, is decided when it
    is sent (hotline/sms/policy.py): a refused message ends `cancelled` with its reason, never dropped.
    `immediate`: INSERT the message now (hotline/direct_insert.py), and its job with the transaction's
    other batched jobs (hotline/outbox/operations.py enqueue), not at the next flush."""
    message = SmsMessage(case_id=case_id, alert_id=alert_id, kind=kind, template_code=template_code, params=params,
                         to_phone=to_phone, dedupe_key=dedupe_key, not_before=not_before)
    if immediate:
        insert_now(message)
    else:
        db.session.add(message)
    # The kind rides along, so that the sender can claim a notice in one statement (hotline/sms/sending.py).
    enqueue("send_sms", {"dedupe_key": dedupe_key, "kind": kind}, dedupe_key=f"send_sms:{dedupe_key}",
            available_at=not_before, immediate=immediate)
    return message


@handler("send_sms")
def send_message(payload: dict) -> None:
    """The outbox job: send the message once. The send path commits its own state changes (the claim
    before the gateway call), so the job's done mark is only bookkeeping: running it again sends nothing."""
    from hotline.sms.sending import send_queued
    send_queued(payload["dedupe_key"], kind=payload.get("kind"))
