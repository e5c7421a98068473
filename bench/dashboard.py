"""Dashboard bench (DESIGN.md §4: "dashboard at 10M cases: p95 ≤ 100 ms, ≥ 20× faster than the plain
GROUP BY over the cases"; issue #11 "Must show" 2).

    .venv/bin/python bench/dashboard.py [--runs 50] [--baseline-runs 5] [--explain]
                                        [--database-url postgresql://postgres@127.0.0.1:5432/hotline_stats_bench]

Run it on a database that bench/seed.py filled. In an app context against that database:
1. Times `hotline.stats.dashboard.build(filters)` (what the supervisors' page computes) for five
   scenarios: the default (the last 30 days, no filter), this year, last year for one bureau, the last
   whole quarter for complaints of one category group, the last 7 days of one channel. Runs go round the
   scenarios in turn after one warm-up each; p50 and p95 per scenario and overall, and the time per SQL
   statement kind (`--explain`: EXPLAIN ANALYZE of each scenario's slowest statements).
2. Computes the same figures with plain GROUP BY queries over the cases (case, case_clock, case_rating,
   case_event, extension_request: intake, decisions, closings, money recovered, ratings, returns,
   extension requests, the open backlog, today's intake, the trend and the top businesses), times it
   the same way (`--baseline-runs` rounds: each takes seconds) and prints the ratio per scenario and
   overall (baseline p50 / dashboard p50, and the same for p95).
3. Checks that both give the same numbers for the default scenario: "figures agree" or the differences.
Nothing is asserted: a busy machine makes the figures slower; the load average is printed with them.
"""
import argparse
import math
import os
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/hotline_stats_bench"
TARGET_P95_MS, TARGET_RATIO = 100.0, 20.0


@dataclass
class Scenario:
    name: str
    filters: object  # hotline.stats.queries.Filters


def scenarios(today: date) -> list[Scenario]:
    from sqlalchemy import func, select

    from hotline.extensions import db
    from hotline.reference.models import Bureau
    from hotline.stats.models import StatMonth
    from hotline.stats.queries import Filters
    last_year = today.year - 1
    bureau = db.session.scalar(select(Bureau.id).where(Bureau.code == "tiedong")) or 1
    quarter_start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    previous_start = (quarter_start - timedelta(days=1)).replace(day=1)
    previous_start = date(previous_start.year, 3 * ((previous_start.month - 1) // 3) + 1, 1)
    group = func.substr(StatMonth.category, 1, 3)
    category = db.session.scalar(  # the busiest category group of last year's complaints
        select(group).where(StatMonth.kind == "complaint", StatMonth.category != "",
                            StatMonth.month.between(date(last_year, 1, 1), date(last_year, 12, 1)))
        .group_by(group).order_by(func.sum(StatMonth.received).desc()).limit(1)) or "G01"
    return [Scenario("default: last 30 days", Filters(today - timedelta(days=29), today)),
            Scenario("this year", Filters(date(today.year, 1, 1), today)),
            Scenario(f"{last_year}, one bureau", Filters(date(last_year, 1, 1), date(last_year, 12, 31),
                                                        bureau_id=bureau)),
            Scenario(f"quarter from {previous_start}, complaints {category}",
                     Filters(previous_start, quarter_start - timedelta(days=1), kind="complaint", category=category)),
            Scenario("last 7 days, channel web", Filters(today - timedelta(days=6), today, channel="web"))]


# --- the plain GROUP BY over the cases ---------------------------------------------------------------

def _where(filters, bureau: str = 'coalesce(c.bureau_id, 0)') -> tuple[str, dict]:
    """The dashboard's filters on the cases; `bureau` is the bureau a figure is counted for."""
    clauses, params = [], {}
    if filters.bureau_id is not None:
        clauses.append(f"{bureau} = :bureau")
        params["bureau"] = filters.bureau_id
    if filters.kind:
        clauses.append("c.kind = :kind")
        params["kind"] = filters.kind
    if filters.channel:
        clauses.append("c.channel = :channel")
        params["channel"] = filters.channel
    if filters.category:
        clauses.append(f"{CATEGORY} LIKE :category")
        params["category"] = filters.category.replace("%", r"\%").replace("_", r"\_") + "%"
    return "".join(f" AND {c}" for c in clauses), params


CATEGORY = "coalesce(nullif(c.category_goods, ''), nullif(c.category_service, ''), '')"
DIMS = f"coalesce(c.bureau_id, 0), c.kind, c.channel, {CATEGORY}"


def _priority(role_clocks: dict[str, tuple[str, ...]]) -> str:
    """The clocks of the case's kind, in facts.py's order, as an SQL array (a case counts the first it has)."""
    cases = " ".join(f"WHEN '{kind}' THEN ARRAY{list(clocks)}::text[]" for kind, clocks in role_clocks.items())
    return f"(CASE c.kind {cases} END)"


def _clock(role_clocks: dict[str, tuple[str, ...]], alias: str) -> str:
    """LATERAL: the first clock of the case's kind's tuple that the case has (facts.py's rule)."""
    priority = _priority(role_clocks)
    return (f"LEFT JOIN LATERAL (SELECT k.met_at, k.due_at FROM case_clock k WHERE k.case_id = c.id "
            f"AND array_position({priority}, k.clock::text) > 0 "
            f"ORDER BY array_position({priority}, k.clock::text) LIMIT 1) {alias} ON true")


def baseline(filters, tz: str) -> dict:
    """The dashboard's figures computed from the cases with GROUP BY, no rollup read."""
    from sqlalchemy import text

    from hotline.extensions import db
    from hotline.stats import queries
    from hotline.stats.facts import CLOSING_CLOCKS, DECISION_CLOCKS
    session = db.session
    start, end = queries.local_bounds(filters.start, filters.end)
    where, params = _where(filters)
    params.update(start=start, end=end, tz=tz)
    rows = []  # (bureau, kind, channel, category, outcome, {measure: n})

    def add(sql: str, outcome: bool, names: tuple[str, ...], extra: dict | None = None) -> None:
        for row in session.execute(text(sql), {**params, **(extra or {})}):
            dims = tuple(row[:5]) if outcome else (*row[:4], "")
            rows.append((*dims, dict(zip(names, (int(v or 0) for v in row[5 if outcome else 4:]), strict=True))))

    add(f"""SELECT {DIMS}, count(*), count(*) FILTER (WHERE coalesce(c.business_platform, '') <> '')
            FROM "case" c WHERE c.received_at >= :start AND c.received_at < :end{where}
            GROUP BY 1, 2, 3, 4""", False, ("received", "online"))
    decision = _priority(DECISION_CLOCKS)  # the decision clocks met in the range, each the case's first
    add(f"""SELECT {DIMS}, count(*), count(*) FILTER (WHERE k.met_at <= k.due_at)
            FROM case_clock k JOIN "case" c ON c.id = k.case_id
            WHERE k.met_at >= :start AND k.met_at < :end AND array_position({decision}, k.clock::text) > 0
              AND NOT EXISTS (SELECT 1 FROM case_clock e WHERE e.case_id = k.case_id
                              AND array_position({decision}, e.clock::text) < array_position({decision}, k.clock::text))
              AND NOT (c.status = 'closed' AND coalesce(c.outcome, '') IN ('withdrawn', 'transferred', 'merged')
                       AND c.closed_at IS NOT NULL AND k.met_at >= c.closed_at)  -- met by a closing, no decision
              {where}
            GROUP BY 1, 2, 3, 4""", False, ("decided", "decided_on_time"))
    add(f"""SELECT {DIMS}, coalesce(nullif(c.outcome, ''), 'none'), count(*), count(k.due_at),
                   count(*) FILTER (WHERE k.met_at <= k.due_at), sum(coalesce(c.recovered_amount, 0))
            FROM "case" c {_clock(CLOSING_CLOCKS, "k")}
            WHERE c.status = 'closed' AND ((c.closed_at >= :start AND c.closed_at < :end)
                  OR (c.closed_at IS NULL AND c.received_at >= :start AND c.received_at < :end)){where}
            GROUP BY 1, 2, 3, 4, 5""", True, ("closed", "closed_timed", "closed_on_time", "recovered"))
    rating_where, _ = _where(filters, bureau="coalesce(r.bureau_id, c.bureau_id, 0)")
    add(f"""SELECT coalesce(r.bureau_id, c.bureau_id, 0), c.kind, c.channel, {CATEGORY},
                   count(*), sum(r.score), count(*) FILTER (WHERE r.score >= 4)
            FROM case_rating r JOIN "case" c ON c.id = r.case_id
            WHERE r.rated_at >= :start AND r.rated_at < :end{rating_where}
            GROUP BY 1, 2, 3, 4""", False, ("rated", "rating_sum", "satisfied"))
    return_where, _ = _where(filters, bureau="coalesce(b.id, 0)")
    add(f"""SELECT coalesce(b.id, 0), c.kind, c.channel, {CATEGORY}, count(*)
            FROM case_event e JOIN "case" c ON c.id = e.case_id LEFT JOIN bureau b ON b.code = e.data ->> 'bureau'
            WHERE e.action = 'return_to_centre' AND e.at >= :start AND e.at < :end{return_where}
            GROUP BY 1, 2, 3, 4""", False, ("returned",))
    asker_where, _ = _where(filters, bureau="coalesce(u.bureau_id, 0)")  # the bureau of the handler who asked
    add(f"""SELECT coalesce(u.bureau_id, 0), c.kind, c.channel, {CATEGORY}, count(*)
            FROM extension_request x JOIN "case" c ON c.id = x.case_id LEFT JOIN "user" u ON u.id = x.requested_by_id
            WHERE x.requested_at >= :start AND x.requested_at < :end{asker_where}
            GROUP BY 1, 2, 3, 4""", False, ("extensions",))
    totals = queries.Totals()
    for bureau, kind, channel, category, outcome, measures in rows:
        totals.add(SimpleNamespace(bureau_id=bureau, kind=kind, channel=channel, category=category, outcome=outcome,
                                   **{m: measures.get(m, 0) for m in queries.DAY_MEASURES}))

    backlog = queries.Backlog()
    for bureau, status, kind, n, overdue in session.execute(text(f"""
            SELECT coalesce(c.bureau_id, 0), c.status, c.kind, count(*), count(*) FILTER (WHERE c.overdue)
            FROM "case" c WHERE c.status <> 'closed'{where} GROUP BY 1, 2, 3"""), params):
        backlog.open += n
        backlog.overdue += overdue
        backlog.by_status[status] = backlog.by_status.get(status, 0) + n
        backlog.by_kind[kind] = backlog.by_kind.get(kind, 0) + n
        entry = backlog.by_bureau.setdefault(bureau, {"open": 0, "overdue": 0})
        entry["open"] += n
        entry["overdue"] += overdue

    today = queries.today()
    day_start, day_end = queries.local_bounds(today, today)
    intake = {"kind": defaultdict(int), "channel": defaultdict(int)}
    for kind, channel, n in session.execute(text(f"""
            SELECT c.kind, c.channel, count(*) FROM "case" c
            WHERE c.received_at >= :day_start AND c.received_at < :day_end{where} GROUP BY 1, 2"""),
            {**params, "day_start": day_start, "day_end": day_end}):
        intake["kind"][kind] += n
        intake["channel"][channel] += n

    unit = "day" if filters.days <= queries.DAILY_TREND_DAYS else "month"
    trend = defaultdict(lambda: {"received": 0, "closed": 0})
    trend_start = queries.local_bounds(_trend_start(filters, unit), filters.end)[0]
    for period, n in session.execute(text(f"""
            SELECT date_trunc('{unit}', c.received_at AT TIME ZONE :tz)::date, count(*) FROM "case" c
            WHERE c.received_at >= :trend_start AND c.received_at < :end{where} GROUP BY 1"""),
            {**params, "trend_start": trend_start}):
        trend[period]["received"] = n
    for period, n in session.execute(text(f"""
            SELECT date_trunc('{unit}', coalesce(c.closed_at, c.received_at) AT TIME ZONE :tz)::date, count(*)
            FROM "case" c WHERE c.status = 'closed' AND ((c.closed_at >= :trend_start AND c.closed_at < :end)
                  OR (c.closed_at IS NULL AND c.received_at >= :trend_start AND c.received_at < :end)){where}
            GROUP BY 1"""), {**params, "trend_start": trend_start}):
        trend[period]["closed"] = n

    # Top businesses: the cases received in the months the range touches, at the bureau and kind filters
    # only (the dashboard's own definition), by business key.
    months = queries.months_of(filters.start, filters.end)
    month_start = queries.local_bounds(months[0], months[0])[0]
    month_end = queries.local_bounds(queries.next_month(months[-1]), queries.next_month(months[-1]))[0]
    level_where = "".join((" AND coalesce(c.bureau_id, 0) = :bureau" if filters.bureau_id is not None else "",
                           " AND c.kind = :kind" if filters.kind else ""))
    businesses = [(key, n) for key, n in session.execute(text(f"""
            SELECT c.business_key, count(*) FROM "case" c
            WHERE c.received_at >= :month_start AND c.received_at < :month_end AND c.business_key <> ''{level_where}
            GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 50"""), {**params, "month_start": month_start, "month_end": month_end})]
    return {"totals": totals, "backlog": backlog, "today": intake, "trend": dict(trend), "trend_unit": unit,
            "businesses": businesses, "due_soon": queries.due_soon(filters),
            "extensions_waiting": queries.extensions_waiting(filters)}


def _trend_start(filters, unit: str) -> date:
    return filters.start if unit == "day" else filters.start.replace(day=1)


def differences(board, base: dict) -> list[str]:
    """What the dashboard shows that the GROUP BY over the cases does not (empty: they agree)."""
    out = []

    def compare(what: str, got, expected) -> None:
        if got != expected:
            out.append(f"{what}: dashboard {got!r}, cases {expected!r}")

    def measures(m) -> dict:
        return {**{k: v for k, v in m.values.items() if v}, "mediated": m.mediated, "ended": m.mediation_ended}

    compare("totals", measures(board.totals.total), measures(base["totals"].total))
    for dim, values in board.totals.by.items():
        got = {k: measures(m) for k, m in values.items() if any(m.values.values())}
        expected = {k: measures(m) for k, m in base["totals"].by[dim].items() if any(m.values.values())}
        for key in sorted(set(got) | set(expected), key=str):
            compare(f"by {dim} {key!r}", got.get(key), expected.get(key))
    b, e = board.backlog, base["backlog"]
    compare("backlog open, overdue", (b.open, b.overdue), (e.open, e.overdue))
    compare("backlog by status", dict(sorted(b.by_status.items())), dict(sorted(e.by_status.items())))
    compare("backlog by bureau", dict(sorted(b.by_bureau.items())), dict(sorted(e.by_bureau.items())))
    compare("today by kind", dict(board.today["kind"]), dict(base["today"]["kind"]))
    compare("today by channel", dict(board.today["channel"]), dict(base["today"]["channel"]))
    compare("trend unit", board.trend_unit, base["trend_unit"])
    expected_trend = {p: base["trend"].get(p, {"received": 0, "closed": 0}) for p, _ in board.trend}
    compare("trend", dict(board.trend), expected_trend)
    counts = dict(base["businesses"])
    compare("top business counts", [r.received for r in board.top_businesses],
            [n for _, n in base["businesses"][:len(board.top_businesses)]])
    for row in board.top_businesses:
        compare(f"business {row.key}", row.received, counts.get(row.key))
    compare("top categories", board.top_categories,
            sorted(((k, m["received"]) for k, m in base["totals"].by["category"].items() if m["received"]),
                   key=lambda item: (-item[1], item[0]))[:len(board.top_categories)])
    return out


# --- timing ------------------------------------------------------------------------------------------

class StatementTimer:
    """Seconds per SQL statement (by its first words), to see where a scenario's time goes."""

    def __init__(self):
        self.seconds: dict[str, float] = defaultdict(float)
        self.sample: dict[str, tuple[str, object]] = {}
        self._start = 0.0

    @staticmethod
    def kind(statement: str) -> str:
        words = " ".join(statement.split())
        frm = words.find(" FROM ")
        head = words[:60] if frm < 0 else words[:30] + " …" + words[frm:frm + 40]
        return head

    def before(self, conn, cursor, statement, parameters, context, executemany):
        self._start = time.perf_counter()

    def after(self, conn, cursor, statement, parameters, context, executemany):
        kind = self.kind(statement)
        elapsed = time.perf_counter() - self._start
        self.seconds[kind] += elapsed
        if kind not in self.sample or elapsed > self.sample[kind][2]:
            self.sample[kind] = (statement, parameters, elapsed)


def percentile(values: list[float], share: float) -> float:
    """Nearest rank: the value below which `share` of the runs fall."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


def timed(function, *args) -> float:
    t = time.perf_counter()
    function(*args)
    return (time.perf_counter() - t) * 1000


def explain(statement: str, parameters) -> list[str]:
    from hotline.extensions import db
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
        plan = [row[0] for row in cursor.fetchall()]
        raw.rollback()
        return plan
    finally:
        raw.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--baseline-runs", type=int, default=5)
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE each scenario's slowest statements")
    parser.add_argument("--database-url", default=DEFAULT_DB)
    args = parser.parse_args()
    if args.runs < 1 or args.baseline_runs < 1:
        sys.exit("--runs and --baseline-runs must be positive")
    os.environ.update(HOTLINE_DATABASE_URL=args.database_url, HOTLINE_SECRET_KEY="bench")
    os.environ.pop("HOTLINE_BROKER_URL", None)

    from flask import current_app
    from sqlalchemy import event, func, select

    from hotline import create_app
    from hotline.cases.models import Case
    from hotline.extensions import db
    from hotline.stats import dashboard, queries
    app = create_app()
    with app.app_context():
        cases = db.session.scalar(select(func.count()).select_from(Case))
        if not cases:
            sys.exit("no cases: run bench/seed.py first")
        tz = current_app.config["TIMEZONE"]
        today = queries.today()
        plan = scenarios(today)
        load_before = os.getloadavg()[0]

        timer = StatementTimer()
        event.listen(db.engine, "before_cursor_execute", timer.before)
        event.listen(db.engine, "after_cursor_execute", timer.after)
        board_ms: dict[str, list[float]] = defaultdict(list)
        per_statement: dict[str, dict[str, float]] = {}
        for s in plan:
            dashboard.build(s.filters)  # warm-up
        for s in plan:  # where each scenario's time goes, from one more run apiece
            timer.seconds.clear()
            timer.sample.clear()
            dashboard.build(s.filters)
            per_statement[s.name] = dict(timer.seconds)
            per_statement[s.name + " samples"] = dict(timer.sample)
        event.remove(db.engine, "before_cursor_execute", timer.before)
        event.remove(db.engine, "after_cursor_execute", timer.after)
        for _ in range(args.runs):
            for s in plan:
                board_ms[s.name].append(timed(dashboard.build, s.filters))
                db.session.rollback()

        base_ms: dict[str, list[float]] = defaultdict(list)
        for _ in range(args.baseline_runs):
            for s in plan:
                base_ms[s.name].append(timed(baseline, s.filters, tz))
                db.session.rollback()
        load_after = os.getloadavg()[0]

        agreement = differences(dashboard.build(plan[0].filters), baseline(plan[0].filters, tz))
        plans = {}
        if args.explain:
            for s in plan:
                samples = per_statement[s.name + " samples"]
                slowest = sorted(samples.values(), key=lambda v: -v[2])[:2]
                plans[s.name] = [explain(statement, parameters) for statement, parameters, _ in slowest]
        db.session.remove()

    print(f"dashboard bench (PostgreSQL, {cases:,} cases, today {today}; {args.runs} runs per scenario, "
          f"{args.baseline_runs} of the GROUP BY)")
    for s in plan:
        print(f"\n{s.name}: where one run's time goes")
        for kind, secs in sorted(per_statement[s.name].items(), key=lambda kv: -kv[1])[:6]:
            print(f"    {secs * 1000:8.1f} ms  {kind}")
        for lines in plans.get(s.name, []):
            print("    EXPLAIN ANALYZE:")
            print("\n".join("      " + line for line in lines))
    print()
    header = f"{'scenario':<44}{'dashboard p50':>14}{'p95':>9}{'GROUP BY p50':>14}{'p95':>9}{'ratio p50':>11}{'p95':>8}"
    print(header)
    every_board = [ms for values in board_ms.values() for ms in values]
    every_base = [ms for values in base_ms.values() for ms in values]
    for name, board_values, base_values in [*((s.name, board_ms[s.name], base_ms[s.name]) for s in plan),
                                             ("overall", every_board, every_base)]:
        b50, b95 = percentile(board_values, 0.5), percentile(board_values, 0.95)
        g50, g95 = percentile(base_values, 0.5), percentile(base_values, 0.95)
        print(f"{name:<44}{b50:11.1f} ms{b95:6.0f} ms{g50:11.0f} ms{g95:6.0f} ms{g50 / b50:10.1f}×{g95 / b95:7.1f}×")
    p95, ratio = percentile(every_board, 0.95), percentile(every_base, 0.5) / percentile(every_board, 0.5)
    print(f"\ntargets: p95 ≤ {TARGET_P95_MS:g} ms: {'ok' if p95 <= TARGET_P95_MS else 'MISSED'} ({p95:.0f} ms); "
          f"≥ {TARGET_RATIO:g}× the GROUP BY: {'ok' if ratio >= TARGET_RATIO else 'MISSED'} ({ratio:.0f}× at p50)")
    cores = os.cpu_count() or 1
    disturbed = max(load_before, load_after) > 1.5 * cores / 2 + 0.5
    print(f"load average (1 min) {load_before:.1f} before, {load_after:.1f} after, {cores} cores"
          + ("  -- DISTURBED: other work was running, figures are slower than on a quiet machine" if disturbed else ""))
    if agreement:
        print(f"default scenario: {len(agreement)} differences between the dashboard and the cases:")
        print("\n".join("    " + line for line in agreement[:40]))
    else:
        print("default scenario: figures agree (dashboard = GROUP BY over the cases)")


if __name__ == "__main__":
    main()
