"""The statistics API's query parameters and answers (`GET /api/v1/stats/queue`, `/stats/summary`), for the
OpenAPI document (hotline/stats/api.py `openapi_paths`)."""
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from hotline.api.schemas import Channel, Date, Kind, Money, Out
from hotline.stats.views import CENTRE


class QueueQuery(BaseModel):
    """The dimensions both endpoints filter by; 422 for any other parameter."""
    model_config = ConfigDict(extra="forbid")

    bureau: str | None = Field(None, description=f"a bureau's code, or `{CENTRE}` for cases at no bureau; a bureau's "
                                                 "token sees its own bureau only (403 for another)")
    kind: Kind | None = None
    channel: Channel | None = None
    category: str | None = Field(None, description="a goods or service category code; a group takes its members")


class SummaryQuery(QueueQuery):
    from_: Date | None = Field(None, alias="from", description="first day (local), default 29 days before `to`")
    to: Date | None = Field(None, description="last day (local, inclusive), default today; at most three years")


# ---- GET /stats/queue ------------------------------------------------------------------------------------

class QueueBureau(Out):
    code: str | None = Field(description="none: cases at no bureau (the centre's triage)")
    name: str | None
    open: int
    overdue: int


class TodayIntake(Out):
    kind: dict[str, int] = Field(description="cases received today by kind")
    channel: dict[str, int] = Field(description="cases received today by channel")
    total: int


class QueueStats(Out):
    """The open queue now (the range does not apply to it) and today's intake."""
    open: int
    overdue: int
    due_soon: int = Field(description="open cases with a running clock due within the reminder window")
    by_status: dict[str, int] = Field(description="open cases per status")
    by_bureau: list[QueueBureau]
    today: TodayIntake


# ---- GET /stats/summary ----------------------------------------------------------------------------------

class Rates(Out):
    """Shares from 0 to 1; none where nothing was measured (shown as "–", never as 0 %)."""
    decided_on_time: float | None = Field(description="按时初查率: decided within the decision clock")
    closed_on_time: float | None = Field(description="按期办结率")
    mediated: float | None = Field(description="调解成功率: settled among mediations ended")
    satisfied: float | None = Field(description="ratings of 4 or 5 among all ratings")
    mean_rating: float | None
    online: float | None = Field(description="received online among all received")


class Measures(Out):
    received: int
    online: int
    decided: int
    decided_on_time: int
    closed: int
    closed_timed: int = Field(description="closed cases that had a closing clock")
    closed_on_time: int
    rated: int
    rating_sum: int
    satisfied: int
    returned: int = Field(description="returns to the centre (退单)")
    extensions: int
    mediated: int
    mediation_ended: int
    recovered_amount: Money = Field(description="挽回经济损失, yuan")
    rates: Rates


class KindMeasures(Measures):
    kind: Kind


class ChannelMeasures(Measures):
    channel: Channel


class BureauMeasures(Measures):
    code: str | None = Field(description="a bureau's code; none: cases at no bureau")
    name: str | None


class CategoryMeasures(Measures):
    code: str | None
    name: str | None


class TopCategory(Out):
    code: str
    name: str | None
    received: int


class TopBusiness(Out):
    key: str = Field(description="the unified social credit code, or the normalised name")
    name: str
    received: int
    counted: int
    accepted: int
    mediation_closed: int
    mediated: int
    success_rate: float | None


class TopBusinesses(Out):
    months: list[str] = Field(min_length=2, max_length=2, description="the whole months counted, YYYY-MM")
    items: list[TopBusiness]


class TrendPoint(Out):
    period: Date = Field(description="the day, or the first day of the month")
    received: int
    closed: int


class Trend(Out):
    unit: Literal["day", "month"]
    points: list[TrendPoint]


class SummaryQueue(Out):
    open: int
    overdue: int
    due_soon: int
    extensions_waiting: int


class SummaryFilters(Out):
    bureau: str | None
    kind: str | None
    channel: str | None
    category: str | None


class StatsSummary(Out):
    """The dashboard's figures for a range (default: the last 30 days to today, local)."""
    model_config = ConfigDict(populate_by_name=True)

    from_: Date = Field(alias="from")
    to: Date
    filters: SummaryFilters
    totals: Measures
    outcomes: dict[str, int] = Field(description="closed cases per outcome")
    by_kind: list[KindMeasures]
    by_channel: list[ChannelMeasures]
    by_bureau: list[BureauMeasures]
    by_category: list[CategoryMeasures]
    top_categories: list[TopCategory]
    top_businesses: TopBusinesses
    trend: Trend
    queue: SummaryQueue
