"""Routing bench (DESIGN.md §4): commit-to-routed latency at a steady intake rate with ONE Celery
worker, that worker's throughput on a backlog, and its peak RSS.

    .venv/bin/python bench/routing.py [--rate 100] [--seconds 20] [--backlog 2000]
                                      [--database-url postgresql://postgres@127.0.0.1:5432/hotline_bench]

Everything it needs it starts itself and stops again: a private redis-server on a free port, a fresh
database (dropped and created again), `hotline init`, one worker
(`celery -A workers worker --pool threads --concurrency 8`). Phases:

1. intake: a child process registers cases at --rate per second for --seconds (register_case +
   commit per case, a few threads) with the outbox relay thread running, which publishes each job
   right after its commit. Latency = the `at` of the case's `route` event (written by the worker)
   minus the wall-clock time taken right after the commit in the bench.
2. backlog: a second child process (no relay thread) registers --backlog cases whose outbox jobs are
   held back (available_at far ahead, in the same transaction, so no relay sees them), then releases
   them and publishes them all at once with publish_pending(send_job). Throughput = cases / (last
   route event - release). Each case also carries its receipt SMS job, which the same worker runs.
3. the worker's VmHWM from /proc/<pid>/status.
The database is left in place for inspection; the next run drops it.
"""
import argparse
import math
import multiprocessing as mp
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/hotline_bench"
PROTECTED = {"test", "hotline_main_pg", "hotline_workers", "hotline_ci", "postgres", "template0", "template1"}
LATENCY_TARGET_MS = 1000
RSS_TARGET_MB = 200
HANDLERS_PER_BUREAU = 2

# Business addresses spread over the Anshan districts and counties, and a few outside the city
# (those go to triage with a triage clock).
ADDRESSES = [
    "辽宁省鞍山市铁西区兴盛街道人民路88号",
    "鞍山市铁东区园林街道胜利路12号",
    "鞍山市立山区齐大山镇",
    "海城市西柳镇服装市场三区",
    "鞍山市千山区汤岗子镇",
    "鞍山市铁东区二一九路36号",
    "台安县台安镇",
    "岫岩满族自治县雅河乡",
    "鞍山高新区千山中路",
    "鞍山市铁西区永乐街道",
    "海城市牛庄镇",
    "鞍山市立山区曙光街道",
    "鞍山市铁东区山南街道",
    "鞍山市千山区宁远镇",
    "辽宁省沈阳市和平区中华路1号",
    "沈阳市和平区太原街",
]


def complaint_payload(i: int) -> dict:
    """Like tests/conftest.py complaint_payload, varied by index."""
    return {"kind": "complaint", "channel": "phone",
            "consumer": {"name": "张三", "phone": f"139{i % 100_000_000:08d}"},
            "business": {"name": f"测试商店{i % 97}", "address": ADDRESSES[i % len(ADDRESSES)]},
            "subject": "质量问题", "description": "商品有质量问题。", "demand": "退货",
            "amount": "100.00", "occurred_on": "2026-11-01"}


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


# ---------------------------------------------------------------------------------------------
# Child process 1: steady intake with the relay thread publishing after each commit.
# ---------------------------------------------------------------------------------------------

class Pacer:
    """Hands out send slots at a fixed rate on the monotonic clock. Slots more than `max_lag` in the
    past are dropped (counted), so a stall is never followed by an unbounded burst."""

    def __init__(self, rate: float, seconds: float, max_lag: float = 0.25):
        self.interval = 1.0 / rate
        self.start = time.monotonic() + 0.2
        self.end = self.start + seconds
        self.next = self.start
        self.max_lag = max_lag
        self.index = 0
        self.dropped = 0
        self.lock = threading.Lock()

    def take(self) -> tuple[int, float] | None:
        with self.lock:
            now = time.monotonic()
            slot = self.next
            if slot < now - self.max_lag:
                missed = int((now - self.max_lag - slot) / self.interval)
                self.dropped += missed
                slot += missed * self.interval
            if slot >= self.end:
                return None
            self.next = slot + self.interval
            self.index += 1
            return self.index - 1, slot


def intake_child(rate: float, seconds: float, threads: int, results: mp.Queue) -> None:
    from sqlalchemy import func, select

    from hotline import create_app
    from hotline.cases.operations import register_case
    from hotline.cases.schemas import parse_case
    from hotline.extensions import db
    from hotline.outbox.models import OutboxJob
    from hotline.outbox.relay import start_relay

    app = create_app()
    start_relay(app, interval=1.0)
    pacer = Pacer(rate, seconds)
    commits: list[tuple[int, float]] = []
    service_ms: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def work():
        with app.app_context():
            while (slot := pacer.take()) is not None:
                index, at = slot
                delay = at - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                began = time.monotonic()
                try:
                    case = register_case(parse_case(complaint_payload(index)), None).case
                    db.session.commit()
                    committed = time.time()
                except Exception as exc:  # recorded and reported; the bench goes on
                    db.session.rollback()
                    with lock:
                        errors.append(repr(exc)[:200])
                    continue
                with lock:
                    commits.append((case.id, committed))
                    service_ms.append((time.monotonic() - began) * 1000)
            db.session.remove()

    workers = [threading.Thread(target=work, name=f"intake-{k}") for k in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    elapsed = time.monotonic() - pacer.start
    # Leave only once the relay has published everything this process wrote.
    with app.app_context():
        deadline = time.monotonic() + 15
        unpublished = None
        while time.monotonic() < deadline:
            unpublished = db.session.scalar(select(func.count(OutboxJob.id)).where(
                OutboxJob.published_at.is_(None), OutboxJob.done_at.is_(None)))
            db.session.rollback()
            if not unpublished:
                break
            time.sleep(0.2)
        db.session.remove()
    results.put({"commits": commits, "service_ms": service_ms, "errors": errors, "elapsed": elapsed,
                 "dropped": pacer.dropped, "unpublished": unpublished})


# ---------------------------------------------------------------------------------------------
# Child process 2: a backlog registered with its jobs held back, then published all at once.
# ---------------------------------------------------------------------------------------------

def backlog_child(count: int, batch: int, results: mp.Queue) -> None:
    from sqlalchemy import func, select, update

    from hotline import create_app
    from hotline.cases.operations import register_case
    from hotline.cases.schemas import parse_case
    from hotline.extensions import db
    from hotline.outbox.models import OutboxJob
    from hotline.outbox.publisher import send_job
    from hotline.outbox.relay import publish_pending
    from hotline.types import utcnow

    app = create_app()  # no relay thread in this process: nothing is published behind our back
    case_ids: list[int] = []
    with app.app_context():
        first_job = (db.session.scalar(select(func.max(OutboxJob.id))) or 0) + 1
        held = utcnow() + timedelta(days=1)
        began = time.monotonic()
        for start in range(0, count, batch):
            for i in range(start, min(count, start + batch)):
                case_ids.append(register_case(parse_case(complaint_payload(1_000_000 + i)), None).case.id)
            db.session.flush()
            # Same transaction: the jobs are never visible as due before we release them.
            db.session.execute(update(OutboxJob).where(OutboxJob.id >= first_job, OutboxJob.done_at.is_(None))
                               .values(available_at=held))
            db.session.commit()
        insert_s = time.monotonic() - began
        jobs = db.session.scalar(select(func.count(OutboxJob.id)).where(OutboxJob.id >= first_job))
        released_at = time.time()
        db.session.execute(update(OutboxJob).where(OutboxJob.id >= first_job, OutboxJob.done_at.is_(None))
                           .values(available_at=utcnow()))
        db.session.commit()
        published = 0
        while (sent := publish_pending(send_job)):
            published += sent
        publish_s = time.time() - released_at
        db.session.remove()
    results.put({"case_ids": case_ids, "jobs": jobs, "published": published, "released_at": released_at,
                 "publish_s": publish_s, "insert_s": insert_s})


# ---------------------------------------------------------------------------------------------
# The orchestrator.
# ---------------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def reset_database(url: str) -> str:
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    name = parsed.database
    if not name or name in PROTECTED:
        sys.exit(f"refusing to drop database {name!r}: give a database of the bench's own")
    maintenance = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return name


def wait_for(predicate, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


def stop_process(proc: subprocess.Popen | None, grace: float = 10.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def run_child(target, args: tuple, timeout: float) -> dict:
    """Run a phase in a fresh (spawned) interpreter and return what it put on its queue."""
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    child = ctx.Process(target=target, args=(*args, results), daemon=True)
    child.start()
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                return results.get(timeout=1.0)
            except queue.Empty:
                if not child.is_alive():
                    raise RuntimeError(f"{target.__name__} exited with code {child.exitcode}") from None
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{target.__name__} did not finish in {timeout:.0f} s") from None
    finally:
        child.join(10)
        if child.is_alive():
            child.terminate()
            child.join(5)


def route_times(case_ids: list[int]) -> dict[int, float]:
    """case id → epoch seconds of its `route` event, for those routed so far."""
    from sqlalchemy import select

    from hotline.cases.models import CaseEvent
    from hotline.extensions import db

    found: dict[int, float] = {}
    for start in range(0, len(case_ids), 5000):
        chunk = case_ids[start:start + 5000]
        rows = db.session.execute(select(CaseEvent.case_id, CaseEvent.at)
                                  .where(CaseEvent.action == "route", CaseEvent.case_id.in_(chunk)))
        for case_id, at in rows:
            found[case_id] = min(found.get(case_id, math.inf), at.timestamp())
    db.session.rollback()
    return found


def wait_routed(case_ids: list[int], timeout: float) -> tuple[dict[int, float], float]:
    began = time.monotonic()
    deadline = began + timeout
    while True:
        found = route_times(case_ids)
        if len(found) >= len(case_ids) or time.monotonic() > deadline:
            return found, time.monotonic() - began
        time.sleep(0.25)


def job_states() -> dict[str, int]:
    from sqlalchemy import text

    from hotline.extensions import db

    row = db.session.execute(text(
        "SELECT count(*) FILTER (WHERE done_at IS NULL AND published_at IS NULL),"
        " count(*) FILTER (WHERE done_at IS NULL AND published_at IS NOT NULL),"
        " count(*) FILTER (WHERE attempts > 0) FROM outbox_job")).one()
    db.session.rollback()
    return {"unpublished": row[0], "published, not done": row[1], "failed at least once": row[2]}


def create_handlers() -> int:
    """Two handlers per bureau, so routing also assigns (least_busy_handler does real work)."""
    from sqlalchemy import select

    from hotline.auth.operations import create_user
    from hotline.extensions import db
    from hotline.reference.models import Bureau

    codes = list(db.session.scalars(select(Bureau.code)))
    for code in codes:
        for k in range(HANDLERS_PER_BUREAU):
            create_user(f"bench-{code}-{k}", "bench-password-1", "bureau", bureau_code=code)
    db.session.commit()
    return len(codes) * HANDLERS_PER_BUREAU


def first_pass(times: list[float], start: float, gap: float = 10.0) -> tuple[int, float] | None:
    """(cases, seconds) up to the first pause of `gap` seconds in the route events: the rate the worker
    drains the backlog at, apart from jobs that only ran when the outbox republished them."""
    for k in range(1, len(times)):
        if times[k] - times[k - 1] > gap:
            return k, times[k - 1] - start
    return (len(times), times[-1] - start) if times else None


def vm_status(pid: int) -> dict[str, int]:
    """VmHWM and VmRSS in kB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            values[key] = int(rest.split()[0])
    return values


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=100.0, help="intake cases per second (default 100)")
    parser.add_argument("--seconds", type=float, default=20.0, help="intake duration (default 20)")
    parser.add_argument("--threads", type=int, default=4, help="intake threads (default 4)")
    parser.add_argument("--backlog", type=int, default=2000, help="cases for the throughput phase (default 2000)")
    parser.add_argument("--database-url", default=os.environ.get("HOTLINE_BENCH_DATABASE_URL", DEFAULT_DB),
                        help=f"PostgreSQL database of the bench's own; dropped and created (default {DEFAULT_DB})")
    args = parser.parse_args()
    if not args.database_url.startswith("postgresql"):
        sys.exit("the routing bench runs on PostgreSQL")

    workdir = Path(tempfile.mkdtemp(prefix="hotline-bench-routing-"))
    redis_proc = worker = None
    try:
        # --- a private Redis, a fresh database, `hotline init` ---------------------------------
        port = free_port()
        redis_proc = subprocess.Popen(
            ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no", "--bind", "127.0.0.1",
             "--daemonize", "no", "--dir", str(workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        broker = f"redis://127.0.0.1:{port}/0"
        import redis
        wait_for(lambda: _redis_up(redis, broker), 10, "redis-server")
        db_name = reset_database(args.database_url)

        os.environ.pop("HOTLINE_REDIS_URL", None)  # never the shared Redis; in-memory limits suffice
        os.environ.update(HOTLINE_DATABASE_URL=args.database_url, HOTLINE_BROKER_URL=broker,
                          HOTLINE_SECRET_KEY="bench", HOTLINE_ENV="development", HOTLINE_SMS_BACKEND="log")
        subprocess.run([str(BIN / "hotline"), "init"], cwd=ROOT, check=True, timeout=180,
                       stdout=subprocess.DEVNULL)

        from hotline import create_app
        app = create_app()  # the orchestrator only reads; it never starts a relay
        ctx = app.app_context()
        ctx.push()
        handlers = create_handlers()
        print(f"database {db_name} ready ({handlers} bureau handlers), redis on port {port}", flush=True)

        # --- one worker --------------------------------------------------------------------------
        worker_log = workdir / "worker.log"
        with open(worker_log, "wb") as log_file:
            worker = subprocess.Popen(
                [str(BIN / "celery"), "-A", "workers", "worker", "--pool", "threads", "--concurrency", "8",
                 "-Q", "routing,sms,deadlines,default", "--without-gossip", "--without-mingle",
                 "--loglevel", "WARNING"],
                cwd=ROOT, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)
        from celery import Celery
        control = Celery("bench-control", broker=broker)

        def worker_ready():
            if worker.poll() is not None:
                raise RuntimeError(f"the worker exited ({worker.returncode}):\n{tail(worker_log)}")
            return control.control.ping(timeout=0.5)
        began = time.monotonic()
        wait_for(worker_ready, 60, "the worker to answer a ping")
        print(f"worker pid {worker.pid} ready in {time.monotonic() - began:.1f} s", flush=True)

        # --- phase 1: steady intake, commit → routed latency -------------------------------------
        print(f"intake: {args.rate:g} cases/s for {args.seconds:g} s ...", flush=True)
        intake = run_child(intake_child, (args.rate, args.seconds, args.threads), timeout=args.seconds + 60)
        commit_at = dict(intake["commits"])
        routed, waited = wait_routed(list(commit_at), timeout=60)
        latencies = sorted((routed[c] - t) * 1000 for c, t in commit_at.items() if c in routed)
        intake_jobs = job_states()

        # --- phase 2: backlog, one worker's throughput -------------------------------------------
        print(f"backlog: {args.backlog} cases held back, then published at once ...", flush=True)
        backlog = run_child(backlog_child, (args.backlog, 200, ), timeout=240)
        backlog_routed, _ = wait_routed(backlog["case_ids"], timeout=75)
        backlog_jobs = job_states()
        rss = vm_status(worker.pid) if worker.poll() is None else {}

        # --- report ------------------------------------------------------------------------------
        n = len(commit_at)
        service = sorted(intake["service_ms"])
        print()
        print("routing bench (PostgreSQL, one worker, threads x8)")
        row = "{:<28} {}".format
        print(row("intake rate achieved", f"{n / intake['elapsed']:.1f} cases/s over {intake['elapsed']:.0f} s "
                  f"({n} cases, {intake['dropped']} slots dropped, {len(intake['errors'])} errors, "
                  f"{args.threads} threads)"))
        print(row("intake register+commit", f"p50 {percentile(service, 50):.0f} ms, "
                  f"p95 {percentile(service, 95):.0f} ms, max {service[-1] if service else float('nan'):.0f} ms"))
        print(row("routed", f"{len(routed)}/{n}, " + (f"all within {waited:.1f} s after intake ended"
                  if len(routed) == n else f"gave up waiting {waited:.0f} s after intake ended")))
        for p in (50, 95, 99):
            extra = f"   (target ≤ {LATENCY_TARGET_MS} ms)" if p == 95 else ""
            print(row(f"commit→routed p{p}", f"{percentile(latencies, p):.0f} ms{extra}"))
        print(row("commit→routed max", f"{latencies[-1] if latencies else float('nan'):.0f} ms"))
        over = sum(1 for v in latencies if v > LATENCY_TARGET_MS)
        print(row("commit→routed > 1 s", f"{over} cases ({over / max(1, len(latencies)):.1%})"))
        print(row("outbox after intake", ", ".join(f"{k} {v}" for k, v in intake_jobs.items())))
        done = len(backlog_routed)
        if done:
            span = max(backlog_routed.values()) - backlog["released_at"]
            print(row("worker throughput", f"{done / span:.0f} cases/s ({done}/{args.backlog} cases routed in "
                      f"{span:.1f} s; {backlog['jobs']} jobs incl. receipt SMS = {backlog['jobs'] / span:.0f} jobs/s)"))
            first = first_pass(sorted(backlog_routed.values()), backlog["released_at"])
            if first and first[0] < done:
                print(row("  first pass", f"{first[0] / first[1]:.0f} cases/s ({first[0]} cases in {first[1]:.1f} s; "
                          f"the other {done - first[0]} came after a gap, i.e. republished)"))
        else:
            print(row("worker throughput", "nothing routed"))
        print(row("backlog publish", f"{backlog['published']} jobs in {backlog['publish_s']:.2f} s "
                  f"(insert {backlog['insert_s']:.1f} s)"))
        print(row("outbox after backlog", ", ".join(f"{k} {v}" for k, v in backlog_jobs.items())))
        if rss:
            print(row("worker peak RSS", f"{rss['VmHWM'] / 1024:.0f} MB   (target ≤ {RSS_TARGET_MB} MB; "
                      f"now {rss['VmRSS'] / 1024:.0f} MB)"))
        else:
            print(row("worker peak RSS", "worker gone"))
        if intake["errors"]:
            print("first intake error:", intake["errors"][0])
        warnings = [line for line in worker_log.read_text(errors="replace").splitlines()
                    if "WARNING" in line or "ERROR" in line]
        if warnings:
            print(f"worker log: {len(warnings)} warning/error lines, e.g. {warnings[0][:200]}")
        ctx.pop()
        return 0
    finally:
        stop_process(worker)
        stop_process(redis_proc, grace=5)
        shutil.rmtree(workdir, ignore_errors=True)


def _redis_up(redis, url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except redis.exceptions.ConnectionError:
        return False


if __name__ == "__main__":
    sys.exit(main())
