"""Everything the supervisors' dashboard shows for one range and filter, read from the rollups (and
the two small live look-ups: clocks due soon, extension requests waiting). `bench/dashboard.py` times
exactly this function."""
from dataclasses import dataclass
from datetime import date, datetime

from hotline.stats import queries
from hotline.stats.queries import Backlog, BusinessRow, Filters, Totals

TOP = 10


@dataclass
class Dashboard:
    filters: Filters
    totals: Totals
    backlog: Backlog
    due_soon: int
    extensions_waiting: int
    today: dict
    trend_unit: str  # "day" or "month"
    trend: list[tuple[date, dict]]
    top_businesses: list[BusinessRow]
    top_categories: list[tuple[str, int]]  # (category code, cases received)
    business_months: tuple[date, date]  # top businesses count whole months: the first and the last


def build(filters: Filters, now: datetime | None = None) -> Dashboard:
    totals = queries.totals(filters)
    unit, trend = queries.trend(filters)
    categories = sorted(((code, m["received"]) for code, m in totals.by["category"].items() if m["received"]),
                        key=lambda item: (-item[1], item[0]))[:TOP]
    months = queries.months_of(filters.start, filters.end)
    return Dashboard(
        filters=filters, totals=totals, backlog=queries.backlog(filters), due_soon=queries.due_soon(filters, now),
        extensions_waiting=queries.extensions_waiting(filters), today=queries.today_intake(filters),
        trend_unit=unit, trend=trend,
        top_businesses=queries.top_businesses(filters.start, filters.end, filters.bureau_id, filters.kind, TOP),
        top_categories=categories, business_months=(months[0], months[-1]))
