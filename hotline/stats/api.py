"""The statistics over HTTP (DESIGN.md §3): `GET /api/v1/stats/queue`, the open queue now, and
`GET /api/v1/stats/summary`, the dashboard's figures for any range. Supervisors and administrators
see every bureau; a bureau's token sees its own bureau only (Order 121 art. 38: statistics)."""
from flask import Blueprint, g, jsonify, request

from hotline.api.auth import require_role
from hotline.api.errors import ApiError
from hotline.stats import dashboard, queries
from hotline.stats.queries import Filters, Measures
from hotline.stats.views import CENTRE, bureau_code, bureau_rows, category_names, read_filters, yuan

bp = Blueprint("stats_api", __name__, url_prefix="/api/v1/stats")
FILTER_PARAMS = ("bureau", "kind", "channel", "category")


def _filters(ranged: bool) -> Filters:
    """The query's filters; 422 naming each bad parameter, 403 for another bureau's figures."""
    allowed = set(FILTER_PARAMS) | ({"from", "to"} if ranged else set())
    unknown = sorted(set(request.args) - allowed)
    user = g.user
    if user.role == "bureau" and request.args.get("bureau"):
        own = bureau_rows().get(user.bureau_id)
        if request.args["bureau"] != (own.code if own else CENTRE):
            raise ApiError(403, "a bureau sees its own figures only")
    form = read_filters(request.args if ranged else {k: v for k, v in request.args.items() if k not in ("from", "to")},
                        user)
    errors = {**form.errors, **{name: "unknown parameter" for name in unknown}}
    if errors:
        raise ApiError(422, "some parameters are invalid", errors)
    return form.filters


def _measures(m: Measures) -> dict:
    values = {name: value for name, value in m.values.items() if name != "recovered"}
    return {**values, "mediated": m.mediated, "mediation_ended": m.mediation_ended,
            "recovered_amount": f"{yuan(m['recovered']):.2f}", "rates": m.rates}


@bp.get("/queue")
@require_role("supervisor", "admin", "bureau")
def queue():
    """The open queue now, and today's intake by kind and channel."""
    return jsonify(queries.queue_stats(_filters(ranged=False)))


@bp.get("/summary")
@require_role("supervisor", "admin", "bureau")
def summary():
    """The dashboard's figures for a range (default: the last 30 days to today, local)."""
    filters = _filters(ranged=True)
    board = dashboard.build(filters)
    bureaus = bureau_rows()
    names = category_names()
    by = board.totals.by
    first, last = board.business_months
    return jsonify({
        "from": filters.start.isoformat(), "to": filters.end.isoformat(),
        "filters": {name: request.args.get(name) or None for name in FILTER_PARAMS},
        "totals": _measures(board.totals.total),
        "outcomes": {outcome: m["closed"] for outcome, m in sorted(by["outcome"].items()) if outcome and m["closed"]},
        "by_kind": [{"kind": key, **_measures(m)} for key, m in sorted(by["kind"].items())],
        "by_channel": [{"channel": key, **_measures(m)} for key, m in sorted(by["channel"].items())],
        "by_bureau": [{"code": bureau_code(key, bureaus) if key else None,
                       "name": bureaus[key].name if key in bureaus else None, **_measures(m)}
                      for key, m in sorted(by["bureau_id"].items(), key=lambda kv: bureau_code(kv[0], bureaus))],
        "by_category": [{"code": key or None, "name": names.get(key), **_measures(m)}
                        for key, m in sorted(by["category"].items())],
        "top_categories": [{"code": code, "name": names.get(code), "received": n} for code, n in board.top_categories],
        "top_businesses": {"months": [first.strftime("%Y-%m"), last.strftime("%Y-%m")], "items": [
            {"key": b.key, "name": b.name, "received": b.received, "counted": b.counted, "accepted": b.accepted,
             "mediation_closed": b.mediation_closed, "mediated": b.mediated, "success_rate": b.success_rate}
            for b in board.top_businesses]},
        "trend": {"unit": board.trend_unit,
                  "points": [{"period": p.isoformat(), **values} for p, values in board.trend]},
        "queue": {"open": board.backlog.open, "overdue": board.backlog.overdue, "due_soon": board.due_soon,
                  "extensions_waiting": board.extensions_waiting},
    })


def openapi_paths() -> dict:
    """The two endpoints for hotline/api/openapi.py's document, from hotline/stats/schemas.py."""
    from hotline.api.openapi import Operation
    from hotline.stats.schemas import QueueQuery, QueueStats, StatsSummary, SummaryQuery
    return {
        "/api/v1/stats/queue": {"get": Operation(
            "queue_stats", "The open queue now: open, overdue, due_soon, by_status, by_bureau, today's intake",
            {200: QueueStats}, (401, 403, 422), query=QueueQuery, tag="statistics")},
        "/api/v1/stats/summary": {"get": Operation(
            "stats_summary", "The dashboard's figures for a range: totals, rates, breakdowns, top businesses, trend",
            {200: StatsSummary}, (401, 403, 422), query=SummaryQuery, tag="statistics")},
    }
