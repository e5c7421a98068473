"""The full rebuild of the statistics on PostgreSQL, set-based (Order 121 art. 38: statistics).

The same definitions as `facts.py` (what a case counts) and `cells.py` (how facts become cells), stated
in SQL: each case's facts go into `stat_case` by one INSERT ... SELECT per range of case ids, then each
rollup is one GROUP BY over `stat_case`. Ten million cases rebuild in minutes, where loading their
facts into Python a batch at a time takes about an hour. Everything happens in one transaction, so
readers see the old figures until the new ones are complete (see `rebuild_all`).
`tests/stats/test_rebuild_pg.py` checks that this and the Python path write the same rows."""
from collections.abc import Callable

from flask import current_app
from sqlalchemy import text

from hotline.extensions import db
from hotline.stats.cells import BUSINESS_MEASURES, DAY_MEASURES, MEDIATION_OUTCOMES, OPEN_MEASURES
from hotline.stats.facts import CLOSING_CLOCKS, DECISION_CLOCKS, FACT_FIELDS, NOT_A_DECISION, NOT_AGAINST_BUSINESS

CHUNK = 500_000  # case ids per INSERT: each one's sorts and hashes stay in memory
# SQL_FROM_CONSTANTS: the statements below are put together from this module's constants (table, column
# and measure names) only; every value is a bind parameter. `@stat_x` stands for the table written (the
# statistics table itself, or its staging copy); `@order` sorts rows going into a table itself by its
# primary key, so that its indexes grow at their ends rather than being written all over.
TABLES = ("stat_day", "stat_month", "stat_day_totals", "stat_month_totals", "stat_day_categories",
          "stat_month_categories", "stat_day_bureau_categories", "stat_month_bureau_categories", "stat_open",
          "stat_business_month", "stat_case")  # merged in this order
# Session settings for one big transaction; SET LOCAL ends with it. Losing the last commit in a crash
# is harmless here: the rebuild simply runs again.
SETTINGS = ("SET LOCAL work_mem = '256MB'", "SET LOCAL synchronous_commit = off",
            "SET LOCAL maintenance_work_mem = '256MB'", "SET LOCAL jit = off")


def _clock_priorities() -> dict[str, list]:
    """facts.py's clock tuples as rows (kind, role, clock, position): 'the first clock the case has'."""
    rows = [(kind, role, clock, position)
            for role, table in (("decision", DECISION_CLOCKS), ("closing", CLOSING_CLOCKS))
            for kind, clocks in table.items() for position, clock in enumerate(clocks)]
    return {"prio_kinds": [r[0] for r in rows], "prio_roles": [r[1] for r in rows],
            "prio_clocks": [r[2] for r in rows], "prio_positions": [r[3] for r in rows]}


def _local_day(column: str) -> str:
    return f"({column} AT TIME ZONE :tz)::date"


def _iso_day(column: str) -> str:
    return f"to_char({_local_day(column)}, 'YYYY-MM-DD')"


# facts.decided_by
_DECIDED = """(k.decision_met IS NOT NULL
              AND NOT (c.status = 'closed' AND coalesce(c.outcome, '') = ANY(CAST(:not_a_decision AS text[]))
                       AND c.closed_at IS NOT NULL AND k.decision_met >= c.closed_at))"""

# One range of cases: facts.load_facts and facts.facts_of, set-wise.
FACTS = f"""
WITH prio AS (
    SELECT * FROM unnest(CAST(:prio_kinds AS text[]), CAST(:prio_roles AS text[]), CAST(:prio_clocks AS text[]),
                         CAST(:prio_positions AS int[])) AS p(kind, role, clock, position)),
picked AS (  -- per case and role, the first clock of its kind's tuple that the case has
    SELECT DISTINCT ON (k.case_id, p.role) k.case_id, p.role, k.met_at, k.due_at
    FROM case_clock k JOIN "case" c ON c.id = k.case_id JOIN prio p ON p.kind = c.kind AND p.clock = k.clock
    WHERE k.case_id BETWEEN :lo AND :hi
    ORDER BY k.case_id, p.role, p.position),
clocks AS (
    SELECT case_id,
           max(met_at) FILTER (WHERE role = 'decision') AS decision_met,
           max(due_at) FILTER (WHERE role = 'decision') AS decision_due,
           bool_or(role = 'closing') AS closing,
           max(met_at) FILTER (WHERE role = 'closing') AS closing_met,
           max(due_at) FILTER (WHERE role = 'closing') AS closing_due
    FROM picked GROUP BY case_id),
events AS (  -- 退单 are counted for the bureau that returned the case (its code in the event), on that day
    SELECT e.case_id, bool_or(e.action = 'accept') AS accepted,
           json_agg(json_build_array({_iso_day("e.at")}, coalesce(b.id, 0)) ORDER BY e.id)
               FILTER (WHERE e.action = 'return_to_centre') AS returns
    FROM case_event e LEFT JOIN bureau b ON e.action = 'return_to_centre' AND b.code = e.data ->> 'bureau'
    WHERE e.case_id BETWEEN :lo AND :hi AND e.action IN ('accept', 'return_to_centre')
    GROUP BY e.case_id),
extensions AS (  -- counted for the bureau of the handler who asked, as facts.py does
    SELECT x.case_id,
           json_agg(json_build_array({_iso_day("x.requested_at")}, coalesce(u.bureau_id, 0)) ORDER BY x.id)
               AS extensions
    FROM extension_request x LEFT JOIN "user" u ON u.id = x.requested_by_id
    WHERE x.case_id BETWEEN :lo AND :hi
    GROUP BY x.case_id)
INSERT INTO @stat_case (case_id, counted, received_day, bureau_id, kind, channel, category, online, status, overdue,
                       decided_day, decided_on_time, closed_day, outcome, closed_timed, closed_on_time, recovered,
                       rated_day, rating_bureau_id, score, accepted, business_key, business_name, returns, extensions)
SELECT c.id, true, {_local_day("c.received_at")}, coalesce(c.bureau_id, 0), c.kind, c.channel,
       coalesce(nullif(c.category_goods, ''), nullif(c.category_service, ''), ''),
       coalesce(c.business_platform, '') <> '', c.status, coalesce(c.overdue, false),
       CASE WHEN {_DECIDED} THEN {_local_day("k.decision_met")} END,
       coalesce({_DECIDED} AND k.decision_met <= k.decision_due, false),
       CASE WHEN c.status = 'closed' THEN {_local_day("coalesce(c.closed_at, c.received_at)")} END,
       CASE WHEN c.status = 'closed' THEN coalesce(c.outcome, '') END,
       c.status = 'closed' AND coalesce(k.closing, false),
       c.status = 'closed' AND coalesce(k.closing_met <= k.closing_due, false),
       CASE WHEN c.status = 'closed' THEN coalesce(c.recovered_amount, 0) ELSE 0 END,  -- Money is stored in fen
       {_local_day("r.rated_at")},
       CASE WHEN r.id IS NOT NULL THEN coalesce(r.bureau_id, c.bureau_id, 0) ELSE 0 END, r.score,
       coalesce(e.accepted, false), c.business_key,
       left(coalesce(nullif(c.business_name, ''), nullif(c.business_uscc, '')), 255),
       coalesce(e.returns, '[]'::json), coalesce(x.extensions, '[]'::json)
FROM "case" c
LEFT JOIN clocks k ON k.case_id = c.id
LEFT JOIN case_rating r ON r.case_id = c.id
LEFT JOIN events e ON e.case_id = c.id
LEFT JOIN extensions x ON x.case_id = c.id
WHERE c.id BETWEEN :lo AND :hi
"""  # noqa: S608 (see SQL_FROM_CONSTANTS)

_MEASURES = ", ".join(DAY_MEASURES)


def _contribution(day: str, bureau: str, outcome: str, where: str, source: str = "@stat_case s",
                  **measures: str) -> str:
    """The cells of one kind of contribution (cells.cells_of): a case's receipt, decision, closing, rating,
    returns or extension requests, each measure named in DAY_MEASURES order."""
    values = ", ".join(f"{measures.get(name, '0')} AS {name}" for name in DAY_MEASURES)
    columns = f"{day} AS day, {bureau} AS bureau_id, s.kind, s.channel, s.category, {outcome} AS outcome, {values}"
    return f"SELECT {columns} FROM {source} WHERE {where}"  # noqa: S608


def _from_list(column: str, **measures: str) -> str:
    """Cells from a [[day, bureau_id], ...] list; the list is not parsed where it is empty."""
    return _contribution("(i.x ->> 0)::date", "(i.x ->> 1)::int", "''", f"s.{column}::text <> '[]'",
                         f"@stat_case s CROSS JOIN LATERAL json_array_elements(s.{column}) AS i(x)", **measures)


_CONTRIBUTIONS = "\n    UNION ALL ".join((
    _contribution("s.received_day", "s.bureau_id", "''", "true", received="1", online="s.online::int"),
    _contribution("s.decided_day", "s.bureau_id", "''", "s.decided_day IS NOT NULL", decided="1",
                  decided_on_time="s.decided_on_time::int"),
    _contribution("s.closed_day", "s.bureau_id", "coalesce(nullif(s.outcome, ''), 'none')", "s.closed_day IS NOT NULL",
                  closed="1", closed_timed="s.closed_timed::int", closed_on_time="s.closed_on_time::int",
                  recovered="s.recovered"),
    _contribution("s.rated_day", "s.rating_bureau_id", "''", "s.rated_day IS NOT NULL AND s.score IS NOT NULL",
                  rated="1", rating_sum="s.score", satisfied="(s.score >= 4)::int"),
    _from_list("returns", returned="1"),
    _from_list("extensions", extensions="1")))

# One scan of stat_case per kind of contribution (cheaper than a LATERAL per case), summed per cell.
DAY_CELLS = f"""
INSERT INTO @stat_day (day, bureau_id, kind, channel, category, outcome, {_MEASURES})
SELECT day, bureau_id, kind, channel, category, outcome, {", ".join(f"sum({m})" for m in DAY_MEASURES)}
FROM (
    {_CONTRIBUTIONS}
) AS v
GROUP BY day, bureau_id, kind, channel, category, outcome
@order day, bureau_id, kind, channel, category, outcome
"""  # noqa: S608

MONTH_CELLS = f"""
INSERT INTO @stat_month (month, bureau_id, kind, channel, category, outcome, {_MEASURES})
SELECT date_trunc('month', day)::date, bureau_id, kind, channel, category, outcome,
       {", ".join(f"sum({m})" for m in DAY_MEASURES)}
FROM @stat_day
GROUP BY 1, bureau_id, kind, channel, category, outcome
@order 1, bureau_id, kind, channel, category, outcome
"""  # noqa: S608



def _coarser(table: str, dims: tuple[str, ...], monthly: bool) -> str:
    """A table summed from stat_day over fewer dimensions (cells.PROJECTIONS), by day or by month."""
    period = "date_trunc('month', day)::date" if monthly else "day"
    columns = ", ".join(dims)
    return f"""
INSERT INTO @{table} ({"month" if monthly else "day"}, {columns}, {_MEASURES})
SELECT {period}, {columns}, {", ".join(f"sum({m})" for m in DAY_MEASURES)}
FROM @stat_day
GROUP BY 1, {columns}
@order 1, {columns}
"""  # noqa: S608


_TOTAL_DIMS, _CATEGORY_DIMS = ("bureau_id", "kind", "channel", "outcome"), ("kind", "category", "outcome")
_BUREAU_CATEGORY_DIMS = ("bureau_id", *_CATEGORY_DIMS)
COARSER_CELLS = (_coarser("stat_day_totals", _TOTAL_DIMS, False), _coarser("stat_month_totals", _TOTAL_DIMS, True),
                 _coarser("stat_day_categories", _CATEGORY_DIMS, False),
                 _coarser("stat_month_categories", _CATEGORY_DIMS, True),
                 _coarser("stat_day_bureau_categories", _BUREAU_CATEGORY_DIMS, False),
                 _coarser("stat_month_bureau_categories", _BUREAU_CATEGORY_DIMS, True))

OPEN_CELLS = """
INSERT INTO @stat_open (bureau_id, kind, channel, category, status, open, overdue)
SELECT bureau_id, kind, channel, category, status, count(*), count(*) FILTER (WHERE overdue)
FROM @stat_case WHERE status <> 'closed'
GROUP BY bureau_id, kind, channel, category, status
"""

# Each case counts at (bureau, kind), (bureau, all kinds), (all bureaus, kind) and (all, all): grouping
# sets. A case at no bureau (0) is at (0, kind) once, as cells.py's {base, 0} set has it: the rows the
# bureau-level sets make for bureau 0 are dropped, since the all-bureaus sets count those cases already.
# The business is named by the spelling of its latest case.
BUSINESS_CELLS = """
WITH latest AS (
    SELECT business_key, max(case_id) AS case_id FROM @stat_case WHERE business_key <> '' GROUP BY business_key),
names AS (
    SELECT l.business_key, coalesce(s.business_name, '') AS business_name
    FROM latest l JOIN @stat_case s ON s.case_id = l.case_id),
cases AS (
    SELECT date_trunc('month', received_day)::date AS month, bureau_id, kind, business_key,
           (outcome IS NULL OR outcome <> ALL(CAST(:not_against AS text[])))::int AS counted,
           (accepted AND (outcome IS NULL OR outcome <> ALL(CAST(:not_against AS text[]))))::int AS accepted,
           coalesce(outcome = ANY(CAST(:mediation AS text[])), false)::int AS mediation_closed,
           coalesce(outcome = 'mediated', false)::int AS mediated
    FROM @stat_case WHERE business_key <> ''),
cells AS (
    SELECT month, coalesce(bureau_id, 0) AS bureau_id, coalesce(kind, '') AS kind, business_key,
           count(*) AS received, sum(counted) AS counted, sum(accepted) AS accepted,
           sum(mediation_closed) AS mediation_closed, sum(mediated) AS mediated
    FROM cases
    GROUP BY month, business_key, GROUPING SETS ((bureau_id, kind), (bureau_id), (kind), ())
    HAVING NOT (GROUPING(bureau_id) = 0 AND bureau_id = 0))
INSERT INTO @stat_business_month (month, bureau_id, kind, business_key, business_name, received, counted, accepted,
                                 mediation_closed, mediated)
SELECT c.month, c.bureau_id, c.kind, c.business_key, n.business_name, c.received, c.counted, c.accepted,
       c.mediation_closed, c.mediated
FROM cells c JOIN names n ON n.business_key = c.business_key
@order c.month, c.bureau_id, c.kind, c.business_key
"""


KEYS = {"stat_case": ("case_id",),
        "stat_day": ("day", "bureau_id", "kind", "channel", "category", "outcome"),
        "stat_month": ("month", "bureau_id", "kind", "channel", "category", "outcome"),
        "stat_day_totals": ("day", *_TOTAL_DIMS), "stat_month_totals": ("month", *_TOTAL_DIMS),
        "stat_day_categories": ("day", *_CATEGORY_DIMS), "stat_month_categories": ("month", *_CATEGORY_DIMS),
        "stat_day_bureau_categories": ("day", *_BUREAU_CATEGORY_DIMS),
        "stat_month_bureau_categories": ("month", *_BUREAU_CATEGORY_DIMS),
        "stat_open": ("bureau_id", "kind", "channel", "category", "status"),
        "stat_business_month": ("month", "bureau_id", "kind", "business_key")}
VALUES = {"stat_case": ("counted", *FACT_FIELDS), "stat_day": DAY_MEASURES, "stat_month": DAY_MEASURES,
          **dict.fromkeys(("stat_day_totals", "stat_month_totals", "stat_day_categories", "stat_month_categories",
                           "stat_day_bureau_categories", "stat_month_bureau_categories"), DAY_MEASURES),
          "stat_open": OPEN_MEASURES, "stat_business_month": ("business_name", *BUSINESS_MEASURES)}
JSON_COLUMNS = {"stat_case": frozenset({"returns", "extensions"})}  # json has no equality: compared as jsonb


def _tables(sql: str, names: dict[str, str], fresh: bool) -> str:
    """The statement writing to `names` (the tables or their staging copies); rows go into the tables
    themselves in key order, into staging copies as they come (the merge orders them)."""
    for table in sorted(names, key=len, reverse=True):  # @stat_day_totals before @stat_day
        sql = sql.replace(f"@{table}", names[table])
    return sql.replace("@order", "ORDER BY" if fresh else "--")


def _merge(table: str) -> list[str]:
    """Bring `table` to the rows of its staging copy, writing only what differs: cells that no longer
    exist go, changed ones are updated, new ones added (in key order)."""
    stage, keys, values = f"stage_{table}", KEYS[table], VALUES[table]
    match = " AND ".join(f"n.{k} = t.{k}" for k in keys)
    columns = ", ".join((*keys, *values))
    json = JSON_COLUMNS.get(table, frozenset())

    def compared(alias: str) -> str:
        return ", ".join(f"{alias}.{v}::jsonb" if v in json else f"{alias}.{v}" for v in values)
    return [f"DELETE FROM {table} t WHERE NOT EXISTS (SELECT 1 FROM {stage} n WHERE {match})",  # noqa: S608
            f"UPDATE {table} t SET {', '.join(f'{v} = n.{v}' for v in values)} FROM {stage} n "  # noqa: S608
            f"WHERE {match} AND ({compared('t')}) IS DISTINCT FROM ({compared('n')})",
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {stage} n "  # noqa: S608
            f"WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {match}) ORDER BY {', '.join(keys)}"]


def rebuild_all(lock: int, chunk: int = CHUNK, progress: Callable[[int], None] | None = None) -> int:
    """Count every case again from nothing, in one transaction, and commit. The transaction first takes
    the advisory lock `lock` (refresh.REBUILD_LOCK; drains take it shared, so none writes the statistics
    meanwhile) and its commit or rollback releases it. A case changed while this runs stays marked dirty
    (its mark is newer than the DELETE below) and the next drain recounts it. Returns the cases counted;
    `progress(done)` after each range of ids.

    Empty tables (the first count) are filled directly. Otherwise the new figures go into temporary
    staging tables first and are merged in: no DELETE of every row (whose dead index entries would slow
    each insert down) and no TRUNCATE (which would block the dashboard until the commit); readers keep
    the old figures meanwhile, and a rebuild that changes little writes little."""
    try:
        db.session.execute(text("SELECT pg_advisory_xact_lock(:lock)"), {"lock": lock})
        done = _rebuild(db.session, chunk, progress)
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()
    return done


def _rebuild(session, chunk: int, progress: Callable[[int], None] | None) -> int:
    for statement in SETTINGS:
        session.execute(text(statement))
    # First, so that marks made from here on survive: those cases are recounted by the next drain.
    session.execute(text("DELETE FROM stat_dirty"))
    fresh = not session.execute(text("SELECT EXISTS (SELECT 1 FROM stat_case)")).scalar()
    if fresh:
        names = {table: table for table in KEYS}
        for table in TABLES[:-1]:  # the rollups: empty too, unless someone emptied stat_case alone
            session.execute(text(f"DELETE FROM {table}"))  # noqa: S608
    else:
        names = {table: f"stage_{table}" for table in KEYS}
        for table, stage in names.items():
            session.execute(text(f"CREATE TEMPORARY TABLE {stage} (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DROP"))
    low, high = session.execute(text('SELECT min(id), max(id) FROM "case"')).one()
    done = 0
    if low is not None:
        params = {"tz": current_app.config["TIMEZONE"], "not_a_decision": sorted(NOT_A_DECISION),
                  **_clock_priorities()}
        facts = text(_tables(FACTS, names, fresh))
        for start in range(low, high + 1, chunk):
            done += session.execute(facts, {**params, "lo": start, "hi": start + chunk - 1}).rowcount
            if progress:
                progress(done)
    if not fresh:  # temporary tables have no statistics until analysed: the joins below need them
        session.execute(text(f"ANALYZE {names['stat_case']}"))
    session.execute(text(_tables(DAY_CELLS, names, fresh)))
    session.execute(text(_tables(MONTH_CELLS, names, fresh)))
    for statement in COARSER_CELLS:
        session.execute(text(_tables(statement, names, fresh)))
    session.execute(text(_tables(OPEN_CELLS, names, fresh)))
    session.execute(text(_tables(BUSINESS_CELLS, names, fresh)),
                    {"not_against": sorted(NOT_AGAINST_BUSINESS), "mediation": sorted(MEDIATION_OUTCOMES)})
    if not fresh:
        for table in TABLES:
            session.execute(text(f"ANALYZE {names[table]}"))
            for statement in _merge(table):
                session.execute(text(statement))
    session.execute(text(f"ANALYZE {', '.join(TABLES)}"))  # the dashboard's plans see the new sizes at once
    return done
