"""The case (投诉/举报/咨询/建议), its append-only audit trail and links between cases."""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.auth.models import User
from hotline.cases import business_keys
from hotline.cases.workflow import OPEN_STATUSES
from hotline.extensions import db
from hotline.reference.models import Bureau, Station
from hotline.types import Money, UTCDateTime, utcnow

_OPEN = ", ".join(f"'{status}'" for status in sorted(OPEN_STATUSES))


class Case(db.Model):
    __tablename__ = "case"
    __table_args__ = (
        Index("ix_case_status_bureau", "status", "bureau_id"),
        Index("ix_case_registered_at", "registered_at"),
        Index("ix_case_assignee_status", "assignee_id", "status"),  # a handler's open cases, for assignment
        # the statistics' drill-down lists the cases behind a figure by the day they arrived or closed
        Index("ix_case_received_at", "received_at"),
        Index("ix_case_closed_at", "closed_at"),
        # the open queue's cases with what the dashboard filters on: 'due soon' joins here index-only
        Index("ix_case_open", "id", postgresql_include=["bureau_id", "kind", "channel"],
              postgresql_where=text(f"status IN ({_OPEN})"), sqlite_where=text(f"status IN ({_OPEN})")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str | None] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    station_id: Mapped[int | None] = mapped_column(ForeignKey("station.id"), index=True)
    bureau_id: Mapped[int | None] = mapped_column(ForeignKey("bureau.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    consumer_name: Mapped[str | None] = mapped_column(String(64))
    consumer_phone: Mapped[str | None] = mapped_column(String(20), index=True)  # normalised, national digits
    consumer_id_number_enc: Mapped[str | None] = mapped_column(Text)  # Fernet ciphertext
    consumer_id_number_tail: Mapped[str | None] = mapped_column(String(4))  # for the masked display
    consumer_address: Mapped[str | None] = mapped_column(String(255))
    consumer_anonymous: Mapped[bool] = mapped_column(Boolean, default=False)

    business_name: Mapped[str | None] = mapped_column(String(255))
    business_address: Mapped[str | None] = mapped_column(String(255))
    business_uscc: Mapped[str | None] = mapped_column(String(18), index=True)
    business_phone: Mapped[str | None] = mapped_column(String(32))
    business_platform: Mapped[str | None] = mapped_column(String(128))
    business_shop: Mapped[str | None] = mapped_column(String(128))
    business_key: Mapped[str | None] = mapped_column(String(80), index=True)  # set on write: business_keys.py

    category_goods: Mapped[str | None] = mapped_column(String(16))
    category_service: Mapped[str | None] = mapped_column(String(16))
    category_issue: Mapped[str | None] = mapped_column(String(16))

    subject: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    demand: Mapped[str | None] = mapped_column(Text)
    amount: Mapped[Decimal | None] = mapped_column(Money)
    occurred_on: Mapped[date | None] = mapped_column(Date)
    answer: Mapped[str | None] = mapped_column(Text)
    answer_id: Mapped[int | None] = mapped_column(ForeignKey("answer.id"))
    recovered_amount: Mapped[Decimal | None] = mapped_column(Money)
    ground_code: Mapped[str | None] = mapped_column(String(16))

    query_code_hash: Mapped[str] = mapped_column(String(64))
    division_code: Mapped[str | None] = mapped_column(String(12))  # where routing placed the business
    routing_rule: Mapped[str | None] = mapped_column(String(255))
    routing_reason: Mapped[str | None] = mapped_column(Text)
    return_count: Mapped[int] = mapped_column(Integer, default=0)
    assignment_final: Mapped[bool] = mapped_column(Boolean, default=False)  # 审定 after two returns
    # The rulebook version in force on the day of receipt (order-20 / order-121): its clocks and grounds
    # apply for the case's whole life.
    rulebook_version: Mapped[str | None] = mapped_column(String(32))
    identity_check: Mapped[str | None] = mapped_column(String(16))  # done | refused | not_needed (art. 10, 16(6))
    delegated_to: Mapped[str | None] = mapped_column(String(128))  # 委托调解 (art. 19): who mediates
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"))  # a repeat report merged (art. 35)
    transferred_to: Mapped[str | None] = mapped_column(String(128))  # 移送: another 12315 or the national platform
    overdue: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    # Optimistic locking: a stale writer's UPDATE matches no row and fails (StaleDataError → 409).
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}

    bureau: Mapped[Bureau | None] = relationship()
    station: Mapped[Station | None] = relationship()
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    events: Mapped[list["CaseEvent"]] = relationship(
        back_populates="case", order_by="CaseEvent.id", cascade="all, delete-orphan")

    @property
    def is_open(self) -> bool:
        return self.status != "closed"


business_keys.listen(Case)


class CaseEvent(db.Model):
    """One entry of a case's audit trail. Rows are only ever inserted."""

    __tablename__ = "case_event"
    __table_args__ = (Index("ix_case_event_action_at", "action", "at"),)  # returns in a range (statistics)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    actor_label: Mapped[str] = mapped_column(String(64))  # "system", a worker, or the user's name
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict | None] = mapped_column(JSON)
    case: Mapped[Case] = relationship(back_populates="events")


class CaseLink(db.Model):
    """Two cases from one call (a complaint and a report), or related reports under a lead case."""

    __tablename__ = "case_link"
    __table_args__ = (UniqueConstraint("case_id", "linked_case_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    linked_case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    relation: Mapped[str] = mapped_column(String(16), default="same_call")
    linked_case: Mapped[Case] = relationship(foreign_keys=[linked_case_id])


class CaseComplainant(db.Model):
    """共同投诉 (Order 121 art. 12): one more complainant of a joint complaint; at most two of all the
    complainants are named representatives. The first complainant stays in the case's consumer fields."""

    __tablename__ = "case_complainant"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    id_number_enc: Mapped[str | None] = mapped_column(Text)
    id_number_tail: Mapped[str | None] = mapped_column(String(4))
    address: Mapped[str | None] = mapped_column(String(255))
    representative: Mapped[bool] = mapped_column(Boolean, default=False)


class CaseNumberCounter(db.Model):
    """The last sequence number handed out per local day; bumped atomically with an upsert."""

    __tablename__ = "case_number_counter"
    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last: Mapped[int] = mapped_column(Integer)
