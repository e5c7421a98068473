"""The supervisors' dashboard (Order 121 art. 38: statistical analysis and early warning): figures for a
range and filter from the rollups, the cases behind each figure, and every table as CSV or XLSX."""
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from hotline.auth.views import roles_required
from hotline.cases.access import visible_to
from hotline.cases.models import Case
from hotline.cases.queries import paginate
from hotline.cases.schemas import CHANNELS, KINDS
from hotline.cases.serialise import consumer_name
from hotline.cases.validation import mask_phone
from hotline.cases.workflow import STATUSES
from hotline.extensions import db
from hotline.labels import label
from hotline.paging import page_number
from hotline.reference.models import Bureau, Category
from hotline.reference.queries import category_choices
from hotline.stats import charts, dashboard, figures, queries
from hotline.stats.export import send_table
from hotline.stats.queries import Filters, Measures

bp = Blueprint("stats", __name__, url_prefix="/stats")

VIEWERS = ("supervisor", "admin", "bureau")
CENTRE = "centre"  # the bureau filter's value for cases at no bureau (registered, in triage, answered at once)
MAX_DAYS = 3 * 366  # longer ranges are refused: a report, not a dashboard
DEFAULT_DAYS = 30

FIGURE_LABELS = {
    "received": _l("Number received"), "online": _l("Online-platform purchases"), "decided": _l("First decisions made"),
    "decided_on_time": _l("First decisions made on time"), "closed": _l("Closed"),
    "closed_timed": _l("Closed with a deadline"), "closed_on_time": _l("Closed on time"),
    "mediated": _l("Mediated successfully"), "mediation_ended": _l("Mediation ended"),
    "recovered": _l("Closed with money recovered"), "transferred": _l("Transferred out"),
    "declined": _l("Declined"), "withdrawn": _l("Withdrawn by the consumer"),
    "rated": _l("Rated by the consumer"), "satisfied": _l("Rated 4 or 5"), "returned": _l("Returned to the centre"),
    "extensions": _l("Extension requests made"),
    "open": _l("Open"), "overdue": _l("Overdue"), "due_soon": _l("Due soon"),
    "extensions_waiting": _l("Extension requests waiting"),
}


@bp.after_request
def _no_store(response):
    response.headers.setdefault("Cache-Control", "no-store")  # case lists carry (masked) personal data
    return response


# --- filters -------------------------------------------------------------------------------------

@dataclass
class FilterInput:
    """The filters as typed (for the form), as understood, and what was wrong with them."""
    values: dict[str, str]
    raw: dict[str, str] = field(default_factory=dict)  # as typed: the page's self-refresh keeps "today" moving
    filters: Filters | None = None
    errors: dict[str, str] = field(default_factory=dict)
    locked_bureau: Bureau | None = None  # bureau staff see their own bureau only

    def args(self, **over) -> dict[str, str]:
        """The filters as query arguments for a link; `over` replaces some (None drops one)."""
        args = {k: v for k, v in self.values.items() if v}
        for key, value in over.items():
            key = {"start": "from", "end": "to"}.get(key, key)  # `from` is a keyword in Python and Jinja
            if value is None:
                args.pop(key, None)
            else:
                args[key] = value if isinstance(value, str) else value.isoformat()
        return args


def _date(raw: str) -> date:
    day = date.fromisoformat(raw)
    if not 2000 <= day.year <= 2099:
        raise ValueError(raw)
    return day


def _category_exists(code: str) -> bool:
    return db.session.scalar(select(Category.id).where(Category.code == code,
                                                       Category.axis.in_(("goods", "service"))).limit(1)) is not None


def read_filters(args, user) -> FilterInput:
    """from, to (dates, default the last 30 days to today, local), bureau (code, or `centre`), kind,
    channel, category (a goods or service code; a group takes its members). Never raises."""
    values = {name: (args.get(name) or "").strip()[:40] for name in ("from", "to", "bureau", "kind", "channel",
                                                                     "category")}
    form = FilterInput(values, raw={k: v for k, v in values.items() if v})
    today = queries.today()
    try:
        end = _date(values["to"]) if values["to"] else today
    except ValueError:
        form.errors["to"], end = _("not a date (YYYY-MM-DD)"), today
    try:
        start = _date(values["from"]) if values["from"] else end - timedelta(days=DEFAULT_DAYS - 1)
    except ValueError:
        form.errors["from"], start = _("not a date (YYYY-MM-DD)"), end
    if not form.errors and start > end:
        form.errors["to"] = _("the end of the range is before its start")
    elif not form.errors and (end - start).days + 1 > MAX_DAYS:
        form.errors["to"] = _("the range is longer than three years; choose a shorter one")
    bureau_id = None
    if user.role == "bureau":
        form.locked_bureau = db.session.get(Bureau, user.bureau_id) if user.bureau_id else None
        if form.locked_bureau is None:
            abort(403)  # bureau staff with no bureau see nothing
        bureau_id, values["bureau"] = form.locked_bureau.id, form.locked_bureau.code
    elif values["bureau"] == CENTRE:
        bureau_id = 0
    elif values["bureau"]:
        bureau_id = db.session.scalar(select(Bureau.id).where(Bureau.code == values["bureau"]))
        if bureau_id is None:
            form.errors["bureau"] = _("no such bureau")
    if values["kind"] and values["kind"] not in KINDS:
        form.errors["kind"] = _("no such kind")
    if values["channel"] and values["channel"] not in CHANNELS:
        form.errors["channel"] = _("no such channel")
    if values["category"] and not _category_exists(values["category"]):
        form.errors["category"] = _("no such category")
    if not form.errors:
        form.filters = Filters(start, end, bureau_id, values["kind"] or None, values["channel"] or None,
                               values["category"] or None)
        values["from"], values["to"] = start.isoformat(), end.isoformat()
    return form


# --- names and numbers ---------------------------------------------------------------------------

def category_names() -> dict[str, str]:
    """Code → "group › name" for goods and services."""
    names = {}
    for axis in ("goods", "service"):
        for group, members in category_choices()[axis]:
            names[group.code] = group.name
            names.update({member.code: member.path for member in members})
    return names


def bureau_rows() -> dict[int, Bureau]:
    return {b.id: b for b in db.session.scalars(select(Bureau).order_by(Bureau.code))}


def bureau_code(bureau_id: int, bureaus: dict[int, Bureau]) -> str:
    return bureaus[bureau_id].code if bureau_id in bureaus else CENTRE


def bureau_name(bureau_id: int, bureaus: dict[int, Bureau]) -> str:
    return bureaus[bureau_id].short_name if bureau_id in bureaus else str(_("Centre (no bureau)"))


def yuan(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(Decimal("0.01"))


def percent(rate: float | None) -> str:
    return "–" if rate is None else f"{rate * 100:.1f}%"


def money(fen: int) -> str:
    return f"¥{yuan(fen):,.2f}"


def in_order(mapping) -> list[str]:
    """The codes of `mapping` in the order forms list them (kinds, channels, statuses), others after."""
    order = (*KINDS, *CHANNELS, *STATUSES)
    return [code for code in order if code in mapping] + sorted(code for code in mapping if code not in order)


def local_now() -> datetime:
    return datetime.now(queries.zone())


def last_day_of_month(month: date) -> date:
    return queries.next_month(month) - timedelta(days=1)


# --- pages ---------------------------------------------------------------------------------------

def _choices() -> dict:
    return {"kinds": KINDS, "channels": CHANNELS, "statuses": STATUSES, "categories": category_choices(),
            "CENTRE": CENTRE, "bureaus": db.session.scalars(select(Bureau).order_by(Bureau.code)).all()}


@bp.get("/")
@roles_required(*VIEWERS)
def dashboard_page():
    """统计: the dashboard, or (`fragment=1`) just its figures, which stats.js swaps in every 30 s."""
    form = read_filters(request.args, current_user)
    fragment = request.args.get("fragment") == "1"
    if form.errors:
        if fragment:
            abort(400)
        return render_template("stats/dashboard.html", form=form, board=None, **_choices()), 400
    board = dashboard.build(form.filters)
    charts_drawn = [charts.trend_chart(board.trend_unit, board.trend, css="wide"),
                    charts.trend_chart(board.trend_unit, board.trend, size=charts.NARROW, css="narrow")]
    context = {"form": form, "board": board, "category_names": category_names(),
               "charts": charts_drawn, "percent": percent, "money": money, "updated": local_now().strftime("%H:%M:%S"),
               "last_day_of_month": last_day_of_month, "today": queries.today(), "num": lambda n: f"{n:,}",
               "in_order": in_order, "dimension_rows": dimension_rows,
               "export_url": export_url}
    if fragment:
        response = current_app.make_response(render_template("stats/_figures.html", **context))
        response.headers["X-Stats-Fragment"] = "1"
        return response
    return render_template("stats/dashboard.html", **context, **_choices())


def _extra(status: str, business: str) -> tuple[list, dict[str, str]]:
    """A table cell's narrower drill-down: one status of the open queue, or one business's cases."""
    extra, errors = [], {}
    if status:
        if status not in STATUSES:
            errors["status"] = _("no such status")
        extra.append(Case.status == status)
    if business:
        if len(business) > 80:
            errors["business"] = _("no such business")
        extra.append(Case.business_key == business)
    return extra, errors


@bp.get("/cases")
@roles_required(*VIEWERS)
def cases():
    """The cases behind one figure (?figure=NAME and the dashboard's filters), newest first."""
    form = read_filters(request.args, current_user)
    name = request.args.get("figure", "")
    if name not in figures.FIGURES:
        form.errors["figure"] = _("no such figure")
    status, business = request.args.get("status", "").strip(), request.args.get("business", "").strip()
    extra, errors = _extra(status, business)
    form.errors.update(errors)
    if form.errors:
        return render_template("stats/cases.html", form=form, figure=None, **_choices()), 400
    figure = figures.FIGURES[name]
    total = figures.count(name, form.filters, extra=extra)
    query = figures.cases_query(name, form.filters, extra=extra).where(visible_to(current_user)) \
        .options(joinedload(Case.bureau))
    result = paginate(query, page_number(), current_app.config["PER_PAGE"])
    business_name = db.session.scalar(select(Case.business_name).where(Case.business_key == business).limit(1)) \
        if business else None
    return render_template("stats/cases.html", form=form, figure=figure, figure_label=FIGURE_LABELS[name],
                           described=describe(form),
                           total=total, result=result, status=status, business=business, business_name=business_name,
                           **_choices())


def describe(form: FilterInput) -> list[str]:
    """The filters in words, for the drill-down's heading."""
    values, texts = form.values, []
    if values["bureau"]:
        bureau = db.session.scalar(select(Bureau).where(Bureau.code == values["bureau"]))
        texts.append(bureau.short_name if bureau else str(_("Centre (no bureau)")))
    texts += [label(values[name]) for name in ("kind", "channel") if values[name]]
    if values["category"]:
        texts.append(category_names().get(values["category"], values["category"]))
    return texts


# --- exports -------------------------------------------------------------------------------------

MEASURE_HEADERS = (_l("Number received"), _l("Online-platform purchases"), _l("First decisions made"),
                   _l("First decisions made on time"), _l("On-time decision rate (%)"), _l("Closed"),
                   _l("Closed with a deadline"), _l("Closed on time"), _l("On-time closure rate (%)"),
                   _l("Mediation ended"), _l("Mediated successfully"), _l("Mediation success rate (%)"),
                   _l("Money recovered (yuan)"), _l("Rated by the consumer"), _l("Rated 4 or 5"),
                   _l("Satisfaction (%)"), _l("Mean rating"), _l("Returned to the centre"),
                   _l("Extension requests made"))


def _rate_cell(rate: float | None):
    return "" if rate is None else round(rate * 100, 1)


def measure_cells(m: Measures) -> list:
    rates = m.rates
    return [m["received"], m["online"], m["decided"], m["decided_on_time"], _rate_cell(rates["decided_on_time"]),
            m["closed"], m["closed_timed"], m["closed_on_time"], _rate_cell(rates["closed_on_time"]),
            m.mediation_ended, m.mediated, _rate_cell(rates["mediated"]), yuan(m["recovered"]), m["rated"],
            m["satisfied"], _rate_cell(rates["satisfied"]),
            "" if rates["mean_rating"] is None else round(rates["mean_rating"], 2), m["returned"], m["extensions"]]


@dataclass
class DimensionRow:
    """One bureau, kind, channel or category: the range's measures, the open queue now, and the filter
    value (`arg`) that narrows a drill-down to it."""
    name: str
    arg: str
    m: Measures
    open: int | None = None
    overdue: int | None = None


DIMENSION_PARAMS = {"bureau_id": "bureau", "kind": "kind", "channel": "channel", "category": "category"}


def dimension_rows(board, dim: str) -> list[DimensionRow]:
    bureaus = bureau_rows() if dim == "bureau_id" else {}
    names = category_names() if dim == "category" else {}
    queue = {"bureau_id": board.backlog.by_bureau, "kind": board.backlog.by_kind}.get(dim, {})
    keys = set(board.totals.by[dim]) | set(queue)
    rows = []
    for key in keys:
        m = board.totals.by[dim].get(key) or Measures()
        if dim == "bureau_id":
            entry = queue.get(key, {"open": 0, "overdue": 0})
            rows.append(DimensionRow(bureau_name(key, bureaus), bureau_code(key, bureaus), m, entry["open"],
                                     entry["overdue"]))
        elif dim == "category":
            rows.append(DimensionRow(names.get(key, key) if key else str(_("No category")), key, m))
        else:
            rows.append(DimensionRow(label(key), key, m, queue.get(key, 0) if dim == "kind" else None))
    return sorted(rows, key=lambda r: (-r.m["received"], -(r.open or 0), r.arg))


def _dimension_cells(board, dim: str):
    for row in dimension_rows(board, dim):
        cells = [row.name, *measure_cells(row.m)]
        if dim == "category":
            cells.insert(0, row.arg)
        if row.open is not None:
            cells.append(row.open)
        if row.overdue is not None:
            cells.append(row.overdue)
        yield cells


def _table(board, table: str) -> tuple[list, object]:
    if table == "bureau":
        return [_("Bureau"), *MEASURE_HEADERS, _("Open"), _("Overdue")], _dimension_cells(board, "bureau_id")
    if table == "kind":
        return [_("Kind"), *MEASURE_HEADERS, _("Open")], _dimension_cells(board, "kind")
    if table == "channel":
        return [_("Channel"), *MEASURE_HEADERS], _dimension_cells(board, "channel")
    if table == "category":
        return [_("Code"), _("Category"), *MEASURE_HEADERS], _dimension_cells(board, "category")
    if table == "status":
        return [_("Status"), _("Open")], ([label(s), n] for s, n in sorted(board.backlog.by_status.items()))
    if table == "businesses":
        first, last = board.business_months
        header = [_("Business"), _("Number received"), _("Counted against the business"), _("Accepted"),
                  _("Mediation ended"), _("Mediated successfully"), _("Mediation success rate (%)"),
                  _("Months counted (whole months)")]
        months = f"{first:%Y-%m}–{last:%Y-%m}"
        return header, ([b.name, b.received, b.counted, b.accepted, b.mediation_closed, b.mediated,
                         _rate_cell(b.success_rate), months] for b in board.top_businesses)
    if table == "trend":
        return [_("Day") if board.trend_unit == "day" else _("Month"), _("Number received"), _("Closed")], (
            [p.isoformat() if board.trend_unit == "day" else f"{p:%Y-%m}", v["received"], v["closed"]]
            for p, v in board.trend)
    abort(404)


EXPORT_TABLES = ("bureau", "kind", "channel", "category", "status", "businesses", "trend", "cases")


def _case_rows(query, user):
    """The drill-down's cases, streamed from the database in batches (never all in memory)."""
    bureaus = bureau_rows()
    for case in db.session.scalars(query.execution_options(yield_per=1000)):
        yield [case.number, case.received_at.astimezone(queries.zone()).strftime("%Y-%m-%d %H:%M"), label(case.kind),
               label(case.channel), label(case.status), label(case.outcome),
               bureau_name(case.bureau_id, bureaus) if case.bureau_id else "", case.subject, case.business_name or "",
               consumer_name(case, user) or "", mask_phone(case.consumer_phone) or ""]


@bp.get("/export/<table>.<fmt>")
@roles_required(*VIEWERS)
def export(table: str, fmt: str):
    if table not in EXPORT_TABLES or fmt not in ("csv", "xlsx"):
        abort(404)
    form = read_filters(request.args, current_user)
    name = request.args.get("figure", "")
    if table == "cases" and name not in figures.FIGURES:
        form.errors["figure"] = _("no such figure")
    extra, errors = _extra(request.args.get("status", "").strip(), request.args.get("business", "").strip())
    form.errors.update(errors)
    if form.errors:
        return render_template("stats/dashboard.html", form=form, board=None, **_choices()), 400
    f = form.filters
    filename = f"{_('statistics')}-{table}-{f.start.isoformat()}-{f.end.isoformat()}"
    if table == "cases":
        query = figures.cases_query(name, f, extra=extra).where(visible_to(current_user))
        header = [_("Number"), _("Received"), _("Kind"), _("Channel"), _("Status"), _("Outcome"), _("Bureau"),
                  _("Subject"), _("Business"), _("Caller"), _("Phone")]
        return send_table(fmt, f"{filename}-{name}", header, _case_rows(query, current_user._get_current_object()),
                          sheet=name)
    header, rows = _table(dashboard.build(f), table)
    return send_table(fmt, filename, [str(h) for h in header], rows, sheet=table)


def export_url(table: str, fmt: str, form: FilterInput, **over) -> str:
    return url_for("stats.export", table=table, fmt=fmt, **form.args(**over))
