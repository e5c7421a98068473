"""Reference data: the region pack (divisions, bureaus, stations, routing rules) and the lists staff
pick from (categories on three axes, statutory grounds, the consultation answer bank)."""
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint, false, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.extensions import db
from hotline.types import UTCDateTime, utcnow


class Division(db.Model):
    """行政区划: a GB/T 2260 division (or a street/town below it), with names routing can match."""

    __tablename__ = "division"
    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    parent_code: Mapped[str | None] = mapped_column(String(12), index=True)
    aliases: Mapped[list] = mapped_column(JSON, default=list)


class Bureau(db.Model):
    """分局: a district bureau that handles the cases of its territory."""

    __tablename__ = "bureau"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    short_name: Mapped[str] = mapped_column(String(64))
    division_code: Mapped[str | None] = mapped_column(String(12))
    kind: Mapped[str] = mapped_column(String(16), default="district")
    address: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Station(db.Model):
    """12315进社区服务站: a community station where staff log cases for residents."""

    __tablename__ = "station"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    bureau_id: Mapped[int | None] = mapped_column(ForeignKey("bureau.id"))
    address: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    bureau: Mapped[Bureau | None] = relationship()


class RoutingRule(db.Model):
    """One routing rule; rules apply in `position` order (keyword, then division, category, kind)."""

    __tablename__ = "routing_rule"
    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(Integer, index=True)
    match: Mapped[str] = mapped_column(String(16))  # keyword | division | category | kind
    value: Mapped[str] = mapped_column(String(128))
    bureau_id: Mapped[int] = mapped_column(ForeignKey("bureau.id"))
    note: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    bureau: Mapped[Bureau] = relationship()


class Category(db.Model):
    """A category on one of three axes: goods (商品), service (服务), issue (问题)."""

    __tablename__ = "category"
    __table_args__ = (UniqueConstraint("axis", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    axis: Mapped[str] = mapped_column(String(8))
    code: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(64))
    parent_code: Mapped[str | None] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(Integer, default=0)


class StatutoryGround(db.Model):
    """A statutory ground for declining, terminating mediation or not filing: picked, never typed.
    Versioned with the rulebook (Order 20, Order 121): a case offers the grounds of its version."""

    __tablename__ = "statutory_ground"
    __table_args__ = (UniqueConstraint("version", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), index=True)
    version: Mapped[str] = mapped_column(String(32), default="order-20", server_default="order-20")
    purpose: Mapped[str] = mapped_column(String(16), index=True)  # decline | terminate | report_decline | no_case
    text: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(String(255))
    local_rule: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # in neither Order
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The region pack's entry as last applied (a hash), and a newer pack entry that conflicts with an
    # administrator's own edit, kept for the administrator to resolve.
    pack_hash: Mapped[str | None] = mapped_column(String(64))
    pack_pending: Mapped[dict | None] = mapped_column(JSON)
    edited_locally: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Answer(db.Model):
    """知识库: a standard answer to a consultation, with its legal basis, kept by supervisors."""

    __tablename__ = "answer"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    title: Mapped[str] = mapped_column(String(128))
    keywords: Mapped[list] = mapped_column(JSON, default=list)
    body: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str | None] = mapped_column(String(255))
    basis_verified: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())  # else 法律依据待核实
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    pack_hash: Mapped[str | None] = mapped_column(String(64))  # the pack's entry as last applied
    pack_pending: Mapped[dict | None] = mapped_column(JSON)  # a newer pack entry conflicting with a local edit
    edited_locally: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))


class Platform(db.Model):
    """An online platform and its registered address: where an online seller that shows no address
    of its own is routed (DESIGN.md §2, 网络经营者)."""

    __tablename__ = "platform"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    aliases: Mapped[list] = mapped_column(JSON, default=list)
    operator_name: Mapped[str | None] = mapped_column(String(128))
    registered_address: Mapped[str] = mapped_column(String(255))
