"""The deadline rulebook (effective-dated), the administrator's calendar overrides and per-case clocks."""
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint, text
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
    # 工作日 or 日 (natural days, Order 121 art. 45: a last day that is not a working day moves to the next one)
    unit: Mapped[str] = mapped_column(String(8), default="working", server_default="working")
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
        # The sweep reads only what still waits for a reminder or an escalation: partial indexes keep
        # its cost proportional to what is due, not to all open cases.
        Index("ix_case_clock_to_remind", "due_at", postgresql_where=text("met_at IS NULL AND reminded_at IS NULL"),
              sqlite_where=text("met_at IS NULL AND reminded_at IS NULL")),
        Index("ix_case_clock_to_escalate", "due_at",
              postgresql_where=text("met_at IS NULL AND escalated_at IS NULL"),
              sqlite_where=text("met_at IS NULL AND escalated_at IS NULL")),
        Index("ix_case_clock_open", "started_at", postgresql_where=text("met_at IS NULL"),
              sqlite_where=text("met_at IS NULL")),
        # 'due soon' on the dashboard: running clocks by due date, with their case (an index-only scan)
        Index("ix_case_clock_due_soon", "due_at", postgresql_include=["case_id"],
              postgresql_where=text("met_at IS NULL AND paused_at IS NULL"),
              sqlite_where=text("met_at IS NULL AND paused_at IS NULL")),
        Index("ix_case_clock_met_at", "met_at"),  # the statistics' drill-down: decisions met in a range
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"))  # indexed by the unique (case_id, clock)
    clock: Mapped[str] = mapped_column(String(32))
    rule_version: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    length: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(8), default="working", server_default="working")  # as its rule's
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)  # 24:00 local of the last day, as UTC
    met_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # mediation suspended (中止)
    paused_days: Mapped[int] = mapped_column(Integer, default=0)  # days not counted, in the clock's unit
    extended_days: Mapped[int] = mapped_column(Integer, default=0)  # an approved extension
    fallback_calendar: Mapped[bool] = mapped_column(Boolean, default=False)  # weekends-only year involved
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Notification(db.Model):
    """An in-app notice: a reminder to the handler (or the bureau, if nobody is assigned) before a
    due date, or an escalation of an overdue clock to the supervisors. Unique per clock, kind and
    due date, so however often or concurrently the sweep runs, each is sent once."""

    __tablename__ = "notification"
    __table_args__ = (UniqueConstraint("clock_id", "kind", "due_at"), Index("ix_notification_inbox", "read_at",
                                                                              "user_id", "bureau_id", "role"))
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # reminder | escalation
    clock_id: Mapped[int] = mapped_column(ForeignKey("case_clock.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    clock: Mapped[str] = mapped_column(String(32))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))  # the handler
    bureau_id: Mapped[int | None] = mapped_column(ForeignKey("bureau.id"))  # the bureau, if no handler
    role: Mapped[str | None] = mapped_column(String(16))  # "supervisor" for escalations
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CalendarYear(db.Model):
    """A year an administrator or supervisor has marked complete: the State Council's whole schedule
    for it is imported. A year with only some imported days keeps its "no official calendar" warning."""

    __tablename__ = "calendar_year"
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ExtensionRequest(db.Model):
    """延期申请: a handler asks to extend a clock (a report's verification, +15 working days, once);
    the request waits in the supervisors' queue until one approves or refuses it."""

    __tablename__ = "extension_request"
    __table_args__ = (Index("ix_extension_request_status", "status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    clock: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | approved | refused
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(String(500))
