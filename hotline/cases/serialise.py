"""A case as JSON, as `GET /api/v1/cases/{number}` returns it. Personal data is masked."""
from hotline.auth.models import User
from hotline.cases.access import may_see_personal_data
from hotline.cases.models import Case, CaseLink
from hotline.cases.validation import mask_id_number, mask_name, mask_phone
from hotline.deadlines.operations import clocks_of
from hotline.extensions import db
from hotline.sms.models import SmsMessage
from hotline.types import utcnow


def _iso(value):
    return value.isoformat() if value is not None else None


def _money(value):
    return None if value is None else f"{value:.2f}"


def consumer_name(case: Case, viewer: User | None) -> str | None:
    if case.kind == "report" and (viewer is None or not may_see_personal_data(viewer, case)):
        return mask_name(case.consumer_name)
    return case.consumer_name


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
             "calendar_warning": c.fallback_calendar} for c in clocks_of(case_id)]


def case_detail(case: Case, viewer: User | None = None) -> dict:
    links = db.session.query(CaseLink).filter_by(case_id=case.id).all()
    messages = db.session.query(SmsMessage).filter_by(case_id=case.id).order_by(SmsMessage.id).all()
    return {
        **case_summary(case, viewer),
        "registered_at": _iso(case.registered_at), "closed_at": _iso(case.closed_at),
        "station": {"code": case.station.code, "name": case.station.name} if case.station else None,
        "consumer": {"name": consumer_name(case, viewer), "phone": mask_phone(case.consumer_phone),
                     "id_number": mask_id_number(case.consumer_id_number_tail),
                     "address": case.consumer_address, "anonymous": case.consumer_anonymous},
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
        "messages": [{"kind": m.kind, "to": mask_phone(m.to_phone), "status": m.status} for m in messages],
        "links": [{"number": link.linked_case.number, "kind": link.linked_case.kind, "relation": link.relation}
                  for link in links],
        "version": case.version,
    }
