"""Read side of cases: lists with filters and paging, one case for a user, a caller's history."""
import unicodedata
from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased, joinedload

from hotline.auth.models import User
from hotline.cases import numbers
from hotline.cases.access import can_see, visible_to
from hotline.cases.confidential import SAME_PERSON
from hotline.cases.models import Case, CaseLink
from hotline.extensions import db
from hotline.paging import MAX_PAGE
from hotline.reference.models import Bureau

FILTERS = ("status", "kind", "bureau", "channel", "overdue", "q")


@dataclass
class Page:
    """One page of a list. `page` is clamped to the pages there are, so a stale page number shows the
    last page rather than an error. `pages` stops at the deepest page a list opens (paging.MAX_PAGE), so
    that no pager link leads to a 400; the total says how many rows there are."""
    items: list
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return min(MAX_PAGE, max(1, -(-self.total // self.per_page)))


def paginate(query, page: int, per_page: int, scalars: bool = True, clamp: bool = True) -> Page:
    """Count, clamp the page, then fetch it. `query` is already ordered; rows come back as entities
    (`scalars`) or as tuples."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    per_page = max(1, per_page)
    page = max(1, page)
    if clamp:  # pages: a stale page number shows the last page; the API answers an empty page instead
        page = min(page, max(1, -(-total // per_page)))
    fetched = query.limit(per_page).offset((page - 1) * per_page)
    items = db.session.scalars(fetched).all() if scalars else [tuple(row) for row in db.session.execute(fetched)]
    return Page(list(items), total, page, per_page)


# Digits typed into search: at least this many before they are tried as a phone's tail; a mobile
# number has 11, and is then looked up whole.
PHONE_TAIL_MIN = 4
PHONE_FULL = 11


def search_condition(user: User, text: str):
    """What staff type into search (issue #7): a case number with or without spaces (full-width
    digits too), the last digits of a phone, part of the caller's or the business's name, or of the
    subject. A named reporter's name is matched only for those who may see it (DESIGN.md §2)."""
    q = unicodedata.normalize("NFKC", text).strip()
    digits = numbers.normalise_case_number(q)
    if numbers.is_valid_case_number(digits):
        return Case.number == digits  # the unique index
    if digits.isascii() and digits.isdigit():
        # Digits are a number or a phone, never names: a whole number or phone stays on its index.
        if len(digits) == 13 and digits.startswith("86"):
            digits = digits[2:]  # +86 138 0000 1111
        conditions = [Case.number.startswith(digits),  # a day's cases: "2026 1125"
                      Case.consumer_phone == digits]
        if PHONE_TAIL_MIN <= len(digits) < PHONE_FULL:
            # A phone's tail is a suffix match, which no B-tree index serves; it scans the visible
            # cases (decision in the issue #7 report: a stored tail column if this ever gets slow).
            conditions.append(Case.consumer_phone.endswith(digits))
        return or_(*conditions)
    # autoescape: "%" and "_" typed are text, not patterns.
    name = Case.consumer_name.contains(q, autoescape=True)
    if not may_search_reporters(user):
        name = and_(name, ~confidential_caller())
    return or_(Case.subject.contains(q, autoescape=True), Case.business_name.contains(q, autoescape=True), name)


def may_search_reporters(user: User) -> bool:
    """Whether a name typed into search may match a named reporter (举报人, Order 121 art. 37): only for
    those who see the name unmasked on every case they can list, the centre and the handling bureau
    (hotline/cases/access.py may_see_personal_data; a bureau lists only its own cases). For anyone else a
    hit would tell who reported, whatever the list then masks."""
    return user.role in ("supervisor", "admin", "bureau")


def confidential_caller():
    """SQL twin of hotline/cases/confidential.py is_confidential (keep the two alike): the case is a report,
    or a case of the same call linked to a report (a complaint that also reported a violation names the
    same person)."""
    report = aliased(Case)
    linked_report = (select(CaseLink.id).join(report, report.id == CaseLink.linked_case_id)
                     .where(CaseLink.case_id == Case.id, CaseLink.relation == SAME_PERSON, report.kind == "report")
                     .correlate(Case).exists())
    return or_(Case.kind == "report", linked_report)


def list_cases(user: User, filters: dict, page: int = 1, per_page: int = 50, clamp: bool = True) -> Page:
    query = select(Case).where(visible_to(user))
    if filters.get("status"):
        query = query.where(Case.status == filters["status"])
    if filters.get("kind"):
        query = query.where(Case.kind == filters["kind"])
    if filters.get("channel"):
        query = query.where(Case.channel == filters["channel"])
    if filters.get("bureau"):
        query = query.where(Case.bureau_id == select(Bureau.id).where(Bureau.code == filters["bureau"])
                            .scalar_subquery())
    if filters.get("overdue") in ("1", "true", True):
        query = query.where(Case.overdue.is_(True))
    if filters.get("q") and filters["q"].strip():
        query = query.where(search_condition(user, filters["q"]))
    return paginate(query.options(joinedload(Case.bureau), joinedload(Case.station))
                    .order_by(Case.registered_at.desc(), Case.id.desc()), page, per_page, clamp=clamp)


def case_for(user: User, number: str) -> Case | None:
    """The case with this number if the user may see it; None otherwise (callers answer 404). The
    number may be typed as read aloud, grouped or in full-width digits."""
    case = db.session.scalar(select(Case).where(Case.number == numbers.normalise_case_number(number)))
    return case if case is not None and can_see(user, case) else None


def caller_history(user: User, phone: str, limit: int = 20) -> list[Case]:
    return list(db.session.scalars(
        select(Case).where(Case.consumer_phone == phone, visible_to(user))
        .order_by(Case.registered_at.desc()).limit(limit)))


def next_due_subquery():
    """The earliest due date among a case's running clocks (what the handler must meet next)."""
    from hotline.deadlines.models import CaseClock
    return (select(func.min(CaseClock.due_at)).where(CaseClock.case_id == Case.id, CaseClock.met_at.is_(None))
            .correlate(Case).scalar_subquery())


def inbox(user: User, filters: dict, page: int = 1, per_page: int = 50) -> Page:
    """The bureau's open cases, the one due first on top (cases with no running clock last).
    Items are (case, next due) pairs."""
    from hotline.cases.workflow import OPEN_STATUSES
    next_due = next_due_subquery().label("next_due")
    query = select(Case, next_due).where(visible_to(user), Case.status.in_(OPEN_STATUSES))
    if filters.get("status"):
        query = query.where(Case.status == filters["status"])
    if filters.get("kind"):
        query = query.where(Case.kind == filters["kind"])
    if filters.get("mine"):
        query = query.where(Case.assignee_id == user.id)
    if filters.get("overdue"):
        query = query.where(Case.overdue.is_(True))
    return paginate(query.options(joinedload(Case.assignee)).order_by(next_due.is_(None), next_due, Case.id),
                    page, per_page, scalars=False)


def open_counts(user: User) -> dict[str, int]:
    from hotline.cases.workflow import OPEN_STATUSES
    rows = db.session.execute(select(Case.status, func.count(Case.id)).where(visible_to(user),
                                                                            Case.status.in_(OPEN_STATUSES))
                              .group_by(Case.status)).all()
    return {status: count for status, count in rows}


def triage_queue(page: int = 1, per_page: int = 50) -> Page:
    """待分派, the one due first on top. Items are (case, next due) pairs."""
    next_due = next_due_subquery().label("next_due")
    return paginate(select(Case, next_due).where(Case.status == "triage")
                    .order_by(next_due.is_(None), next_due, Case.id), page, per_page, scalars=False)


def returns_by_bureau() -> dict[str, int]:
    """退单: how many cases each bureau returned to the centre."""
    from hotline.cases.models import CaseEvent
    counts: dict[str, int] = {}
    for data in db.session.scalars(select(CaseEvent.data).where(CaseEvent.action == "return_to_centre")):
        code = (data or {}).get("bureau") or "?"
        counts[code] = counts.get(code, 0) + 1
    return counts
