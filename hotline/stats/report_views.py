"""The report pages (Order 121 art. 38: published statistical reports): the monthly report with its tables
as CSV and XLSX, and the yearly report as a printable document (or its MD and CSV text). Supervisors and
administrators see the whole city; bureau staff see their own bureau's figures."""
import re
import secrets
from datetime import date

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from hotline.auth.views import roles_required
from hotline.security import CSP
from hotline.stats import queries, reports
from hotline.stats.export import send_table
from hotline.stats.report_render import Document, Section, cell_text, month_name, month_tables, render_year

bp = Blueprint("reports", __name__, url_prefix="/stats/reports")
READERS = ("supervisor", "admin", "bureau")
MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
EXPORTS = ("csv", "xlsx")
YEAR_FORMATS = {"md": "text/markdown", "csv": "text/csv"}  # Werkzeug adds the charset


def _scope() -> int | None:
    """The bureau whose figures the user sees; None: the whole city."""
    if current_user.role != "bureau":
        return None
    if current_user.bureau_id is None:
        abort(403)
    return current_user.bureau_id


def _month(raw: str | None) -> date:
    """YYYY-MM; missing: the previous month. Raises ValueError on anything else."""
    if not raw:
        return reports.previous_month(queries.month_start(queries.today()))
    match = MONTH.match(raw.strip())
    if not match:
        raise ValueError(raw)
    year, month = int(match[1]), int(match[2])
    if not (reports.FIRST_YEAR <= year <= reports.LAST_YEAR and 1 <= month <= 12):
        raise ValueError(raw)
    return date(year, month, 1)


def _step(month: date, months: int) -> str | None:
    target = queries.next_month(month) if months > 0 else reports.previous_month(month)
    return f"{target:%Y-%m}" if reports.FIRST_YEAR <= target.year <= reports.LAST_YEAR else None


@bp.get("/monthly")
@roles_required(*READERS)
def monthly():
    scope = _scope()
    try:
        month = _month(request.args.get("month"))
    except ValueError:
        return render_template("stats/report_monthly.html", report=None, tables={}, month_value="",
                               error=_("Give the month as YYYY-MM, e.g. 2026-10.")), 400
    report = reports.monthly(month, scope)
    return render_template("stats/report_monthly.html", report=report, tables=month_tables(report),
                           month_value=f"{month:%Y-%m}", earlier=_step(month, -1), later=_step(month, 1),
                           month_label=month_name(month), cell_text=cell_text, error=None)


@bp.get("/monthly/<table>.<fmt>")
@roles_required(*READERS)
def monthly_export(table: str, fmt: str):
    scope = _scope()
    if fmt not in EXPORTS:
        abort(404)
    try:
        month = _month(request.args.get("month"))
    except ValueError:
        abort(400)
    tables = month_tables(reports.monthly(month, scope))
    if table not in tables:
        abort(404)
    found = tables[table]
    return send_table(fmt, f"hotline-{table}-{month:%Y-%m}", found.header, found.rows, sheet=found.title)


@bp.get("/year")
@roles_required(*READERS)
def year():
    scope = _scope()
    raw, fmt = request.args.get("year", "").strip(), request.args.get("format", "html")
    lang = "en" if str(get_locale()) == "en" else "zh-CN"
    try:
        number = int(raw) if raw else queries.today().year
        reports.check_year(number)
    except ValueError:
        return _year_page(None, lang, error=_("Give the year as four digits, from %(first)s to %(last)s.",
                                               first=reports.FIRST_YEAR, last=reports.LAST_YEAR)), 400
    if fmt not in (*YEAR_FORMATS, "html"):
        abort(400)
    report = reports.yearly(number, scope)
    if fmt in YEAR_FORMATS:
        response = Response(render_year(report, fmt), mimetype=YEAR_FORMATS[fmt])
        response.headers["Content-Disposition"] = f'attachment; filename="hotline-report-{number}.{fmt}"'
        return response
    return _year_page(report, lang)


def _year_page(report, lang: str, error: str | None = None) -> Response:
    """The standalone document, its inline style allowed by a nonce (the app's CSP allows no inline style)."""
    nonce = secrets.token_urlsafe(16)
    number = report.year if report else queries.today().year
    links = {"back": url_for("reports.monthly"), "action": url_for("reports.year"), "year": number,
             "icon": url_for("static", filename="favicon.svg"),
             "min_year": reports.FIRST_YEAR, "max_year": reports.LAST_YEAR,
             "md": url_for("reports.year", year=number, format="md"),
             "csv": url_for("reports.year", year=number, format="csv")}
    if report is None:
        doc = Document(_("Yearly report"), [], [Section(_("The report could not be made"), paragraphs=[error])])
        html = render_template("stats/report_year.html", doc=doc, cell_text=cell_text, nonce=nonce, links=links,
                               lang=lang)
    else:
        html = render_year(report, "html", nonce=nonce, links=links, lang=lang)
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = CSP.replace("style-src 'self'", f"style-src 'self' 'nonce-{nonce}'")
    return response
