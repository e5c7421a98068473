"""延期申请: a handler asks the centre to extend a report's verification (+15 working days, once:
Market Regulation Administrative Penalty Procedure Provisions art. 18); a supervisor approves or
refuses. The workflow actions in `actions.py` call these; the queue page reads `pending_page`."""
from datetime import datetime

from sqlalchemy import select

from hotline.auth.models import User
from hotline.cases.models import Case
from hotline.cases.queries import Page, paginate
from hotline.deadlines import operations as clocks
from hotline.deadlines.models import CaseClock, ExtensionRequest, Notification
from hotline.extensions import db

CLOCK = "report_verification"
# A report opened from a violation found in mediation (Order 121 art. 27) has its own clock, extended the same
# way: +15 working days once, approved by the head of the bureau.
CLOCKS = (CLOCK, "violation_verification")


def running_verification(case_id: int) -> CaseClock | None:
    """The report's running verification clock, whichever of the two it has."""
    for name in CLOCKS:
        entry = clocks.running_clock(case_id, name)
        if entry is not None:
            return entry
    return None


def pending_request(case_id: int) -> ExtensionRequest | None:
    return db.session.scalar(select(ExtensionRequest).where(ExtensionRequest.case_id == case_id,
                                                            ExtensionRequest.status == "pending"))


def extension_state(case: Case) -> str:
    """`available`, `pending`, `used` (granted once: never again) or `none` (nothing to extend)."""
    if case.kind != "report":
        return "none"
    entry = running_verification(case.id)
    if entry is None:
        return "none"
    if entry.extended_days:
        return "used"
    if pending_request(case.id) is not None:
        return "pending"
    return "available" if clocks.extension_length(entry) else "none"


def open_request(case: Case, user: User, reason: str, now: datetime) -> ExtensionRequest:
    entry = running_verification(case.id)
    request = ExtensionRequest(case_id=case.id, clock=entry.clock if entry else CLOCK, reason=reason[:500],
                               status="pending", requested_by_id=user.id, requested_at=now)
    db.session.add(request)
    db.session.flush()
    return request


def decide(case: Case, user: User, approve: bool, note: str | None, now: datetime) -> tuple[ExtensionRequest, bool]:
    """Record the centre's decision on the pending request; the requester gets an in-app notice.
    Returns the request and whether a notice was written."""
    request = pending_request(case.id)
    request.status = "approved" if approve else "refused"
    request.decided_by_id, request.decided_at, request.decision_note = user.id, now, (note or "")[:500] or None
    return request, _notify_requester(case, request, "ext_approved" if approve else "ext_refused", now)


def _notify_requester(case: Case, request: ExtensionRequest, kind: str, now: datetime) -> bool:
    entry = running_verification(case.id)
    if entry is None or request.requested_by_id is None:
        return False
    db.session.flush()  # the due date as the decision left it
    # One notice per clock, kind and due date: a second refusal refreshes the first notice as unread.
    existing = db.session.scalar(select(Notification).where(Notification.clock_id == entry.id,
                                                            Notification.kind == kind,
                                                            Notification.due_at == entry.due_at))
    if existing is not None:
        existing.user_id, existing.read_at, existing.created_at = request.requested_by_id, None, now
        return True
    db.session.add(Notification(kind=kind, clock_id=entry.id, case_id=case.id, clock=entry.clock,
                                due_at=entry.due_at, user_id=request.requested_by_id, bureau_id=case.bureau_id,
                                created_at=now))
    return True


def lapse_pending(case: Case, now: datetime) -> None:
    """A case that left the bureau's hands (closed, or returned to the centre) takes its request along."""
    request = pending_request(case.id)
    if request is not None:
        request.status, request.decided_at = "lapsed", now


def pending_page(page: int, per_page: int) -> tuple[Page, list[tuple]]:
    """The supervisors' queue, oldest request first: (request, case, requester, running clock, due if approved)."""
    query = (select(ExtensionRequest, Case, User, CaseClock)
             .join(Case, Case.id == ExtensionRequest.case_id)
             .outerjoin(User, User.id == ExtensionRequest.requested_by_id)
             .outerjoin(CaseClock, (CaseClock.case_id == Case.id) & (CaseClock.clock == ExtensionRequest.clock)
                        & CaseClock.met_at.is_(None))
             .where(ExtensionRequest.status == "pending"))
    result = paginate(query.order_by(ExtensionRequest.requested_at, ExtensionRequest.id), page, per_page,
                      scalars=False)
    overrides = clocks.calendar_overrides()
    rows = [(request, case, requester, entry, clocks.due_if_extended(entry, overrides) if entry else None)
            for request, case, requester, entry in result.items]
    return result, rows
