"""SMS messages: rendered from a template code and named parameters, sent by workers."""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.extensions import db
from hotline.types import UTCDateTime, utcnow


class SmsMessage(db.Model):
    __tablename__ = "sms_message"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))  # receipt | decision | closure | rating | reminder | alert
    template_code: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict] = mapped_column(JSON)
    to_phone: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(12), default="queued")  # queued | sent | delivered | failed
    dedupe_key: Mapped[str] = mapped_column(String(128), unique=True)
    gateway_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(String(255))
