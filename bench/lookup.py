"""Public look-up bench (DESIGN.md §4: "public lookup at 10M cases: p95 ≤ 30 ms").

    .venv/bin/python bench/lookup.py [--cases 1000000] [--lookups 2000]
                                     [--database-url postgresql://postgres@127.0.0.1:5432/bench_lookup] [--keep]

1. A database of its own (created if missing, its schema dropped and re-made by `hotline init`; never
   `test` or another shared one).
2. Bulk load in PostgreSQL (INSERT ... SELECT FROM generate_series, secondary indexes and foreign keys
   dropped around the load and recreated from their own definitions): N complaints at the bureaus, each
   with its register and route events, its decision clock and its receipt SMS. Then VACUUM ANALYZE.
   --lookups cases, spread over the table, get a valid check digit and a known query code (the HMAC
   with the app's secret), as a real case has.
3. Through the Flask test client (the whole request: JSON, limiter off, the HMAC, the queries, the body),
   time `POST /api/v1/public/lookup` for the right code, a wrong code, and an unknown number; print
   p50/p95/p99 of each. The last two should match (the same 404, the same timing).
The database is dropped at the end unless --keep.
"""
import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/bench_lookup"
PROTECTED = {"test", "hotline", "hotline_main_pg", "hotline_workers", "hotline_ci", "hotline_bench", "postgres",
             "template0", "template1"}
SECRET = "bench-lookup-secret"
TABLES = ("case", "case_event", "case_clock", "sms_message")
TARGET_MS = 30.0


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def admin_url(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/postgres"))


def fresh_database(url: str) -> None:
    name = database_name(url)
    with psycopg.connect(admin_url(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    from flask_migrate import upgrade

    from hotline import create_app
    from hotline.extensions import db
    from hotline.reference.operations import load_region_pack
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET})
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        load_region_pack("anshan")
        db.session.commit()
        db.engine.dispose()


def drop_database(url: str) -> None:
    with psycopg.connect(admin_url(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database_name(url)}" WITH (FORCE)')


def _secondary(conn):
    indexes = dict(conn.execute("""
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
        WHERE t.relname = ANY(%s) AND t.relnamespace = 'public'::regnamespace
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)""",
                                (list(TABLES),)).fetchall())
    fks = conn.execute("""SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
                          WHERE contype = 'f' AND conrelid::regclass::text = ANY(%s)""",
                       (['"case"', "case_event", "case_clock", "sms_message"],)).fetchall()
    return indexes, fks


def load(url: str, n: int, now: datetime) -> dict[str, float]:
    steps: dict[str, float] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET maintenance_work_mem = '256MB'")
        bureaus = [row[0] for row in conn.execute("SELECT id FROM bureau ORDER BY id")]
        indexes, fks = _secondary(conn)
        for table, name, _ in fks:
            conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name in indexes:
            conn.execute(f"DROP INDEX {name}")
        params = {"now": now, "bureaus": bureaus, "nb": len(bureaus), "n": n}
        t = time.perf_counter()
        # number: 13 digits then a placeholder check digit; the sampled cases get a real one below.
        conn.execute("""
            INSERT INTO "case" (id, number, kind, channel, status, received_at, registered_at, bureau_id,
                                consumer_name, consumer_phone, consumer_anonymous, business_name, business_address,
                                subject, description, demand, amount, query_code_hash, division_code, return_count,
                                assignment_final, overdue, version)
            SELECT i, '2' || lpad(i::text, 12, '0') || '0', 'complaint', 'phone', 'pending',
                   %(now)s - make_interval(days => i %% 30), %(now)s - make_interval(days => i %% 30),
                   (%(bureaus)s::int[])[1 + i %% %(nb)s], '张三', '139' || lpad((i %% 100000000)::text, 8, '0'),
                   false, '测试商店' || (i %% 97), '鞍山市铁东区胜利路' || (i %% 500) || '号', '质量问题',
                   '商品有质量问题。', '退货', 100, md5(i::text) || md5((-i)::text), '210302', 0, false, false, 1
            FROM generate_series(1, %(n)s) AS i""", params)
        steps["cases"] = time.perf_counter() - t
        t = time.perf_counter()
        conn.execute("""
            INSERT INTO case_event (case_id, at, actor_label, action, from_status, to_status)
            SELECT i, %(now)s - make_interval(days => i %% 30), 'system', a.action, a.from_status, a.to_status
            FROM generate_series(1, %(n)s) AS i,
                 (VALUES ('register', NULL, 'registered'), ('route', 'registered', 'pending'))
                 AS a(action, from_status, to_status)""", params)
        steps["events"] = time.perf_counter() - t
        t = time.perf_counter()
        conn.execute("""
            INSERT INTO case_clock (case_id, clock, rule_version, started_at, length, unit, due_at, paused_days,
                                    extended_days, fallback_calendar)
            SELECT i, 'complaint_decision', 'order-121', %(now)s - make_interval(days => i %% 30), 7, 'working',
                   %(now)s + make_interval(days => 10 - i %% 30), 0, 0, false
            FROM generate_series(1, %(n)s) AS i""", params)
        conn.execute("""
            INSERT INTO sms_message (case_id, kind, template_code, params, to_phone, status, dedupe_key, attempts,
                                     created_at)
            SELECT i, 'receipt', 'CASE_RECEIPT', '{}', '139' || lpad((i %% 100000000)::text, 8, '0'), 'delivered',
                   'receipt:' || i, 1, %(now)s - make_interval(days => i %% 30)
            FROM generate_series(1, %(n)s) AS i""", params)
        steps["clocks and SMS"] = time.perf_counter() - t
        for table in TABLES:
            conn.execute(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                         f"(SELECT max(id) FROM \"{table}\"))")
        t = time.perf_counter()
        for definition in indexes.values():
            conn.execute(definition)
        for table, name, definition in fks:
            conn.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        steps["indexes"] = time.perf_counter() - t
        t = time.perf_counter()
        conn.execute('VACUUM (ANALYZE) "case", case_event, case_clock, sms_message')
        steps["vacuum analyze"] = time.perf_counter() - t
    return steps


def sample(url: str, n: int, k: int) -> list[tuple[str, str]]:
    """k cases spread over the table, given a valid number and a known query code."""
    from stdnum import damm

    from hotline.cases import numbers
    rng = random.Random(10)
    ids = rng.sample(range(1, n + 1), min(k, n))
    chosen = []
    with psycopg.connect(url) as conn:
        for case_id in ids:
            body = "2" + str(case_id).rjust(12, "0")
            number, code = body + damm.calc_check_digit(body), numbers.new_query_code()
            conn.execute('UPDATE "case" SET number = %s, query_code_hash = %s WHERE id = %s',
                         (number, numbers.hash_query_code(SECRET, number, code), case_id))
            chosen.append((number, code))
    return chosen


def percentiles(values: list[float]) -> str:
    ordered = sorted(values)
    q = statistics.quantiles(ordered, n=100, method="inclusive")
    return f"p50 {q[49]:6.2f} ms   p95 {q[94]:6.2f} ms   p99 {q[98]:6.2f} ms   (n={len(values)})"


def time_lookups(url: str, chosen: list[tuple[str, str]], n: int) -> dict[str, list[float]]:
    from hotline import create_app
    from hotline.cases.numbers import format_case_number
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET, "RATELIMIT_ENABLED": False})
    client = app.test_client()
    unknown_day = datetime(2099, 1, 1).date()  # a day no case has: valid numbers, no case
    runs: dict[str, list[float]] = {"right code": [], "wrong code": [], "unknown number": []}
    for number, code in chosen[:20]:  # warm the pool and the caches
        client.post("/api/v1/public/lookup", json={"number": number, "code": code})
    for i, (number, code) in enumerate(chosen):
        bodies = {"right code": {"number": number, "code": code},
                  "wrong code": {"number": number, "code": "WRONG2"},
                  "unknown number": {"number": format_case_number(unknown_day, 1 + i % 99_998), "code": code}}
        for name, body in bodies.items():
            t = time.perf_counter()
            response = client.post("/api/v1/public/lookup", json=body)
            runs[name].append((time.perf_counter() - t) * 1000)
            expected = 200 if name == "right code" else 404
            if response.status_code != expected:
                sys.exit(f"{name}: {response.status_code} {response.get_data(as_text=True)[:300]}")
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=2000)
    parser.add_argument("--database-url", default=os.environ.get("HOTLINE_BENCH_LOOKUP_URL", DEFAULT_DB))
    parser.add_argument("--keep", action="store_true", help="leave the bench database in place")
    args = parser.parse_args()
    url = args.database_url.replace("postgresql+psycopg://", "postgresql://")
    if database_name(url) in PROTECTED:
        sys.exit(f"refusing to use the shared database {database_name(url)!r}: give a database of the bench's own")
    started = time.perf_counter()
    print(f"database {database_name(url)}: fresh schema")
    fresh_database(url)
    steps = load(url, args.cases, datetime.now(UTC) - timedelta(hours=1))
    print(f"loaded {args.cases:,} cases: " + ", ".join(f"{k} {v:.1f} s" for k, v in steps.items()))
    chosen = sample(url, args.cases, args.lookups)
    runs = time_lookups(url, chosen, args.cases)
    print(f"POST /api/v1/public/lookup over {args.cases:,} cases (Flask test client, PostgreSQL):")
    for name, values in runs.items():
        print(f"  {name:<15} {percentiles(values)}")
    p95 = statistics.quantiles(runs["right code"], n=100, method="inclusive")[94]
    print(f"target (DESIGN.md §4): p95 ≤ {TARGET_MS:.0f} ms at 10M → {'met' if p95 <= TARGET_MS else 'NOT met'} "
          f"at {args.cases:,}")
    if not args.keep:
        drop_database(url)
    print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
