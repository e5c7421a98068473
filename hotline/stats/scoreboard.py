"""The bureau scoreboard (分局考评): per bureau and month, the on-time decision and closure rates, returns to the
centre (退单率), satisfaction and extension requests, read from `stat_month` in one query (Order 121 art. 38:
statistical analysis of complaint and report handling). Bureaus are put in tiers, never ranked one by one: a
rank turns a difference of one case into a place on a list.

Each figure is counted in the month its event happened (a decision in the month it was made, a closure in
the month it closed, a rating in the month it was given, a return in the month it was sent back), as the
rollups count them. Reopened cases (重办) are not counted: there is no reopen workflow yet (the follow-up
stage, DESIGN.md "Later stages")."""
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, select

from hotline.extensions import db
from hotline.reference.models import Bureau
from hotline.stats.models import StatMonthTotals as StatMonth  # summed over categories: fewer rows

GOOD, FAIR, NEEDS_IMPROVEMENT = "good", "fair", "needs_improvement"
TIER_LABELS = {GOOD: _l("good"), FAIR: _l("fair"), NEEDS_IMPROVEMENT: _l("needs improvement")}
TOO_FEW_LABEL = _l("too few cases to rate")

# The tier thresholds (a local rule, kept here and printed under the scoreboard). 优 (good): every measured
# rate at least this good; 待改进 (needs improvement): any measured rate this bad; 良 (fair) in between.
GOOD_ON_TIME = 0.95  # on-time decision and on-time closure, each
GOOD_RETURN = 0.10  # return rate at most
GOOD_SATISFACTION = 0.90
POOR_ON_TIME = 0.80  # below: needs improvement
POOR_RETURN = 0.25  # above: needs improvement
POOR_SATISFACTION = 0.70  # below: needs improvement
# A handful of cases says little: a bureau with fewer decisions in the month is not rated at all, and
# satisfaction from fewer ratings than this is shown but left out of the tier (one unhappy caller is not a trend).
MIN_DECIDED = 5
MIN_RATED = 5

_MEASURES = ("received", "returned", "decided", "decided_on_time", "closed_timed", "closed_on_time", "rated",
             "satisfied", "rating_sum", "extensions")


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass
class BureauScore:
    bureau_id: int
    code: str
    name: str
    received: int = 0
    returned: int = 0
    decided: int = 0
    decided_on_time: int = 0
    closed_timed: int = 0
    closed_on_time: int = 0
    rated: int = 0
    satisfied: int = 0
    rating_sum: int = 0
    extensions: int = 0
    short_name: str = ""

    @property
    def decided_on_time_rate(self) -> float | None:
        """按时受理率: first decisions (accept, decline, start verification, answer) within their clock."""
        return _rate(self.decided_on_time, self.decided)

    @property
    def closed_on_time_rate(self) -> float | None:
        """按期办结率: cases closed within the clock they are measured against."""
        return _rate(self.closed_on_time, self.closed_timed)

    @property
    def return_rate(self) -> float | None:
        """退单率: of the cases routed to the bureau that month, the share it sent back to the centre."""
        return _rate(self.returned, self.received + self.returned)

    @property
    def satisfaction(self) -> float | None:
        """满意率: the share of ratings of 4 or 5."""
        return _rate(self.satisfied, self.rated)

    @property
    def mean_rating(self) -> float | None:
        return _rate(self.rating_sum, self.rated)

    @property
    def tier(self) -> str | None:
        """GOOD, FAIR or NEEDS_IMPROVEMENT; None with too few cases to rate. A rate with nothing to measure
        (no closure with a clock, too few ratings) is left out rather than counted as a pass or a fail."""
        if self.decided < MIN_DECIDED:
            return None
        on_time = [r for r in (self.decided_on_time_rate, self.closed_on_time_rate) if r is not None]
        returns = self.return_rate
        satisfaction = self.satisfaction if self.rated >= MIN_RATED else None
        if (any(r < POOR_ON_TIME for r in on_time) or (returns is not None and returns > POOR_RETURN)
                or (satisfaction is not None and satisfaction < POOR_SATISFACTION)):
            return NEEDS_IMPROVEMENT
        if (all(r >= GOOD_ON_TIME for r in on_time) and (returns is None or returns <= GOOD_RETURN)
                and (satisfaction is None or satisfaction >= GOOD_SATISFACTION)):
            return GOOD
        return FAIR

    @property
    def tier_label(self) -> str:
        return str(TIER_LABELS[self.tier]) if self.tier else str(TOO_FEW_LABEL)


def thresholds() -> dict[str, float | int]:
    """The tier rules as numbers, for the page's footnote and the export."""
    return {"good_on_time": GOOD_ON_TIME, "good_return": GOOD_RETURN, "good_satisfaction": GOOD_SATISFACTION,
            "poor_on_time": POOR_ON_TIME, "poor_return": POOR_RETURN, "poor_satisfaction": POOR_SATISFACTION,
            "min_decided": MIN_DECIDED, "min_rated": MIN_RATED}


def scoreboard(month: date) -> list[BureauScore]:
    """Every active bureau's figures for the month (`month` is its first day), zero rows included, ordered by
    bureau code: one query, each bureau's cells summed over kind, channel and outcome (stat_month_totals)."""
    month = month.replace(day=1)
    sums = [func.coalesce(func.sum(getattr(StatMonth, name)), 0).label(name) for name in _MEASURES]
    query = (select(Bureau.id, Bureau.code, Bureau.name, Bureau.short_name, *sums)
             .outerjoin(StatMonth, and_(StatMonth.bureau_id == Bureau.id, StatMonth.month == month))
             .where(Bureau.active.is_(True))
             .group_by(Bureau.id, Bureau.code, Bureau.name, Bureau.short_name)
             .order_by(Bureau.code))
    return [BureauScore(bureau_id=row.id, code=row.code, name=row.name, short_name=row.short_name or row.name,
                        **{name: int(getattr(row, name)) for name in _MEASURES})
            for row in db.session.execute(query)]
