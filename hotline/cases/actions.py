"""Taking a workflow action on a case: check it against the transition table, apply it, keep the
clocks and the audit trail, queue the consumer's SMS. One function for pages, API and workers."""
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from hotline.auth.models import User
from hotline.cases import (
    complainants,
    extension_requests,
    identity,
    next_steps,
    repeats,
    settlement,
    violations,
    workflow,
)
from hotline.cases.models import Case
from hotline.cases.numbers import group_case_number
from hotline.cases.operations import KIND_NAMES, record_event
from hotline.cases.schemas import FieldErrors
from hotline.cases.validation import check_amount, is_storable_text
from hotline.deadlines import operations as clocks
from hotline.extensions import db
from hotline.labels import label
from hotline.reference import dispute_routes
from hotline.reference.models import Bureau, StatutoryGround
from hotline.reference.queries import ground_for
from hotline.routing.operations import place_at_bureau
from hotline.sms.operations import queue_message
from hotline.sms.templates import outcome_text
from hotline.types import utcnow

MAX_RETURNS = 2  # after two returns the centre's next assignment is final (审定)


class ActionRefused(Exception):
    """The action is not allowed now (HTTP 409); nothing was changed."""


class ActionForbidden(ActionRefused):
    """The user may not take this action at all: their role never may, or the case is at another bureau
    (HTTP 403, where 409 is kept for "not in this status"); nothing was changed."""


class NeedsConfirmation(FieldErrors):
    """A figure that looks like a slip: accepted once the handler confirms it (`"confirm": true`)."""


@dataclass
class ActionInput:
    action: str
    reason: str | None = None
    note: str | None = None
    bureau: str | None = None
    recovered_amount: object = None
    assignee: str | None = None
    receiver: str | None = None
    confirm: bool = False
    version: int | None = None


@dataclass
class Taken:
    """What an action did, for the message that says what happens next."""
    case: Case
    action: str
    sms: bool = False
    ground: str | None = None
    notified_handler: bool = False
    days: int | None = None
    linked: Case | None = None  # refer_violation: the report it opened


FIELDS = {"action", "reason", "note", "bureau", "recovered_amount", "assignee", "receiver", "confirm", "version"}


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
    unknown = set(data) - FIELDS
    if unknown:
        raise FieldErrors({name: str(_l("unknown field")) for name in sorted(unknown)})
    action = data.get("action")
    if not isinstance(action, str) or action not in workflow.ACTIONS:
        raise FieldErrors({"action": str(_l("must be one of the listed values"))})
    version = data.get("version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        raise FieldErrors({"version": str(_l("must be a whole number"))})
    confirm = data.get("confirm", False)
    if not isinstance(confirm, bool):
        raise FieldErrors({"confirm": str(_l("must be true or false"))})
    return ActionInput(action=action, reason=_text(data.get("reason"), "reason"), note=_text(data.get("note"), "note"),
                       bureau=_text(data.get("bureau"), "bureau", 32), recovered_amount=data.get("recovered_amount"),
                       assignee=_text(data.get("assignee"), "assignee", 64),
                       receiver=_text(data.get("receiver"), "receiver", 128), confirm=confirm, version=version)


def _ground(case: Case, purpose: str, code: str | None) -> StatutoryGround:
    """A ground of the case's own rulebook version (Order 20 or 121), never another version's."""
    ground = ground_for(case, purpose, code)
    if ground is None:
        raise FieldErrors({"reason": str(_l("pick a statutory ground from the list"))})
    return ground


def _check_actor(user: User, case: Case, action: str) -> None:
    """Who may act, before what the status allows: a role that may take this action on this kind of case
    in no status at all is refused whatever the status is now. An action the kind has not at all (an
    extension of a complaint) is left to the status check (409)."""
    for_kind = [t for t in workflow.TRANSITIONS if t.action == action and case.kind in t.kinds]
    if for_kind and not any(user.role in t.roles for t in for_kind):
        raise ActionForbidden(str(_l("your role may not take this action")))
    if user.role == "bureau" and case.bureau_id != user.bureau_id:
        raise ActionForbidden(str(_l("the case is not at your bureau")))


def take_action(case: Case, user: User, data: ActionInput) -> Taken:
    """Apply one action; raises ActionForbidden (403), ActionRefused (409) or FieldErrors (422) with nothing
    changed."""
    if db.engine.dialect.name == "postgresql":
        # Concurrent actions on one case queue here, on the case row, and the later one sees the
        # earlier one's result: no deadlock between the case and its clocks.
        db.session.refresh(case, with_for_update=True)
    _check_actor(user, case, data.action)
    if data.version is not None and data.version != case.version:
        raise ActionRefused(str(_l("the case was changed meanwhile; reload it")))
    transition = workflow.transition_for(case.kind, case.status, data.action)
    if transition is None:
        raise ActionRefused(str(_l("this action is not allowed while the case is %(status)s",
                                   status=label(case.status))))
    if user.role not in transition.roles:  # another role's step in this status (none today)
        raise ActionForbidden(str(_l("your role may not take this action")))
    if data.action in workflow.EXTENSION_ACTIONS:
        _check_extension(case, data.action)
    now = utcnow()
    taken = Taken(case, data.action)
    reason, extra = data.reason, {}
    if transition.needs_reason and not reason:
        raise FieldErrors({"reason": str(_l("required"))})
    if transition.needs_receiver and not data.receiver:
        raise FieldErrors({"receiver": str(_l("required"))})
    if transition.needs_note and not data.note:
        raise FieldErrors({"note": str(_l("required"))})
    if transition.ground:
        ground = _ground(case, transition.ground, data.reason)
        case.ground_code, reason = ground.code, f"{ground.text}（{ground.legal_basis}）"
        extra.update(dispute_routes.ground_data(ground, case.kind, data.action))  # what the consumer is told
        taken.ground = ground.text
    if transition.needs_amount:
        case.recovered_amount = _recovered_amount(case, data)
    from_status = case.status
    _apply_side(case, user, data, transition, now, extra, taken)
    if transition.to_status is not None:
        case.status = transition.to_status
    if transition.outcome:
        case.outcome, case.closed_at = transition.outcome, now
    if case.status not in ("pending", "verifying"):
        extension_requests.lapse_pending(case, now)
    db.session.flush()
    clocks.refresh_overdue(case, now)
    record_event(case, data.action, user, from_status=from_status, to_status=case.status, reason=reason,
                 note=data.note, data=extra or None, at=now)
    taken.sms = _notify_consumer(case, transition)
    return taken


def _recovered_amount(case: Case, data: ActionInput):
    """挽回经济损失: any lawful figure; one far above the amount in dispute is confirmed first."""
    if data.recovered_amount in (None, ""):
        raise FieldErrors({"recovered_amount": str(_l("required"))})
    try:
        recovered = check_amount(data.recovered_amount)
    except ValueError as exc:
        raise FieldErrors({"recovered_amount": str(exc)}) from None
    if settlement.needs_confirmation(case.amount, recovered) and not data.confirm:
        raise NeedsConfirmation({"recovered_amount": str(_l(
            "%(recovered)s yuan is far above the %(amount)s yuan in dispute (more than the refund plus three "
            "times the price, and more than the refund plus 1,000 yuan). Check the figure; if it is right, "
            "confirm it (tick the box, or send \"confirm\": true).", recovered=f"{recovered:.2f}",
            amount=f"{case.amount:.2f}"))})
    return recovered


_EXTENSION_REFUSALS = {
    "used": _l("the verification period was extended already (once only)"),
    "pending": _l("an extension request is waiting for the centre's decision"),
    "available": _l("no extension request is waiting"),
    "none": _l("there is no running verification period to extend"),
}


def _check_extension(case: Case, action: str) -> None:
    """One extension per report: asked for (or granted directly) while none is used or pending."""
    state = extension_requests.extension_state(case)
    if action not in workflow.extension_actions(state):
        raise ActionRefused(str(_EXTENSION_REFUSALS[state]))


def offered_actions(case: Case, user: User) -> list[workflow.Transition]:
    """The action forms the case page shows this user now."""
    if user.role == "bureau" and case.bureau_id != user.bureau_id:
        return []
    actions = workflow.actions_for(case.kind, case.status, user.role)
    if case.assignment_final:
        actions = [t for t in actions if t.action != "return_to_centre"]
    if any(t.action in workflow.EXTENSION_ACTIONS for t in actions):
        fitting = workflow.extension_actions(extension_requests.extension_state(case))
        actions = [t for t in actions if t.action not in workflow.EXTENSION_ACTIONS or t.action in fitting]
    return actions


def next_steps_message(taken: Taken) -> str:
    """The flash after an action, from the clocks as the action left them."""
    case = taken.case
    running = [next_steps.Running(c.clock, c.due_at, c.paused_at is not None)
               for c in clocks.clocks_of(case.id) if c.met_at is None]
    if taken.linked is not None:  # refer_violation: the new report's verification period too
        running += [next_steps.Running(c.clock, c.due_at) for c in clocks.clocks_of(taken.linked.id)]
    return next_steps.compose(
        taken.action, kind=case.kind, number=group_case_number(case.number), running=running,
        tz=current_app.config["TIMEZONE"], sms=taken.sms, notified_handler=taken.notified_handler, ground=taken.ground,
        bureau=case.bureau.name if case.bureau else None, receiver=case.transferred_to,
        amount=f"{case.recovered_amount:.2f}" if case.recovered_amount is not None else None,
        handler=case.assignee.display_name if case.assignee else None, days=taken.days, body=case.delegated_to,
        report=group_case_number(taken.linked.number) if taken.linked is not None else None,
        variant=_identity_variant(case) if taken.action == "check_identity" else None)


def _identity_variant(case: Case) -> str:
    """Which next step a recorded identity check points to: after a refusal, declining while the complaint
    is pending (art. 16(6)), terminating once it is accepted (art. 23(6))."""
    refused_after_acceptance = case.identity_check == identity.REFUSED and case.status == "accepted"
    return f"{case.identity_check}:accepted" if refused_after_acceptance else case.identity_check


def _apply_side(case: Case, user: User, data: ActionInput, transition, now, extra: dict, taken: Taken) -> None:
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
        if data.reason not in clocks.SUSPEND_REASONS:  # art. 21 recusal, art. 22 testing: nothing else stops the clock
            raise FieldErrors({"reason": str(_l("pick testing or appraisal (art. 22) or a recusal request (art. 21)"))})
        clocks.pause(case.id, "mediation", now)
    elif action == "resume":
        clocks.resume(case.id, "mediation", now)
    elif action in ("settle", "terminate"):
        clocks.meet(case.id, "mediation", now)
        if action == "terminate":
            clocks.start_clock(case, "mediation_notice", now)
    elif action == "delegate":
        # 委托调解 (art. 19): who mediates changes, nothing else; the clock runs on
        if len(data.reason) > 128:
            raise FieldErrors({"reason": str(_l("too long"))})
        extra.update(delegated_to=data.reason, previous=case.delegated_to)
        case.delegated_to = data.reason
    elif action == "refer_violation":
        taken.linked = violations.open_violation_report(case, user, data.note, now)
        extra.update(report=taken.linked.number)
    elif action == "check_identity":
        case.identity_check = identity.check_result(data.reason)
        extra.update(identity_check=case.identity_check)
    elif action == "request_extension":
        extra.update(request=extension_requests.open_request(case, user, data.reason, now).id)
    elif action in ("extend", "approve_extension"):
        entry = extension_requests.running_verification(case.id)
        taken.days = clocks.extension_length(entry)
        if not clocks.extend(case.id, entry.clock):
            raise ActionRefused(str(_EXTENSION_REFUSALS["used"]))
        extra.update(days=taken.days)
        if action == "approve_extension":
            request, taken.notified_handler = extension_requests.decide(case, user, True, data.note, now)
            extra.update(request=request.id)
    elif action == "refuse_extension":
        request, taken.notified_handler = extension_requests.decide(case, user, False, data.reason, now)
        extra.update(request=request.id)
    elif action == "transfer_out":
        case.transferred_to = data.receiver
        extra.update(receiver=data.receiver)
        clocks.meet_all(case.id, now)
    elif action in ("file_case", "no_case"):
        clocks.meet(case.id, "report_verification", now)
        clocks.meet(case.id, violations.CLOCK, now)  # a report opened from a finding in mediation (art. 27)
        if not case.consumer_anonymous and case.consumer_phone:
            clocks.start_clock(case, "reporter_notice", now)
    elif action == "answer":
        case.answer = data.reason
        clocks.meet(case.id, "consultation_reply", now)
    elif action == "withdraw":
        clocks.meet_all(case.id, now)
    elif action == "merge_report":  # 合并处理 (art. 35): hotline/cases/repeats.py
        target = repeats.merge_target(case, user, data.reason)
        restarted = repeats.merge_into(case, target, user, now)
        extra.update(merged_into=target.number, restarted_from=restarted.isoformat())
    if action in ("accept", "decline", "settle", "terminate", "file_case", "no_case", "answer", "withdraw"):
        clocks.meet(case.id, "triage", now)


_SMS = {"accept": "CASE_ACCEPTED", "decline": "CASE_DECLINED"}
_CLOSING_SMS = {"transfer_out": "CASE_TRANSFERRED", "merge_report": None}  # merged: told when the earlier closes


def _notify_consumer(case: Case, transition: workflow.Transition) -> bool:
    """告知: the consumer hears of the decision and of the closure (a named reporter too); a case
    transferred out hears where it went. True when a message was queued."""
    # 共同投诉 (art. 12): every complainant with a phone hears it too, each message with its own dedupe key
    recipients = [] if case.consumer_anonymous or not case.consumer_phone else [("", case.consumer_phone)]
    recipients += [(f":c{c.position}", c.phone) for c in complainants.complainants_of(case.id) if c.phone]
    if not recipients:
        return False
    code = _SMS.get(transition.action) or (
        _CLOSING_SMS.get(transition.action, "CASE_CLOSED") if transition.outcome else None)
    if code is None:
        return False
    kind = "decision" if transition.action in _SMS else "closure"
    params = {"kind": KIND_NAMES[case.kind], "number": case.number,
              "outcome": outcome_text(transition.outcome or transition.action)}  # the consumer reads 调解成功
    if transition.action == "transfer_out":
        params["receiver"] = case.transferred_to
    if transition.action == "decline":  # the reason, its article, and for a complaint the other routes (art. 15)
        code = "COMPLAINT_DECLINED" if case.kind == "complaint" else "REPORT_DECLINED"
        params.update(dispute_routes.sms_params(ground_for(case, transition.ground, case.ground_code)))
    for suffix, phone in recipients:
        queue_message(kind=kind, template_code=code, case_id=case.id, to_phone=phone, params=params,
                      dedupe_key=f"{kind}:{case.number}:{case.version}:{transition.action}{suffix}")
    _invite_rating(case, transition, recipients)
    return True


def _invite_rating(case: Case, transition: workflow.Transition, recipients: list[tuple[str, str]]) -> None:
    """一事一评: after the closure notice, an invitation with the link to rate (a survey: quiet hours, the
    daily cap and opt-outs apply). Sent only where the portal has a public address (HOTLINE_PUBLIC_URL)."""
    from flask import current_app
    base = (current_app.config.get("PUBLIC_URL") or "").rstrip("/")
    if not base or transition.outcome in (None, "transferred", "merged"):
        return
    params = {"kind": KIND_NAMES[case.kind], "number": case.number, "link": f"{base}/track"}
    for suffix, phone in recipients:
        queue_message(kind="rating", template_code="RATING_INVITATION", case_id=case.id, to_phone=phone,
                      params=params, dedupe_key=f"rating:{case.number}{suffix}")
