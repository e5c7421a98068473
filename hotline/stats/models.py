"""Statistics rollups (DESIGN.md §2 Statistics, Order 121 art. 38).

Every case contributes a few additive cells; `stat_case` keeps the facts each case was last counted
with, so a refresh adds the difference between the case as it is now and as it was counted. Counting a
case twice therefore changes nothing, whatever order or how often refreshes run."""
from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Boolean, Date, Index, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from hotline.extensions import db
from hotline.types import UTCDateTime, utcnow


def _count(**kw):
    return mapped_column(Integer, default=0, server_default="0", nullable=False, **kw)


class _Measures:
    """What one cell adds up. `recovered` is in fen (Money's storage), summed exactly."""

    received: Mapped[int] = _count()
    online: Mapped[int] = _count()  # the business sells on an online platform (网购平台)
    decided: Mapped[int] = _count()  # the first decision's clock was met (受理/初查/答复)
    decided_on_time: Mapped[int] = _count()
    closed: Mapped[int] = _count()
    closed_timed: Mapped[int] = _count()  # closed with a handling clock to be measured against
    closed_on_time: Mapped[int] = _count()
    recovered: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0", nullable=False)
    rated: Mapped[int] = _count()
    rating_sum: Mapped[int] = _count()
    satisfied: Mapped[int] = _count()  # a rating of 4 or 5
    returned: Mapped[int] = _count()  # returns to the centre (退单), counted for the bureau that returned
    extensions: Mapped[int] = _count()  # extension requests (延期申请)


class StatDay(_Measures, db.Model):
    """Cells per local day. `outcome` is set on the cells of closing days only ('' elsewhere)."""

    __tablename__ = "stat_day"
    __table_args__ = (Index("ix_stat_day_category", "category", "day"),)  # a category chosen: its range only
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    bureau_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # 0: not at a bureau
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    channel: Mapped[str] = mapped_column(String(24), primary_key=True)
    category: Mapped[str] = mapped_column(String(16), primary_key=True)  # goods or service code, '' none
    outcome: Mapped[str] = mapped_column(String(16), primary_key=True)


class StatMonth(_Measures, db.Model):
    """The same cells per month (`month` is its first day): a year's range reads twelve of these."""

    __tablename__ = "stat_month"
    __table_args__ = (Index("ix_stat_month_category", "category", "month"),)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    bureau_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    channel: Mapped[str] = mapped_column(String(24), primary_key=True)
    category: Mapped[str] = mapped_column(String(16), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(16), primary_key=True)


class StatDayTotals(_Measures, db.Model):
    """`stat_day` without the category: the dashboard's totals, breakdowns and trend when no category is
    chosen read these (a few hundred rows a day instead of thousands at a provincial centre)."""

    __tablename__ = "stat_day_totals"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    bureau_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    channel: Mapped[str] = mapped_column(String(24), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(16), primary_key=True)


class StatMonthTotals(_Measures, db.Model):
    __tablename__ = "stat_month_totals"
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    bureau_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    channel: Mapped[str] = mapped_column(String(24), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(16), primary_key=True)


class StatDayCategories(_Measures, db.Model):
    """`stat_day` summed over bureaus and channels: the figures per category (top categories, the reports'
    tables) for all bureaus and channels, or one kind."""

    __tablename__ = "stat_day_categories"
    __table_args__ = (Index("ix_stat_day_categories_category", "category", "day"),)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    category: Mapped[str] = mapped_column(String(16), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(16), primary_key=True)


class StatMonthCategories(_Measures, db.Model):
    __tablename__ = "stat_month_categories"
    __table_args__ = (Index("ix_stat_month_categories_category", "category", "month"),)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    category: Mapped[str] = mapped_column(String(16), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(16), primary_key=True)


class StatDayBureauCategories(_Measures, db.Model):
    """`stat_day` summed over channels, keyed by bureau first: one bureau's figures per category."""

    __tablename__ = "stat_day_bureau_categories"
    bureau_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    category: Mapped[str] = mapped_column(String(16), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(16), primary_key=True)


class StatMonthBureauCategories(_Measures, db.Model):
    __tablename__ = "stat_month_bureau_categories"
    bureau_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    category: Mapped[str] = mapped_column(String(16), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(16), primary_key=True)


class StatOpen(db.Model):
    """The open queue now: live counters per bureau, kind, channel, category and status."""

    __tablename__ = "stat_open"
    bureau_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    channel: Mapped[str] = mapped_column(String(24), primary_key=True)
    category: Mapped[str] = mapped_column(String(16), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    open: Mapped[int] = _count()
    overdue: Mapped[int] = _count()


class StatBusinessMonth(db.Model):
    """Cases per business and month of receipt, for top businesses and complaint disclosure (投诉公示).
    Each case is counted four times: at its bureau and kind, and at the all-bureaus (0) and all-kinds ('')
    levels, so that any of those filters reads one index range."""

    __tablename__ = "stat_business_month"
    __table_args__ = (  # each month's leaders, read from an index (hotline.stats.queries.top_businesses)
        Index("ix_stat_business_month_received", "month", "bureau_id", "kind", "received"),
        Index("ix_stat_business_month_counted", "month", "bureau_id", "kind", "counted"),
    )
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    bureau_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    business_key: Mapped[str] = mapped_column(String(80), primary_key=True)
    business_name: Mapped[str] = mapped_column(String(255), default="")
    received: Mapped[int] = _count()
    counted: Mapped[int] = _count()  # neither declined nor withdrawn: these count against the business
    accepted: Mapped[int] = _count()
    mediation_closed: Mapped[int] = _count()  # mediation ended: settled or terminated
    mediated: Mapped[int] = _count()  # settled (调解成功)


class StatCase(db.Model):
    """The facts a case was last counted with (see `hotline.stats.facts.Facts`); `counted` false: nothing yet."""

    __tablename__ = "stat_case"
    case_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    counted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    received_day: Mapped[date | None] = mapped_column(Date)
    bureau_id: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    kind: Mapped[str] = mapped_column(String(16), default="", server_default="")
    channel: Mapped[str] = mapped_column(String(24), default="", server_default="")
    category: Mapped[str] = mapped_column(String(16), default="", server_default="")
    online: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    status: Mapped[str] = mapped_column(String(16), default="", server_default="")
    overdue: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    decided_day: Mapped[date | None] = mapped_column(Date)
    decided_on_time: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    closed_day: Mapped[date | None] = mapped_column(Date)
    outcome: Mapped[str | None] = mapped_column(String(16))
    closed_timed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    closed_on_time: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    recovered: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    rated_day: Mapped[date | None] = mapped_column(Date)
    rating_bureau_id: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    score: Mapped[int | None] = mapped_column(Integer)
    accepted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    business_key: Mapped[str | None] = mapped_column(String(80))
    business_name: Mapped[str | None] = mapped_column(String(255))
    returns: Mapped[list | None] = mapped_column(JSON)  # [[day, bureau_id], ...]
    extensions: Mapped[list | None] = mapped_column(JSON)  # [[day, bureau_id], ...]


class StatDirty(db.Model):
    """Cases changed since they were last counted: written in the transaction of the change (an outbox
    that coalesces: ten changes to one case before the next refresh count once)."""

    __tablename__ = "stat_dirty"
    case_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DisclosureRule(db.Model):
    """投诉公示 (Order 121 art. 38): which businesses are disclosed. One row, kept by an administrator."""

    __tablename__ = "disclosure_rule"
    id: Mapped[int] = mapped_column(primary_key=True)
    threshold: Mapped[int] = mapped_column(Integer, default=5)  # complaints over the last 12 months
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_by: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DisclosureExclusion(db.Model):
    """A business an administrator keeps off the public pages, with the reason (e.g. a court order)."""

    __tablename__ = "disclosure_exclusion"
    business_key: Mapped[str] = mapped_column(String(80), primary_key=True)
    business_name: Mapped[str] = mapped_column(String(255), default="")
    reason: Mapped[str] = mapped_column(String(255))
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
