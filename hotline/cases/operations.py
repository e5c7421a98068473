"""Write side of cases: register a case with its first audit event, clocks, receipt SMS and the
routing job, all in the caller's transaction. No request, no Flask globals beyond the config."""
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from hotline.auth.models import User
from hotline.cases import complainants, numbers, personal_data, repeats
from hotline.cases.models import Case, CaseEvent, CaseLink
from hotline.cases.number_counter import allocate_case_number
from hotline.cases.schemas import CaseIn, FieldErrors
from hotline.deadlines.operations import meet_clock, rulebook_version_for, start_clock
from hotline.direct_insert import insert_now
from hotline.extensions import db
from hotline.outbox.operations import enqueue
from hotline.reference.cache import cached
from hotline.reference.models import Answer, Category, Station
from hotline.sms.operations import queue_message
from hotline.stats.refresh import mark_dirty
from hotline.types import utcnow

KIND_NAMES = {"complaint": "投诉", "report": "举报", "consultation": "咨询", "suggestion": "建议"}
FIRST_CLOCK = {"complaint": "complaint_decision", "report": "report_verification",
               "consultation": "consultation_reply", "suggestion": "consultation_reply"}


@dataclass
class Registered:
    case: Case
    query_code: str
    linked: "Registered | None" = None
    receipt_sent: bool = False  # no SMS for an anonymous or phoneless caller: the code is read out instead
    repeat_of: "repeats.Repeat | None" = None  # an earlier report of the same reporter about the same business
    complainant_receipts: int = 0  # receipts sent to the further complainants of a joint complaint
    clocks: list = field(default_factory=list)  # the clocks started, so the answer needs no query for them


def actor_label(actor: User | None) -> str:
    return actor.display_name if actor else "system"


def record_event(case: Case, action: str, actor: User | None, *, from_status: str | None,
                 to_status: str | None, reason: str | None = None, note: str | None = None,
                 data: dict | None = None, at: datetime | None = None, immediate: bool = False) -> CaseEvent:
    """Append one entry to the case's audit trail (every state change goes through here). `immediate`:
    INSERT it now (hotline/direct_insert.py; the case must have its id), not at the next flush."""
    fields = dict(at=at or utcnow(), actor_id=actor.id if actor else None, actor_label=actor_label(actor),
                  action=action, from_status=from_status, to_status=to_status, reason=reason, note=note, data=data)
    if immediate:
        return insert_now(CaseEvent(case_id=case.id, **fields))
    event = CaseEvent(case=case, **fields)
    db.session.add(event)
    return event


def _resolve_station(data: CaseIn, actor: User | None) -> "Station | StationRef | None":
    if actor is not None and actor.role == "station":
        # Station staff always log for their own station, whatever the form said.
        data.channel = "station"
        return _stations()["by_id"].get(actor.station_id)
    if data.channel == "station" and not data.station:
        raise FieldErrors({"station": str(_l("channel station needs the station's code"))})
    if data.station and data.channel != "station":
        raise FieldErrors({"station": str(_l("a station is given only with channel station"))})
    if not data.station:
        return None
    station = _stations()["by_code"].get(data.station)
    if station is None or not station.active:
        raise FieldErrors({"station": str(_l("no such station"))})
    return station


@dataclass(frozen=True)
class StationRef:
    """A station as intake needs it (a cached copy, not a row of this session)."""
    id: int
    code: str
    active: bool


def _load_stations() -> dict[str, dict]:
    stations = [StationRef(s.id, s.code, s.active) for s in db.session.execute(
        select(Station.id, Station.code, Station.active))]
    return {"by_code": {s.code: s for s in stations}, "by_id": {s.id: s for s in stations}}


def _stations() -> dict[str, dict]:
    # Reference data, read by every station intake: cached per process (hotline/reference/cache.py).
    return cached("stations", _load_stations)


def _known_categories() -> frozenset[tuple[str, str]]:
    return cached("categories", lambda: frozenset(
        (axis, code) for axis, code in db.session.execute(select(Category.axis, Category.code))))


def _check_categories(data: CaseIn) -> None:
    wanted = {axis: getattr(data.category, axis) for axis in ("goods", "service", "issue")}
    wanted = {axis: code for axis, code in wanted.items() if code}
    if not wanted:
        return
    known = _known_categories()
    errors = {f"category.{axis}": str(_l("no such category"))
              for axis, code in wanted.items() if (axis, code) not in known}
    if errors:
        raise FieldErrors(errors)


def check_registration(data: CaseIn, actor: User | None, now: datetime) -> tuple[Station | StationRef | None,
                                                                                Answer | None]:
    """Every check made before a case is written, collected, so a form can mark all wrong fields at once."""
    errors: dict[str, str] = {}
    station = answer = None
    try:
        data.check_dates(now, current_app.config["TIMEZONE"])
    except FieldErrors as exc:
        errors.update(exc.fields)
    try:
        station = _resolve_station(data, actor)
    except FieldErrors as exc:
        errors.update(exc.fields)
    try:
        _check_categories(data)
    except FieldErrors as exc:
        errors.update(exc.fields)
    if data.answer_code:
        answer = db.session.scalar(select(Answer).where(Answer.code == data.answer_code))
        if answer is None:
            errors["answer_code"] = str(_l("no such answer in the answer bank"))
    if errors:
        raise FieldErrors(errors)
    return station, answer


def register_case(data: CaseIn, actor: User | None, now: datetime | None = None) -> Registered:
    """登记: create a case (and, for a complaint that also reports a violation, its linked report)."""
    now = now or utcnow()
    tz = current_app.config["TIMEZONE"]
    station, answer = check_registration(data, actor, now)
    registered = _register_one(data, data.kind, actor, station, answer, now, tz)
    if data.also_report:
        registered.linked = _register_one(data, "report", actor, station, None, now, tz)
        db.session.add_all([
            CaseLink(case_id=registered.case.id, linked_case_id=registered.linked.case.id),
            CaseLink(case_id=registered.linked.case.id, linked_case_id=registered.case.id)])
    return registered


def _register_one(data: CaseIn, kind: str, actor: User | None, station: "Station | StationRef | None",
                  answer: Answer | None, now: datetime, tz: str) -> Registered:
    received_at = data.received_at or now
    number = allocate_case_number(now.astimezone(ZoneInfo(tz)).date())
    query_code = numbers.new_query_code()
    consumer, business = data.consumer, data.business
    case = Case(
        number=number, kind=kind, channel=data.channel, status="registered",
        received_at=received_at, registered_at=now, station_id=station.id if station else None, created_by=actor,
        consumer_name=consumer.name, consumer_phone=consumer.phone,
        consumer_id_number_enc=personal_data.encrypt(consumer.id_number) if consumer.id_number else None,
        consumer_id_number_tail=consumer.id_number[-4:] if consumer.id_number else None,
        consumer_address=consumer.address, consumer_anonymous=consumer.anonymous,
        business_name=business.name, business_address=business.address, business_uscc=business.uscc,
        business_phone=business.phone, business_platform=business.platform, business_shop=business.shop,
        category_goods=data.category.goods, category_service=data.category.service,
        category_issue=data.category.issue, subject=data.subject, description=data.description,
        demand=data.demand, amount=data.amount, occurred_on=data.occurred_on,
        query_code_hash=personal_data.hash_query_code(number, query_code),
        rulebook_version=rulebook_version_for(received_at))
    # The case and its first rows are written by Core statements at once, not by the unit of work:
    # intake's hot path (issue #13). So the statistics' mark is made here rather than by a flush hook.
    insert_now(case)
    mark_dirty([case.id])
    joint = kind == "complaint" and bool(data.complainants)
    people = complainants.add_complainants(case, data.complainants) if joint else []
    repeat = repeats.find_repeat(case) if kind == "report" else None
    record_event(case, "register", actor, from_status=None, to_status="registered",
                 data=_registration_facts(data, station, joint, repeat), at=now, immediate=True)
    clock = start_clock(case, FIRST_CLOCK[kind], received_at, immediate=True)
    if data.answer and kind == data.kind:
        # 当场答复: a consultation answered on the spot is closed at once.
        case.answer, case.answer_id = data.answer, answer.id if answer else None
        case.status, case.outcome, case.closed_at = "closed", "answered", now
        record_event(case, "answer", actor, from_status="registered", to_status="closed",
                     note=f"answer bank {answer.code}" if answer else None,
                     data={"answer": answer.code} if answer else None, at=now)  # the page shows it translated
        meet_clock(clock, now)
    else:
        enqueue("route_case", {"case_id": case.id}, dedupe_key=f"route_case:{case.id}", immediate=True)
    receipt_sent = bool(consumer.phone and not consumer.anonymous)
    if receipt_sent:
        queue_message(kind="receipt", template_code="CASE_RECEIPT", case_id=case.id, to_phone=consumer.phone,
                      params={"kind": KIND_NAMES[kind], "number": number, "code": query_code},
                      dedupe_key=f"receipt:{number}", immediate=True)
    for person in people:  # 共同投诉: every complainant hears of the case (art. 12)
        if person.phone:
            queue_message(kind="receipt", template_code="CASE_RECEIPT", case_id=case.id, to_phone=person.phone,
                          params={"kind": KIND_NAMES[kind], "number": number, "code": query_code},
                          dedupe_key=f"receipt:{number}:c{person.position}")
    return Registered(case=case, query_code=query_code, receipt_sent=receipt_sent, repeat_of=repeat,
                      complainant_receipts=sum(1 for p in people if p.phone), clocks=[clock] if clock else [])


def _registration_facts(data: CaseIn, station: "Station | StationRef | None", joint: bool, repeat) -> dict:
    """What the register event keeps besides the case's columns: facts of the intake that have no
    column of their own (the consumer's representative mark, an unreachable online seller) and the
    earlier report this one repeats, as the operator saw it."""
    facts = {"channel": data.channel, "station": station.code if station else None}
    if joint:
        facts.update(complainants=len(data.complainants), consumer_representative=data.consumer.representative)
    if data.business.address_unreachable:
        facts["address_unreachable"] = True
    if repeat is not None:
        facts["repeat_of"] = repeats.repeat_json(repeat)
    return facts



def reveal_personal_data(case: Case, viewer: User) -> dict[str, str | None]:
    """The caller's unmasked phone and ID number, for the handler who must call them; every view
    is written to the access log."""
    from hotline.auth.models import AccessLog
    people = complainants.reveal(case.id)
    db.session.add(AccessLog(user_id=viewer.id, case_id=case.id,
                             what="phone,id_number" + (",complainants" if people else "")))
    return {"phone": case.consumer_phone,
            "id_number": personal_data.readable(case.consumer_id_number_enc),
            "complainants": {p["position"]: p for p in people}}
