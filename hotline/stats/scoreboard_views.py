"""The bureau scoreboard page and its export (supervisors and administrators see every bureau; bureau staff see
their own row and the rules of the tiers)."""
import re
from datetime import date, timedelta

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from hotline.auth.views import roles_required
from hotline.stats import queries
from hotline.stats.export import send_table
from hotline.stats.scoreboard import BureauScore, scoreboard, thresholds

bp = Blueprint("scoreboard", __name__, url_prefix="/stats/scoreboard")
VIEWERS = ("supervisor", "admin", "bureau")
_MONTH = re.compile(r"([0-9]{4})-([0-9]{1,2})")
FIRST_YEAR = 2000


class BadMonth(ValueError):
    pass


def previous_month(today: date) -> date:
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def parse_month(value: str | None, today: date) -> date:
    """`YYYY-MM` (a month that has begun), or the previous month when absent."""
    value = (value or "").strip()
    if not value:
        return previous_month(today)
    match = _MONTH.fullmatch(value)
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < FIRST_YEAR:
        example = previous_month(today).strftime("%Y-%m")
        raise BadMonth(_("Give the month as YYYY-MM, e.g. %(example)s.", example=example))
    month = date(int(match.group(1)), int(match.group(2)), 1)
    if month > today:
        raise BadMonth(_("%(month)s has not begun yet.", month=value))
    return month


def visible_rows(month: date) -> list[BureauScore]:
    """The month's rows this user may see: all of them, or a bureau's own."""
    rows = scoreboard(month)
    if current_user.role == "bureau":
        rows = [row for row in rows if row.bureau_id == current_user.bureau_id]
    return rows


def _page(month: date | None, rows: list[BureauScore], error: str | None = None, status: int = 200):
    today = queries.today()
    shown = month or previous_month(today)
    following = queries.next_month(shown)
    return render_template(
        "stats/scoreboard.html", month=shown, rows=rows, error=error, rules=thresholds(),
        value="" if error else shown.strftime("%Y-%m"),  # a month input cannot hold what was wrong
        previous=previous_month(shown).strftime("%Y-%m"),
        following=following.strftime("%Y-%m") if following <= today else None,
        own_only=current_user.role == "bureau"), status


@bp.get("/")
@roles_required(*VIEWERS)
def index():
    try:
        month = parse_month(request.args.get("month"), queries.today())
    except BadMonth as exc:
        return _page(None, [], str(exc), 400)
    return _page(month, visible_rows(month))


def _percent(rate: float | None) -> float | None:
    return round(rate * 100, 1) if rate is not None else None


def export_header() -> list[str]:
    return [_("Bureau code"), _("Bureau"), _("Received in the month"), _("Returned to the centre"),
            _("Return rate (%)"), _("Decisions"), _("Decided on time"), _("On-time decision rate (%)"),
            _("Closed with a deadline"), _("Closed on time"), _("On-time closure rate (%)"), _("Ratings"),
            _("Satisfied (4–5)"), _("Satisfaction (%)"), _("Mean rating"), _("Extensions asked"), _("Tier")]


def export_row(row: BureauScore) -> list:
    return [row.code, row.name, row.received, row.returned, _percent(row.return_rate), row.decided,
            row.decided_on_time, _percent(row.decided_on_time_rate), row.closed_timed, row.closed_on_time,
            _percent(row.closed_on_time_rate), row.rated, row.satisfied, _percent(row.satisfaction),
            round(row.mean_rating, 2) if row.mean_rating is not None else None, row.extensions, row.tier_label]


@bp.get("/export.<fmt>")
@roles_required(*VIEWERS)
def export(fmt: str):
    if fmt not in ("csv", "xlsx"):
        abort(404)
    try:
        month = parse_month(request.args.get("month"), queries.today())
    except BadMonth as exc:
        return _page(None, [], str(exc), 400)
    rows = visible_rows(month)
    return send_table(fmt, f"scoreboard-{month:%Y-%m}", export_header(), [export_row(row) for row in rows],
                      sheet=month.strftime("%Y-%m"))
