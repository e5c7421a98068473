"""查询: what a consumer sees of their own case, with its number and query code (DESIGN.md §3,
`POST /public/lookup`). Only public facts: what was done and when (never who, never an internal note),
the deadlines that concern the consumer, the decision's reason, and the SMS sent, masked."""
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from hotline.cases import numbers, personal_data
from hotline.cases.models import Case, CaseEvent
from hotline.cases.schemas import FieldErrors
from hotline.cases.validation import mask_phone
from hotline.deadlines.display import last_day
from hotline.deadlines.models import CaseClock
from hotline.extensions import db
from hotline.portal.models import CaseRating
from hotline.sms.models import SmsMessage

# The audit trail's actions a consumer sees. Left out: who handles it inside the bureau (reassign), the
# back-and-forth between the bureau and the centre (return_to_centre), extension requests, identity checks,
# reminders and escalations, and reports opened from a complaint (refer_violation).
PUBLIC_ACTIONS = frozenset({
    "register", "route", "assign", "accept", "decline", "suspend", "resume", "delegate", "settle", "terminate",
    "start_verification", "extend", "file_case", "no_case", "answer", "withdraw", "transfer_out", "merge_report",
    "consumer_info", "rate",
})
# The clocks whose meaning is the consumer's business; the centre's triage day, jurisdiction disputes between
# bureaus and verifying a violation found in mediation are internal.
PUBLIC_CLOCKS = ("complaint_decision", "mediation", "mediation_notice", "report_verification", "reporter_notice",
                 "consultation_reply")

# Stands in for the stored hash when no case has the number, so an unknown number costs the same HMAC and
# comparison as a wrong code (no timing difference between the two).
_NO_CASE_HASH = "0" * 64


def normalise_number(text) -> str:
    """The number as typed or pasted ("2026 1125 0004 27", full-width digits): its digits, checked
    (the Damm check digit catches a mistyped digit before any look-up)."""
    number = numbers.normalise_case_number(text if isinstance(text, str) else "")
    if not number:
        raise FieldErrors({"number": str(_l("required"))})
    if not numbers.is_valid_case_number(number):
        raise FieldErrors({"number": str(_l("not a valid case number: check its 14 or 16 digits"))})
    return number


def find_case(number_text, code) -> Case | None:
    """The case if the number and the query code match, else None, whichever of them is wrong.
    Raises FieldErrors when the number is malformed or the code is missing."""
    number = normalise_number(number_text)
    code = code if isinstance(code, str) else ""
    if not code.strip():
        raise FieldErrors({"code": str(_l("required"))})
    case = db.session.scalar(select(Case).where(Case.number == number))
    stored = case.query_code_hash if case is not None else _NO_CASE_HASH
    matches, rehashed = personal_data.check_query_code(number, code[:32], stored)
    if case is not None and matches and rehashed:  # a code made with the old secret key: moved to the new key
        table = Case.__table__  # a plain UPDATE: the hash is no fact the statistics count
        db.session.execute(update(table).where(table.c.id == case.id).values(query_code_hash=rehashed))
        db.session.commit()
    return case if case is not None and matches else None


def case_by_number(number: str) -> Case | None:
    """A case already verified in this browser's session (the number only, never the code, is kept there)."""
    return db.session.scalar(select(Case).where(Case.number == number))


def public_events(case: Case) -> list[CaseEvent]:
    return [e for e in case.events if e.action in PUBLIC_ACTIONS]


def public_clocks(case: Case) -> list[CaseClock]:
    clocks = db.session.scalars(select(CaseClock).where(CaseClock.case_id == case.id,
                                                        CaseClock.clock.in_(PUBLIC_CLOCKS))
                                .order_by(CaseClock.id)).all()
    return list(clocks)


def decision_reason(case: Case) -> dict | None:
    """Why the case closed as it did, as the consumer was told: a statutory ground (declining, ending
    mediation, not filing) with its article, and for a declined complaint the other routes of Consumer
    Rights Protection Law art. 39 (Order 121 art. 15); where a transferred case went."""
    if case.status != "closed":
        return None
    for event in reversed(case.events):
        data = event.data or {}
        if event.to_status != "closed" or event.from_status == "closed":
            continue
        if event.action == "transfer_out":
            return {"receiver": case.transferred_to}
        if "ground" in data:
            reason = {"text": data.get("text"), "basis": data.get("basis")}
            if data.get("routes"):
                reason.update(routes=list(data["routes"]), routes_basis=data.get("routes_basis"))
            return reason
        return None
    return None


def rating_of(case: Case) -> CaseRating | None:
    return db.session.scalar(select(CaseRating).where(CaseRating.case_id == case.id))


def may_rate(case: Case, rating: CaseRating | None = None) -> bool:
    return case.status == "closed" and rating is None


def _iso(value):
    return value.isoformat() if value is not None else None


def public_view(case: Case) -> dict:
    """The body of `POST /public/lookup`: the contract's fields, plus the reason and the rating."""
    tz = current_app.config["TIMEZONE"]
    messages = db.session.scalars(select(SmsMessage).where(SmsMessage.case_id == case.id)
                                  .order_by(SmsMessage.id)).all()
    rating = rating_of(case)
    return {
        "number": case.number, "kind": case.kind, "status": case.status, "outcome": case.outcome,
        "received_at": _iso(case.received_at), "closed_at": _iso(case.closed_at),
        "bureau": {"name": case.bureau.name} if case.bureau else None,
        "events": [{"action": e.action, "at": _iso(e.at)} for e in public_events(case)],
        "deadlines": [{"clock": c.clock, "due": _iso(c.due_at), "last_day": last_day(c.due_at, tz).isoformat(),
                       "met_at": _iso(c.met_at), "paused": c.paused_at is not None} for c in public_clocks(case)],
        "messages": [{"kind": m.kind, "to": mask_phone(m.to_phone), "status": m.status, "sent_at": _iso(m.sent_at)}
                     for m in messages],
        "reason": decision_reason(case),
        "rating": {"score": rating.score, "rated_at": _iso(rating.rated_at)} if rating else None,
        "may_rate": may_rate(case, rating), "may_add_information": case.is_open,
    }


# ---- how the page words it ------------------------------------------------------------------------------

_STATUS_WORDS = {
    "registered": _l("Received; being passed to the bureau in charge"),
    "triage": _l("The centre is deciding which bureau will handle it"),
    "pending": _l("At the bureau, waiting for its decision"),
    "accepted": _l("Accepted; the bureau is mediating"),
    "suspended": _l("Mediation paused for testing, appraisal or a recusal request"),
    "verifying": _l("The bureau is verifying the report"),
}
_OUTCOME_WORDS = {
    "mediated": _l("Closed: settled by mediation"), "declined": _l("Closed: not accepted"),
    "terminated": _l("Closed: mediation ended without agreement"), "case_filed": _l("Closed: a case was filed"),
    "no_case": _l("Closed: no case was filed"), "answered": _l("Closed: answered"),
    "withdrawn": _l("Closed: withdrawn"), "transferred": _l("Closed: transferred to another authority"),
    "merged": _l("Closed: merged into your earlier report"),
}
_EVENT_WORDS = {
    "register": _l("Logged by the hotline"), "route": _l("Passed to the bureau in charge"),
    "assign": _l("Passed to the bureau in charge"), "accept": _l("Accepted"), "decline": _l("Not accepted"),
    "suspend": _l("Mediation paused"), "resume": _l("Mediation resumed"),
    "delegate": _l("Mediation entrusted to a mediation body"), "settle": _l("Settled by mediation"),
    "terminate": _l("Mediation ended"), "start_verification": _l("Verification started"),
    "extend": _l("Verification period extended with approval"), "file_case": _l("A case was filed"),
    "no_case": _l("No case was filed"), "answer": _l("Answered"), "withdraw": _l("Withdrawn"),
    "transfer_out": _l("Transferred to another authority"), "merge_report": _l("Merged into your earlier report"),
    "consumer_info": _l("You added information"), "rate": _l("You rated the handling"),
}
_CLOCK_WORDS = {
    "complaint_decision": _l("The bureau must decide by %(day)s whether to accept it"),
    "mediation": _l("Mediation should end by %(day)s"),
    "mediation_notice": _l("The bureau must tell both parties by %(day)s that mediation has ended"),
    "report_verification": _l("The bureau must finish verifying and decide whether to file a case by %(day)s"),
    "reporter_notice": _l("The bureau must tell you by %(day)s whether a case was filed"),
    "consultation_reply": _l("You should have a reply by %(day)s"),
}


def status_words(case: Case) -> str:
    if case.status == "closed":
        return str(_OUTCOME_WORDS.get(case.outcome or "", _l("Closed")))
    return str(_STATUS_WORDS.get(case.status, case.status))


def event_words(event: CaseEvent) -> str:
    if event.action == "route" and event.to_status == "triage":
        return str(_l("Passed to the centre to decide which bureau handles it"))
    return str(_EVENT_WORDS.get(event.action, event.action))


def spoken_day(day: date, today: date) -> str:
    """"12月7日" (with the year when it is not this year's); "7 Dec" in English."""
    english = str(get_locale()) == "en"
    if english:
        return day.strftime("%-d %b" if day.year == today.year else "%-d %b %Y")
    return f"{day.month}月{day.day}日" if day.year == today.year else f"{day.year}年{day.month}月{day.day}日"


@dataclass
class DeadlineLine:
    text: str
    met: bool
    paused: bool
    late: bool


def deadline_lines(case: Case, now: datetime) -> list[DeadlineLine]:
    """Each deadline with its meaning: "分局应在 12月7日 前决定是否受理"."""
    tz = current_app.config["TIMEZONE"]
    today = now.astimezone(ZoneInfo(tz)).date()
    lines = []
    for clock in public_clocks(case):
        day = spoken_day(last_day(clock.due_at, tz), today)
        text = str(_CLOCK_WORDS[clock.clock] % {"day": day})
        paused = clock.paused_at is not None and clock.met_at is None
        lines.append(DeadlineLine(text=text, met=clock.met_at is not None, paused=paused,
                                  late=clock.met_at is None and not paused and clock.due_at < now))
    return lines
