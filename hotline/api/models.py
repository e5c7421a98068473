"""Idempotency keys: a repeated request (a retry, a double click) answers what the first one did."""
import json
import logging
from datetime import datetime

from sqlalchemy import JSON, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from hotline.extensions import db
from hotline.types import UTCDateTime, utcnow

log = logging.getLogger(__name__)


class SealedJSON(TypeDecorator):
    """A JSON document stored encrypted under the data keys (HOTLINE_DATA_KEYS, MultiFernet), as
    {"sealed": token}: a first answer kept for replay holds a new case's query code and the caller's
    personal data, which must not be readable at rest (issue #12; DESIGN.md: the code is stored only as a
    hash). Rows written before as plain JSON are read as they are; they are purged within 24 hours."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value, dialect):
        from hotline.cases.personal_data import encrypt
        if value is None:
            return None
        return {"sealed": encrypt(json.dumps(value, ensure_ascii=False, separators=(",", ":")))}

    def process_result_value(self, value, dialect):
        from hotline.cases.personal_data import UnreadableData, decrypt
        if not (isinstance(value, dict) and set(value) == {"sealed"}):
            return value
        try:
            return json.loads(decrypt(value["sealed"]))
        except UnreadableData:  # its data key was dropped within the key's 24 hours: no answer to replay
            log.error("a kept idempotent answer cannot be decrypted: its key is not in HOTLINE_DATA_KEYS")
            return None


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
    response: Mapped[dict | None] = mapped_column(SealedJSON)  # encrypted: it can hold a query code
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
