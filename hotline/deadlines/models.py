"""The deadline rulebook (effective-dated), the administrator's calendar overrides and per-case clocks."""
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hotline.extensions import db
from hotline.types import UTCDateTime, utcnow


class DeadlineRule(db.Model):
    """One clock's statutory period within a rulebook version (e.g. Order 20, Order 121)."""

    __tablename__ = "deadline_rule"
    __table_args__ = (UniqueConstraint("version", "clock"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(128))
    effective_from: Mapped[date] = mapped_column(Date, index=True)
    verified: Mapped[bool] = mapped_column(Boolean, default=True)
    clock: Mapped[str] = mapped_column(String(32))
    starts: Mapped[str] = mapped_column(String(16))
    length: Mapped[int] = mapped_column(Integer)
    extension: Mapped[int] = mapped_column(Integer, default=0)
    basis: Mapped[str] = mapped_column(String(255))


class CalendarDay(db.Model):
    """An administrator's override of the official calendar: a holiday or a make-up working day."""

    __tablename__ = "calendar_day"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # holiday | workday
    name: Mapped[str | None] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CaseClock(db.Model):
    """A statutory clock of one case: when it started, when it is due, when it was met."""

    __tablename__ = "case_clock"
    __table_args__ = (
        UniqueConstraint("case_id", "clock"),
        Index("ix_case_clock_open_due", "met_at", "due_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    clock: Mapped[str] = mapped_column(String(32))
    rule_version: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    length: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)  # 24:00 local of the last day, as UTC
    met_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # mediation suspended (中止)
    paused_days: Mapped[int] = mapped_column(Integer, default=0)  # working days not counted
    extended_days: Mapped[int] = mapped_column(Integer, default=0)  # an approved extension
    fallback_calendar: Mapped[bool] = mapped_column(Boolean, default=False)  # weekends-only year involved
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
