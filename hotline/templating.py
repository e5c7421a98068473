"""Template filters and globals shared by every page."""
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from hotline.cases.numbers import group_case_number
from hotline.deadlines.display import format_due
from hotline.labels import label
from hotline.paging import pager_query
from hotline.routing.rules import parse_label


def local_time(value, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    if isinstance(value, str):  # an ISO time from a serialised detail (the case page's messages)
        value = datetime.fromisoformat(value)
    return value.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).strftime(fmt)


def due_day(value, short: bool = False) -> str:
    """A deadline as its last day: "2026-12-07" (the period ends at 24:00 of that day)."""
    return format_due(value, current_app.config["TIMEZONE"], short=short)


def due_datetime(value) -> str:
    """A deadline with its time: "2026-12-07 24:00"."""
    return format_due(value, current_app.config["TIMEZONE"], with_time=True)


def case_number(number) -> str:
    """A case number grouped for reading aloud: "2026 1125 0004 27". URLs and the API keep the digits."""
    return group_case_number(number)


def category_names(case) -> list[str]:
    """The case's categories by name (goods, service, issue), for people; unknown codes as they are."""
    from hotline.extensions import db
    from hotline.reference.models import Category
    wanted = [(axis, code) for axis, code in (("goods", case.category_goods), ("service", case.category_service),
                                              ("issue", case.category_issue)) if code]
    if not wanted:
        return []
    rows = db.session.execute(select(Category.axis, Category.code, Category.name)
                              .where(Category.code.in_([code for _axis, code in wanted]))).all()
    names = {(axis, code): name for axis, code, name in rows}
    return [names.get(key, key[1]) for key in wanted]


# Why routing left a case to the centre (hotline/routing/rules.py), as staff say it.
_TRIAGE = {
    "triage:platform-unknown": _l("the online platform's registered address is unknown"),
    "triage:no-address": _l("no business address"),
    "triage:outside-city": _l("the business is outside the city"),
    "triage:no-division": _l("the address matches no district"),
    "triage:no-rule": _l("no rule for the district"),
}


def _rule_subject(match: str, value: str) -> str:
    from hotline.extensions import db
    from hotline.reference.models import Category, Division
    if match == "keyword":
        return _("address contains “%(text)s”", text=value)
    if match == "division":
        division = db.session.get(Division, value)
        return division.name if division else value
    if match == "category":
        name = db.session.scalar(select(Category.name).where(Category.code == value).limit(1))
        return _("category “%(name)s”", name=name or value)
    return label(value)


def routing_text(case) -> str:
    """The routing decision in words: "规则 #1010：铁西区 → 铁西分局" (the raw rule is for a tooltip)."""
    rule = case.routing_rule or ""
    parsed = parse_label(rule)
    if parsed:
        position, match, value = parsed
        return _("Rule #%(n)s: %(what)s → %(bureau)s", n=position, what=_rule_subject(match, value),
                 bureau=case.bureau.short_name if case.bureau else "")
    if rule in _TRIAGE:
        return _("Left to the centre: %(why)s", why=_TRIAGE[rule])
    if rule.startswith("manual:"):
        return _("Assigned by the centre")
    return rule


def bureau_text(case) -> str:
    """Who handles the case, or why no bureau does (a consultation answered on the spot needs none)."""
    if case.bureau is not None:
        return case.bureau.name
    if getattr(case, "transferred_to", None):
        return _("Transferred to %(receiver)s", receiver=case.transferred_to)
    if case.status == "closed":
        if case.outcome == "answered":
            return _("Not needed (answered on the spot)")
        return _("Not needed (closed by the centre)")
    if case.status == "triage":
        return _("Waiting for the centre to assign")
    return _("not yet routed")


def consumer_name(case) -> str:
    from flask_login import current_user

    from hotline.cases.serialise import consumer_name as shown_name
    return shown_name(case, current_user) or ""


def register_template_helpers(app: Flask) -> None:
    app.add_template_global(pager_query)
    app.add_template_filter(consumer_name)
    app.add_template_filter(label)
    app.add_template_filter(local_time)
    app.add_template_filter(due_day)
    app.add_template_filter(due_datetime)
    app.add_template_filter(case_number)
    app.add_template_filter(category_names)
    app.add_template_filter(routing_text)
    app.add_template_filter(bureau_text)
    app.add_template_filter(lambda codes: [(c, label(c)) for c in codes], "code_options")
