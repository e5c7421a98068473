"""The consumer portal's records: evidence files, ratings (一事一评) and phone confirmations."""
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hotline.extensions import db
from hotline.types import UTCDateTime, utcnow


class Evidence(db.Model):
    """A file attached to a case (a photo, a receipt, a recording), stored outside the web root under a
    random name behind the storage interface; its type was checked from its content."""

    __tablename__ = "evidence"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    storage_key: Mapped[str] = mapped_column(String(128), unique=True)
    original_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))  # consumer | staff
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CaseRating(db.Model):
    """一事一评: the consumer's one rating of a closed case."""

    __tablename__ = "case_rating"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), unique=True)
    score: Mapped[int] = mapped_column(Integer)  # 1-5
    comment: Mapped[str | None] = mapped_column(Text)
    bureau_at_fault: Mapped[bool | None] = mapped_column(Boolean)  # asked when the score is 2 or less
    bureau_id: Mapped[int | None] = mapped_column(ForeignKey("bureau.id"), index=True)  # who handled it
    rated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class PhoneConfirmation(db.Model):
    """A code sent by SMS to confirm a phone before an online submission; only its hash is kept."""

    __tablename__ = "phone_confirmation"
    __table_args__ = (UniqueConstraint("phone", "purpose"), Index("ix_phone_confirmation_expires", "expires_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20))
    purpose: Mapped[str] = mapped_column(String(16))  # submit
    code_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
