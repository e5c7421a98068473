"""The supervisors' figures, read from the rollups only (never a scan of the cases): totals for any
range and filter, the open queue now, trends, top categories and businesses, the API's queue figures.
A range is split into whole months (`stat_month`) and the days at either end (`stat_day`). With no category
chosen, the totals and the trend read the same sums without the category (`stat_*_totals`), and the
breakdown by category reads them without bureau and channel (`stat_*_categories`, or
`stat_*_bureau_categories` for one bureau): a few hundred rows a month rather than tens of thousands at
ten million cases."""
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, or_, select, text, union_all

from hotline.cases.models import Case
from hotline.cases.workflow import OPEN_STATUSES
from hotline.deadlines.models import CaseClock, ExtensionRequest
from hotline.extensions import db
from hotline.reference.models import Bureau
from hotline.stats.cells import DAY_MEASURES, MEDIATION_OUTCOMES
from hotline.stats.models import (
    StatBusinessMonth,
    StatDay,
    StatDayBureauCategories,
    StatDayCategories,
    StatDayTotals,
    StatMonth,
    StatMonthBureauCategories,
    StatMonthCategories,
    StatMonthTotals,
    StatOpen,
)
from hotline.types import utcnow

DAILY_TREND_DAYS = 92  # longer ranges trend by month


@dataclass(frozen=True)
class Filters:
    start: date
    end: date  # inclusive
    bureau_id: int | None = None
    kind: str | None = None
    channel: str | None = None
    category: str | None = None  # a goods or service code; a group code takes its members too

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def today() -> date:
    return datetime.now(zone()).date()


def local_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, end+1 00:00) local, as aware datetimes: the instants a day range covers."""
    tz = zone()
    return datetime.combine(start, time(0), tzinfo=tz), datetime.combine(end + timedelta(days=1), time(0), tzinfo=tz)


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def split_range(start: date, end: date) -> tuple[list[tuple[date, date]], tuple[date, date] | None]:
    """Day spans at the edges and the whole months between: ([(a, b), ...], (first month, last month))."""
    first_whole = start if start.day == 1 else next_month(start)
    after_last_whole = month_start(end + timedelta(days=1))  # the first month not wholly inside
    if first_whole >= after_last_whole:
        return [(start, end)], None
    spans = []
    if start < first_whole:
        spans.append((start, first_whole - timedelta(days=1)))
    if after_last_whole <= end:
        spans.append((after_last_whole, end))
    last_whole = month_start(after_last_whole - timedelta(days=1))
    return spans, (first_whole, last_whole)


def _by_month(start: date, end: date) -> list[tuple[date, date]]:
    """A span of days cut where months change."""
    pieces = []
    while start <= end:
        last = min(end, next_month(start) - timedelta(days=1))
        pieces.append((start, last))
        start = last + timedelta(days=1)
    return pieces


@dataclass(frozen=True)
class Cover:
    """How a range is read: whole months (first, last) from the month table, plus the days of `add`, minus
    the days of `subtract` (the rest of a month mostly inside the range: the month-to-date is its month
    minus the days to come, which hold nothing, rather than every day so far)."""

    add: list[tuple[date, date]]
    subtract: list[tuple[date, date]]
    months: tuple[date, date] | None


def cover_range(start: date, end: date) -> Cover:
    spans, months = split_range(start, end)
    add, subtract = [], []
    first, last = months if months else (None, None)
    for a, b in (piece for span in spans for piece in _by_month(*span)):
        month = month_start(a)
        month_end = next_month(month) - timedelta(days=1)
        outside = [(x, y) for x, y in ((month, a - timedelta(days=1)), (b + timedelta(days=1), month_end)) if x <= y]
        if sum((y - x).days + 1 for x, y in outside) < (b - a).days + 1:
            subtract += outside
            first, last = min(first or month, month), max(last or month, month)
        else:
            add.append((a, b))
    return Cover(add, subtract, (first, last) if first else None)


def _dims(model, filters: Filters) -> list:
    where = []
    if filters.bureau_id is not None:
        where.append(model.bureau_id == filters.bureau_id)
    if filters.kind:
        where.append(model.kind == filters.kind)
    if filters.channel:
        where.append(model.channel == filters.channel)
    if filters.category:  # a code and its members: as a range too, so that an index on the category serves it
        where += [model.category >= filters.category, model.category < _after_prefix(filters.category),
                  model.category.startswith(filters.category, autoescape=True)]
    return where


def _after_prefix(prefix: str) -> str:
    """The least string above every string that starts with `prefix` (codes are ASCII)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


_GROUP = ("bureau_id", "kind", "channel", "category", "outcome")
_TOTAL_GROUP = ("bureau_id", "kind", "channel", "outcome")


def _category_sources(filters: Filters) -> tuple:
    """(day table, month table) with the category and what else is filtered, the smallest that serves."""
    if filters.channel:
        return StatDay, StatMonth
    if filters.bureau_id is not None:
        return StatDayBureauCategories, StatMonthBureauCategories
    return StatDayCategories, StatMonthCategories


def _sources(filters: Filters) -> tuple:
    """(day table, month table) for sums with no breakdown: without the category unless one is chosen."""
    return _category_sources(filters) if filters.category else (StatDayTotals, StatMonthTotals)


def _summed(day_model, month_model, filters: Filters, group: tuple[str, ...]):
    """The measures over the range, summed per `group` (cover_range: whole months, plus and minus days),
    in one statement: the month and day reads are added up in the database, not row by row here."""
    cover = cover_range(filters.start, filters.end)
    reads = [(month_model, month_model.month.between(*cover.months), 1)] if cover.months else []
    reads += [(day_model, or_(*(day_model.day.between(a, b) for a, b in spans)), sign)
              for spans, sign in ((cover.add, 1), (cover.subtract, -1)) if spans]
    if not reads:
        return
    parts = [select(*(getattr(model, g).label(g) for g in group),
                    *((getattr(model, m) if sign == 1 else -getattr(model, m)).label(m) for m in DAY_MEASURES))
             .where(where, *_dims(model, filters)) for model, where, sign in reads]
    cells = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery()
    keys = [cells.c[g] for g in group]
    yield from db.session.execute(select(*keys, *(func.sum(cells.c[m]).label(m) for m in DAY_MEASURES))
                                  .group_by(*keys))


def ratio(part: int | None, whole: int | None) -> float | None:
    """A rate, or None where nothing was measured (shown as "–", never as 0 %)."""
    return part / whole if whole else None


def _nonzero(row) -> list[tuple[str, int]]:
    return [(name, int(value)) for name in DAY_MEASURES if (value := getattr(row, name))]


@dataclass
class Measures:
    """Summed measures of some cells, and the rates they give."""

    values: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DAY_MEASURES, 0))
    mediated: int = 0  # closed as settled
    mediation_ended: int = 0  # closed as settled or terminated

    def add(self, row) -> None:
        self.add_values(_nonzero(row), row.outcome, int(row.closed or 0))

    def add_values(self, pairs: list[tuple[str, int]], outcome: str, closed: int) -> None:
        values = self.values
        for name, value in pairs:
            values[name] += value
        if outcome == "mediated":
            self.mediated += closed
        if outcome in MEDIATION_OUTCOMES:
            self.mediation_ended += closed

    def __getitem__(self, name: str) -> int:
        return self.values[name]

    @property
    def rates(self) -> dict[str, float | None]:
        v = self.values
        return {"decided_on_time": ratio(v["decided_on_time"], v["decided"]),
                "closed_on_time": ratio(v["closed_on_time"], v["closed_timed"]),
                "mediated": ratio(self.mediated, self.mediation_ended),
                "satisfied": ratio(v["satisfied"], v["rated"]),
                "mean_rating": v["rating_sum"] / v["rated"] if v["rated"] else None,
                "online": ratio(v["online"], v["received"])}


@dataclass
class Totals:
    """A range's measures in all, and broken down by each dimension (the same rows, summed differently)."""

    total: Measures = field(default_factory=Measures)
    by: dict[str, dict] = field(default_factory=lambda: {g: {} for g in _GROUP})

    def add(self, row, dims: tuple[str, ...] = _GROUP, total: bool = True) -> None:
        # thousands of rows per page: the row's non-zero measures are read once, then added to each sum
        pairs, outcome, closed = _nonzero(row), row.outcome, int(row.closed or 0)
        if total:
            self.total.add_values(pairs, outcome, closed)
        for dim in dims:
            self.by[dim].setdefault(getattr(row, dim), Measures()).add_values(pairs, outcome, closed)

    def pruned(self) -> "Totals":
        """Without the breakdown entries that sum to nothing (a month minus its days can leave some)."""
        for dim, entries in self.by.items():
            self.by[dim] = {key: m for key, m in entries.items()
                            if any(m.values.values()) or m.mediated or m.mediation_ended}
        return self


def small_reads() -> None:
    """Rollup reads are a few thousand rows: on PostgreSQL, no parallel workers for them in this
    transaction (starting workers cost more than the read, and on a busy machine tens of ms)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))


def totals(filters: Filters) -> Totals:
    """Everything summed over the range, grouped by the dimensions (small result sets), so that the
    totals and every breakdown come from the same cells."""
    small_reads()
    result = Totals()
    if filters.category:
        for row in _summed(StatDay, StatMonth, filters, _GROUP):
            result.add(row)
        return result.pruned()
    for row in _summed(StatDayTotals, StatMonthTotals, filters, _TOTAL_GROUP):
        result.add(row, _TOTAL_GROUP)
    for row in _summed(*_category_sources(filters), filters, ("category", "outcome")):
        result.add(row, ("category",), total=False)
    return result.pruned()


def trend(filters: Filters, measures: tuple[str, ...] = ("received", "closed")) -> tuple[str, list[tuple[date, dict]]]:
    """("day" or "month", [(period, {measure: n})...]) with every period present, zeros included."""
    day_model, month_model = _sources(filters)
    if filters.days <= DAILY_TREND_DAYS:
        model, column, unit = day_model, day_model.day, "day"
        periods, step = [], filters.start
        while step <= filters.end:
            periods.append(step)
            step += timedelta(days=1)
        where = [column.between(filters.start, filters.end)]
    else:
        # Months: whole ones from the month table, corrected by the days at either end (cover_range), so
        # that the bars add up to the range's totals.
        unit = "month"
        periods = months_of(filters.start, filters.end)
        cover = cover_range(filters.start, filters.end)
        found: dict[date, dict[str, int]] = {p: dict.fromkeys(measures, 0) for p in periods}
        if cover.months:
            query = (select(month_model.month, *(func.sum(getattr(month_model, m)).label(m) for m in measures))
                     .where(month_model.month.between(*cover.months), *_dims(month_model, filters))
                     .group_by(month_model.month))
            for row in db.session.execute(query):
                for m in measures:
                    found[row[0]][m] += int(getattr(row, m) or 0)
        for spans, sign in ((cover.add, 1), (cover.subtract, -1)):
            if not spans:
                continue
            query = (select(day_model.day, *(func.sum(getattr(day_model, m)).label(m) for m in measures))
                     .where(or_(*(day_model.day.between(a, b) for a, b in spans)), *_dims(day_model, filters))
                     .group_by(day_model.day))
            for row in db.session.execute(query):
                for m in measures:
                    found[month_start(row[0])][m] += sign * int(getattr(row, m) or 0)
        return unit, [(p, found[p]) for p in periods]
    query = (select(column, *(func.sum(getattr(model, m)).label(m) for m in measures))
             .where(*where, *_dims(model, filters)).group_by(column))
    found = {row[0]: {m: int(getattr(row, m) or 0) for m in measures} for row in db.session.execute(query)}
    return unit, [(p, found.get(p, dict.fromkeys(measures, 0))) for p in periods]


def today_intake(filters: Filters, day: date | None = None) -> dict[str, dict[str, int]]:
    day = day or today()
    model = StatDay if filters.category else StatDayTotals
    query = (select(model.kind, model.channel, func.sum(model.received))
             .where(model.day == day, model.outcome == "", *_dims(model, filters))
             .group_by(model.kind, model.channel))
    by_kind: dict[str, int] = defaultdict(int)
    by_channel: dict[str, int] = defaultdict(int)
    for kind, channel, n in db.session.execute(query):
        if n:
            by_kind[kind] += int(n)
            by_channel[channel] += int(n)
    return {"kind": dict(by_kind), "channel": dict(by_channel), "total": sum(by_kind.values())}


@dataclass
class Backlog:
    open: int = 0
    overdue: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    by_bureau: dict[int, dict[str, int]] = field(default_factory=dict)
    by_kind: dict[str, int] = field(default_factory=dict)


def backlog(filters: Filters) -> Backlog:
    """The open queue now (the range does not apply: it is the queue as it stands)."""
    result = Backlog()
    query = (select(StatOpen.bureau_id, StatOpen.status, StatOpen.kind, func.sum(StatOpen.open),
                    func.sum(StatOpen.overdue))
             .where(*_dims(StatOpen, filters)).group_by(StatOpen.bureau_id, StatOpen.status, StatOpen.kind))
    for bureau_id, status, kind, n, overdue in db.session.execute(query):
        n, overdue = int(n or 0), int(overdue or 0)
        if not n:
            continue
        result.open += n
        result.overdue += overdue
        result.by_status[status] = result.by_status.get(status, 0) + n
        result.by_kind[kind] = result.by_kind.get(kind, 0) + n
        entry = result.by_bureau.setdefault(bureau_id, {"open": 0, "overdue": 0})
        entry["open"] += n
        entry["overdue"] += overdue
    return result


def _case_dims(filters: Filters) -> list:
    where = []
    if filters.bureau_id is not None:
        where.append(Case.bureau_id == filters.bureau_id if filters.bureau_id else Case.bureau_id.is_(None))
    if filters.kind:
        where.append(Case.kind == filters.kind)
    if filters.channel:
        where.append(Case.channel == filters.channel)
    if filters.category:
        where.append(func.coalesce(Case.category_goods, Case.category_service, "")
                     .startswith(filters.category, autoescape=True))
    return where


def due_soon_query(filters: Filters, now: datetime | None = None):
    """Open cases with a running clock due within the reminder window and not yet past due: an index
    range over running clocks, as small as what is due."""
    from hotline.deadlines.sweep import remind_before
    now = now or utcnow()
    return (select(Case.id).join(CaseClock, CaseClock.case_id == Case.id)
            .where(CaseClock.met_at.is_(None), CaseClock.paused_at.is_(None), CaseClock.due_at > now,
                   CaseClock.due_at <= remind_before(now), Case.status.in_(OPEN_STATUSES), *_case_dims(filters))
            .distinct())


def due_soon(filters: Filters, now: datetime | None = None) -> int:
    return db.session.scalar(select(func.count()).select_from(due_soon_query(filters, now).subquery())) or 0


def extensions_waiting_query(filters: Filters):
    return (select(Case.id).join(ExtensionRequest, ExtensionRequest.case_id == Case.id)
            .where(ExtensionRequest.status == "pending", *_case_dims(filters)).distinct())


def extensions_waiting(filters: Filters) -> int:
    return db.session.scalar(select(func.count()).select_from(extensions_waiting_query(filters).subquery())) or 0


def months_of(start: date, end: date) -> list[date]:
    months, step = [], month_start(start)
    while step <= end:
        months.append(step)
        step = next_month(step)
    return months


@dataclass
class BusinessRow:
    key: str
    name: str
    received: int = 0
    counted: int = 0
    accepted: int = 0
    mediation_closed: int = 0
    mediated: int = 0

    @property
    def success_rate(self) -> float | None:
        return self.mediated / self.mediation_closed if self.mediation_closed else None


_BUSINESS_MEASURES = ("received", "counted", "accepted", "mediation_closed", "mediated")


def _business_sums(months: list[date], bureau_id: int, kind: str, keys) -> dict[str, BusinessRow]:
    m = StatBusinessMonth
    query = (select(m.business_key, func.max(m.business_name), *(func.sum(getattr(m, x)) for x in _BUSINESS_MEASURES))
             .where(m.month.in_(months), m.bureau_id == bureau_id, m.kind == kind, m.business_key.in_(list(keys)))
             .group_by(m.business_key))
    return {row[0]: BusinessRow(row[0], row[1] or "", *(int(v or 0) for v in row[2:]))
            for row in db.session.execute(query)}


def top_businesses(start: date, end: date, bureau_id: int | None = None, kind: str | None = None, n: int = 10,
                   measure: str = "received") -> list[BusinessRow]:
    """The n businesses with the most cases in the months the range touches. Exact without grouping every
    business: each month's leaders come from an index, and the search stops once the n-th candidate's
    total beats what any business outside every month's list could reach (Fagin's threshold)."""
    months = months_of(start, end)
    level_bureau, level_kind = bureau_id or 0, kind or ""
    m = StatBusinessMonth
    column = getattr(m, measure)
    depth = max(4 * n, 20)
    while True:
        candidates: set[str] = set()
        bound = 0
        for month in months:
            rows = db.session.execute(
                select(m.business_key, column).where(m.month == month, m.bureau_id == level_bureau,
                                                     m.kind == level_kind, column > 0)
                .order_by(column.desc()).limit(depth)).all()
            candidates.update(key for key, _ in rows)
            if len(rows) == depth:
                bound += rows[-1][1]
        sums = _business_sums(months, level_bureau, level_kind, candidates) if candidates else {}
        ranked = sorted(sums.values(), key=lambda r: (-getattr(r, measure), r.name, r.key))
        ranked = [r for r in ranked if getattr(r, measure) > 0]
        nth = getattr(ranked[n - 1], measure) if len(ranked) >= n else 0
        if bound == 0 or nth > bound or depth >= 5000:
            if bound and nth <= bound:  # pathological spread: group them all
                return _top_by_grouping(months, level_bureau, level_kind, n, measure)
            return ranked[:n]
        depth *= 4


def _top_by_grouping(months, bureau_id, kind, n, measure) -> list[BusinessRow]:
    m = StatBusinessMonth
    total = func.sum(getattr(m, measure))
    keys = [key for key, _ in db.session.execute(
        select(m.business_key, total).where(m.month.in_(months), m.bureau_id == bureau_id, m.kind == kind)
        .group_by(m.business_key).having(total > 0).order_by(total.desc(), m.business_key).limit(n))]
    sums = _business_sums(months, bureau_id, kind, keys)
    return sorted(sums.values(), key=lambda r: (-getattr(r, measure), r.name, r.key))


def business_figures(business_key: str, months: list[date], kind: str = "complaint") -> BusinessRow | None:
    rows = _business_sums(months, 0, kind, [business_key])
    return rows.get(business_key)


def bureau_names() -> dict[int, str]:
    names = {bureau_id: name for bureau_id, name in db.session.execute(select(Bureau.id, Bureau.name))}
    return names


def queue_stats(filters: Filters | None = None) -> dict:
    """`GET /api/v1/stats/queue` (DESIGN.md §3)."""
    day = today()
    filters = filters or Filters(day, day)
    queue = backlog(filters)
    bureaus = {b.id: b for b in db.session.scalars(select(Bureau).order_by(Bureau.code))}
    by_bureau = []
    order = {bureau_id: bureau.code for bureau_id, bureau in bureaus.items()}
    for bureau_id, entry in sorted(queue.by_bureau.items(), key=lambda kv: order.get(kv[0], "")):
        bureau = bureaus.get(bureau_id)
        by_bureau.append({"code": bureau.code if bureau else None, "name": bureau.name if bureau else None,
                          "open": entry["open"], "overdue": entry["overdue"]})
    return {"open": queue.open, "overdue": queue.overdue, "due_soon": due_soon(filters),
            "by_status": dict(sorted(queue.by_status.items())), "by_bureau": by_bureau,
            "today": today_intake(filters, day)}

