"""Deadline sweep bench (DESIGN.md §4: "deadline sweep, 1M open cases ≤ 5 s; cost grows with what is
due, not with all cases").

    .venv/bin/python bench/sweep.py [--cases 1000000] [--due-share 0.01] [--overdue-share 0.005]
                                    [--database-url postgresql://postgres@127.0.0.1:5432/hotline_sweep_bench]

1. A fresh schema in the bench database (created if missing; DROP SCHEMA public CASCADE), then
   `hotline init` (migrations + region pack).
2. Bulk load in PostgreSQL itself (INSERT ... SELECT FROM generate_series, the secondary indexes and
   foreign keys of "case" and case_clock dropped around the load and recreated from their own
   definitions, so the final schema is the migrations'): N open complaints pending at the 9 bureaus,
   each with a running complaint_decision clock. --overdue-share of the clocks are past due (and
   were reminded already), --due-share fall within the reminder window (due before the end of the
   2nd working day from now, what `remind_before` computes), the rest are due later, up to ~40 days
   ahead. Then VACUUM ANALYZE.
3. One sweep timed (with the time spent in each kind of SQL statement), then a second sweep right
   after (nothing new due), then a third with a tenth of the first one's work made due again
   (reminded_at / escalated_at reset on a tenth of the clocks the first sweep claimed, their
   notifications and escalate events removed).
4. EXPLAIN (plan only) of the claim statements exactly as the sweep issued them.
The database is left in place for inspection; the next run drops its schema.
"""
import argparse
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/hotline_sweep_bench"
PROTECTED = {"test", "hotline_main_pg", "hotline_workers", "hotline_ci", "hotline_bench", "postgres",
             "template0", "template1"}
TARGET_S = 5.0
LOAD_TABLES = ("case", "case_clock")


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def ensure_database(url: str) -> None:
    name = database_name(url)
    admin = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def fresh_schema(url: str, env: dict) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    out = subprocess.run([str(BIN / "hotline"), "init"], env=env, cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    if out.returncode:
        sys.exit(f"hotline init failed:\n{out.stdout}\n{out.stderr}")


def secondary_indexes(conn) -> dict[str, str]:
    """Indexes of the loaded tables that back no constraint (PK and UNIQUE stay in place)."""
    return dict(conn.execute("""
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
        WHERE t.relname = ANY(%s) AND t.relnamespace = 'public'::regnamespace
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        ORDER BY 1""", (list(LOAD_TABLES),)).fetchall())


def foreign_keys(conn) -> list[tuple[str, str, str]]:
    """(table, name, definition) of the foreign keys on the loaded tables."""
    return conn.execute("""
        SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
        WHERE contype = 'f' AND conrelid::regclass::text = ANY(%s) ORDER BY 1, 2""",
                        (['"case"', "case_clock"],)).fetchall()


def all_index_defs(conn) -> list[str]:
    return [row[0] for row in conn.execute("""
        SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = ANY(%s) ORDER BY 1""",
                                           (list(LOAD_TABLES),))]


def load(url: str, cases: int, due_share: float, overdue_share: float, now, due_by) -> dict[str, float]:
    """N open cases with one running clock each; returns the seconds spent per step."""
    steps: dict[str, float] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET maintenance_work_mem = '512MB'")
        conn.execute("SET statement_timeout = '15min'")
        bureaus = [row[0] for row in conn.execute("SELECT id FROM bureau ORDER BY id")]
        if not bureaus:
            sys.exit("no bureaus after hotline init")
        before = all_index_defs(conn)
        indexes, fks = secondary_indexes(conn), foreign_keys(conn)

        t = time.perf_counter()
        for table, name, _ in fks:
            conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name in indexes:
            conn.execute(f"DROP INDEX {name}")
        steps["drop indexes"] = time.perf_counter() - t

        # u: a scattered, reproducible value in [0, 1) per case, so what is due is spread over the table.
        t = time.perf_counter()
        conn.execute("""
            INSERT INTO "case" (id, number, kind, channel, status, received_at, registered_at, bureau_id,
                                consumer_name, consumer_phone, consumer_anonymous, business_name,
                                business_address, subject, description, demand, amount, query_code_hash,
                                division_code, routing_rule, return_count, assignment_final, overdue, version)
            SELECT i, '20' || lpad(i::text, 12, '0'), 'complaint', (ARRAY['phone', 'web', 'wechat'])[1 + i %% 3],
                   'pending', %(now)s - make_interval(days => 10 + i %% 30),
                   %(now)s - make_interval(days => 10 + i %% 30), (%(bureaus)s::int[])[1 + i %% %(nb)s],
                   '张三', '139' || lpad((i %% 100000000)::text, 8, '0'), false, '测试商店' || (i %% 97),
                   '鞍山市铁东区园林街道胜利路' || (i %% 500) || '号', '质量问题', '商品有质量问题。', '退货',
                   10000 + i %% 90000, md5(i::text) || md5((-i)::text), '210302', 'division 210302', 0,
                   false, false, 1
            FROM generate_series(1, %(n)s) AS i""",
                     {"now": now, "bureaus": bureaus, "nb": len(bureaus), "n": cases})
        conn.execute("SELECT setval(pg_get_serial_sequence('\"case\"', 'id'), %s)", (cases,))
        steps["insert cases"] = time.perf_counter() - t

        t = time.perf_counter()
        conn.execute("""
            INSERT INTO case_clock (id, case_id, clock, rule_version, started_at, length, due_at, paused_days,
                                    extended_days, fallback_calendar, reminded_at)
            SELECT i, i, 'complaint_decision', 'order-20', s.started_at, 7, s.due_at, 0, 0, false,
                   CASE WHEN s.u < %(overdue)s THEN s.due_at - interval '2 days' END
            FROM (SELECT i, u,
                         %(now)s - make_interval(days => 10 + i %% 30) AS started_at,
                         CASE WHEN u < %(overdue)s  -- past due by 1 h .. 10 days, reminded long ago
                                   THEN %(now)s - interval '1 hour' - (u / %(overdue)s) * interval '10 days'
                              WHEN u < %(overdue)s + %(due)s  -- within the reminder window
                                   THEN %(now)s + interval '1 minute'
                                        + ((u - %(overdue)s) / %(due)s) * (%(due_by)s - %(now)s - interval '2 minutes')
                              ELSE %(due_by)s + interval '3 days' + u * interval '37 days' END AS due_at
                  FROM (SELECT i, ((i::bigint * 2654435761) %% 1000003) / 1000003.0 AS u
                        FROM generate_series(1, %(n)s) AS i) g) s""",
                     {"now": now, "due_by": due_by, "overdue": overdue_share, "due": due_share, "n": cases})
        conn.execute("SELECT setval(pg_get_serial_sequence('case_clock', 'id'), %s)", (cases,))
        steps["insert clocks"] = time.perf_counter() - t

        t = time.perf_counter()
        for definition in indexes.values():
            conn.execute(definition)
        for table, name, definition in fks:
            conn.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        steps["recreate indexes"] = time.perf_counter() - t
        if all_index_defs(conn) != before:
            sys.exit("the indexes after the load differ from the migrations'")

        t = time.perf_counter()
        conn.execute('VACUUM (ANALYZE) "case", case_clock')
        steps["vacuum analyze"] = time.perf_counter() - t
    return steps


class StatementTimer:
    """Seconds spent in each kind of SQL statement the sweep sends, and the claim statements as sent."""

    KINDS = (("UPDATE case_clock SET reminded_at", "claim reminders"),
             ("UPDATE case_clock SET escalated_at", "claim escalations"),
             ('SELECT "case".id, "case".assignee_id', "handlers"),
             ("INSERT INTO notification", "insert notifications"),
             ('UPDATE "case"', "flag cases overdue"),
             ("INSERT INTO case_event", "insert events"),
             ("SELECT calendar_day", "calendar overrides"))

    def __init__(self):
        self.seconds: dict[str, float] = defaultdict(float)
        self.count: dict[str, int] = defaultdict(int)
        self.claims: dict[str, tuple[str, object]] = {}
        self._start = 0.0

    def kind(self, statement: str) -> str:
        for prefix, name in self.KINDS:
            if statement.lstrip().startswith(prefix):
                return name
        return "other: " + " ".join(statement.split()[:3])

    def before(self, conn, cursor, statement, parameters, context, executemany):
        self._start = time.perf_counter()

    def after(self, conn, cursor, statement, parameters, context, executemany):
        kind = self.kind(statement)
        self.seconds[kind] += time.perf_counter() - self._start
        self.count[kind] += 1
        if kind.startswith("claim") and kind not in self.claims:
            self.claims[kind] = (statement, parameters)

    def reset(self) -> None:
        self.seconds.clear()
        self.count.clear()


def timed_sweep(timer: StatementTimer):
    from hotline.deadlines.sweep import sweep
    timer.reset()
    t = time.perf_counter()
    result = sweep()
    return time.perf_counter() - t, result


def breakdown(timer: StatementTimer, total: float) -> list[str]:
    lines = [f"    {kind:<24}{secs:8.3f} s  ({timer.count[kind]} statements)"
             for kind, secs in sorted(timer.seconds.items(), key=lambda kv: -kv[1])]
    rest = total - sum(timer.seconds.values())
    lines.append(f"    {'python, commits':<24}{rest:8.3f} s")
    return lines


def make_due_again(share_of_claimed: int = 10) -> tuple[int, int]:
    """Undo a tenth of the first sweep's work, so the next sweep has a tenth as much to do."""
    from sqlalchemy import text

    from hotline.extensions import db
    session = db.session
    reminded = session.execute(text(f"""
        WITH c AS (SELECT id FROM case_clock WHERE reminded_at IS NOT NULL AND escalated_at IS NULL
                   AND due_at > now() AND id % {share_of_claimed} = 0),
             n AS (DELETE FROM notification WHERE kind = 'reminder' AND clock_id IN (SELECT id FROM c))
        UPDATE case_clock SET reminded_at = NULL WHERE id IN (SELECT id FROM c)""")).rowcount
    escalated = session.execute(text(f"""
        WITH c AS (SELECT id, case_id FROM case_clock WHERE escalated_at IS NOT NULL
                   AND id % {share_of_claimed} = 0),
             n AS (DELETE FROM notification WHERE kind = 'escalation' AND clock_id IN (SELECT id FROM c)),
             e AS (DELETE FROM case_event WHERE action = 'escalate' AND case_id IN (SELECT case_id FROM c))
        UPDATE case_clock SET escalated_at = NULL WHERE id IN (SELECT id FROM c)""")).rowcount
    session.commit()
    return reminded, escalated


def explain(statement: str, parameters) -> list[str]:
    from hotline.extensions import db
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("EXPLAIN " + statement, parameters)
        plan = [row[0] for row in cursor.fetchall()]
        raw.rollback()
        return plan
    finally:
        raw.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--due-share", type=float, default=0.01, help="share due within the reminder window")
    parser.add_argument("--overdue-share", type=float, default=0.005, help="share already past due")
    parser.add_argument("--database-url", default=DEFAULT_DB)
    args = parser.parse_args()
    if database_name(args.database_url) in PROTECTED:
        sys.exit(f"refusing to use database {database_name(args.database_url)!r}")
    if not (args.due_share > 0 and args.overdue_share > 0 and args.due_share + args.overdue_share < 1):
        sys.exit("the shares must be positive and add up to less than 1")

    env = {**os.environ, "HOTLINE_DATABASE_URL": args.database_url, "HOTLINE_SECRET_KEY": "bench"}
    env.pop("HOTLINE_BROKER_URL", None)
    os.environ.update({k: env[k] for k in ("HOTLINE_DATABASE_URL", "HOTLINE_SECRET_KEY")})
    os.environ.pop("HOTLINE_BROKER_URL", None)

    ensure_database(args.database_url)
    t = time.perf_counter()
    fresh_schema(args.database_url, env)
    init_s = time.perf_counter() - t

    from sqlalchemy import event

    from hotline import create_app
    from hotline.deadlines.sweep import remind_before
    from hotline.extensions import db
    from hotline.types import utcnow
    app = create_app()
    with app.app_context():
        now = utcnow()
        due_by = remind_before(now)
        db.session.remove()
        print(f"reminder window: due by {due_by:%Y-%m-%d %H:%M} UTC (now {now:%Y-%m-%d %H:%M} UTC)", flush=True)
        t = time.perf_counter()
        steps = load(args.database_url, args.cases, args.due_share, args.overdue_share, now, due_by)
        load_s = time.perf_counter() - t
        for step, secs in steps.items():
            print(f"  {step:<26}{secs:7.1f} s", flush=True)

        timer = StatementTimer()
        event.listen(db.engine, "before_cursor_execute", timer.before)
        event.listen(db.engine, "after_cursor_execute", timer.after)
        first_s, first = timed_sweep(timer)
        first_lines = breakdown(timer, first_s)
        second_s, second = timed_sweep(timer)
        again = make_due_again()
        third_s, third = timed_sweep(timer)
        third_lines = breakdown(timer, third_s)
        event.remove(db.engine, "before_cursor_execute", timer.before)
        event.remove(db.engine, "after_cursor_execute", timer.after)
        plans = {kind: explain(*sent) for kind, sent in sorted(timer.claims.items())}
        db.session.remove()
        db.engine.dispose()

    print()
    for kind, plan in plans.items():
        print(f"EXPLAIN {kind} (the statement as the sweep sent it):")
        print("\n".join("    " + line for line in plan))
        if any("Seq Scan on case_clock" in line for line in plan):
            print("    note: a Seq Scan on case_clock: this claim reads every clock, due or not")
    print()
    print("first sweep, time per statement kind:")
    print("\n".join(first_lines))
    print("third sweep, time per statement kind:")
    print("\n".join(third_lines))
    print()
    verdict = "ok" if first_s <= TARGET_S else "OVER TARGET"
    print(f"deadline sweep bench (PostgreSQL, {args.cases:,} open cases)")
    print(f"hotline init              {init_s:6.1f} s")
    print(f"load                      {load_s:6.1f} s")
    print(f"first sweep               {first_s:6.2f} s   ({first.reminders:,} reminders, "
          f"{first.escalations:,} escalations; target ≤ {TARGET_S:g} s: {verdict})")
    print(f"second sweep              {second_s:6.2f} s   ({second.reminders:,} reminders, "
          f"{second.escalations:,} escalations; nothing new due)")
    print(f"third sweep               {third_s:6.2f} s   ({third.reminders:,} reminders, "
          f"{third.escalations:,} escalations; {again[0]:,} + {again[1]:,} made due again)")


if __name__ == "__main__":
    main()
