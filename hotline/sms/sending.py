"""How one SMS leaves, at most once, and how a message a crash left half-sent is settled.

    queued ──claim (committed)──▶ sending ──gateway.send──▶ sent ──receipt──▶ delivered
       ▲                             │ temporary error: back to queued, the outbox job retries with backoff
       │                             │ permanent error: failed, with the gateway's code
       └── reconcile: the gateway ◀──┘ crash or no answer: stays `sending` until `reconcile` asks the
           never got it (unknown)        gateway for the attempt's out-id; it is never resent blindly

The claim is a conditional UPDATE (`WHERE status = 'queued'`) committed before the gateway is called,
with a fresh attempt id that the gateway keeps as its out-id. So a second run of the job, a duplicate
delivery or a second worker finds the message no longer queued and sends nothing, whether or not the
outbox marked the job done; and after a crash the out-id says whether that attempt reached the gateway.
The result is written with the attempt id in the WHERE clause: a late worker cannot overwrite what a
receipt or the reconciliation already settled."""
import logging
import secrets
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import String, bindparam, cast, exists, func, literal, or_, select, text, update

from hotline.cases.validation import mask_phone
from hotline.extensions import db
from hotline.outbox.models import OutboxJob
from hotline.outbox.operations import WAKE_KEY
from hotline.outbox.relay import Deferred
from hotline.sms import policy
from hotline.sms.gateways import GatewayError, get_gateway
from hotline.sms.models import SmsMessage, SmsOptOut
from hotline.sms.templates import registry
from hotline.types import UTCDateTime, utcnow

log = logging.getLogger(__name__)
# A GatewayError with one of these codes means the request may have reached the gateway (the answer was
# lost): the attempt stays `sending` and the reconciliation asks, instead of a retry sending it twice.
UNCERTAIN = frozenset({"NETWORK", "TIMEOUT"})
HIDDEN_PARAMS = ("code",)  # decision 4: the query code is kept in clear only until the message has left


def hide_secrets(params: dict) -> dict:
    return {k: ("******" if k in HIDDEN_PARAMS else v) for k, v in params.items()}


def template_params(code: str, params: dict) -> dict[str, str]:
    """The parameters the registered template names, as text (a gateway may refuse any other)."""
    template = registry().templates.get(code)
    names = template.params if template else params.keys()
    return {name: str(params[name]) for name in names if name in params}


def new_attempt_token() -> str:
    return secrets.token_hex(6)


def new_attempt_id(message_id: int) -> str:
    # Readable in the gateway's console (which message, which attempt) and unique across databases.
    return f"m{message_id}-{new_attempt_token()}"


def _is_postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


# The send path's statements, built once (each message runs them, and building one costs more than sending
# it). What sending reads of a message, with its number's opt-out scope (sms_opt_out.phone is unique):
_MESSAGES, _OPT_OUTS = SmsMessage.__table__, SmsOptOut.__table__
_QUEUED = select(_MESSAGES.c.id, _MESSAGES.c.status, _MESSAGES.c.kind, _MESSAGES.c.to_phone,
                 _MESSAGES.c.template_code, _MESSAGES.c.params, _MESSAGES.c.not_before,
                 select(_OPT_OUTS.c.scope).where(_OPT_OUTS.c.phone == _MESSAGES.c.to_phone).scalar_subquery()
                 .label("opt_out")).where(_MESSAGES.c.dedupe_key == bindparam("key"))
# queued → sending, with a fresh attempt id (the claim) ...
_CLAIM = update(_MESSAGES).where(_MESSAGES.c.id == bindparam("message_id"), _MESSAGES.c.status == "queued").values(
    status="sending", attempt_id=bindparam("attempt"), attempts=_MESSAGES.c.attempts + 1,
    sending_at=bindparam("now", type_=_MESSAGES.c.sending_at.type), backend=bindparam("gateway"), not_before=None,
    error_code=None, error=None)
# ... or, for a notice that only an opt-out of everything stops (a receipt: no quiet hours, no cap), the read
# and the claim in one statement; anything it does not take goes the long way.
_CLAIM_NOTICE = update(_MESSAGES).where(
    _MESSAGES.c.dedupe_key == bindparam("key"), _MESSAGES.c.status == "queued",
    _MESSAGES.c.kind.in_(sorted(policy.NOTICES)), or_(_MESSAGES.c.not_before.is_(None),
                                                      _MESSAGES.c.not_before <= bindparam("now", type_=UTCDateTime)),
    ~exists().where(_OPT_OUTS.c.phone == _MESSAGES.c.to_phone, _OPT_OUTS.c.scope == "all")).values(
    status="sending", attempt_id=literal("m") + cast(_MESSAGES.c.id, String) + "-" + bindparam("token", type_=String),
    attempts=_MESSAGES.c.attempts + 1, sending_at=bindparam("now"), backend=bindparam("gateway"), not_before=None,
    error_code=None, error=None).returning(_MESSAGES.c.id, _MESSAGES.c.to_phone, _MESSAGES.c.template_code,
                                           _MESSAGES.c.params, _MESSAGES.c.attempt_id)
# ... and sending → sent, for that attempt only.
_SENT = update(_MESSAGES).where(_MESSAGES.c.id == bindparam("message_id"), _MESSAGES.c.status == "sending",
                                _MESSAGES.c.attempt_id == bindparam("attempt")).values(
    status="sent", gateway_id=bindparam("gateway_message_id"), sent_at=bindparam("now", type_=_MESSAGES.c.sent_at.type),
    params=bindparam("hidden_params", type_=_MESSAGES.c.params.type))


# -- sending ----------------------------------------------------------------------------------------

def send_queued(dedupe_key: str, now: datetime | None = None, kind: str | None = None) -> str:
    """Send the queued message with this dedupe key, committing each state change. Returns the outcome
    (sent, failed, cancelled, or the status that made it a no-op); raises Deferred when it must wait,
    GatewayError when the outbox should retry later.

    Run as an outbox job, the job's claim (its done mark) is in the session's transaction: this path never
    rolls it back, and the claim commit below commits it too, so a message may be `sending` with its job
    done (the reconciliation settles it, and reopens the job if it must go again) but never `queued` with
    its job done, which nothing would send. `kind`, when the caller knows it, lets a notice be claimed in
    one statement."""
    now = now or utcnow()
    if kind in policy.NOTICES:
        gateway = get_gateway()
        claimed = db.session.connection().execute(_CLAIM_NOTICE, {
            "key": dedupe_key, "now": now, "token": new_attempt_token(), "gateway": gateway.name}).first()
        if claimed is not None:
            db.session.commit()  # `sending` is on disk before the gateway hears of it
            return deliver(claimed.id, claimed.attempt_id, gateway, claimed.to_phone, claimed.template_code,
                           dict(claimed.params))
    message = db.session.connection().execute(_QUEUED, {"key": dedupe_key}).first()
    if message is None:
        return "missing"
    if message.status != "queued":  # sent, settled, cancelled, or in flight: a repeated job does nothing
        return message.status
    if message.not_before and message.not_before > now:
        raise Deferred(message.not_before)

    rules = policy.Rules.from_config(current_app.config)
    sent_today = 0
    if policy.is_marketing(message.kind):
        if _is_postgres():  # two workers sending to one number count the daily cap one after the other
            db.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:phone))"), {"phone": message.to_phone})
        sent_today = policy.marketing_left_today(message.to_phone, now, rules.timezone, message.id)
    verdict = policy.decide(message.kind, now, rules, opt_out=message.opt_out, sent_today=sent_today)
    if verdict.action == "wait":
        _update(message.id, "queued", not_before=verdict.until)
        log.info("SMS %s to %s waits for %s (quiet hours)", message.id, mask_phone(message.to_phone), verdict.until)
        raise Deferred(verdict.until)  # the outbox commits the wait with the job's new time, in one transaction
    if verdict.action == "refuse":
        _update(message.id, "queued", status="cancelled", error_code=verdict.code, error=verdict.reason[:255],
                params=hide_secrets(message.params))
        db.session.commit()
        log.info("SMS %s to %s cancelled: %s", message.id, mask_phone(message.to_phone), verdict.code)
        return "cancelled"

    gateway = get_gateway()
    attempt = new_attempt_id(message.id)
    claimed = db.session.connection().execute(_CLAIM, {"message_id": message.id, "attempt": attempt, "now": now,
                                                       "gateway": gateway.name}).rowcount == 1
    db.session.commit()  # `sending` is on disk before the gateway hears of it
    if not claimed:
        return "taken"  # another run claimed it between our read and our update
    return deliver(message.id, attempt, gateway, message.to_phone, message.template_code, dict(message.params))


def deliver(message_id: int, attempt: str, gateway, phone: str, template_code: str, params: dict) -> str:
    """Call the gateway for a claimed attempt and record what it said."""
    try:
        result = gateway.send(phone, template_code, template_params(template_code, params), attempt)
    except GatewayError as error:
        return _gateway_refused(message_id, attempt, error, params)
    except Exception:
        # No answer we can read: it may have gone. Leave it in `sending` for the reconciliation to ask.
        log.exception("SMS %s attempt %s: no answer from the gateway; left for reconciliation", message_id, attempt)
        raise
    settled = _record_sent({"message_id": message_id, "attempt": attempt, "gateway_message_id": result.gateway_id,
                            "now": utcnow(), "hidden_params": hide_secrets(params)})
    if not settled:  # a receipt (or the reconciliation) was faster: keep its status, add what we know
        _update(message_id, None, attempt=attempt, gateway_id=func.coalesce(SmsMessage.gateway_id,
                result.gateway_id), sent_at=func.coalesce(SmsMessage.sent_at, utcnow()), params=hide_secrets(params))
    db.session.commit()
    return "sent"


def _record_sent(values: dict) -> bool:
    if db.session().in_transaction():  # the caller's transaction is open: the change joins it
        return db.session.connection().execute(_SENT, values).rowcount == 1
    # One statement in a transaction of its own: autocommit spares the BEGIN and COMMIT round trips.
    with db.engine.connect() as connection:
        return connection.execution_options(isolation_level="AUTOCOMMIT").execute(_SENT, values).rowcount == 1


def _gateway_refused(message_id: int, attempt: str, error: GatewayError, params: dict) -> str:
    if error.code in UNCERTAIN:
        log.warning("SMS %s attempt %s: %s; left in sending for reconciliation", message_id, attempt, error)
        raise error
    message = db.session.get(SmsMessage, message_id)
    if error.temporary and message.attempts < current_app.config["SMS_MAX_ATTEMPTS"]:
        # The gateway said it did not take it: queued again; the outbox retries the job with backoff.
        _update(message_id, "sending", attempt=attempt, status="queued", error_code=error.code,
                error=str(error)[:255])
        _reopen_job(message.dedupe_key)  # queued again: its job must not stay done (the claim committed it)
        db.session.commit()
        log.warning("SMS %s attempt %s: temporary %s; retried later", message_id, attempt, error.code)
        raise error
    _update(message_id, "sending", attempt=attempt, status="failed", error_code=error.code, error=str(error)[:255],
            params=hide_secrets(params))
    db.session.commit()
    log.warning("SMS %s failed: %s", message_id, error)
    return "failed"


def _reopen_job(dedupe_key: str) -> None:
    jobs = OutboxJob.__table__
    db.session.connection().execute(update(jobs).where(jobs.c.dedupe_key == f"send_sms:{dedupe_key}")
                                    .values(done_at=None))


def _update(message_id: int, expect: str | None, attempt: str | None = None, **values) -> bool:
    """UPDATE one message if it is still in status `expect` (and still on attempt `attempt`, when given)."""
    messages = SmsMessage.__table__  # plain SQL on the table: cheaper than an ORM bulk update
    query = update(messages).where(messages.c.id == message_id)
    if expect is not None:
        query = query.where(messages.c.status == expect)
    if attempt is not None:
        query = query.where(messages.c.attempt_id == attempt)
    result = db.session.connection().execute(query.values(**values))
    db.session.expire_all()
    return result.rowcount == 1


# -- reconciliation ---------------------------------------------------------------------------------

@dataclass
class ReconcileResult:
    checked: int = 0
    sent: int = 0
    delivered: int = 0
    failed: int = 0
    requeued: int = 0
    unanswered: int = 0  # the gateway could not be asked: tried again on the next pass
    skipped: int = 0  # settled meanwhile (a receipt, the worker after all, another reconciliation)

    def __str__(self) -> str:
        return ", ".join(f"{f.name} {getattr(self, f.name)}" for f in fields(self))


def reconcile(now: datetime | None = None, limit: int = 500) -> ReconcileResult:
    """Settle messages left in `sending` longer than SMS_RECONCILE_AFTER seconds (a worker died between
    the claim and the result, or the gateway's answer was lost) by asking the gateway about each attempt."""
    now = now or utcnow()
    cutoff = now - timedelta(seconds=current_app.config["SMS_RECONCILE_AFTER"])
    stuck = db.session.scalars(
        select(SmsMessage.id).where(SmsMessage.status == "sending", SmsMessage.sending_at < cutoff)
        .order_by(SmsMessage.sending_at).limit(limit)).all()
    db.session.rollback()
    result = ReconcileResult()
    for message_id in stuck:
        result.checked += 1
        outcome = settle(message_id, now)
        setattr(result, outcome, getattr(result, outcome) + 1)
    return result


def settle(message_id: int, now: datetime) -> str:
    """Ask the gateway that took the message's current attempt what became of it, and record the answer."""
    message = db.session.get(SmsMessage, message_id)
    if message is None or message.status != "sending":
        db.session.rollback()
        return "skipped"
    attempt, backend, phone, gateway_id = message.attempt_id, message.backend, message.to_phone, message.gateway_id
    sending_at, dedupe_key, hidden = message.sending_at, message.dedupe_key, hide_secrets(message.params)
    db.session.rollback()  # no transaction stays open while the gateway is asked
    tz = current_app.config["TIMEZONE"]
    try:
        gateway = get_gateway(name=backend)
        status = gateway.query(phone, attempt, sending_at.astimezone(ZoneInfo(tz)).date(), gateway_id)
    except Exception as error:  # noqa: BLE001  (a gateway down or a backend gone: ask again next pass)
        log.warning("SMS %s attempt %s: status query failed: %r", message_id, attempt, error)
        db.session.rollback()
        return "unanswered"
    if status.state == "unknown" and now - sending_at < timedelta(seconds=getattr(gateway, "unknown_settles_after", 0)):
        # A gateway that learns of a message only from the carrier's report (Tencent) says "unknown" for a
        # while even for one that went: ask again later rather than risk a second message.
        db.session.rollback()
        return "unanswered"
    if status.state in ("sent", "delivered"):
        values = {"status": status.state, "gateway_id": status.gateway_id or gateway_id, "sent_at": sending_at,
                  "params": hidden}
        if status.state == "delivered":
            values["delivered_at"] = status.at or now
        done = _update(message_id, "sending", attempt=attempt, **values)
        outcome = status.state
    elif status.state == "failed":
        done = _update(message_id, "sending", attempt=attempt, status="failed", error_code=status.error_code,
                       error="the gateway reported the attempt failed", params=hidden)
        outcome = "failed"
    else:  # unknown: the gateway never got this attempt, so sending again cannot make a second message
        done = _update(message_id, "sending", attempt=attempt, status="queued")
        if done:
            _run_again(dedupe_key)
        outcome = "requeued"
    db.session.commit()
    log.info("SMS %s attempt %s reconciled: %s%s", message_id, attempt, outcome, "" if done else " (already settled)")
    return outcome if done else "skipped"


def _run_again(dedupe_key: str) -> None:
    """Make the message's send job due at once (its next run claims the message with a new attempt id)."""
    now = utcnow()
    reopened = db.session.execute(
        update(OutboxJob).where(OutboxJob.dedupe_key == f"send_sms:{dedupe_key}")
        .values(done_at=None, published_at=None, available_at=now), execution_options={"synchronize_session": False})
    if reopened.rowcount == 0:
        db.session.add(OutboxJob(task="send_sms", payload={"dedupe_key": dedupe_key},
                                 dedupe_key=f"send_sms:{dedupe_key}", available_at=now))
    db.session.info[WAKE_KEY] = True
