"""Template filters and globals shared by every page."""
from zoneinfo import ZoneInfo

from flask import Flask, current_app

from hotline.deadlines.display import format_due
from hotline.labels import label


def local_time(value, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).strftime(fmt)


def due_day(value, short: bool = False) -> str:
    """A deadline as its last day: "2026-12-07" (the period ends at 24:00 of that day)."""
    return format_due(value, current_app.config["TIMEZONE"], short=short)


def due_datetime(value) -> str:
    """A deadline with its time: "2026-12-07 24:00"."""
    return format_due(value, current_app.config["TIMEZONE"], with_time=True)


def consumer_name(case) -> str:
    from flask_login import current_user

    from hotline.cases.serialise import consumer_name as shown_name
    return shown_name(case, current_user) or ""


def register_template_helpers(app: Flask) -> None:
    app.add_template_filter(consumer_name)
    app.add_template_filter(label)
    app.add_template_filter(local_time)
    app.add_template_filter(due_day)
    app.add_template_filter(due_datetime)
    app.add_template_filter(lambda codes: [(c, label(c)) for c in codes], "code_options")
    app.add_template_filter(
        lambda rows: [(c.code, ("　" if c.parent_code else "") + c.name) for c in rows], "category_options")
