"""The cases behind each dashboard figure, in SQL over the cases themselves (never the rollups), so that
a supervisor can open any number and see what it counts (Order 121 art. 38: statistics that can be
checked). Each predicate states in SQL what `facts.py` and `cells.py` count: a figure's count here and
its rollup figure agree.

Which day a case counts on: its receipt (received, online), its first decision's clock being met
(decided), its closing (closed ... withdrawn), its rating (rated, satisfied), the return (returned) or the
extension request (extensions); the open queue figures take no range. The bureau is the case's current
one, except for `rated` (the bureau the rating was credited to) and `returned` (the bureau that returned)."""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from hotline.auth.models import User
from hotline.cases.models import Case, CaseEvent
from hotline.deadlines.models import CaseClock, ExtensionRequest
from hotline.extensions import db
from hotline.portal.models import CaseRating
from hotline.reference.models import Bureau
from hotline.stats import queries
from hotline.stats.cells import MEDIATION_OUTCOMES
from hotline.stats.facts import CLOSING_CLOCKS, DECISION_CLOCKS, NOT_A_DECISION
from hotline.stats.queries import Filters


@dataclass(frozen=True)
class Figure:
    name: str
    ranged: bool = True  # counted over the date range; False: the queue as it stands now
    counts: str = "cases"  # "returns" and "extension requests" count events: a case may have several


FIGURES = {f.name: f for f in (
    Figure("received"), Figure("online"), Figure("decided"), Figure("decided_on_time"), Figure("closed"),
    Figure("closed_timed"), Figure("closed_on_time"), Figure("mediated"), Figure("mediation_ended"),
    Figure("recovered"), Figure("transferred"), Figure("declined"), Figure("withdrawn"), Figure("rated"),
    Figure("satisfied"), Figure("returned", counts="returns"), Figure("extensions", counts="extension requests"),
    Figure("open", ranged=False), Figure("overdue", ranged=False), Figure("due_soon", ranged=False),
    Figure("extensions_waiting", ranged=False))}
OUTCOME_FIGURES = {"mediated": ("mediated",), "mediation_ended": tuple(sorted(MEDIATION_OUTCOMES)),
                   "transferred": ("transferred",), "declined": ("declined",), "withdrawn": ("withdrawn",)}


class UnknownFigure(ValueError):
    pass


def category_column():
    """The case's category as facts.category_of reads it: the goods code, else the service code."""
    return func.coalesce(func.nullif(Case.category_goods, ""), func.nullif(Case.category_service, ""), "")


def _between(column, filters: Filters) -> ColumnElement[bool]:
    start, end = queries.local_bounds(filters.start, filters.end)
    return and_(column >= start, column < end)


def _bureau_is(column, bureau_id: int) -> ColumnElement[bool]:
    """`column` (a nullable bureau id) is this bureau; 0 means no bureau (the centre)."""
    return column == bureau_id if bureau_id else column.is_(None)


def _dims(filters: Filters, bureau: bool = True) -> list:
    where = []
    if bureau and filters.bureau_id is not None:
        where.append(_bureau_is(Case.bureau_id, filters.bureau_id))
    if filters.kind:
        where.append(Case.kind == filters.kind)
    if filters.channel:
        where.append(Case.channel == filters.channel)
    if filters.category:
        where.append(category_column().startswith(filters.category, autoescape=True))
    return where


def _clock(name: str, *conditions) -> ColumnElement[bool]:
    return exists().where(CaseClock.case_id == Case.id, CaseClock.clock == name, *conditions)


def _first_clock(clocks_by_kind: dict[str, tuple[str, ...]], *conditions) -> ColumnElement[bool]:
    """The first of the kind's clocks that the case has (facts.py's `next(...)`) meets `conditions`."""
    per_kind = []
    for kind, names in clocks_by_kind.items():
        options = [and_(_clock(name, *conditions), *(~_clock(earlier) for earlier in names[:i]))
                   for i, name in enumerate(names)]
        per_kind.append(and_(Case.kind == kind, or_(*options)))
    return or_(*per_kind)


def _any_clock(clocks_by_kind: dict[str, tuple[str, ...]]) -> ColumnElement[bool]:
    return or_(*(and_(Case.kind == kind, exists().where(CaseClock.case_id == Case.id, CaseClock.clock.in_(names)))
                 for kind, names in clocks_by_kind.items()))


def _a_decision():
    """facts.decided_by: not met by a closing that decides nothing."""
    return ~and_(Case.status == "closed", func.coalesce(Case.outcome, "").in_(NOT_A_DECISION),
                 Case.closed_at.is_not(None), CaseClock.met_at >= Case.closed_at)


def _on_time():
    return and_(CaseClock.met_at.is_not(None), CaseClock.met_at <= CaseClock.due_at)


def _closed_in(filters: Filters) -> ColumnElement[bool]:
    """Closed within the range; a case closed with no time counts on its day of receipt (facts.py).
    Spelled as two ranges rather than coalesce() so that each keeps its index."""
    return and_(Case.status == "closed", or_(_between(Case.closed_at, filters),
                                             and_(Case.closed_at.is_(None), _between(Case.received_at, filters))))


def _rating_bureau(bureau_id: int) -> ColumnElement[bool]:
    return func.coalesce(CaseRating.bureau_id, Case.bureau_id, 0) == bureau_id


def _rating(filters: Filters, *conditions) -> ColumnElement[bool]:
    where = [CaseRating.case_id == Case.id, _between(CaseRating.rated_at, filters), *conditions]
    if filters.bureau_id is not None:
        where.append(_rating_bureau(filters.bureau_id))
    return exists().where(*where)


def _returned_by(bureau_id: int | None) -> list:
    """The return's bureau: the code in the event's data, as facts.py resolves it (unknown: 0)."""
    if bureau_id is None:
        return []
    code = CaseEvent.data["bureau"].as_string()
    if bureau_id:
        return [code == select(Bureau.code).where(Bureau.id == bureau_id).scalar_subquery()]
    return [or_(code.is_(None), code.not_in(select(Bureau.code)))]


def _returns(filters: Filters) -> list:
    return [CaseEvent.case_id == Case.id, CaseEvent.action == "return_to_centre", _between(CaseEvent.at, filters),
            *_returned_by(filters.bureau_id)]


def _extensions(filters: Filters) -> list:
    """Extension requests in the range, for the bureau of the handler who asked (facts.py)."""
    where = [ExtensionRequest.case_id == Case.id, _between(ExtensionRequest.requested_at, filters)]
    if filters.bureau_id is not None:
        asker = select(User.bureau_id).where(User.id == ExtensionRequest.requested_by_id).scalar_subquery()
        where.append(func.coalesce(asker, 0) == filters.bureau_id)
    return where


def condition(name: str, filters: Filters, now: datetime | None = None) -> ColumnElement[bool]:
    """The SQL condition on Case that selects the cases behind the figure."""
    if name not in FIGURES:
        raise UnknownFigure(name)
    dims = _dims(filters, bureau=name not in ("rated", "satisfied", "returned", "extensions"))
    if name == "received":
        return and_(_between(Case.received_at, filters), *dims)
    if name == "online":
        return and_(_between(Case.received_at, filters), Case.business_platform.is_not(None),
                    Case.business_platform != "", *dims)
    if name in ("decided", "decided_on_time"):
        met = [_between(CaseClock.met_at, filters), _a_decision()] + ([_on_time()] if name == "decided_on_time" else [])
        return and_(_first_clock(DECISION_CLOCKS, *met), *dims)
    if name == "closed":
        return and_(_closed_in(filters), *dims)
    if name == "closed_timed":
        return and_(_closed_in(filters), _any_clock(CLOSING_CLOCKS), *dims)
    if name == "closed_on_time":
        return and_(_closed_in(filters), _first_clock(CLOSING_CLOCKS, _on_time()), *dims)
    if name == "recovered":
        return and_(_closed_in(filters), Case.recovered_amount > 0, *dims)
    if name in OUTCOME_FIGURES:
        return and_(_closed_in(filters), Case.outcome.in_(OUTCOME_FIGURES[name]), *dims)
    if name == "rated":
        return and_(_rating(filters), *dims)
    if name == "satisfied":
        return and_(_rating(filters, CaseRating.score >= 4), *dims)
    if name == "returned":
        return and_(exists().where(*_returns(filters)), *dims)
    if name == "extensions":
        return and_(exists().where(*_extensions(filters)), *dims)
    if name == "open":
        return and_(Case.status != "closed", *dims)
    if name == "overdue":
        return and_(Case.status != "closed", Case.overdue.is_(True), *dims)
    if name == "due_soon":
        return Case.id.in_(queries.due_soon_query(filters, now))
    return Case.id.in_(queries.extensions_waiting_query(filters))  # extensions_waiting


def cases_query(name: str, filters: Filters, now: datetime | None = None, extra=()):
    """A Select of the cases behind the figure (each case once), newest first; `extra` narrows it
    (a status, a business) for the drill-down of one table cell."""
    return (select(Case).where(condition(name, filters, now), *extra)
            .order_by(Case.received_at.desc(), Case.id.desc()))


def count(name: str, filters: Filters, now: datetime | None = None, extra=()) -> int:
    """The figure as the rollups give it: cases, except returns and extension requests, which count
    each event (a case returned twice is two returns)."""
    if name == "returned":
        query = select(func.count()).select_from(CaseEvent).join(Case, Case.id == CaseEvent.case_id) \
            .where(*_returns(filters), *_dims(filters, bureau=False), *extra)
    elif name == "extensions":
        query = select(func.count()).select_from(ExtensionRequest).join(Case, Case.id == ExtensionRequest.case_id) \
            .where(*_extensions(filters), *_dims(filters, bureau=False), *extra)
    else:
        query = select(func.count(Case.id)).where(condition(name, filters, now), *extra)
    return db.session.scalar(query) or 0
