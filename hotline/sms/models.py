"""SMS messages: rendered from a template code and named parameters, sent by workers."""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hotline.extensions import db
from hotline.types import UTCDateTime, utcnow


class SmsMessage(db.Model):
    """One message to one number. queued → sending (committed before the gateway call, with the
    attempt's out-id) → sent → delivered, or failed; cancelled when its alert is withdrawn."""

    __tablename__ = "sms_message"
    __table_args__ = (
        Index("ix_sms_message_to_phone_created_at", "to_phone", "created_at"),  # the per-number daily cap
        Index("ix_sms_message_alert_status", "alert_id", "status"),  # an alert's live progress
        Index("ix_sms_message_sending", "status", "sending_at"),  # messages left in `sending` by a crash
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("consumer_alert.id"))
    kind: Mapped[str] = mapped_column(String(24))  # receipt | decision | closure | rating | reminder | alert
    template_code: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict] = mapped_column(JSON)
    to_phone: Mapped[str] = mapped_column(String(20))
    # queued | sending | sent | delivered | failed | cancelled
    status: Mapped[str] = mapped_column(String(12), default="queued")
    dedupe_key: Mapped[str] = mapped_column(String(128), unique=True)
    backend: Mapped[str | None] = mapped_column(String(16))
    attempt_id: Mapped[str | None] = mapped_column(String(64), index=True)  # the out-id given to the gateway
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    gateway_id: Mapped[str | None] = mapped_column(String(64), index=True)  # the gateway's own id (BizId, SerialNo)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime)  # quiet hours: not sent before this
    sending_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(String(255))


class SmsOptOut(db.Model):
    """退订: a number that asked for no more messages, with when and how. Scope `marketing` stops
    alerts and surveys; `all` also stops case receipts and statutory notices."""

    __tablename__ = "sms_opt_out"
    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    scope: Mapped[str] = mapped_column(String(12), default="marketing")  # marketing | all
    source: Mapped[str] = mapped_column(String(16))  # reply | page | api | staff
    detail: Mapped[str | None] = mapped_column(String(255))  # the reply text, the backend
    opted_out_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SmsInbound(db.Model):
    """A reply received from a gateway (上行短信); kept once per gateway message id."""

    __tablename__ = "sms_inbound"
    __table_args__ = (UniqueConstraint("backend", "gateway_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    backend: Mapped[str] = mapped_column(String(16))
    gateway_id: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str] = mapped_column(String(20), index=True)
    text: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    action: Mapped[str | None] = mapped_column(String(16))  # opt_out | none
