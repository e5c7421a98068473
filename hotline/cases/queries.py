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
