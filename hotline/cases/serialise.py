"""A case as JSON, as `GET /api/v1/cases/{number}` returns it. Personal data is masked; a reporter's
name and address only for those art. 37 keeps them from (hotline/cases/confidential.py)."""
from hotline.auth.models import User
from hotline.cases import complainants, repeats
from hotline.cases.confidential import caller_identity
from hotline.cases.flags import flags_for, flags_json
from hotline.cases.models import Case, CaseLink
from hotline.cases.validation import mask_id_number, mask_phone
from hotline.deadlines.operations import clocks_of
from hotline.extensions import db
from hotline.sms.models import SmsMessage
from hotline.types import utcnow


def _iso(value):
    return value.isoformat() if value is not None else None


def _money(value):
    return None if value is None else f"{value:.2f}"


def consumer_name(case: Case, viewer: User | None) -> str | None:
    """The caller's name as this viewer may see it (举报人信息保密, Order 121 art. 37)."""
    return caller_identity(case, viewer)["name"]


def case_summary(case: Case, viewer: User | None = None) -> dict:
    return {
        "number": case.number, "kind": case.kind, "channel": case.channel, "status": case.status,
        "outcome": case.outcome, "subject": case.subject, "received_at": _iso(case.received_at),
        "business": {"name": case.business_name},
        "consumer": {"name": consumer_name(case, viewer), "phone": mask_phone(case.consumer_phone)},
        "bureau": {"code": case.bureau.code, "name": case.bureau.name} if case.bureau else None,
        "station": case.station.code if case.station else None, "overdue": case.overdue,
    }


def deadlines_json(case_id: int) -> list[dict]:
    now = utcnow()
    return [{"clock": c.clock, "due": _iso(c.due_at), "met_at": _iso(c.met_at),
             "overdue": (c.met_at or now) > c.due_at, "rule_version": c.rule_version,
             "length": c.length, "unit": c.unit, "paused": c.paused_at is not None,
             "calendar_warning": c.fallback_calendar} for c in clocks_of(case_id)]


def _joint_and_repeat(case: Case) -> dict:
    """共同投诉 (art. 12): the further complainants, masked like the consumer; 重复举报 (art. 35): the
    earlier report of the same reporter about the same business, and where a merged report went."""
    out: dict = {}
    if case.kind == "complaint":
        out["complainants"] = complainants.complainants_json(case.id)
    if case.kind == "report":
        out["repeat_of"] = repeats.repeat_json(repeats.find_repeat(case))
        merged = db.session.get(Case, case.merged_into_id) if case.merged_into_id else None
        out["merged_into"] = {"number": merged.number, "status": merged.status} if merged else None
    return out


def _rating(case: Case) -> dict | None:
    from hotline.portal.lookup import rating_of
    from hotline.portal.ratings import rating_json
    return rating_json(rating_of(case))


def case_detail(case: Case, viewer: User | None = None) -> dict:
    caller = caller_identity(case, viewer)
    links = db.session.query(CaseLink).filter_by(case_id=case.id).all()
    messages = db.session.query(SmsMessage).filter_by(case_id=case.id).order_by(SmsMessage.id).all()
    detail = {
        **case_summary(case, viewer),
        "registered_at": _iso(case.registered_at), "closed_at": _iso(case.closed_at),
        "station": {"code": case.station.code, "name": case.station.name} if case.station else None,
        "consumer": {"name": caller["name"], "phone": mask_phone(case.consumer_phone),
                     "id_number": mask_id_number(case.consumer_id_number_tail),
                     "address": caller["address"], "anonymous": case.consumer_anonymous,
                     "confidential": caller["confidential"]},
        "business": {"name": case.business_name, "address": case.business_address, "uscc": case.business_uscc,
                     "phone": case.business_phone, "platform": case.business_platform,
                     "shop": case.business_shop},
        "category": {"goods": case.category_goods, "service": case.category_service,
                     "issue": case.category_issue},
        "description": case.description, "demand": case.demand, "amount": _money(case.amount),
        "occurred_on": _iso(case.occurred_on), "answer": case.answer,
        "recovered_amount": _money(case.recovered_amount),
        "assignee": case.assignee.display_name if case.assignee else None,
        "routing": {"rule": case.routing_rule, "reason": case.routing_reason},
        "events": [{"action": e.action, "at": _iso(e.at), "actor": e.actor_label, "from_status": e.from_status,
                    "to_status": e.to_status, "reason": e.reason, "note": e.note} for e in case.events],
        "deadlines": deadlines_json(case.id),
        "messages": [{"kind": m.kind, "to": mask_phone(m.to_phone), "status": m.status, "sent_at": _iso(m.sent_at),
                      "delivered_at": _iso(m.delivered_at), "not_before": _iso(m.not_before),
                      "error_code": m.error_code} for m in messages],
        "links": [{"number": link.linked_case.number, "kind": link.linked_case.kind, "relation": link.relation}
                  for link in links],
        "version": case.version,
        "rating": _rating(case),  # 一事一评: the consumer's rating once closed (hotline/portal/ratings.py)
        "delegated_to": case.delegated_to, "identity_check": case.identity_check,
        **_joint_and_repeat(case),
    }
    if case.kind == "complaint":
        detail["consumer"]["representative"] = complainants.consumer_is_representative(case)
    flags = flags_for(case, viewer)
    if flags is not None:  # art. 17 factors, for the bureau and the centre to weigh (hotline/cases/flags.py)
        detail["flags"] = flags_json(flags)
    return detail
