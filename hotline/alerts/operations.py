"""消费警示 (Order 121 art. 38: 消费预警和风险提示): writing, publishing and withdrawing an alert, and
fanning it out by SMS to the confirmed subscribers in chunks. Plain functions: no request, no Flask
globals beyond the configuration."""
import logging
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import exists, func, insert, literal, or_, select, update

from hotline.alerts.models import ConsumerAlert
from hotline.alerts.queries import district_codes
from hotline.cases.schemas import FieldErrors
from hotline.cases.validation import is_storable_text
from hotline.extensions import db
from hotline.outbox.models import OutboxJob
from hotline.outbox.operations import WAKE_KEY, enqueue
from hotline.outbox.relay import handler
from hotline.reference.models import Category
from hotline.sms import policy
from hotline.sms.models import SmsMessage, SmsOptOut
from hotline.types import utcnow

log = logging.getLogger(__name__)

ALERT_TEMPLATE = "CONSUMER_ALERT"  # "{text}回复TD退订", registered in the region pack (sms_templates.json)
OPT_OUT_LINE = "回复TD退订"  # DESIGN.md §2: every alert carries the opt-out line; the template adds it
# One SMS segment is 70 characters, the gateway's signature included: a longer alert is billed, and
# may arrive, as several.
SMS_LIMIT = 70
FANOUT_BATCH = 1000


class AlertRefused(Exception):
    """The alert's status does not allow this (HTTP 409)."""


def _templates():
    from hotline.sms.templates import registry
    return registry(current_app.config["REGION"])


def signature() -> str:
    return f"【{_templates().sign_name}】"


def sms_message_text(sms_text: str) -> str:
    """The exact text a subscriber's phone shows: the signature and the registered template, filled."""
    return _templates().render(ALERT_TEMPLATE, {"text": sms_text.strip()})


def sms_length(sms_text: str) -> int:
    return len(sms_message_text(sms_text))


@dataclass
class AlertInput:
    title: str
    body: str
    sms_text: str
    district: str | None = None
    categories: tuple[str, ...] = ()


def check_alert(data: dict) -> AlertInput:
    """The fields of an alert, checked: raises FieldErrors with every problem at once. Reasons are
    lazy strings, so a page shows them in its language and the API in English."""
    from flask_babel import lazy_gettext as _l
    errors: dict[str, str] = {}

    def text(name: str, limit: int) -> str:
        value = data.get(name)
        if value is None:
            value = ""
        if not isinstance(value, str):
            errors[name] = str(_l("must be text"))
            return ""
        if not is_storable_text(value):  # a NUL: PostgreSQL refuses it (a 500 before)
            errors[name] = str(_l("contains a character that cannot be stored"))
            return ""
        value = value.strip()
        if not value:
            errors[name] = str(_l("required"))
        elif len(value) > limit:
            errors[name] = str(_l("at most %(n)s characters", n=limit))
        return value

    title, body = text("title", 128), text("body", 20_000)
    sms_text = text("sms_text", SMS_LIMIT)
    if sms_text and "sms_text" not in errors and sms_length(sms_text) > SMS_LIMIT:
        errors["sms_text"] = str(_l("the SMS is %(n)s characters with the signature and the opt-out line; "
                                    "at most %(limit)s", n=sms_length(sms_text), limit=SMS_LIMIT))
    district = data.get("district") or None
    if district is not None and (not isinstance(district, str) or district not in district_codes()):
        errors["district"] = str(_l("not a district of this city"))
    categories = data.get("categories") or []
    if isinstance(categories, str):
        categories = [c for c in categories.replace("，", ",").replace(" ", ",").split(",") if c]
    if not isinstance(categories, list) or len(categories) > 20 \
            or not all(isinstance(c, str) and is_storable_text(c) for c in categories):
        errors["categories"] = str(_l("a list of category codes"))
        categories = []
    elif categories:
        known = set(db.session.scalars(select(Category.code).where(Category.code.in_(categories))))
        unknown = [c for c in categories if c not in known]
        if unknown:
            errors["categories"] = str(_l("unknown category: %(codes)s", codes=", ".join(unknown[:5])))
    if errors:
        raise FieldErrors(errors)
    return AlertInput(title, body, sms_text, district, tuple(dict.fromkeys(categories)))


def create_alert(data: AlertInput, author) -> ConsumerAlert:
    alert = ConsumerAlert(title=data.title, body=data.body, sms_text=data.sms_text, district=data.district,
                          categories=list(data.categories), status="draft", created_by_id=author.id,
                          created_at=utcnow())
    db.session.add(alert)
    db.session.flush()
    log.info("alert %s drafted by %s", alert.id, author.username)
    return alert


def update_alert(alert: ConsumerAlert, data: AlertInput, editor) -> ConsumerAlert:
    """Only a draft can change: what was published is what subscribers received."""
    if alert.status != "draft":
        raise AlertRefused("only a draft can be edited")
    alert.title, alert.body, alert.sms_text = data.title, data.body, data.sms_text
    alert.district, alert.categories = data.district, list(data.categories)
    log.info("alert %s edited by %s", alert.id, editor.username)
    return alert


def _locked(alert_id: int) -> ConsumerAlert | None:
    # The row lock makes publish, withdraw and a fan-out batch of one alert take turns (PostgreSQL).
    return db.session.scalar(select(ConsumerAlert).where(ConsumerAlert.id == alert_id).with_for_update()
                             .execution_options(populate_existing=True))


def publish_alert(alert_id: int, publisher) -> ConsumerAlert:
    """Publish a draft: it shows on the public page at once, and the fan-out job starts."""
    alert = _locked(alert_id)
    if alert is None:
        raise LookupError(alert_id)
    if alert.status != "draft":
        raise AlertRefused(f"the alert is {alert.status}")
    alert.status, alert.published_at, alert.published_by_id = "published", utcnow(), publisher.id
    enqueue("alert_fanout", {"alert_id": alert.id}, dedupe_key=f"alert_fanout:{alert.id}:0")
    log.info("alert %s published by %s", alert.id, publisher.username)
    return alert


def withdraw_alert(alert_id: int, actor) -> ConsumerAlert:
    """撤回: off the public page, and every message not yet handed to the gateway is cancelled."""
    alert = _locked(alert_id)
    if alert is None:
        raise LookupError(alert_id)
    if alert.status != "published":
        raise AlertRefused(f"the alert is {alert.status}")
    alert.status, alert.withdrawn_at = "withdrawn", utcnow()
    cancelled = _cancel_queued(SmsMessage.alert_id == alert.id)
    log.info("alert %s withdrawn by %s; %s queued messages cancelled", alert.id, actor.username, cancelled)
    return alert


def _cancel_queued(*where) -> int:
    """Cancel queued messages and close their send jobs, so no worker even picks them up."""
    cancelled = db.session.execute(update(SmsMessage).where(SmsMessage.status == "queued", *where)
                                   .values(status="cancelled"), execution_options={"synchronize_session": False})
    if cancelled.rowcount:
        keys = select(literal("send_sms:").concat(SmsMessage.dedupe_key)).where(SmsMessage.status == "cancelled",
                                                                                 *where)
        db.session.execute(update(OutboxJob).where(OutboxJob.done_at.is_(None), OutboxJob.dedupe_key.in_(keys))
                           .values(done_at=utcnow()), execution_options={"synchronize_session": False})
    return cancelled.rowcount


def cancel_alerts_to(phone: str) -> int:
    """An unsubscribed number gets no more alerts, not even those already queued."""
    return _cancel_queued(SmsMessage.to_phone == phone, SmsMessage.kind == "alert")


def recipients_query(alert: ConsumerAlert, after_id: int, limit: int):
    """Confirmed subscribers still to be queued, in id order: those of the alert's district and those of
    the whole city (an alert for the whole city goes to all). Opted-out numbers are left out."""
    from hotline.alerts.models import Subscription
    query = select(Subscription.id, Subscription.phone).where(
        Subscription.status == "confirmed", Subscription.id > after_id,
        ~exists().where(SmsOptOut.phone == Subscription.phone))
    if alert.district:
        query = query.where(or_(Subscription.district == alert.district, Subscription.district.is_(None)))
    return query.order_by(Subscription.id).limit(limit)


def fan_out_batch(alert_id: int, batch: int | None = None, now: datetime | None = None) -> int:
    """Queue the next batch of an alert's messages: SMS rows and their send jobs written in bulk, and
    `queued_through` advanced, in one transaction. Returns how many were queued; the caller commits."""
    alert = _locked(alert_id)
    if alert is None or alert.status != "published":
        return 0  # withdrawn meanwhile: nothing more goes
    rows = db.session.execute(recipients_query(alert, alert.queued_through,
                                               batch or current_app.config.get("ALERT_FANOUT_BATCH", FANOUT_BATCH)))
    rows = rows.all()
    if not rows:
        return 0
    now = now or utcnow()
    params = {"text": alert.sms_text}
    # Queued at night, an alert waits for the morning in the job itself rather than in 100,000 job runs that
    # each find it is too early (the send path checks again: hotline/sms/policy.py).
    rules = policy.Rules.from_config(current_app.config)
    opens = policy.next_window(now, rules)
    not_before = opens if opens > now else None
    messages, jobs = [], []
    for _id, phone in rows:
        key = f"alert:{alert.id}:{phone}"
        messages.append({"alert_id": alert.id, "kind": "alert", "template_code": ALERT_TEMPLATE, "params": params,
                         "to_phone": phone, "status": "queued", "dedupe_key": key, "created_at": now, "attempts": 0,
                         "not_before": not_before})
        # The same row hotline.outbox.operations.enqueue writes for send_sms (hotline.sms.operations).
        jobs.append({"task": "send_sms", "payload": {"dedupe_key": key}, "dedupe_key": f"send_sms:{key}",
                     "created_at": now, "available_at": not_before or now, "attempts": 0})
    db.session.execute(insert(SmsMessage), messages)
    db.session.execute(insert(OutboxJob), jobs)
    alert.queued_through = rows[-1][0]
    alert.recipients = (alert.recipients or 0) + len(rows)
    db.session.info[WAKE_KEY] = True
    return len(rows)


@handler("alert_fanout")
def run_fanout(payload: dict) -> str:
    """One batch per run, then the job enqueues its successor: a crash resumes from `queued_through`,
    and a job run twice finds its batch already queued (the successor's key names the position)."""
    alert_id = payload["alert_id"]
    queued = fan_out_batch(alert_id)
    if not queued:
        alert = db.session.get(ConsumerAlert, alert_id)
        if alert is not None and alert.status == "published":
            log.info("alert %s: fan-out done, %s messages queued", alert_id, alert.recipients)
        return "done"
    alert = db.session.get(ConsumerAlert, alert_id)
    enqueue("alert_fanout", {"alert_id": alert_id}, dedupe_key=f"alert_fanout:{alert_id}:{alert.queued_through}")
    return f"queued {queued}"


def progress(alert_id: int) -> dict[str, int]:
    """Messages of an alert by status: queued (sending counts as queued), sent, delivered, failed, cancelled."""
    counts = dict.fromkeys(("queued", "sent", "delivered", "failed", "cancelled"), 0)
    rows = db.session.execute(select(SmsMessage.status, func.count()).where(SmsMessage.alert_id == alert_id)
                              .group_by(SmsMessage.status))
    for status, count in rows:
        key = "queued" if status == "sending" else status
        counts[key] = counts.get(key, 0) + count
    return counts
