"""Routing a case to its bureau (the `route_case` outbox job) and assigning it to a handler."""
import time

from flask import current_app
from sqlalchemy import func, select

from hotline.auth.models import User
from hotline.cases.models import Case
from hotline.cases.operations import record_event
from hotline.cases.workflow import OPEN_STATUSES
from hotline.deadlines.operations import start_clock
from hotline.extensions import db
from hotline.outbox.relay import handler
from hotline.reference.models import Bureau, Division, Platform, RoutingRule
from hotline.reference.operations import read_pack
from hotline.routing import gazetteer as gz
from hotline.routing.rules import Decision, Facts, Rule, decide
from hotline.types import utcnow

_CACHE_SECONDS = 30.0  # rules and divisions change rarely; an edit takes effect within this time


def _reference() -> tuple[gz.Gazetteer, list[Rule], list[tuple[str, tuple[str, ...], str]]]:
    cache = current_app.extensions.setdefault("hotline_routing_cache", {})
    if cache and time.monotonic() - cache["at"] < _CACHE_SECONDS:
        return cache["value"]
    divisions = [gz.Division(d.code, d.name, d.parent_code, tuple(d.aliases or ()))
                 for d in db.session.scalars(select(Division))]
    city = read_pack(current_app.config["REGION"])["region"]["division_code"]
    rules = [Rule(r.position, r.match, r.value, r.bureau.code, r.bureau.short_name, r.note)
             for r in db.session.scalars(select(RoutingRule).where(RoutingRule.active).order_by(RoutingRule.position))]
    platforms = [(p.name, tuple(p.aliases or ()), p.registered_address) for p in db.session.scalars(select(Platform))]
    value = (gz.Gazetteer(divisions, city), rules, platforms)
    cache.update(at=time.monotonic(), value=value)
    return value


def forget_cached_rules() -> None:
    current_app.extensions.pop("hotline_routing_cache", None)


def _names_platform(name: str | None, platform: str, aliases) -> bool:
    return bool(name) and (name == platform or name in aliases or platform in name)


def facts_of(case: Case, platforms) -> Facts:
    platform_address, seller = None, True
    if case.business_platform:
        name = case.business_platform
        for platform, aliases, address in platforms:
            if _names_platform(name, platform, aliases):
                platform_address = address
                # The business named is the platform operator itself, not a seller on it (art. 13, 31).
                seller = bool(case.business_shop) or not _names_platform(case.business_name, platform, aliases)
                break
    categories = tuple(c for c in (case.category_goods, case.category_service, case.category_issue) if c)
    registration = case.events[0].data if case.events and case.events[0].action == "register" else None
    return Facts(kind=case.kind, address=case.business_address, platform=case.business_platform,
                 platform_address=platform_address, categories=categories,
                 address_unreachable=bool((registration or {}).get("address_unreachable")), seller=seller,
                 rulebook_version=case.rulebook_version)


def decide_for(case: Case) -> Decision:
    gazetteer, rules, platforms = _reference()
    return decide(facts_of(case, platforms), rules, gazetteer)


def _locked_case(case_id: int) -> Case | None:
    query = select(Case).where(Case.id == case_id)
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update()
    return db.session.scalar(query)


def least_busy_handler(bureau_id: int) -> User | None:
    """The bureau's active handler with the fewest open cases (ties: the longest-serving account)."""
    open_count = (select(func.count(Case.id)).where(Case.assignee_id == User.id, Case.status.in_(OPEN_STATUSES))
                  .correlate(User).scalar_subquery())
    return db.session.scalar(select(User).where(User.role == "bureau", User.bureau_id == bureau_id, User.active)
                             .order_by(open_count, User.id).limit(1))


def place_at_bureau(case: Case, bureau: Bureau) -> None:
    case.bureau = bureau
    case.assignee = least_busy_handler(bureau.id)


@handler("route_case")
def route_case(payload: dict) -> str:
    """分派: place a registered case at its bureau, or in triage with the reason. Idempotent: a case
    that is no longer `registered` was routed already and is left alone."""
    case = _locked_case(payload["case_id"])
    if case is None or case.status != "registered":
        return "skipped"
    decision = decide_for(case)
    now = utcnow()
    case.routing_rule, case.routing_reason, case.division_code = decision.rule, decision.reason, decision.division_code
    if decision.bureau_code:
        bureau = db.session.scalar(select(Bureau).where(Bureau.code == decision.bureau_code))
        place_at_bureau(case, bureau)
        case.status = "pending"
    else:
        case.status = "triage"
        start_clock(case, "triage", now)
    record_event(case, "route", None, from_status="registered", to_status=case.status, reason=decision.reason,
                 note=decision.rule, data={"bureau": decision.bureau_code, "rule": decision.rule}, at=now)
    return case.status
