"""Idempotency keys: a repeated request (a retry, a double click) answers what the first one did."""
from datetime import datetime

from sqlalchemy import JSON, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hotline.extensions import db
from hotline.types import UTCDateTime, utcnow


class IdempotencyKey(db.Model):
    """One key per caller (an API token, a user's form): the request it came with and the answer given.
    Unique per (scope, key), so two concurrent repeats cannot both go through."""

    __tablename__ = "idempotency_key"
    __table_args__ = (UniqueConstraint("scope", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(64))  # "token:<id>" or "user:<id>"
    key: Mapped[str] = mapped_column(String(128))
    request: Mapped[str] = mapped_column(String(255))  # method and path
    request_hash: Mapped[str] = mapped_column(String(64))  # of the body: the same key with another body is refused
    status_code: Mapped[int | None] = mapped_column(Integer)  # None while the first request runs
    response: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
