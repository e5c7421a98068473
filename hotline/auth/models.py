"""Staff accounts, API tokens and the access log of unmasked personal data."""
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.extensions import db
from hotline.reference.models import Bureau, Station
from hotline.types import UTCDateTime, utcnow

ROLES = ("operator", "station", "bureau", "supervisor", "admin")


class User(UserMixin, db.Model):
    __tablename__ = "user"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    bureau_id: Mapped[int | None] = mapped_column(ForeignKey("bureau.id"))
    station_id: Mapped[int | None] = mapped_column(ForeignKey("station.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    mobile: Mapped[str | None] = mapped_column(String(20))  # for deadline reminders by SMS
    sms_reminders: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # opted in
    # Bumped by log-out, a password change and deactivation: every session signed with an older value ends.
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    bureau: Mapped[Bureau | None] = relationship()
    station: Mapped[Station | None] = relationship()

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active


class ApiToken(db.Model):
    """A Bearer token; only its SHA-256 is stored (tokens are 256-bit random, so no slow hash needed)."""

    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    prefix: Mapped[str] = mapped_column(String(12))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user: Mapped[User] = relationship()


class AccessLog(db.Model):
    """Every view of unmasked personal data (a case's phone or ID number) is written here."""

    __tablename__ = "access_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    what: Mapped[str] = mapped_column(String(64))
