"""补充材料: the consumer adds information to an open case of their own (with its number and query
code). It is an event on the staff timeline (actor 消费者), and the handler gets an in-app notice."""
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from hotline.cases.models import Case, CaseEvent
from hotline.cases.operations import record_event
from hotline.cases.schemas import FieldErrors
from hotline.deadlines.models import CaseClock, Notification
from hotline.extensions import db
from hotline.portal.ratings import CONSUMER
from hotline.types import utcnow

TEXT_LIMIT = 2000
NOTICE = "consumer_info"


class InformationRefused(Exception):
    """409: the case is closed."""


def parse_information(data, required: bool = True) -> str:
    """The consumer's text; it may be left empty when files come with it."""
    text = data.get("text")
    if text is not None and not isinstance(text, str):
        raise FieldErrors({"text": str(_l("must be text"))})
    text = (text or "").strip()
    if not text and required:
        raise FieldErrors({"text": str(_l("required"))})
    if len(text) > TEXT_LIMIT:
        raise FieldErrors({"text": str(_l("at most %(limit)s characters", limit=TEXT_LIMIT))})
    return text


def add_information(case: Case, text: str, now: datetime | None = None, files: int = 0) -> CaseEvent:
    """Append the consumer's words to the case's audit trail and tell whoever holds the case."""
    now = now or utcnow()
    if not case.is_open:
        raise InformationRefused(str(_l("the case is closed; information can be added to an open case only")))
    event = record_event(case, "consumer_info", None, from_status=case.status, to_status=case.status, note=text or None,
                         data={"files": files} if files else None, at=now)
    event.actor_label = CONSUMER
    _notify_holder(case, now)
    return event


def _notify_holder(case: Case, now: datetime) -> None:
    """The handler (else the bureau, else the centre) sees it among the notices. A notice belongs to a clock;
    the case's latest clock carries it, and a second addition refreshes the notice as unread."""
    clock = db.session.scalar(select(CaseClock).where(CaseClock.case_id == case.id).order_by(CaseClock.id.desc())
                              .limit(1))
    if clock is None:
        return
    existing = db.session.scalar(select(Notification).where(Notification.clock_id == clock.id,
                                                            Notification.kind == NOTICE,
                                                            Notification.due_at == clock.due_at))
    holder = {"user_id": case.assignee_id, "bureau_id": case.bureau_id,
              "role": None if case.bureau_id else "supervisor"}
    if existing is not None:
        for key, value in holder.items():
            setattr(existing, key, value)
        existing.read_at, existing.created_at = None, now
        return
    db.session.add(Notification(kind=NOTICE, clock_id=clock.id, case_id=case.id, clock=clock.clock,
                                due_at=clock.due_at, created_at=now, **holder))
