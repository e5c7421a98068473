"""Read side of cases: lists with filters and paging, one case for a user, a caller's history."""
import unicodedata
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from hotline.auth.models import User
from hotline.cases import numbers
from hotline.cases.access import can_see, visible_to
from hotline.cases.models import Case
from hotline.extensions import db
from hotline.reference.models import Bureau

FILTERS = ("status", "kind", "bureau", "channel", "overdue", "q")


@dataclass
class Page:
    items: list[Case]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def list_cases(user: User, filters: dict, page: int = 1, per_page: int = 50) -> Page:
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
    if filters.get("q"):
        q = unicodedata.normalize("NFKC", filters["q"]).strip()  # full-width digits typed with a CJK IME
        if numbers.is_valid_case_number(q):
            query = query.where(Case.number == q)
        else:
            like = f"%{q.replace('%', '').replace('_', '')}%"
            query = query.where(or_(Case.subject.like(like), Case.business_name.like(like),
                                    Case.consumer_phone == q, Case.number.like(like)))
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    items = db.session.scalars(query.options(joinedload(Case.bureau), joinedload(Case.station))
                               .order_by(Case.registered_at.desc(), Case.id.desc())
                               .limit(per_page).offset((page - 1) * per_page)).all()
    return Page(list(items), total, page, per_page)


def case_for(user: User, number: str) -> Case | None:
    """The case with this number if the user may see it; None otherwise (callers answer 404)."""
    case = db.session.scalar(select(Case).where(Case.number == number))
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


def inbox(user: User, filters: dict, page: int = 1, per_page: int = 50) -> tuple[list[tuple[Case, object]], int]:
    """The bureau's open cases, the one due first on top (cases with no running clock last)."""
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
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = db.session.execute(query.options(joinedload(Case.assignee))
                              .order_by(next_due.is_(None), next_due, Case.id).limit(per_page)
                              .offset((page - 1) * per_page)).all()
    return [(row[0], row[1]) for row in rows], total


def open_counts(user: User) -> dict[str, int]:
    from hotline.cases.workflow import OPEN_STATUSES
    rows = db.session.execute(select(Case.status, func.count(Case.id)).where(visible_to(user),
                                                                            Case.status.in_(OPEN_STATUSES))
                              .group_by(Case.status)).all()
    return {status: count for status, count in rows}


def triage_queue(limit: int = 200) -> list[tuple[Case, object]]:
    next_due = next_due_subquery().label("next_due")
    rows = db.session.execute(select(Case, next_due).where(Case.status == "triage")
                              .order_by(next_due.is_(None), next_due, Case.id).limit(limit)).all()
    return [(row[0], row[1]) for row in rows]


def returns_by_bureau() -> dict[str, int]:
    """退单: how many cases each bureau returned to the centre."""
    from hotline.cases.models import CaseEvent
    counts: dict[str, int] = {}
    for data in db.session.scalars(select(CaseEvent.data).where(CaseEvent.action == "return_to_centre")):
        code = (data or {}).get("bureau") or "?"
        counts[code] = counts.get(code, 0) + 1
    return counts
