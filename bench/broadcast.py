"""Alert broadcast bench (DESIGN.md §4: "alert to 100k subscribers: all messages queued in ≤ 30 s;
sending limited only by the gateway's rate").

    .venv/bin/python bench/broadcast.py [--subscribers 100000] [--send-sample 2000] [--keep]
                                        [--database-url postgresql://postgres@127.0.0.1:5432/bench_broadcast]

The server comes from --database-url, else HOTLINE_DATABASE_URL; the database is always the bench's own
(`bench_broadcast` unless --database-url names another, never `test`): created fresh, migrated, the
region pack loaded, and dropped at the end unless --keep.

1. N confirmed subscriptions spread over the districts and the whole city, bulk-loaded in PostgreSQL
   (INSERT ... SELECT FROM generate_series), then ANALYZE.
2. A supervisor publishes a city-wide alert; the clock runs from the publish commit until the last
   `alert_fanout` job is done, each job run as a worker runs it (`execute_job`, one batch of ~1,000
   SMS rows and their send jobs per transaction).
3. Optionally (--send-sample > 0) the send rate with the `log` backend: one in-process worker loop runs
   that many `send_sms` jobs, with the clock of the send path pinned to noon (quiet hours apart).
Prints figures; asserts nothing.
"""
import argparse
import os
import sys
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from unittest import mock
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/bench_broadcast"
PROTECTED = {"test", "hotline_main_pg", "hotline_workers", "hotline_ci", "postgres", "template0", "template1"}
TARGET_S = 30.0


def bench_url(args) -> str:
    if args.database_url:
        return args.database_url
    base = os.environ.get("HOTLINE_DATABASE_URL")
    if base and base.startswith("postgresql"):
        return urlunsplit(urlsplit(base)._replace(path="/bench_broadcast"))
    return DEFAULT_URL


def _admin(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/postgres"))


def _name(url: str) -> str:
    name = urlsplit(url).path.lstrip("/")
    if not name or name in PROTECTED:
        sys.exit(f"refusing to use database {name!r}: give the bench a database of its own")
    return name


def create_database(url: str) -> None:
    name = _name(url)
    with psycopg.connect(_admin(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    with psycopg.connect(_admin(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{_name(url)}" WITH (FORCE)')


def load_subscribers(url: str, count: int, districts: list[str]) -> float:
    """N confirmed subscriptions: one in eight for the whole city, the rest spread over the districts."""
    started = time.perf_counter()
    codes = "ARRAY[" + ",".join(f"'{d}'" for d in districts) + "]::varchar[]"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"""
            INSERT INTO subscription (phone, district, status, channel, created_at, consent_at, confirm_attempts)
            SELECT '13' || lpad(g::text, 9, '0'),
                   CASE WHEN g %% 8 = 0 THEN NULL ELSE ({codes})[1 + g %% {len(districts)}] END,
                   'confirmed', 'web', now() - interval '30 days', now() - interval '30 days', 0
            FROM generate_series(1, %s) AS g""", (count,))
        conn.execute("ANALYZE subscription")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url")
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--send-sample", type=int, default=2000, help="send jobs run through the log backend (0: none)")
    parser.add_argument("--keep", action="store_true", help="keep the database for inspection")
    args = parser.parse_args()
    url = bench_url(args)
    create_database(url)
    try:
        run(url, args)
    finally:
        if not args.keep:
            drop_database(url)


def run(url: str, args) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from hotline import create_app
    from hotline.alerts import operations
    from hotline.alerts.operations import AlertInput
    from hotline.alerts.queries import district_codes
    from hotline.auth.operations import create_user
    from hotline.extensions import db
    from hotline.outbox import relay
    from hotline.outbox.models import OutboxJob
    from hotline.reference.operations import load_region_pack
    from hotline.sms.models import SmsMessage

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "BROKER_URL": None, "SMS_BACKEND": "log",
                      "SECRET_KEY": "bench-broadcast"})
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        load_region_pack(app.config["REGION"])
        chief = create_user("bench-chief", "Bench-password-2026", "supervisor")
        db.session.commit()
        districts = sorted(district_codes())
        loaded = load_subscribers(url, args.subscribers, districts)
        print(f"subscribers: {args.subscribers:,} confirmed, loaded in {loaded:.1f} s "
              f"({len(districts)} districts + whole city)")

        alert = operations.create_alert(AlertInput("预付卡消费风险提示", "近期本市多家健身、美容机构闭店。",
                                                   "近期多家健身美容机构闭店，请谨慎办理大额预付卡。"), chief)
        db.session.commit()
        alert_id = alert.id
        started = time.perf_counter()
        operations.publish_alert(alert_id, chief)
        db.session.commit()
        batches, slowest = 0, 0.0
        while True:
            job_id = db.session.scalar(select(OutboxJob.id).where(OutboxJob.task == "alert_fanout",
                                                                  OutboxJob.done_at.is_(None)).order_by(OutboxJob.id))
            db.session.rollback()
            if job_id is None:
                break
            batch_started = time.perf_counter()
            relay.execute_job(job_id)
            slowest = max(slowest, time.perf_counter() - batch_started)
            batches += 1
        elapsed = time.perf_counter() - started
        queued = db.session.scalar(select(func.count(SmsMessage.id)).where(SmsMessage.alert_id == alert_id))
        jobs = db.session.scalar(select(func.count(OutboxJob.id)).where(OutboxJob.task == "send_sms"))
        verdict = "within" if elapsed <= TARGET_S else "OVER"
        print(f"fan-out: {queued:,} SMS queued (+{jobs:,} send jobs) in {elapsed:.2f} s "
              f"= {queued / elapsed:,.0f} messages/s; {batches} jobs, slowest {slowest * 1000:.0f} ms; "
              f"target ≤ {TARGET_S:.0f} s: {verdict}")

        if args.send_sample > 0:
            send_rate(args.send_sample, alert_id)


def send_rate(sample: int, alert_id: int) -> None:
    """One worker loop over `sample` send jobs, log backend, the send path's clock at noon local time."""
    from sqlalchemy import select, update

    from hotline.extensions import db
    from hotline.outbox import relay
    from hotline.outbox.models import OutboxJob
    from hotline.sms.models import SmsMessage
    from hotline.types import utcnow

    noon = datetime.now(ZoneInfo("Asia/Shanghai")).replace(hour=12, minute=0, second=0, microsecond=0)
    # Queued at night, the messages wait for 08:00: make the sample due now, as it would be in the morning.
    db.session.execute(update(SmsMessage).where(SmsMessage.alert_id == alert_id).values(not_before=None))
    db.session.execute(update(OutboxJob).where(OutboxJob.task == "send_sms")
                       .values(available_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    ids = db.session.scalars(select(OutboxJob.id).where(OutboxJob.task == "send_sms", OutboxJob.done_at.is_(None))
                             .order_by(OutboxJob.id).limit(sample)).all()
    db.session.rollback()
    clock = mock.patch("hotline.sms.sending.utcnow", return_value=noon)
    outcomes: Counter = Counter()
    started = time.perf_counter()
    with clock:
        for job_id in ids:
            outcomes[relay.execute_job(job_id)] += 1
    elapsed = time.perf_counter() - started
    statuses = Counter(dict(db.session.execute(
        select(SmsMessage.status, db.func.count()).where(SmsMessage.alert_id == alert_id)
        .group_by(SmsMessage.status)).all()))
    print(f"send (log backend, 1 in-process worker loop): {len(ids):,} jobs in {elapsed:.2f} s "
          f"= {len(ids) / elapsed:,.0f} messages/s; job results {dict(outcomes)}; statuses {dict(statuses)}")


if __name__ == "__main__":
    main()
