"""Read side of deadlines: a user's notices, the overdue queue, years lacking a calendar."""
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import joinedload

from hotline.auth.models import User
from hotline.cases.access import visible_to
from hotline.cases.models import Case
from hotline.cases.queries import Page, paginate
from hotline.deadlines.models import CaseClock, ExtensionRequest, Notification
from hotline.deadlines.operations import years_without_calendar
from hotline.extensions import db
from hotline.reference.models import Bureau


def notices_for(user: User):
    """A handler's own reminders, their bureau's unassigned ones, and escalations for supervisors."""
    mine = Notification.user_id == user.id
    if user.role == "bureau" and user.bureau_id:
        mine = or_(mine, and_(Notification.user_id.is_(None), Notification.bureau_id == user.bureau_id))
    if user.role in ("supervisor", "admin"):
        mine = or_(mine, Notification.role == "supervisor")
    return mine


def notices(user: User, page: int = 1, per_page: int | None = None) -> Page:
    """Unread first, newest first. Items are (notification, case) pairs."""
    return paginate(select(Notification, Case).join(Case, Case.id == Notification.case_id)
                    .where(notices_for(user), visible_to(user))
                    .order_by(Notification.read_at.is_not(None), Notification.id.desc()), page,
                    per_page or current_app.config["PER_PAGE"],
                    scalars=False)


def unread_count(user: User) -> int:
    return db.session.scalar(select(func.count(Notification.id)).where(notices_for(user),
                                                                       Notification.read_at.is_(None))) or 0


def _overdue_clocks(user: User):
    now = datetime.now(ZoneInfo(current_app.config["TIMEZONE"]))
    return (select(Case, CaseClock).join(CaseClock, CaseClock.case_id == Case.id)
            .where(visible_to(user), Case.status != "closed", CaseClock.met_at.is_(None), CaseClock.due_at < now))


def overdue_queue(user: User, page: int = 1, per_page: int | None = None) -> Page:
    """Open cases with a running clock past its due date, the longest overdue first. Items are
    (case, clock) pairs."""
    return paginate(_overdue_clocks(user).options(joinedload(Case.bureau), joinedload(Case.assignee))
                    .order_by(CaseClock.due_at, CaseClock.id), page, per_page or current_app.config["PER_PAGE"],
                    scalars=False)


def overdue_by_bureau(user: User) -> dict[str | None, int]:
    """How many overdue deadlines each bureau has (None: the centre's own, e.g. triage), over all pages."""
    query = _overdue_clocks(user).subquery()
    rows = db.session.execute(select(Bureau.short_name, func.count()).select_from(query)
                              .outerjoin(Bureau, Bureau.id == query.c.bureau_id).group_by(Bureau.short_name))
    return {name: count for name, count in rows}


def calendar_warning_years(now: datetime) -> list[int]:
    """This year, next year and the years open deadlines fall in, where no official calendar exists."""
    latest = db.session.scalar(select(func.max(CaseClock.due_at)).where(CaseClock.met_at.is_(None)))
    last_year = max(now.year + 1, latest.year if latest else now.year)
    return years_without_calendar(range(now.year, last_year + 1))


def pending_extension_count() -> int:
    """Extension requests waiting for a supervisor (the count in the header)."""
    return db.session.scalar(select(func.count(ExtensionRequest.id))
                             .where(ExtensionRequest.status == "pending")) or 0
