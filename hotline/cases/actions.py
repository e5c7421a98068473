"""Taking a workflow action on a case: check it against the transition table, apply it, keep the
clocks and the audit trail, queue the consumer's SMS. One function for pages, API and workers."""
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from hotline.auth.models import User
from hotline.cases import workflow
from hotline.cases.models import Case
from hotline.cases.operations import KIND_NAMES, record_event
from hotline.cases.schemas import FieldErrors
from hotline.cases.validation import check_amount, is_storable_text
from hotline.deadlines import operations as clocks
from hotline.extensions import db
from hotline.labels import label
from hotline.reference.models import Bureau, StatutoryGround
from hotline.routing.operations import place_at_bureau
from hotline.sms.operations import queue_message
from hotline.types import utcnow

MAX_RETURNS = 2  # after two returns the centre's next assignment is final (审定)


class ActionRefused(Exception):
    """The action is not allowed now (HTTP 409); nothing was changed."""


@dataclass
class ActionInput:
    action: str
    reason: str | None = None
    note: str | None = None
    bureau: str | None = None
    recovered_amount: object = None
    assignee: str | None = None
    version: int | None = None


def _text(value, field: str, limit: int = 2000) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not is_storable_text(value):
        raise FieldErrors({field: str(_l("must be text"))})
    value = value.strip()
    if len(value) > limit:
        raise FieldErrors({field: str(_l("too long"))})
    return value or None


def parse_action(data) -> ActionInput:
    if not isinstance(data, dict):
        raise FieldErrors({"": str(_l("the body must be a JSON object"))})
    unknown = set(data) - {"action", "reason", "note", "bureau", "recovered_amount", "assignee", "version"}
    if unknown:
        raise FieldErrors({name: str(_l("unknown field")) for name in sorted(unknown)})
    action = data.get("action")
    if not isinstance(action, str) or action not in workflow.ACTIONS:
        raise FieldErrors({"action": str(_l("must be one of the listed values"))})
    version = data.get("version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        raise FieldErrors({"version": str(_l("must be a whole number"))})
    return ActionInput(action=action, reason=_text(data.get("reason"), "reason"), note=_text(data.get("note"), "note"),
                       bureau=_text(data.get("bureau"), "bureau", 32), recovered_amount=data.get("recovered_amount"),
                       assignee=_text(data.get("assignee"), "assignee", 64), version=version)


def _ground(purpose: str, code: str | None) -> StatutoryGround:
    ground = db.session.scalar(select(StatutoryGround).where(StatutoryGround.code == (code or ""),
                                                             StatutoryGround.purpose == purpose,
                                                             StatutoryGround.active))
    if ground is None:
        raise FieldErrors({"reason": str(_l("pick a statutory ground from the list"))})
    return ground


def _check_actor(user: User, case: Case, transition: workflow.Transition) -> None:
    if user.role not in transition.roles:
        raise ActionRefused(str(_l("your role may not take this action")))
    if user.role == "bureau" and case.bureau_id != user.bureau_id:
        raise ActionRefused(str(_l("the case is not at your bureau")))


def take_action(case: Case, user: User, data: ActionInput) -> Case:
    """Apply one action; raises ActionRefused (409) or FieldErrors (422) with nothing changed."""
    if db.engine.dialect.name == "postgresql":
        # Concurrent actions on one case queue here, on the case row, and the later one sees the
        # earlier one's result: no deadlock between the case and its clocks.
        db.session.refresh(case, with_for_update=True)
    if data.version is not None and data.version != case.version:
        raise ActionRefused(str(_l("the case was changed meanwhile; reload it")))
    transition = workflow.transition_for(case.kind, case.status, data.action)
    if transition is None:
        raise ActionRefused(str(_l("this action is not allowed while the case is %(status)s",
                                   status=label(case.status))))
    _check_actor(user, case, transition)
    now = utcnow()
    reason, extra = data.reason, {}
    if transition.needs_reason and not reason:
        raise FieldErrors({"reason": str(_l("required"))})
    if transition.ground:
        ground = _ground(transition.ground, data.reason)
        case.ground_code, reason = ground.code, f"{ground.text}（{ground.legal_basis}）"
    if transition.needs_amount:
        if data.recovered_amount in (None, ""):
            raise FieldErrors({"recovered_amount": str(_l("required"))})
        try:
            case.recovered_amount = check_amount(data.recovered_amount)
        except ValueError as exc:
            raise FieldErrors({"recovered_amount": str(exc)}) from None
        if case.amount is not None and case.recovered_amount > case.amount * 10:
            raise FieldErrors({"recovered_amount": str(_l("far above the amount in dispute"))})
    from_status = case.status
    _apply_side(case, user, data, transition, now, extra)
    if transition.to_status is not None:
        case.status = transition.to_status
    if transition.outcome:
        case.outcome, case.closed_at = transition.outcome, now
    db.session.flush()
    clocks.refresh_overdue(case, now)
    record_event(case, data.action, user, from_status=from_status, to_status=case.status, reason=reason,
                 note=data.note, data=extra or None, at=now)
    _notify_consumer(case, transition)
    return case


def _apply_side(case: Case, user: User, data: ActionInput, transition, now, extra: dict) -> None:
    """What an action does besides the status: bureau and handler, clocks, counters."""
    action = data.action
    if action == "assign":
        bureau = db.session.scalar(select(Bureau).where(Bureau.code == (data.bureau or ""), Bureau.active))
        if bureau is None:
            raise FieldErrors({"bureau": str(_l("no such bureau"))})
        place_at_bureau(case, bureau)
        case.assignment_final = case.return_count >= MAX_RETURNS
        extra.update(bureau=bureau.code, final=case.assignment_final)
        clocks.meet(case.id, "triage", now)
    elif action == "return_to_centre":
        if case.assignment_final:
            raise ActionRefused(str(_l("the centre's assignment is final (审定) after two returns")))
        extra.update(bureau=case.bureau.code if case.bureau else None)
        case.return_count += 1
        case.bureau, case.assignee = None, None
        clocks.restart(case, "triage", now)
    elif action == "reassign":
        handler = db.session.scalar(select(User).where(User.username == (data.assignee or ""), User.role == "bureau",
                                                       User.bureau_id == case.bureau_id, User.active))
        if handler is None:
            raise FieldErrors({"assignee": str(_l("no such handler at this bureau"))})
        extra.update(assignee=handler.username, previous=case.assignee.username if case.assignee else None)
        case.assignee = handler
    elif action == "accept":
        clocks.meet(case.id, "complaint_decision", now)
        clocks.start_clock(case, "mediation", now)
    elif action == "decline":
        clocks.meet(case.id, "complaint_decision" if case.kind == "complaint" else "report_verification", now)
    elif action == "suspend":
        clocks.pause(case.id, "mediation", now)
    elif action == "resume":
        clocks.resume(case.id, "mediation", now)
    elif action in ("settle", "terminate"):
        clocks.meet(case.id, "mediation", now)
        if action == "terminate":
            clocks.start_clock(case, "mediation_notice", now)
    elif action == "extend":
        if not clocks.extend(case.id, "report_verification"):
            raise ActionRefused(str(_l("the verification period was extended already (once only)")))
    elif action in ("file_case", "no_case"):
        clocks.meet(case.id, "report_verification", now)
        if not case.consumer_anonymous and case.consumer_phone:
            clocks.start_clock(case, "reporter_notice", now)
    elif action == "answer":
        case.answer = data.reason
        clocks.meet(case.id, "consultation_reply", now)
    elif action == "withdraw":
        clocks.meet_all(case.id, now)
    if action in ("accept", "decline", "settle", "terminate", "file_case", "no_case", "answer", "withdraw"):
        clocks.meet(case.id, "triage", now)


_SMS = {"accept": "CASE_ACCEPTED", "decline": "CASE_DECLINED"}


def _notify_consumer(case: Case, transition: workflow.Transition) -> None:
    """告知: the consumer hears of the decision and of the closure (a named reporter too)."""
    if case.consumer_anonymous or not case.consumer_phone:
        return
    code = _SMS.get(transition.action) or ("CASE_CLOSED" if transition.outcome else None)
    if code is None:
        return
    kind = "decision" if transition.action in _SMS else "closure"
    queue_message(kind=kind, template_code=code, case_id=case.id, to_phone=case.consumer_phone,
                  params={"kind": KIND_NAMES[case.kind], "number": case.number,
                          "outcome": transition.outcome or transition.action},
                  dedupe_key=f"{kind}:{case.number}:{case.version}:{transition.action}")
