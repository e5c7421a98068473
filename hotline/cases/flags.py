"""Art. 17 factors (Order 121) shown to the handler as flags, each with the cases behind it. A flag is for
a person to weigh when judging whether a complaint is for living consumption (art. 16(3)); it never
declines anything by itself.

- repeat: one complainant (the same phone, or the same name with the same ID-number tail) filed at least
  `FLAG_REPEAT_MIN` complaints against one business, or about one kind of problem, within
  `FLAG_WINDOW_DAYS` days (art. 17(2));
- shared contact: one phone, or one address, used by complainants of different names (art. 17(4));
- bulk quantity: the text names a quantity out of line with normal use, such as "购买50箱" (art. 17(1)).

Cheap by construction: two indexed look-ups (complaints with the same phone, complaints against the
same credit code), a bounded number of rows each, and the rest in Python. An address is therefore
compared only among those rows (there is no index on the consumer's address)."""
import re
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from hotline.auth.models import User
from hotline.cases.access import can_see
from hotline.cases.models import Case
from hotline.extensions import db

# Defaults, each overridable in the app config under the same name.
FLAG_REPEAT_MIN = 3  # this complaint and two more by the same person
FLAG_WINDOW_DAYS = 90
FLAG_CANDIDATES = 500  # rows read per look-up, newest first: a bound on the cost, not a rule
# A quantity at or above this, for goods counted in this unit, is out of line with a household's use.
FLAG_BULK_UNITS = {"箱": 10, "提": 10, "桶": 10, "件": 20, "盒": 30, "瓶": 30, "罐": 30, "袋": 30, "包": 30,
                   "支": 30, "个": 30, "只": 30, "双": 10, "套": 10, "台": 5, "部": 5, "斤": 100, "公斤": 50,
                   "千克": 50}
SEES_FLAGS = frozenset({"bureau", "supervisor", "admin"})

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}
# A number (digits, or Chinese numerals up to 万) followed by a counting word; "个" followed by 月/小时/人 etc.
# counts time or people, not goods.
_QUANTITY = re.compile(r"(\d+|[零〇一二两三四五六七八九十百千万]+)\s*"
                       r"(公斤|千克|箱|提|桶|件|盒|瓶|罐|袋|包|支|个|只|双|套|台|部|斤)"
                       r"(?!月|小时|工作日|人|星期|多月)")


def chinese_number(text: str) -> int | None:
    """二十 → 20, 一百五十 → 150, 50 → 50; None for what is not a plain number."""
    if text.isdigit():
        return int(text)
    total, digit = 0, None
    for char in text:
        if char in _DIGITS:
            digit = _DIGITS[char]
        elif char in _UNITS:
            total += (1 if digit is None else digit) * _UNITS[char]
            digit = None
        else:
            return None
    return total + (digit or 0)


def bulk_quantities(text: str | None, units: dict[str, int] | None = None) -> list[str]:
    """The phrases of a text that name a quantity at or above its unit's threshold ("50箱")."""
    units = FLAG_BULK_UNITS if units is None else units
    found = []
    for match in _QUANTITY.finditer(text or ""):
        number, unit = chinese_number(match.group(1)), match.group(2)
        if number is not None and unit in units and number >= units[unit]:
            found.append(match.group(0).strip())
    return found


@dataclass
class Flag:
    code: str  # repeat_business | repeat_issue | shared_phone | shared_address | bulk_quantity
    factor: str  # the article that names the factor
    message: str
    cases: list[str] = field(default_factory=list)  # the other cases behind it, newest first
    visible: set[str] = field(default_factory=set)  # those the viewer may open: the page links these


def _norm(value: str | None) -> str:
    return re.sub(r"\s+", "", value or "").lower()


def _same_person(case, other) -> bool:
    """The same phone under the same name (or no name), or the same name with the same ID-number tail. One
    phone under different names is art. 17(4)'s factor, flagged on its own."""
    names = {_norm(case.consumer_name), _norm(other.consumer_name)} - {""}
    if case.consumer_phone and other.consumer_phone == case.consumer_phone and len(names) <= 1:
        return True
    return bool(case.consumer_id_number_tail and case.consumer_name
                and other.consumer_id_number_tail == case.consumer_id_number_tail
                and _norm(other.consumer_name) == _norm(case.consumer_name))


def _same_business(case, other) -> bool:
    if case.business_uscc and other.business_uscc:
        return case.business_uscc == other.business_uscc
    return bool(_norm(case.business_name)) and _norm(other.business_name) == _norm(case.business_name)


def _config(name: str, default):
    return current_app.config.get(name, default)


def _candidates(case: Case) -> list[Case]:
    """Other complaints with this case's phone or against its credit code, newest first (indexed look-ups)."""
    limit = _config("FLAG_CANDIDATES", FLAG_CANDIDATES)
    rows: dict[int, Case] = {}
    for column, value in ((Case.consumer_phone, case.consumer_phone), (Case.business_uscc, case.business_uscc)):
        if not value:
            continue
        query = (select(Case).where(column == value, Case.kind == "complaint", Case.id != case.id)
                 .order_by(Case.id.desc()).limit(limit))
        rows.update((row.id, row) for row in db.session.scalars(query))
    return sorted(rows.values(), key=lambda row: row.id, reverse=True)


def compute_flags(case: Case, candidates: list[Case], *, minimum: int = FLAG_REPEAT_MIN,
                  window_days: int = FLAG_WINDOW_DAYS, units: dict[str, int] | None = None) -> list[Flag]:
    """The flags of a complaint given the other complaints that may share a person, phone or business.
    Pure apart from the translations: tested without a database."""
    window = timedelta(days=window_days)
    near = [other for other in candidates if abs(other.received_at - case.received_at) <= window]
    flags = []
    mine = [other for other in near if _same_person(case, other)]
    same_business = [other.number for other in mine if _same_business(case, other)]
    if len(same_business) + 1 >= minimum:
        flags.append(Flag("repeat_business", "总局令第121号第17条第（二）项", str(_l(
            "The same complainant filed %(count)s complaints against this business within %(days)s days",
            count=len(same_business) + 1, days=window_days)), same_business))
    same_issue = [other.number for other in mine if case.category_issue and other.category_issue == case.category_issue]
    if len(same_issue) + 1 >= minimum and set(same_issue) != set(same_business):
        flags.append(Flag("repeat_issue", "总局令第121号第17条第（二）项", str(_l(
            "The same complainant filed %(count)s complaints about the same kind of problem within %(days)s days",
            count=len(same_issue) + 1, days=window_days)), same_issue))
    name = _norm(case.consumer_name)
    for code, attribute, message in (
            ("shared_phone", "consumer_phone",
             _l("This phone number was used by %(count)s complainants of different names")),
            ("shared_address", "consumer_address",
             _l("This address was used by %(count)s complainants of different names"))):
        value = _norm(getattr(case, attribute))
        if not value or not name:
            continue
        others = [other for other in near if _norm(getattr(other, attribute)) == value
                  and _norm(other.consumer_name) and _norm(other.consumer_name) != name]
        if others:
            count = len({_norm(other.consumer_name) for other in others} | {name})
            flags.append(Flag(code, "总局令第121号第17条第（四）项", str(message % {"count": count}),
                              [other.number for other in others]))
    phrases = []
    for text in (case.subject, case.description, case.demand):
        phrases += [p for p in bulk_quantities(text, units) if p not in phrases]
    if phrases:
        flags.append(Flag("bulk_quantity", "总局令第121号第17条第（一）项", str(_l(
            "Quantity out of line with normal use: %(phrases)s", phrases="、".join(phrases))), []))
    return flags


def flags_for(case: Case, viewer: User | None) -> list[Flag] | None:
    """The flags of a complaint for this viewer: None for a viewer who does not judge complaints (the
    operator, a station) and for cases other than complaints."""
    if case.kind != "complaint" or viewer is None or viewer.role not in SEES_FLAGS:
        return None
    candidates = _candidates(case)
    flags = compute_flags(case, candidates, minimum=_config("FLAG_REPEAT_MIN", FLAG_REPEAT_MIN),
                          window_days=_config("FLAG_WINDOW_DAYS", FLAG_WINDOW_DAYS),
                          units=_config("FLAG_BULK_UNITS", FLAG_BULK_UNITS))
    visible = {row.number for row in candidates if can_see(viewer, row)}
    for flag in flags:
        flag.visible = visible.intersection(flag.cases)
    return flags


def flags_json(flags: list[Flag]) -> list[dict]:
    return [{"code": f.code, "factor": f.factor, "message": f.message, "cases": f.cases} for f in flags]

