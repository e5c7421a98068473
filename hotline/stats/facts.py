"""What a case contributes to the statistics, read from the case, its clocks, rating, events and
extension requests: one `Facts` per case. Loading is batched (a handful of queries per batch, not per
case); the definitions of each figure live here and in `cells.py`, and the drill-down predicates in
`figures.py` state the same definitions in SQL."""
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from hotline.auth.models import User
from hotline.cases.models import Case, CaseEvent
from hotline.deadlines.models import CaseClock, ExtensionRequest
from hotline.extensions import db
from hotline.portal.models import CaseRating
from hotline.reference.models import Bureau

# The clock whose meeting is the case's first decision (按时受理/初查/答复), per kind.
DECISION_CLOCKS = {"complaint": ("complaint_decision",), "report": ("report_verification", "violation_verification"),
                   "consultation": ("consultation_reply",), "suggestion": ("consultation_reply",)}
# The clock a closed case is measured against (按期办结): the first of these the case has. Mediation for
# an accepted complaint, else its decision clock (every case has one from receipt once a rulebook is
# loaded; triage is the fallback for a case registered before any rulebook).
CLOSING_CLOCKS = {"complaint": ("mediation", "complaint_decision", "triage"),
                  "report": ("report_verification", "violation_verification", "triage"),
                  "consultation": ("consultation_reply", "triage"), "suggestion": ("consultation_reply", "triage")}
NOT_AGAINST_BUSINESS = frozenset({"declined", "withdrawn"})  # art. 38 disclosure: these do not count
# Closings that meet every running clock without deciding anything: a decision clock met at the very moment
# of one of these (withdrawn before acceptance, transferred out, merged into another report) is no 受理 decision.
NOT_A_DECISION = frozenset({"withdrawn", "transferred", "merged"})


def decided_by(clock_met_at, status: str, outcome: str | None, closed_at) -> bool:
    """The decision clock was met by a decision, not by a closing that decides nothing."""
    return clock_met_at is not None and not (status == "closed" and outcome in NOT_A_DECISION
                                             and closed_at is not None and clock_met_at >= closed_at)


@dataclass
class Facts:
    received_day: date
    bureau_id: int
    kind: str
    channel: str
    category: str
    online: bool
    status: str
    overdue: bool
    decided_day: date | None = None
    decided_on_time: bool = False
    closed_day: date | None = None
    outcome: str | None = None
    closed_timed: bool = False
    closed_on_time: bool = False
    recovered: int = 0  # fen
    rated_day: date | None = None
    rating_bureau_id: int = 0
    score: int | None = None
    accepted: bool = False
    business_key: str | None = None
    business_name: str | None = None
    returns: list = field(default_factory=list)  # [[iso day, bureau_id], ...]
    extensions: list = field(default_factory=list)


FACT_FIELDS = tuple(Facts.__dataclass_fields__)
CASE_COLUMNS = (Case.id, Case.received_at, Case.bureau_id, Case.kind, Case.channel, Case.category_goods,
                Case.category_service, Case.business_platform, Case.status, Case.overdue, Case.business_uscc,
                Case.business_key, Case.business_name, Case.closed_at, Case.outcome, Case.recovered_amount)


def category_of(goods: str | None, service: str | None) -> str:
    return goods or service or ""


def local_day(value: datetime | None, zone: ZoneInfo) -> date | None:
    return value.astimezone(zone).date() if value is not None else None


def _met_on_time(clock) -> bool:
    return clock.met_at is not None and clock.met_at <= clock.due_at


def facts_of(case, clocks: dict, rating, accepted: bool,
             returns: list, extensions: list, zone: ZoneInfo) -> Facts:
    """A case's contribution, from rows already loaded. Pure apart from reading those rows."""
    facts = Facts(received_day=local_day(case.received_at, zone), bureau_id=case.bureau_id or 0, kind=case.kind,
                  channel=case.channel, category=category_of(case.category_goods, case.category_service),
                  online=bool(case.business_platform), status=case.status, overdue=bool(case.overdue),
                  accepted=accepted, returns=returns, extensions=extensions,
                  business_key=case.business_key,
                  business_name=(case.business_name or case.business_uscc or "")[:255] or None)
    decision = next((clocks[name] for name in DECISION_CLOCKS.get(case.kind, ()) if name in clocks), None)
    if decision is not None and decided_by(decision.met_at, case.status, case.outcome, case.closed_at):
        facts.decided_day, facts.decided_on_time = local_day(decision.met_at, zone), _met_on_time(decision)
    if case.status == "closed":
        facts.closed_day = local_day(case.closed_at or case.received_at, zone)
        facts.outcome = case.outcome or ""
        closing = next((clocks[name] for name in CLOSING_CLOCKS.get(case.kind, ()) if name in clocks), None)
        facts.closed_timed = closing is not None
        facts.closed_on_time = closing is not None and _met_on_time(closing)
        facts.recovered = int((case.recovered_amount or 0) * 100)
    if rating is not None:
        facts.rated_day, facts.score = local_day(rating.rated_at, zone), rating.score
        facts.rating_bureau_id = rating.bureau_id or case.bureau_id or 0
    return facts


def load_facts(case_ids: list[int], zone: ZoneInfo) -> dict[int, Facts]:
    """The facts of these cases as they are now; a case that no longer exists is absent."""
    if not case_ids:
        return {}
    # Plain rows, not entities: fresh from the database whatever the session holds, and cheap in bulk.
    cases = db.session.execute(select(*CASE_COLUMNS).where(Case.id.in_(case_ids))).all()
    clocks: dict[int, dict[str, object]] = defaultdict(dict)
    for clock in db.session.execute(select(CaseClock.case_id, CaseClock.clock, CaseClock.due_at, CaseClock.met_at)
                                    .where(CaseClock.case_id.in_(case_ids))):
        clocks[clock.case_id][clock.clock] = clock
    ratings = {r.case_id: r for r in db.session.execute(
        select(CaseRating.case_id, CaseRating.score, CaseRating.rated_at, CaseRating.bureau_id)
        .where(CaseRating.case_id.in_(case_ids)))}
    bureau_ids = dict(db.session.execute(select(Bureau.code, Bureau.id)).all())
    accepted: set[int] = set()
    returns: dict[int, list] = defaultdict(list)
    for case_id, action, at, data in db.session.execute(
            select(CaseEvent.case_id, CaseEvent.action, CaseEvent.at, CaseEvent.data)
            .where(CaseEvent.case_id.in_(case_ids), CaseEvent.action.in_(("accept", "return_to_centre")))
            .order_by(CaseEvent.id)):
        if action == "accept":
            accepted.add(case_id)
        else:  # 退单: counted for the bureau that returned the case, on the day it did
            code = (data or {}).get("bureau")
            returns[case_id].append([local_day(at, zone).isoformat(), bureau_ids.get(code, 0)])
    extensions: dict[int, list] = defaultdict(list)
    # 延期申请: counted for the bureau of the handler who asked, whichever bureau holds the case later
    for case_id, at, asker_bureau in db.session.execute(
            select(ExtensionRequest.case_id, ExtensionRequest.requested_at, User.bureau_id)
            .outerjoin(User, User.id == ExtensionRequest.requested_by_id)
            .where(ExtensionRequest.case_id.in_(case_ids)).order_by(ExtensionRequest.id)):
        extensions[case_id].append([local_day(at, zone).isoformat(), asker_bureau or 0])
    return {case.id: facts_of(case, clocks[case.id], ratings.get(case.id), case.id in accepted,
                              returns[case.id], extensions[case.id], zone) for case in cases}
