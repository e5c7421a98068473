"""消费警示: consumer alerts written by supervisors, published on the web and sent to subscribers."""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.extensions import db
from hotline.types import UTCDateTime, utcnow


class ConsumerAlert(db.Model):
    """An alert: draft → published → (withdrawn). Its SMS go to the confirmed subscribers of its
    district (all of them when it has none), chunked across workers."""

    __tablename__ = "consumer_alert"
    __table_args__ = (Index("ix_consumer_alert_status_published", "status", "published_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(128))
    body: Mapped[str] = mapped_column(Text)
    sms_text: Mapped[str] = mapped_column(String(160))
    district: Mapped[str | None] = mapped_column(String(12))  # a division code, or the whole city
    categories: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(12), default="draft")  # draft | published | withdrawn
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recipients: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # messages queued
    # Fan-out progress: the highest subscription id queued so far, so a resumed job goes on from there.
    queued_through: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Subscription(db.Model):
    """A number that asked for consumer alerts by SMS, for one district or the whole city. Confirmed by
    an SMS code; the consent's time and channel are kept."""

    __tablename__ = "subscription"
    __table_args__ = (Index("ix_subscription_status_district", "status", "district", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    district: Mapped[str | None] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | confirmed | unsubscribed
    channel: Mapped[str] = mapped_column(String(16))  # web | api | hotline | reply
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirm_code_hash: Mapped[str | None] = mapped_column(String(64))
    confirm_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirm_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
