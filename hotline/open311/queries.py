"""GET requests and GET requests/{id}: cases as Open311 service requests.

What the public sees, and why (DESIGN.md §2 personal data; Order 121 arts. 37 and 39):
- never a consumer's or reporter's name, phone, ID number or address, and no actor or internal note;
- `description` is the case's subject, a one-line title the intake form tells people is public, with the
  caller's own name and address, e-mail addresses and long digit runs (phones, ID numbers) masked; the
  full description (the facts, often with personal details) goes only to staff who may see the case;
- `address` is the business's address (the issue's mapping), never the consumer's;
- reports (举报) are not listed to the public at all: art. 37 forbids revealing the handling of a report
  to the business reported or to anyone not handling it, and a public entry "举报 · <address> · 核查中" would
  tell the business it was reported. A staff token (`api_key`, or `Authorization: Bearer`) adds the reports
  that user may see anyway (their bureau's, their station's; all for the centre).
"""
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import joinedload

from hotline.auth.models import User
from hotline.cases import numbers
from hotline.cases.access import can_see, visible_to
from hotline.cases.models import Case, CaseComplainant, CaseEvent
from hotline.deadlines.models import CaseClock
from hotline.extensions import db
from hotline.labels import label
from hotline.open311.render import Open311Error
from hotline.open311.services import Catalog, Service
from hotline.portal.lookup import PUBLIC_ACTIONS, PUBLIC_CLOCKS
from hotline.reference.operations import read_pack

WINDOW = timedelta(days=90)  # the specification's default span, and the widest it allows
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 500  # the specification's own default cap is 1000 per response; we page below it
MAX_PAGE = 10_000
MAX_OFFSET = 100_000
MAX_IDS = 100
MASK = "****"
# Seven or more digits, spaced or not (a phone, an ID number, a bank card): masked in public text. \d
# matches full-width digits too.
_DIGIT_RUN = re.compile(r"\d[\d \-]{5,}\d")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


@dataclass
class Filters:
    ids: list[str] | None  # service_request_id: overrides every other filter
    services: list[Service]
    start: datetime
    end: datetime
    statuses: frozenset[str]
    page: int
    page_size: int


def _arg(args, name: str) -> str | None:
    """An optional argument; empty counts as absent (the specification's rule for optional arguments)."""
    value = (args.get(name) or "").strip()
    return value or None


def _whole_number(args, name: str, default: int, high: int) -> int:
    text = _arg(args, name)
    if text is None:
        return default
    if not (text.isascii() and text.isdigit() and len(text) <= 6) or not 1 <= int(text) <= high:
        raise Open311Error(400, f"{name}: {_l('must be a whole number from %(low)s to %(high)s', low=1, high=high)}")
    return int(text)


def parse_datetime(text: str, tz: str) -> datetime:
    """The w3 format (2010-01-01T00:00:00Z, or with an offset); a bare date or a time without an offset is
    read as local time. ValueError when it is neither."""
    if len(text) > 40:
        raise ValueError(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = datetime.combine(date.fromisoformat(text), time())
    moment = moment.replace(tzinfo=ZoneInfo(tz)) if moment.tzinfo is None else moment
    return moment.astimezone(UTC)  # OverflowError at the ends of the calendar (0001-01-01+08:00)


def _date_range(args, now: datetime, tz: str) -> tuple[datetime, datetime]:
    moments = {}
    for name in ("start_date", "end_date"):
        text = _arg(args, name)
        if text is None:
            continue
        try:
            moments[name] = parse_datetime(text, tz)
        except (ValueError, OverflowError):
            message = _l("not a date and time in the w3 format, e.g. 2026-11-01T00:00:00+08:00")
            raise Open311Error(400, f"{name}: {message}") from None
    start, end = moments.get("start_date"), moments.get("end_date")
    try:
        if start is None and end is None:
            return now - WINDOW, now
        if start is None:
            return end - WINDOW, end
        if end is None:
            return start, start + WINDOW
    except OverflowError:
        raise Open311Error(400, f"start_date, end_date: {_l('out of range')}") from None
    if end < start:
        raise Open311Error(400, f"end_date: {_l('is before start_date')}")
    if end - start > WINDOW:
        raise Open311Error(400, f"end_date: {_l('the range may not span more than 90 days')}")
    return start, end


def parse_filters(args, catalog: Catalog, now: datetime, tz: str) -> Filters:
    """GET requests' arguments, checked; Open311Error (400) names the argument that is wrong."""
    ids = None
    if (text := _arg(args, "service_request_id")) is not None:
        ids = [numbers.normalise_case_number(part) for part in text.split(",") if part.strip()]
        if len(ids) > MAX_IDS:
            raise Open311Error(400, f"service_request_id: {_l('at most %(count)s at once', count=MAX_IDS)}")
    services = []
    for code in (c.strip() for c in (_arg(args, "service_code") or "").split(",") if c.strip()):
        service = catalog.service(code)
        if service is None:
            raise Open311Error(400, f"service_code: {_l('no such service')}: {code[:64]}")
        services.append(service)
    statuses = frozenset(s.strip() for s in (_arg(args, "status") or "").split(",") if s.strip())
    if statuses - {"open", "closed"}:
        raise Open311Error(400, f"status: {_l('open or closed, or both separated by a comma')}")
    start, end = _date_range(args, now, tz)
    page, page_size = _whole_number(args, "page", 1, MAX_PAGE), _whole_number(args, "page_size", DEFAULT_PAGE_SIZE,
                                                                              MAX_PAGE_SIZE)
    if (page - 1) * page_size > MAX_OFFSET:  # an offset is read and skipped row by row: bound the work
        raise Open311Error(400, f"page: {_l('too deep: narrow start_date and end_date instead')}")
    return Filters(ids, services, start, end, statuses, page, page_size)


def listed_to(user: User | None):
    """Which cases a reader gets: everything but reports, plus the reports a staff user may see."""
    if user is None:
        return Case.kind != "report"
    return or_(Case.kind != "report", and_(Case.kind == "report", visible_to(user)))


def _service_condition(service: Service):
    """Cases whose service (Catalog.service_of_case) is this one: the goods axis first, then the service axis."""
    kind = Case.kind == service.kind
    if service.top is None:
        return and_(kind, Case.category_goods.is_(None), Case.category_service.is_(None))
    codes = [service.top.code, *(code for code, _ in service.top.children)]
    if service.top.axis == "goods":
        return and_(kind, Case.category_goods.in_(codes))
    return and_(kind, Case.category_goods.is_(None), Case.category_service.in_(codes))


def _base_query(user: User | None):
    # The last public event (what the consumer's look-up shows changing) and the earliest running public
    # clock (not paused: a suspended mediation has no date to expect), per case, in the same statement.
    updated = (select(func.max(CaseEvent.at)).where(CaseEvent.case_id == Case.id, CaseEvent.action.in_(PUBLIC_ACTIONS))
               .correlate(Case).scalar_subquery())
    expected = (select(func.min(CaseClock.due_at))
                .where(CaseClock.case_id == Case.id, CaseClock.met_at.is_(None), CaseClock.paused_at.is_(None),
                       CaseClock.clock.in_(PUBLIC_CLOCKS))
                .correlate(Case).scalar_subquery())
    return select(Case, updated, expected).options(joinedload(Case.bureau)).where(listed_to(user))


def find_requests(user: User | None, filters: Filters, catalog: Catalog) -> list[dict]:
    query = _base_query(user)
    if filters.ids is not None:
        query = query.where(Case.number.in_(filters.ids or [""]))
    else:
        query = query.where(Case.received_at >= filters.start, Case.received_at <= filters.end)
        if filters.statuses == {"open"}:
            query = query.where(Case.status != "closed")
        elif filters.statuses == {"closed"}:
            query = query.where(Case.status == "closed")
        if filters.services:
            query = query.where(or_(*(_service_condition(s) for s in filters.services)))
        query = query.limit(filters.page_size).offset((filters.page - 1) * filters.page_size)
    rows = db.session.execute(query.order_by(Case.received_at.desc(), Case.id.desc())).all()
    return _as_requests(rows, catalog, user)


def find_request(user: User | None, number: str, catalog: Catalog) -> dict | None:
    number = numbers.normalise_case_number(number)
    if not numbers.is_valid_case_number(number):
        return None
    rows = db.session.execute(_base_query(user).where(Case.number == number)).all()
    found = _as_requests(rows, catalog, user)
    return found[0] if found else None


def _as_requests(rows, catalog: Catalog, user: User | None) -> list[dict]:
    if not rows:
        return []
    # Joint complaints (art. 12): the further complainants' names are masked in public text too.
    others: dict[int, list[str]] = {}
    for case_id, name in db.session.execute(select(CaseComplainant.case_id, CaseComplainant.name)
                                            .where(CaseComplainant.case_id.in_([row[0].id for row in rows]))):
        if name:
            others.setdefault(case_id, []).append(name)
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    centre = centre_name(current_app.config["REGION"])
    return [request_json(case, updated, expected, catalog, zone, centre, others.get(case.id, []),
                         full=user is not None and can_see(user, case))
            for case, updated, expected in rows]


@lru_cache(maxsize=8)
def centre_name(region: str) -> str:
    """The centre (指挥中心) handles what no bureau has yet: the region pack names it."""
    return read_pack(region)["region"].get("centre_name") or str(_l("12315 centre"))


def _w3(moment: datetime | None, zone: ZoneInfo) -> str | None:
    return None if moment is None else moment.astimezone(zone).isoformat(timespec="seconds")


def _w3_deadline(due: datetime | None, zone: ZoneInfo) -> str | None:
    """A period ends at 24:00 local time on its last day (art. 45), stored as the next midnight; shown as
    23:59:59 of the last day, so a client that shows only the date shows the right one."""
    if due is None:
        return None
    local = due.astimezone(zone)
    if local.time() == time():
        local -= timedelta(seconds=1)
    return local.isoformat(timespec="seconds")


def status_notes(case: Case) -> str:
    """The detailed status in words: 待受理, 调解中 ..., and how a closed case ended."""
    if case.status == "closed" and case.outcome:
        return str(_l("%(status)s (%(outcome)s)", status=label("closed"), outcome=label(case.outcome)))
    return label(case.status)


def public_text(text: str | None, people: list[str]) -> str | None:
    """A text for the public list, with the people's own names and addresses, e-mail addresses and long
    digit runs masked (best effort: the intake form also asks for no personal data in the subject)."""
    if not text:
        return text
    for secret in sorted((p for p in people if p and len(p) >= 2), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return _DIGIT_RUN.sub(MASK, _EMAIL.sub(MASK, text))


def request_json(case: Case, updated: datetime | None, expected: datetime | None, catalog: Catalog,
                 zone: ZoneInfo, centre: str, complainants: list[str] = (), full: bool = False) -> dict:
    """One <request>, in the specification's field order; lat/long, address_id, zipcode and media_url are
    left out (no column keeps them). `full`: the reader is staff who may see this case anyway (the JSON
    API shows them all of it), so `description` is the case's own, as the specification means it."""
    service = catalog.service_of_case(case.kind, case.category_goods, case.category_service)
    closed = case.status == "closed"
    at_bureau = case.bureau is not None and case.status not in ("registered", "triage")
    last_change = case.closed_at if closed and case.closed_at else max(filter(None, (updated, case.registered_at)))
    people = [case.consumer_name, case.consumer_address, *complainants]
    return {
        "service_request_id": case.number,
        "status": "closed" if closed else "open",
        "status_notes": status_notes(case),
        "service_name": service.name,
        "service_code": service.code,
        "description": (case.description or case.subject) if full else public_text(case.subject, people),
        "agency_responsible": case.bureau.name if at_bureau else centre,
        "service_notice": None,
        "requested_datetime": _w3(case.received_at, zone),
        "updated_datetime": _w3(last_change, zone),
        "expected_datetime": None if closed else _w3_deadline(expected, zone),
        "address": case.business_address,
    }
