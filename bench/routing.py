"""Routing bench (DESIGN.md §4): commit-to-routed latency at a steady intake rate with ONE Celery
worker, that worker's throughput on a backlog, and its peak RSS.

    .venv/bin/python bench/routing.py [--rate 100] [--seconds 20] [--threads 4] [--backlog 2000] [--wait 60]
                                      [--noop 5000] [--database-url postgresql://postgres@127.0.0.1:5432/hotline_bench]

Everything it needs it starts itself and stops again: a private redis-server on a free port, a fresh
database (dropped and created again), `hotline init`, one worker
(`celery -A workers worker --pool threads --concurrency 8`). Phases:

1. intake: a child process registers cases at --rate per second for --seconds (register_case +
   commit per case, a few threads); as in a web process, each commit publishes its own jobs right
   after it (hotline/outbox/operations.py; no relay thread there), and it stays up until the worker
   has routed them all (at most --wait s).
   Latency = the `at` of the case's `route` event (written by the worker) minus the wall-clock time
   taken right after the commit in the bench; a case not routed in time counts as slower than all.
2. backlog: a second child process (no relay thread) registers --backlog cases whose outbox jobs are
   held back (available_at far ahead, in the same transaction, so no relay sees them), then releases
   them and publishes them all at once with publish_pending(send_job). Throughput = cases / (last
   route event - release). Each case also carries its receipt SMS job, which the same worker runs.
3. no-op: --noop messages of a bare no-op task (`hotline.noop`: no app context, no database) are
   queued on a queue of their own, then the same worker is told to consume it: the broker and pool's
   own throughput and CPU per message, printed beside the routing figures as a ratio.
4. statements per job: a few cases registered here with their jobs held back, each job run in this
   process with the SQL statements and commits counted (deterministic, unlike the timings).
5. the worker's VmHWM from /proc/<pid>/status, and CPU figures: the worker's CPU per case, and how
   the machine's CPU was shared between this bench and other processes (a busy neighbour is flagged).
The database is left in place for inspection; the next run drops it.
"""
import argparse
import contextlib
import math
import multiprocessing as mp
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: `bench` imports as a package from the top
from bench.common import free_port, percentile, reset_database, revision, stop_process  # noqa: E402

BIN = ROOT / ".venv" / "bin"
DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/hotline_bench"
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


def intake_child(rate: float, seconds: float, threads: int, wait: float, results: mp.Queue) -> None:

    from hotline import create_app
    from hotline.cases.operations import register_case
    from hotline.cases.schemas import parse_case
    from hotline.extensions import db

    app = create_app()  # a web process: its commits publish their own jobs, and it runs no relay thread
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
    # Stay up, as a web process does, until the worker has routed every case.
    with app.app_context():
        routed, waited = wait_routed([case_id for case_id, _ in commits], timeout=wait)
        db.session.remove()
    results.put({"commits": commits, "service_ms": service_ms, "errors": errors, "elapsed": elapsed,
                 "dropped": pacer.dropped, "routed": routed, "waited": waited})


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

    # No broker while registering: the commits must not publish their own jobs (hotline/outbox/operations.py),
    # and no relay thread runs here; the broker comes back for the release below.
    app = create_app({"BROKER_URL": None})
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
        app.config["BROKER_URL"] = os.environ["HOTLINE_BROKER_URL"]
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


def wait_for(predicate, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


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


NOOP_QUEUE = "bench-noop"


def noop_phase(control, broker: str, worker_pid: int, count: int) -> dict:
    """The bare no-op task through the same broker and worker (same pool and concurrency): `count` messages
    queued first on a queue of their own, then the worker told to consume it; throughput and CPU per message
    from then until the queue is empty and every message acknowledged."""
    import redis
    client = redis.Redis.from_url(broker)
    with control.producer_or_acquire() as producer:
        for start in range(0, count, 1000):
            with producer.batch(max_size=2000):
                for _ in range(min(1000, count - start)):
                    control.send_task("hotline.noop", queue=NOOP_QUEUE, producer=producer)
    cpu0, began = process_cpu(worker_pid), time.monotonic()
    control.control.add_consumer(NOOP_QUEUE, reply=True, timeout=5)
    deadline = began + 120
    while client.llen(NOOP_QUEUE) or client.hlen("unacked"):
        if time.monotonic() > deadline:
            break
        time.sleep(0.02)
    wall, cpu = time.monotonic() - began, process_cpu(worker_pid) - cpu0
    control.control.cancel_consumer(NOOP_QUEUE, reply=True, timeout=5)
    left = client.llen(NOOP_QUEUE)
    return {"done": count - left, "seconds": wall, "cpu": cpu}


def statements_per_job(count: int = 20) -> dict[str, tuple[float, float]]:
    """Register `count` cases here with their jobs held back (no relay sees them), run each job in this
    process and count its SQL statements and commits: {task: (statements, commits) per job}. The first
    case warms the caches (reference data, handler counts) and is not counted."""
    from flask import current_app
    from sqlalchemy import event, func, select, update

    from hotline.cases.operations import register_case
    from hotline.cases.schemas import parse_case
    from hotline.extensions import db
    from hotline.outbox import relay
    from hotline.outbox.models import OutboxJob
    from hotline.types import utcnow

    first = (db.session.scalar(select(func.max(OutboxJob.id))) or 0) + 1
    broker = current_app.config["BROKER_URL"]
    current_app.config["BROKER_URL"] = None  # the commit must not publish these jobs: the worker would run them
    try:
        for i in range(count + 1):
            register_case(parse_case(complaint_payload(2_000_000 + i)), None)
        db.session.flush()
        db.session.execute(update(OutboxJob).where(OutboxJob.id >= first).values(
            available_at=utcnow() + timedelta(days=1)))
        db.session.commit()
    finally:
        current_app.config["BROKER_URL"] = broker
    jobs = db.session.execute(select(OutboxJob.id, OutboxJob.task).where(OutboxJob.id >= first)
                              .order_by(OutboxJob.id)).all()
    db.session.remove()
    counted = {"statements": 0, "commits": 0}

    def statement(*_args):
        counted["statements"] += 1

    def commit(*_args):
        counted["commits"] += 1
    totals: dict[str, list[int]] = {}
    event.listen(db.engine, "before_cursor_execute", statement)
    event.listen(db.engine, "commit", commit)
    try:
        for k, (job_id, task) in enumerate(jobs):
            counted.update(statements=0, commits=0)
            relay.execute_job(job_id)
            db.session.remove()
            if k >= 2:  # the first case's two jobs warm the caches
                total = totals.setdefault(task, [0, 0, 0])
                total[0] += counted["statements"]
                total[1] += counted["commits"]
                total[2] += 1
    finally:
        event.remove(db.engine, "before_cursor_execute", statement)
        event.remove(db.engine, "commit", commit)
    return {task: (s / n, c / n) for task, (s, c, n) in totals.items()}


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


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMonitor:
    """Samples /proc every half second and adds up CPU seconds in three buckets: this bench (its process
    tree and the PostgreSQL backends of its database), PostgreSQL's shared background processes, and
    everything else on the machine, so a figure taken while something else ran can be told apart."""

    def __init__(self, db_name: str, interval: float = 0.5):
        self.me = os.getpid()
        self.tag = f" {db_name} "
        self.interval = interval
        self.tick = os.sysconf("SC_CLK_TCK")
        self.totals = {"bench": 0.0, "postgres": 0.0, "others": 0.0}
        self.last: dict[int, float] = {}
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self._sample(count=False)
        self.thread = threading.Thread(target=self._run, name="cpu-monitor", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stopped.wait(self.interval):
            self._sample(count=True)

    def _sample(self, count: bool) -> None:
        procs: dict[int, tuple[int, float]] = {}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                fields = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            procs[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / self.tick)
        spent = dict.fromkeys(self.totals, 0.0)
        for pid, (_, cpu) in procs.items():
            delta = cpu - self.last.get(pid, 0.0)
            if delta > 0:
                spent[self._bucket(pid, procs)] += delta
        with self.lock:
            if count:
                for key, value in spent.items():
                    self.totals[key] += value
            self.last = {pid: cpu for pid, (_, cpu) in procs.items()}

    def _bucket(self, pid: int, procs: dict[int, tuple[int, float]]) -> str:
        ancestor, hops = pid, 0
        while ancestor > 1 and hops < 50:
            if ancestor == self.me:
                return "bench"
            ancestor, hops = procs.get(ancestor, (0, 0.0))[0], hops + 1
        try:
            title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            return "others"
        if title.startswith("postgres:"):
            if self.tag in title:
                return "bench"
            if "(" not in title and "[local]" not in title:  # checkpointer, walwriter, autovacuum ...
                return "postgres"
        return "others"

    def snapshot(self) -> tuple[float, dict[str, float]]:
        with self.lock:
            return time.monotonic(), dict(self.totals)

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(2)


def load_line(before: tuple[float, dict[str, float]], after: tuple[float, dict[str, float]]) -> str:
    wall = max(1e-9, after[0] - before[0])
    share = {key: (after[1][key] - before[1][key]) / wall for key in after[1]}
    return (f"this bench {share['bench']:.0%} (incl. its PostgreSQL backends), PostgreSQL background "
            f"{share['postgres']:.0%}, other processes {share['others']:.0%} of {os.cpu_count() * 100}%"
            + ("  <- disturbed: rerun on a quiet machine" if share["others"] > 0.2 else ""))


def worker_line(worker_s: float, wall: float, cases: int) -> str:
    return (f"{worker_s / max(1, cases) * 1000:.1f} ms per case (route + receipt SMS), "
            f"{worker_s / max(1e-9, wall):.0%} of one core")


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
    parser.add_argument("--wait", type=float, default=60.0,
                        help="longest wait for the last case to be routed after intake (default 60)")
    parser.add_argument("--backlog", type=int, default=2000, help="cases for the throughput phase (default 2000)")
    parser.add_argument("--noop", type=int, default=5000, help="messages of the bare no-op task (default 5000)")
    parser.add_argument("--py-spy-steady", metavar="FILE", help="record a py-spy profile of the worker during the "
                                                                   "steady intake phase (raw format)")
    parser.add_argument("--py-spy", metavar="FILE", help="record a py-spy profile of the worker draining the backlog "
                        "(raw collapsed stacks) into FILE")
    parser.add_argument("--database-url", default=os.environ.get("HOTLINE_BENCH_DATABASE_URL", DEFAULT_DB),
                        help=f"PostgreSQL database of the bench's own; dropped and created (default {DEFAULT_DB})")
    args = parser.parse_args()
    if not args.database_url.startswith("postgresql"):
        sys.exit("the routing bench runs on PostgreSQL")

    workdir = Path(tempfile.mkdtemp(prefix="hotline-bench-routing-"))
    redis_proc = worker = monitor = None
    try:
        # The figures are only as good as the machine is quiet: note what else runs on it.
        from sqlalchemy.engine import make_url
        monitor = CpuMonitor(make_url(args.database_url).database or "")
        quiet0 = monitor.snapshot()
        time.sleep(1.0)
        quiet1 = monitor.snapshot()
        other_before = (quiet1[1]["others"] - quiet0[1]["others"]) / (quiet1[0] - quiet0[0])
        if other_before > 0.15:
            print(f"note: other processes use {other_before:.0%} of a core before the bench starts; "
                  "figures will suffer", flush=True)

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
        init = subprocess.run([str(BIN / "hotline"), "init"], cwd=ROOT, timeout=180, capture_output=True, text=True)
        if init.returncode:
            raise RuntimeError(f"hotline init failed:\n{init.stdout}{init.stderr}")

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
        cpu0, load0 = process_cpu(worker.pid), monitor.snapshot()
        spy = None
        if args.py_spy_steady:  # a sample of the worker at the steady rate, one message per job
            spy = subprocess.Popen([str(BIN / "py-spy"), "record", "--pid", str(worker.pid), "--format", "raw",
                                    "--rate", "250", "--output", args.py_spy_steady], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        intake = run_child(intake_child, (args.rate, args.seconds, args.threads, args.wait),
                           timeout=args.seconds + args.wait + 60)
        commit_at = dict(intake["commits"])
        routed = {**intake["routed"], **wait_routed(list(commit_at), timeout=2)[0]}
        cpu1, load1 = process_cpu(worker.pid), monitor.snapshot()
        # A case not routed within the wait counts as slower than any routed one.
        latencies = sorted((routed[c] - t) * 1000 if c in routed else math.inf for c, t in commit_at.items())
        intake_jobs = job_states()
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait(30)

        # --- phase 2: backlog, one worker's throughput -------------------------------------------
        print(f"backlog: {args.backlog} cases held back, then published at once ...", flush=True)
        spy = None
        if args.py_spy:  # a sample of the worker while it drains the backlog (pip install py-spy)
            spy = subprocess.Popen([str(BIN / "py-spy"), "record", "--pid", str(worker.pid), "--format", "raw",
                                    "--rate", "250", "--output", args.py_spy], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        backlog = run_child(backlog_child, (args.backlog, 200), timeout=240)
        load2 = monitor.snapshot()
        backlog_routed, _ = wait_routed(backlog["case_ids"], timeout=args.wait + 15)
        with contextlib.suppress(TimeoutError):  # the figures then say what is left over
            wait_for(lambda: job_states()["published, not done"] == 0, args.wait, "the receipt SMS jobs", 0.05)
        cpu3, load3 = process_cpu(worker.pid), monitor.snapshot()
        backlog_jobs = job_states()
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait(30)

        # --- phase 3: the bare no-op task through the same broker and worker ---------------------
        print(f"no-op: {args.noop} messages of a bare task through the same worker ...", flush=True)
        load4 = monitor.snapshot()
        noop = noop_phase(control, broker, worker.pid, args.noop)
        load5 = monitor.snapshot()
        # --- phase 4: statements per job, counted in this process ------------------------------
        statements = statements_per_job()
        rss = vm_status(worker.pid) if worker.poll() is None else {}

        # --- report ------------------------------------------------------------------------------
        n = len(commit_at)
        service = sorted(intake["service_ms"])
        row = "{:<26} {}".format

        def ms(value: float) -> str:
            return f"> {args.wait:.0f} s (not routed)" if value == math.inf else f"{value:.0f} ms"
        print()
        print(f"routing bench (PostgreSQL, one worker, threads x8; code at {revision()})")
        print(row("machine before start", f"other processes {other_before:.0%} of {os.cpu_count() * 100}%"))
        print(row("intake rate achieved", f"{n / intake['elapsed']:.1f} cases/s over {intake['elapsed']:.0f} s "
                  f"({n} cases; {intake['dropped']} slots dropped, {len(intake['errors'])} errors, "
                  f"{args.threads} threads)"))
        print(row("intake register+commit", f"p50 {percentile(service, 50):.0f} ms, "
                  f"p95 {percentile(service, 95):.0f} ms, max {service[-1] if service else math.nan:.0f} ms"))
        all_routed = len(routed) == n
        print(row("routed", f"{len(routed)}/{n}, " + (f"the last {intake['waited']:.1f} s after intake ended"
                  if all_routed else f"gave up {intake['waited']:.0f} s after intake ended")))
        for p in (50, 95, 99):
            extra = f"   (target ≤ {LATENCY_TARGET_MS} ms)" if p == 95 else ""
            print(row(f"commit→routed p{p}", ms(percentile(latencies, p)) + extra))
        print(row("commit→routed max", ms(latencies[-1]) if latencies else "-"))
        over = sum(1 for v in latencies if v > LATENCY_TARGET_MS)
        print(row("commit→routed > 1 s", f"{over} cases ({over / max(1, n):.1%})"))
        print(row("worker CPU, intake", worker_line(cpu1 - cpu0, load1[0] - load0[0], n)))
        print(row("machine CPU, intake", load_line(load0, load1)))
        print(row("outbox after intake", ", ".join(f"{k} {v}" for k, v in intake_jobs.items())))
        done = len(backlog_routed)
        span = math.nan
        if done:
            span = max(backlog_routed.values()) - backlog["released_at"]
            print(row("worker throughput", f"{done / span:.0f} cases/s ({done}/{args.backlog} cases routed in "
                      f"{span:.1f} s; with their receipt SMS {2 * done / span:.0f} jobs/s)"))
            first = first_pass(sorted(backlog_routed.values()), backlog["released_at"])
            if first and first[0] < done:
                print(row("  first pass", f"{first[0] / first[1]:.0f} cases/s ({first[0]} cases in {first[1]:.1f} s; "
                          f"the other {done - first[0]} came after a pause, i.e. republished)"))
        else:
            print(row("worker throughput", "nothing routed"))
        print(row("worker CPU, backlog", worker_line(cpu3 - cpu1, span, done)))
        print(row("machine CPU, draining", load_line(load2, load3)))
        noop_rate = noop["done"] / max(1e-9, noop["seconds"])
        print(row("no-op task", f"{noop_rate:.0f} messages/s ({noop['done']}/{args.noop} in {noop['seconds']:.1f} s), "
                  f"worker CPU {noop['cpu'] / max(1, noop['done']) * 1000:.2f} ms per message"))
        print(row("machine CPU, no-op", load_line(load4, load5)))
        if done:
            jobs_rate = 2 * done / span
            print(row("routing vs no-op", f"{jobs_rate / noop_rate:.0%} of the no-op's messages/s (route + receipt "
                      f"SMS jobs; target ≥ 40 %); in cases/s {done / span / noop_rate:.0%}"))
        print(row("statements per job", ", ".join(f"{task} {n:.1f} ({commits:.1f} commits)"
                                                  for task, (n, commits) in sorted(statements.items()))))
        print(row("backlog publish", f"{backlog['published']} of {backlog['jobs']} jobs by publish_pending in "
                  f"{backlog['publish_s']:.2f} s (inserting took {backlog['insert_s']:.1f} s)"))
        print(row("outbox after backlog", ", ".join(f"{k} {v}" for k, v in backlog_jobs.items())))
        if rss:
            print(row("worker peak RSS", f"{rss['VmHWM'] / 1024:.0f} MB   (target ≤ {RSS_TARGET_MB} MB; "
                      f"now {rss['VmRSS'] / 1024:.0f} MB)"))
        else:
            print(row("worker peak RSS", "worker gone"))
        print(row("load average", "{:.2f} {:.2f} {:.2f} (1, 5, 15 min; {} cores)".format(*os.getloadavg(),
                                                                                     os.cpu_count())))
        if intake["errors"]:
            print("first intake error:", intake["errors"][0])
        warnings = [line for line in worker_log.read_text(errors="replace").splitlines()
                    if "WARNING" in line or "ERROR" in line]
        if warnings:
            print(f"worker log: {len(warnings)} warning/error lines, e.g. {warnings[0][:200]}")
        ctx.pop()
        return 0
    finally:
        if monitor is not None:
            monitor.stop()
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
