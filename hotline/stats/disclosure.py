"""投诉公示: the public disclosure of consumer complaint information per business (Order 121 art. 38,
依法公示消费投诉信息), read from `stat_business_month` over the last 12 months. Which businesses are shown is a
rule an administrator keeps: a threshold of complaints and a list of exclusions, each with its reason.

Only complaints count, at the all-bureaus level; declined (不予受理) and withdrawn (撤回) complaints do not count
against a business (`counted`). Nothing about consumers is read here: names, numbers, addresses and case numbers
never reach the public pages (art. 39: personal privacy)."""
import logging
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from hotline.cases.business_keys import LENGTH as KEY_LENGTH
from hotline.cases.business_keys import business_key
from hotline.extensions import db
from hotline.stats import queries
from hotline.stats.models import DisclosureExclusion, DisclosureRule, StatBusinessMonth
from hotline.stats.queries import BusinessRow
from hotline.types import utcnow

audit = logging.getLogger("hotline.audit")
RULE_ID = 1  # one row holds the rule
DEFAULT_THRESHOLD = 5
THRESHOLD_RANGE = (1, 1000)
WINDOW_MONTHS = 12
REASON_LENGTH = 255
_MEASURES = ("received", "counted", "accepted", "mediation_closed", "mediated")


def window(today: date | None = None) -> list[date]:
    """The 12 months ending with the current one (first days, oldest first); today is the local date."""
    month = (today or queries.today()).replace(day=1)
    months = [month]
    for _ in range(WINDOW_MONTHS - 1):
        month = (month - timedelta(days=1)).replace(day=1)
        months.append(month)
    return months[::-1]


def rule() -> DisclosureRule:
    """The rule, created with its defaults (threshold 5, enabled) the first time it is asked for."""
    found = db.session.get(DisclosureRule, RULE_ID)
    if found is None:
        try:
            with db.session.begin_nested():  # two first visitors at once: one row, the other reads it
                found = DisclosureRule(id=RULE_ID, threshold=DEFAULT_THRESHOLD, enabled=True)
                db.session.add(found)
        except IntegrityError:
            found = db.session.get(DisclosureRule, RULE_ID, populate_existing=True)
    return found


@dataclass
class Listing:
    items: list[BusinessRow]
    total: int
    page: int
    per_page: int
    months: list[date] = field(default_factory=list)
    threshold: int = DEFAULT_THRESHOLD
    enabled: bool = True

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _sums():
    m = StatBusinessMonth
    return [func.sum(getattr(m, name)).label(name) for name in _MEASURES]


def _disclosed(months: list[date], threshold: int):
    """Grouped rows of the businesses that pass the rule: enough complaints counted, not excluded."""
    m = StatBusinessMonth
    counted = func.sum(m.counted)
    return (select(m.business_key, func.max(m.business_name).label("name"), *_sums())
            .where(m.month.in_(months), m.bureau_id == 0, m.kind == "complaint",
                   m.business_key.not_in(select(DisclosureExclusion.business_key)))
            .group_by(m.business_key).having(counted >= threshold))


def _search(query, q: str):
    """Name contains `q` (case-insensitive; `%` and `_` are text), or the business key does, so that a
    full-width or spaced spelling and a credit code find the business too."""
    m = StatBusinessMonth
    terms = [func.lower(func.max(m.business_name)).contains(q.lower(), autoescape=True)]
    key = business_key(None, q)
    if key:
        terms.append(func.lower(m.business_key).contains(key[2:], autoescape=True))
    return query.having(or_(*terms))


def _row(row) -> BusinessRow:
    return BusinessRow(row.business_key, row.name or "", *(int(getattr(row, name) or 0) for name in _MEASURES))


def listing(q: str | None = None, page: int = 1, per_page: int = 50, today: date | None = None) -> Listing:
    """The disclosed businesses, most complaints first (then by name), a page at a time."""
    months, current = window(today), rule()
    per_page, page = max(1, per_page), max(1, page)
    result = Listing([], 0, page, per_page, months, current.threshold, current.enabled)
    if not current.enabled:
        return result
    query = _disclosed(months, current.threshold)
    q = (q or "").strip()
    if q:
        query = _search(query, q)
    # The total rides along with the page (a window count over the groups): one pass over the window's rows,
    # not two. Only a page past the end needs the count on its own, to show the last page instead.
    ordered = (query.add_columns(func.count().over().label("total"))
               .order_by(func.sum(StatBusinessMonth.counted).desc(), func.max(StatBusinessMonth.business_name),
                         StatBusinessMonth.business_key))
    rows = db.session.execute(ordered.limit(per_page).offset((page - 1) * per_page)).all()
    if not rows and page > 1:
        result.total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        result.page = min(page, result.pages)
        rows = db.session.execute(ordered.limit(per_page).offset((result.page - 1) * per_page)).all()
    result.total = rows[0].total if rows else 0
    result.items = [_row(row) for row in rows]
    return result


def business(key: str, today: date | None = None) -> BusinessRow | None:
    """One business's figures over the window; None when it is not disclosed (below the threshold,
    excluded, the rule switched off, or no such business)."""
    current = rule()
    if not current.enabled or not key or len(key) > KEY_LENGTH:
        return None
    query = _disclosed(window(today), current.threshold).where(StatBusinessMonth.business_key == key)
    row = db.session.execute(query).first()
    return _row(row) if row is not None else None


def by_month(key: str, today: date | None = None) -> list[tuple[date, int]]:
    """(month, complaints counted) for each month of the window, zeros included."""
    months = window(today)
    m = StatBusinessMonth
    found = dict(db.session.execute(
        select(m.month, m.counted).where(m.month.in_(months), m.bureau_id == 0, m.kind == "complaint",
                                         m.business_key == key)).all())
    return [(month, int(found.get(month) or 0)) for month in months]


def candidates(n: int = 20, today: date | None = None) -> list[BusinessRow]:
    """The businesses with the most complaints counted over the window, disclosed or not: the administrator's
    list to pick exclusions from."""
    months = window(today)
    return queries.top_businesses(months[0], months[-1], None, "complaint", n=n, measure="counted")


def exclusions() -> list[DisclosureExclusion]:
    return list(db.session.scalars(select(DisclosureExclusion).order_by(DisclosureExclusion.created_at.desc(),
                                                                        DisclosureExclusion.business_key)))


# --- the administrator's changes (each one to the audit log) ---------------------------------------------

class DisclosureInputError(ValueError):
    """A field of the administrator's form is wrong: `field` names it, `message` says why."""

    def __init__(self, field: str, message):
        super().__init__(str(message))
        self.field, self.message = field, str(message)


def key_for(text: str) -> str | None:
    """A business key from what an administrator typed: a key itself (`n:...`, `u:...`), an 18-character
    unified social credit code, or a business name."""
    text = (text or "").strip()
    if text[:2] in ("n:", "u:") and len(text) > 2:
        return text[:KEY_LENGTH]
    if len(text) == 18 and text.isascii() and text.isalnum():
        return business_key(text, None)
    return business_key(None, text)


def known_name(key: str) -> str:
    m = StatBusinessMonth
    return db.session.scalar(select(func.max(m.business_name)).where(m.business_key == key, m.bureau_id == 0,
                                                                      m.kind == "")) or ""


def save_rule(threshold: int, enabled: bool, username: str) -> DisclosureRule:
    low, high = THRESHOLD_RANGE
    if not low <= threshold <= high:
        raise DisclosureInputError("threshold", _l("must be a whole number from %(low)s to %(high)s", low=low,
                                                   high=high))
    current = rule()
    before = (current.threshold, current.enabled)
    current.threshold, current.enabled = threshold, enabled
    current.updated_by, current.updated_at = username, utcnow()
    audit.info("disclosure rule set by %s: threshold %s → %s, enabled %s → %s", username, before[0], threshold,
               before[1], enabled)
    return current


def exclude(key: str, reason: str, username: str) -> DisclosureExclusion:
    """Keep a business off the public pages; raises DisclosureInputError for an unusable key or reason, or
    one already excluded."""
    if not key:
        raise DisclosureInputError("business", _l("required"))
    reason = (reason or "").strip()
    if not reason:
        raise DisclosureInputError("reason", _l("required"))
    if len(reason) > REASON_LENGTH:
        raise DisclosureInputError("reason", _l("at most %(limit)s characters", limit=REASON_LENGTH))
    if db.session.get(DisclosureExclusion, key) is not None:
        raise DisclosureInputError("business", _l("this business is excluded already"))
    row = DisclosureExclusion(business_key=key, business_name=known_name(key)[:255], reason=reason,
                              created_by=username, created_at=utcnow())
    db.session.add(row)
    audit.info("disclosure exclusion added by %s: %s (%s), reason: %s", username, key, row.business_name, reason)
    return row


def include(key: str, username: str) -> bool:
    """Lift an exclusion; False when there was none."""
    row = db.session.get(DisclosureExclusion, key)
    if row is None:
        return False
    db.session.delete(row)
    audit.info("disclosure exclusion removed by %s: %s (%s), was: %s", username, key, row.business_name, row.reason)
    return True
