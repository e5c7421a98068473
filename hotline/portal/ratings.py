"""一事一评: the consumer rates the handling of a closed case once (DESIGN.md §3,
`POST /public/cases/{number}/rating`). A score of 2 or less asks whether the handling bureau was the cause,
which the later follow-up (回访, 重办) and the bureau scoreboard rely on."""
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from hotline.cases.models import Case
from hotline.cases.operations import record_event
from hotline.cases.schemas import FieldErrors
from hotline.extensions import db
from hotline.portal.models import CaseRating
from hotline.types import utcnow

CONSUMER = "consumer"  # the actor label of what the consumer does on the portal (shown as 消费者)
COMMENT_LIMIT = 500
LOW_SCORE = 2  # at or below: was the handling bureau the cause?


class RatingRefused(Exception):
    """409: the case is not closed yet, or it was rated already."""


def parse_rating(data) -> tuple[int, str | None, bool | None]:
    """(score, comment, bureau_at_fault) from a JSON body or a form, every wrong field reported together."""
    errors: dict[str, str] = {}
    raw = data.get("score")
    score = None
    if isinstance(raw, bool):  # JSON true is not a score
        raw = None
    if isinstance(raw, int):
        score = raw
    elif isinstance(raw, str) and raw.strip().isascii() and raw.strip().isdigit() and len(raw.strip()) < 10:
        score = int(raw.strip())
    if score is None or not 1 <= score <= 5:
        errors["score"] = str(_l("choose a score from 1 to 5"))
    comment = data.get("comment")
    if comment is not None and not isinstance(comment, str):
        errors["comment"] = str(_l("must be text"))
        comment = None
    comment = (comment or "").strip() or None
    if comment and len(comment) > COMMENT_LIMIT:
        errors["comment"] = str(_l("at most %(limit)s characters", limit=COMMENT_LIMIT))
    fault = data.get("bureau_at_fault")
    if isinstance(fault, str):  # a form's radio buttons
        fault = {"yes": True, "no": False, "": None}.get(fault.strip(), "wrong")
    if fault is not None and not isinstance(fault, bool):
        errors["bureau_at_fault"] = str(_l("answer yes or no"))
        fault = None
    if errors:
        raise FieldErrors(errors)
    # The question is asked only of a low score; an answer given with a high one is not kept.
    return score, comment, fault if score <= LOW_SCORE else None


def rate_case(case: Case, score: int, comment: str | None, bureau_at_fault: bool | None,
              now: datetime | None = None) -> CaseRating:
    """Rate once, after closing; the rating is credited to the bureau that handled the case and is
    an event on the case's audit trail."""
    now = now or utcnow()
    if case.status != "closed":
        raise RatingRefused(str(_l("the case can be rated once it is closed")))
    if db.session.scalar(select(CaseRating.id).where(CaseRating.case_id == case.id)) is not None:
        raise RatingRefused(str(_l("the case has been rated already; each case is rated once")))
    rating = CaseRating(case_id=case.id, score=score, comment=comment, bureau_at_fault=bureau_at_fault,
                        bureau_id=case.bureau_id, rated_at=now)
    try:
        with db.session.begin_nested():  # two ratings at once: the unique case_id lets one through
            db.session.add(rating)
            db.session.flush()
    except IntegrityError:
        raise RatingRefused(str(_l("the case has been rated already; each case is rated once"))) from None
    event = record_event(case, "rate", None, from_status=case.status, to_status=case.status, note=comment,
                         data={"score": score, "bureau_at_fault": bureau_at_fault}, at=now)
    event.actor_label = CONSUMER
    return rating


def rating_json(rating: CaseRating | None) -> dict | None:
    """The staff view (`GET /cases/{number}`'s `rating`)."""
    if rating is None:
        return None
    return {"score": rating.score, "comment": rating.comment, "bureau_at_fault": rating.bureau_at_fault,
            "rated_at": rating.rated_at.isoformat()}
