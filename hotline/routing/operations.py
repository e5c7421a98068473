"""Routing a case to its bureau (the `route_case` outbox job) and assigning it to a handler.

The job is the worker's hot path (issue #13): it reads the case (with its registration's data) in one
locked SELECT, and writes the case's new state, its `route` event and the statistics' mark in three plain
statements built once (route_case). The reference data it needs
(divisions, rules, platforms, bureaus) is cached per process and dropped when an administrator changes
it (hotline/reference/cache.py), and handlers' open-case counts are kept briefly (least_busy_handler_id)."""
import threading
import time
from typing import NamedTuple

from flask import current_app, has_app_context
from sqlalchemy import bindparam, event, func, insert, inspect, select, update
from sqlalchemy.orm import Session

from hotline.auth.models import User
from hotline.cases.models import Case, CaseEvent
from hotline.cases.operations import actor_label
from hotline.cases.workflow import OPEN_STATUSES
from hotline.deadlines.operations import start_clock
from hotline.extensions import db
from hotline.outbox.relay import handler
from hotline.reference.cache import cached, forget
from hotline.reference.models import Bureau, Division, Platform, RoutingRule
from hotline.reference.operations import read_pack
from hotline.routing import gazetteer as gz
from hotline.routing.rules import Decision, Facts, Rule, decide
from hotline.stats.refresh import mark_dirty
from hotline.types import utcnow

# Handlers' open-case counts are reused this long (plus this process's own assignments meanwhile).
HANDLER_COUNTS_SECONDS = 5.0
_CACHE = "hotline_routing_cache"  # app.extensions: this process's handler counts per bureau
_counts_lock = threading.Lock()
_FROM_EVENTS = object()


class Reference(NamedTuple):
    gazetteer: gz.Gazetteer
    rules: list[Rule]
    platforms: list[tuple[str, tuple[str, ...], str]]
    bureaus: dict[str, int]  # code → id


def _load_reference() -> Reference:
    divisions = [gz.Division(d.code, d.name, d.parent_code, tuple(d.aliases or ()))
                 for d in db.session.scalars(select(Division))]
    city = read_pack(current_app.config["REGION"])["region"]["division_code"]
    rules = [Rule(r.position, r.match, r.value, r.bureau.code, r.bureau.short_name, r.note)
             for r in db.session.scalars(select(RoutingRule).where(RoutingRule.active).order_by(RoutingRule.position))]
    platforms = [(p.name, tuple(p.aliases or ()), p.registered_address) for p in db.session.scalars(select(Platform))]
    bureaus = dict(db.session.execute(select(Bureau.code, Bureau.id)).all())
    return Reference(gz.Gazetteer(divisions, city), rules, platforms, bureaus)


def _reference() -> Reference:
    return cached("routing", _load_reference)


def forget_cached_rules() -> None:
    forget()  # the commit of an edit drops the copies anyway; this makes the edit's own page see it at once


def _names_platform(name: str | None, platform: str, aliases) -> bool:
    return bool(name) and (name == platform or name in aliases or platform in name)


def facts_of(case: Case, platforms, registration=_FROM_EVENTS) -> Facts:
    """The facts routing reads. `registration` is the data of the case's `register` event (read with the
    case by the job); by default it is taken from `case.events`."""
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
    if registration is _FROM_EVENTS:
        registration = case.events[0].data if case.events and case.events[0].action == "register" else None
    return Facts(kind=case.kind, address=case.business_address, platform=case.business_platform,
                 platform_address=platform_address, categories=categories,
                 address_unreachable=bool((registration or {}).get("address_unreachable")), seller=seller,
                 rulebook_version=case.rulebook_version)


def decide_for(case: Case, registration=_FROM_EVENTS) -> Decision:
    reference = _reference()
    return decide(facts_of(case, reference.platforms, registration), reference.rules, reference.gazetteer)


# The job's statements, built once (building one costs more than sending it).
_CASE, _EVENT = Case.__table__, CaseEvent.__table__
# What routing reads of a case, and the data of its registration event (an unreachable seller's address,
# DESIGN.md §2), in one statement.
_REGISTRATION = (select(_EVENT.c.data).where(_EVENT.c.case_id == _CASE.c.id, _EVENT.c.action == "register")
                 .order_by(_EVENT.c.id).limit(1).scalar_subquery().label("registration"))
_ROUTING_FACTS = select(
    _CASE.c.id, _CASE.c.status, _CASE.c.kind, _CASE.c.received_at, _CASE.c.rulebook_version, _CASE.c.business_name,
    _CASE.c.business_address, _CASE.c.business_platform, _CASE.c.business_shop, _CASE.c.category_goods,
    _CASE.c.category_service, _CASE.c.category_issue, _REGISTRATION).where(_CASE.c.id == bindparam("case_id"))
_ROUTING_FACTS_LOCKED = _ROUTING_FACTS.with_for_update(of=_CASE)
# The new state, only while the case is still registered; the version is bumped as for every change of a
# case, so a page showing the old state gets 409.
_ROUTED = {with_bureau: update(_CASE).where(_CASE.c.id == bindparam("case_id"), _CASE.c.status == "registered").values(
    status=bindparam("new_status"), routing_rule=bindparam("rule"), routing_reason=bindparam("reason"),
    division_code=bindparam("division"), version=_CASE.c.version + 1,
    **({"bureau_id": bindparam("bureau"), "assignee_id": bindparam("assignee")} if with_bureau else {}))
    for with_bureau in (True, False)}
_ROUTE_EVENT = insert(_EVENT)


def _locked_case(case_id: int):
    """The case's routing facts, its row locked on PostgreSQL until commit; None if there is no such case."""
    query = _ROUTING_FACTS_LOCKED if db.engine.dialect.name == "postgresql" else _ROUTING_FACTS
    return db.session.connection().execute(query, {"case_id": case_id}).first()


def least_busy_handler_id(bureau_id: int) -> int | None:
    """The bureau's active handler with the fewest open cases (ties: the longest-serving account).

    The counts come from one grouped query per bureau (an index-only count on ix_case_assignee_status),
    reused for HANDLER_COUNTS_SECONDS with this process's own assignments added as it makes them. So
    within one process the choice is exact; another process's assignments and closings are seen within
    that time. Counting every handler's open cases for every case cost the worker 9 % of its time (issue
    #13), and what the rule is for, an even spread of new cases, holds either way (docs/decisions.md)."""
    cache = current_app.extensions.setdefault(_CACHE, {})
    key = ("handlers", bureau_id)
    entry = cache.get(key)
    now = time.monotonic()
    if entry is None or now - entry[0] >= HANDLER_COUNTS_SECONDS:
        open_cases = (Case.assignee_id == User.id) & Case.status.in_(OPEN_STATUSES)
        counts = dict(db.session.execute(
            select(User.id, func.count(Case.id)).outerjoin(Case, open_cases)
            .where(User.role == "bureau", User.bureau_id == bureau_id, User.active).group_by(User.id)).all())
        entry = cache[key] = (now, counts)
    with _counts_lock:
        counts = entry[1]
        if not counts:
            return None
        chosen = min(counts, key=lambda user_id: (counts[user_id], user_id))
        counts[chosen] += 1
    return chosen


def least_busy_handler(bureau_id: int) -> User | None:
    handler_id = least_busy_handler_id(bureau_id)
    return db.session.get(User, handler_id) if handler_id is not None else None


def place_at_bureau(case: Case, bureau: Bureau) -> None:
    case.bureau = bureau
    case.assignee = least_busy_handler(bureau.id)


@event.listens_for(Session, "after_flush")
def _forget_handler_counts(session: Session, _context) -> None:
    # A handler added, moved, (de)activated or removed in this process: count afresh (others: within
    # HANDLER_COUNTS_SECONDS).
    for user in (*session.new, *session.dirty, *session.deleted):
        if isinstance(user, User) and (user in session.new or user in session.deleted or any(
                inspect(user).attrs[name].history.has_changes() for name in ("role", "bureau_id", "active"))):
            if has_app_context():
                current_app.extensions.pop(_CACHE, None)
            return


@handler("route_case")
def route_case(payload: dict) -> str:
    """分派: place a registered case at its bureau, or in triage with the reason. Idempotent: a case
    that is no longer `registered` was routed already and is left alone.

    The worker's hot path, in plain SQL statements rather than ORM flushes (a fifth of the CPU per case,
    issue #13): the case's new state in one UPDATE (its version bumped, as every change of a case does,
    so a page showing the old state gets 409), the `route` event as `record_event` would write it, and
    the mark for the statistics' recount."""
    case = _locked_case(payload["case_id"])
    if case is None or case.status != "registered":
        return "skipped"
    decision = decide_for(case, case.registration)
    now = utcnow()
    bureau_id = _reference().bureaus.get(decision.bureau_code) if decision.bureau_code else None
    status = "pending" if bureau_id is not None else "triage"
    params = {"case_id": case.id, "new_status": status, "rule": decision.rule, "reason": decision.reason,
              "division": decision.division_code}
    if bureau_id is not None:
        params.update(bureau=bureau_id, assignee=least_busy_handler_id(bureau_id))
    connection = db.session.connection()
    if connection.execute(_ROUTED[bureau_id is not None], params).rowcount != 1:
        return "skipped"
    connection.execute(_ROUTE_EVENT, {
        "case_id": case.id, "at": now, "actor_id": None, "actor_label": actor_label(None), "action": "route",
        "from_status": "registered", "to_status": status, "reason": decision.reason, "note": decision.rule,
        "data": {"bureau": decision.bureau_code, "rule": decision.rule}})
    if status == "triage":
        start_clock(case, "triage", now)  # its flush marks the case for the recount (hotline/stats/refresh.py)
    else:
        mark_dirty([case.id])
    return status
