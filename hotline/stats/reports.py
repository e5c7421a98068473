"""The monthly and yearly reports (Order 121 art. 38: statistical analysis and published statistical
reports), read from the rollups only (`queries.totals`, `queries.top_businesses`, `stat_month`), plus two
small counts the rollups do not hold: consumer alerts published and text messages sent in the year.

Plain data: codes, numbers and the names of things that have one (categories, bureaus, businesses);
`report_render.py` turns them into words and tables."""
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select

from hotline.extensions import db
from hotline.reference.models import Bureau, Category
from hotline.stats import queries
from hotline.stats.models import StatMonthTotals as StatMonth  # summed over categories: fewer rows
from hotline.stats.queries import Filters, Measures

KINDS = ("complaint", "report", "consultation", "suggestion")
CHANNELS = ("phone", "web", "national_platform", "station", "walk_in", "letter")
OUTCOMES = ("mediated", "terminated", "declined", "case_filed", "no_case", "answered", "transferred", "withdrawn",
            "merged", "none")
TOP_CATEGORIES = 15
TOP_BUSINESSES = 50
# Text messages by what they were for (hotline.sms.policy names the kinds); anything else is "other".
SMS_GROUPS = {"alert": "alert", "receipt": "case", "decision": "case", "closure": "case", "transfer": "case",
              "rating": "case", "reminder": "staff"}
SMS_GROUP_ORDER = ("case", "alert", "staff", "other")
SENT = ("sent", "delivered")
FIRST_YEAR, LAST_YEAR = 2000, 9998  # cases before 2000 are typing errors (hotline.cases.schemas.EARLIEST)
OTHER = "*other"  # the categories outside the top ones, summed


@dataclass(frozen=True)
class Line:
    """One row of a comparison: a figure now and on the bases it is compared with. `name` is None where
    the key is a code with a label (kinds, channels, outcomes, indicators)."""

    key: str
    current: int | Decimal | float | None
    bases: tuple = ()  # (same month last year, previous month) or (last year,)
    name: str | None = None
    unit: str = "count"  # count | money | rate | mean


def change(current, base) -> tuple[object, float | None]:
    """(current − base, the change as a share of the base); None where either is missing, and the share
    None where the base is 0 (shown as "–", never as infinity)."""
    if current is None or base is None:
        return None, None
    diff = current - base
    return diff, (float(diff) / float(base) if base else None)


def yuan(fen: int) -> Decimal:
    return (Decimal(int(fen)) / 100).quantize(Decimal("0.01"))


def check_year(year: int) -> int:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"a year from {FIRST_YEAR} to {LAST_YEAR}")
    return year


def month_end(month: date) -> date:
    return date.fromordinal(queries.next_month(month).toordinal() - 1)


def previous_month(month: date) -> date:
    return queries.month_start(date.fromordinal(month.toordinal() - 1))


def bureau_name(bureau_id: int | None) -> str | None:
    if bureau_id is None:
        return None
    return db.session.scalar(select(Bureau.name).where(Bureau.id == bureau_id))


_CITY: dict[str, str] = {}


def city_name() -> str:
    from hotline.reference.operations import read_pack
    region = current_app.config["REGION"]
    if region not in _CITY:
        _CITY[region] = read_pack(region)["region"].get("name", "")
    return _CITY[region]


def category_labels(codes) -> dict[str, str]:
    """Goods and service categories by name; a code that names nothing is shown as it is."""
    codes = [c for c in codes if c and c != OTHER]
    if not codes:
        return {}
    rows = db.session.execute(select(Category.code, Category.name)
                              .where(Category.axis.in_(("goods", "service")), Category.code.in_(codes)))
    return dict(rows.all())


def _indicators(now: Measures, *bases: Measures) -> list[Line]:
    """The headline figures of a period against its bases: intake, online share, closures, money, rates."""
    def line(key, unit, pick):
        return Line(key, pick(now), tuple(pick(b) for b in bases), unit=unit)
    return [
        line("received", "count", lambda m: m["received"]),
        line("online", "count", lambda m: m["online"]),
        line("online_share", "rate", lambda m: m.rates["online"]),
        line("closed", "count", lambda m: m["closed"]),
        line("recovered", "money", lambda m: yuan(m["recovered"])),
        line("decided_on_time", "rate", lambda m: m.rates["decided_on_time"]),
        line("closed_on_time", "rate", lambda m: m.rates["closed_on_time"]),
        line("mediated", "count", lambda m: m.mediated),
        line("mediation_success", "rate", lambda m: m.rates["mediated"]),
        line("rated", "count", lambda m: m["rated"]),
        line("satisfied", "rate", lambda m: m.rates["satisfied"]),
        line("mean_rating", "mean", lambda m: m.rates["mean_rating"]),
    ]


def _by(dimension: str, keys, measure: str, now: queries.Totals, *bases: queries.Totals) -> list[Line]:
    def pick(totals, key):
        found = totals.by[dimension].get(key)
        return found[measure] if found else 0
    return [Line(key, pick(now, key), tuple(pick(b, key) for b in bases)) for key in keys]


def _keys(fixed: tuple[str, ...], dimension: str, *totals: queries.Totals) -> list[str]:
    """The known codes in their order, then any other code the data holds (a channel added later, say)."""
    extra = {key for t in totals for key, m in t.by[dimension].items() if key not in fixed and m["received"]}
    return [*fixed, *sorted(extra)]


def _closed_by_outcome(totals: queries.Totals, outcome: str) -> int:
    found = totals.by["outcome"].get(outcome)
    return found["closed"] if found else 0


# --- the monthly report --------------------------------------------------------------------------

@dataclass
class BusinessLine:
    key: str
    name: str
    counted: int  # complaints that count against the business (neither declined nor withdrawn)
    accepted: int
    mediation_closed: int
    mediated: int
    success_rate: float | None
    disclosed: bool | None = None  # passes the disclosure rule (None: no rule to apply)


@dataclass
class MonthlyReport:
    month: date
    last_year: date  # the same month a year earlier
    previous: date  # the month before
    bureau_id: int | None
    bureau_name: str | None
    city: str
    by_kind: list[Line]  # bases: (same month last year, previous month)
    by_category: list[Line]  # the top categories by intake this month, then the rest as OTHER
    indicators: list[Line]
    businesses: list[BusinessLine]
    disclosure: str  # "rule": `disclosed` says who passes; "none": the rule is not available here


def monthly(month: date, bureau_id: int | None = None) -> MonthlyReport:
    month = queries.month_start(month)
    last_year, previous = month.replace(year=month.year - 1), previous_month(month)
    periods = [Filters(m, month_end(m), bureau_id=bureau_id) for m in (month, last_year, previous)]
    now, year_ago, before = (queries.totals(f) for f in periods)
    received = {code: m["received"] for code, m in now.by["category"].items() if m["received"]}
    top = sorted(received, key=lambda code: (-received[code], code))[:TOP_CATEGORIES]
    by_category = _by("category", top, "received", now, year_ago, before)
    names = category_labels(top)
    by_category = [Line(line.key, line.current, line.bases, name=names.get(line.key, line.key) if line.key else None)
                   for line in by_category]
    rest = [sum(m["received"] for code, m in totals.by["category"].items() if code not in top)
            for totals in (now, year_ago, before)]
    if any(rest):
        by_category.append(Line(OTHER, rest[0], tuple(rest[1:])))
    businesses = [BusinessLine(row.key, row.name or row.key, row.counted, row.accepted, row.mediation_closed,
                               row.mediated, row.success_rate)
                  for row in queries.top_businesses(month, month_end(month), bureau_id, "complaint",
                                                    n=TOP_BUSINESSES, measure="counted")]
    disclosure = mark_disclosed(businesses, month_end(month))
    return MonthlyReport(
        month=month, last_year=last_year, previous=previous, bureau_id=bureau_id, bureau_name=bureau_name(bureau_id),
        city=city_name(), by_kind=_by("kind", _keys(KINDS, "kind", now), "received", now, year_ago, before),
        by_category=by_category, indicators=_indicators(now.total, year_ago.total, before.total),
        businesses=businesses, disclosure=disclosure)


def mark_disclosed(businesses: list[BusinessLine], day: date) -> str:
    """Mark the businesses that complaint disclosure (投诉公示, Order 121 art. 38) publishes: the rule (a
    threshold over the 12 months to `day`, an administrator's exclusions) as `hotline.stats.disclosure`
    applies it. Returns "rule" when marked, "none" where that module is not installed."""
    try:
        from hotline.stats import disclosure
    except ImportError:
        return "none"
    for business in businesses:
        business.disclosed = disclosure.business(business.key, today=day) is not None
    return "rule"


# --- the yearly report ---------------------------------------------------------------------------

@dataclass
class MonthIntake:
    month: date
    by_kind: dict[str, int]
    total: int
    last_year: int  # the same month a year earlier, all kinds


@dataclass
class BureauLine:
    bureau_id: int
    name: str
    received: int
    closed: int
    closed_on_time: float | None
    mediation_success: float | None
    recovered: Decimal
    returned: int


@dataclass
class YearReport:
    year: int
    bureau_id: int | None
    bureau_name: str | None
    city: str
    generated_at: datetime
    indicators: list[Line]  # bases: (last year,)
    by_kind: list[Line]
    by_channel: list[Line]
    by_month: list[MonthIntake]
    by_outcome: list[Line]
    closed_by_kind: list[Line]
    handling: list[Line]  # transfers out, returns to the centre, extension requests
    alerts: Line
    sms: list[Line]  # by what they were for, then the total
    by_bureau: list[BureauLine] = field(default_factory=list)  # city-wide reports only


def _year_filters(year: int, bureau_id: int | None) -> Filters:
    return Filters(date(year, 1, 1), date(year, 12, 31), bureau_id=bureau_id)


def _by_month(year: int, bureau_id: int | None) -> list[MonthIntake]:
    where = [StatMonth.month.between(date(year - 1, 1, 1), date(year, 12, 1))]
    if bureau_id is not None:
        where.append(StatMonth.bureau_id == bureau_id)
    counts: dict[tuple[date, str], int] = {}
    for month, kind, n in db.session.execute(select(StatMonth.month, StatMonth.kind, func.sum(StatMonth.received))
                                             .where(*where).group_by(StatMonth.month, StatMonth.kind)):
        counts[(month, kind)] = int(n or 0)
    rows = []
    for number in range(1, 13):
        month, before = date(year, number, 1), date(year - 1, number, 1)
        by_kind = {kind: counts.get((month, kind), 0) for kind in KINDS}
        rows.append(MonthIntake(month, by_kind, sum(n for (m, _), n in counts.items() if m == month),
                                sum(n for (m, _), n in counts.items() if m == before)))
    return rows


def _instants(year: int) -> tuple[datetime, datetime]:
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    return datetime.combine(date(year, 1, 1), time(0), zone), datetime.combine(date(year + 1, 1, 1), time(0), zone)


def alerts_published(year: int) -> int:
    from hotline.alerts.models import ConsumerAlert
    start, end = _instants(year)
    return db.session.scalar(select(func.count()).select_from(ConsumerAlert).where(
        ConsumerAlert.published_at >= start, ConsumerAlert.published_at < end)) or 0


def sms_sent(year: int) -> dict[str, int]:
    """Messages that left (sent or delivered) in the year, by what they were for."""
    from hotline.sms.models import SmsMessage
    start, end = _instants(year)
    groups = dict.fromkeys(SMS_GROUP_ORDER, 0)
    for kind, n in db.session.execute(select(SmsMessage.kind, func.count()).where(
            SmsMessage.status.in_(SENT), SmsMessage.sent_at >= start, SmsMessage.sent_at < end)
            .group_by(SmsMessage.kind)):
        groups[SMS_GROUPS.get(kind, "other")] += int(n)
    return groups


def _bureaus(totals: queries.Totals) -> list[BureauLine]:
    names = queries.bureau_names()
    lines = []
    for bureau_id, m in totals.by["bureau_id"].items():
        if not any(m.values.values()):
            continue
        rates = m.rates
        lines.append(BureauLine(bureau_id, names.get(bureau_id, ""), m["received"], m["closed"],
                                rates["closed_on_time"], rates["mediated"], yuan(m["recovered"]), m["returned"]))
    # The centre (no bureau) last; the bureaus by their intake.
    return sorted(lines, key=lambda b: (b.bureau_id == 0, -b.received, b.name))


def yearly(year: int, bureau_id: int | None = None) -> YearReport:
    check_year(year)
    now = queries.totals(_year_filters(year, bureau_id))
    before = queries.totals(_year_filters(year - 1, bureau_id)) if year > FIRST_YEAR else queries.Totals()
    closed_by_kind = [Line(kind, (now.by["kind"].get(kind) or Measures())["closed"],
                           ((before.by["kind"].get(kind) or Measures())["closed"],)) for kind in KINDS]
    outcomes = [Line(o, _closed_by_outcome(now, o), (_closed_by_outcome(before, o),)) for o in OUTCOMES]
    outcomes = [line for line in outcomes if line.current or line.bases[0] or line.key not in ("merged", "none")]
    transferred = (_closed_by_outcome(now, "transferred"), _closed_by_outcome(before, "transferred"))
    handling = [Line("transferred", transferred[0], transferred[1:]),
                Line("returned", now.total["returned"], (before.total["returned"],)),
                Line("extensions", now.total["extensions"], (before.total["extensions"],))]
    sms_now, sms_before = sms_sent(year), sms_sent(year - 1)
    sms = [Line(group, sms_now[group], (sms_before[group],)) for group in SMS_GROUP_ORDER]
    sms.append(Line("total", sum(sms_now.values()), (sum(sms_before.values()),)))
    return YearReport(
        year=year, bureau_id=bureau_id, bureau_name=bureau_name(bureau_id), city=city_name(),
        generated_at=datetime.now(ZoneInfo(current_app.config["TIMEZONE"])).replace(microsecond=0),
        indicators=_indicators(now.total, before.total),
        by_kind=_by("kind", _keys(KINDS, "kind", now, before), "received", now, before),
        by_channel=_by("channel", _keys(CHANNELS, "channel", now, before), "received", now, before),
        by_month=_by_month(year, bureau_id), by_outcome=outcomes, closed_by_kind=closed_by_kind,
        handling=handling, alerts=Line("alerts", alerts_published(year), (alerts_published(year - 1),)),
        sms=sms, by_bureau=_bureaus(now) if bureau_id is None else [])
