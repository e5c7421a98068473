"""Intake bench (DESIGN.md §4): POST /api/v1/cases under gunicorn against a bare Flask endpoint doing
one INSERT on the same stack, in one run; targets ≥ 300 cases/s sustained, p99 ≤ 100 ms, ≥ 50 % of bare.

    .venv/bin/python bench/intake.py [--seconds 10] [--rate 300] [--connections 8] [--workers 4] [--threads 2]
                                     [--database-url postgresql://postgres@127.0.0.1:5432/hotline_intake_bench]

It starts what it needs and stops it again: a private redis-server on a free port (the app's rate limits on
db 0, the outbox relay's broker on db 1; no Celery worker runs, so the published jobs just queue), a fresh
database (dropped and created again, then `hotline init`), an operator with an API token, and then, one
after the other, two gunicorn servers with the same settings (--workers × --threads: 4 × 2 as gunicorn.conf.py on
2 cores; issue #13 measured 4 × 4): the app (`wsgi:app` with gunicorn.conf.py) and bench/bare_app.py.
Against each, an asyncio client (aiohttp) on this machine runs two phases:

1. fixed offered load: --rate requests per second for --seconds, open loop (a request is sent at its
   slot whether or not earlier ones have answered; latency counts from the slot, so a stall shows);
2. saturation: --connections clients in a closed loop (each sends its next request when the last
   answered) for --seconds.

It prints per phase: answers per second (2xx only), p50, p99, other answers, the CPU spent per request by
the gunicorn processes and by PostgreSQL's backends, and Redis commands per request; then the
saturation ratio app/bare. Last, in this process (same code, same database): the SQL statements,
transactions and connection checkouts of one POST /api/v1/cases with where each comes from, and a
cProfile of --profile-requests requests (top lines, per request). Nothing is asserted; the load
average and the CPU other processes used are printed, since the machine may be shared.
"""
import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: `bench` imports as a package from the top
from bench.common import free_port, percentile, reset_database, revision, stop_process  # noqa: E402

BIN = ROOT / ".venv" / "bin"
DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/hotline_intake_bench"
TARGET_RATE, TARGET_P99_MS, TARGET_RATIO = 300, 100, 0.5
USERNAME = "bench-operator"

ADDRESSES = ["辽宁省鞍山市铁西区兴盛街道人民路88号", "鞍山市铁东区园林街道胜利路12号", "海城市西柳镇服装市场三区",
             "鞍山市千山区汤岗子镇", "台安县台安镇", "鞍山高新区千山中路", "辽宁省沈阳市和平区中华路1号"]


def case_body(i: int, categories: list[tuple[str, str]]) -> dict:
    """A phone complaint as an operator logs it, varied by index (like tests/conftest.py complaint_payload)."""
    body = {"kind": "complaint", "channel": "phone",
            "consumer": {"name": "张三", "phone": f"139{i % 100_000_000:08d}"},
            "business": {"name": f"测试商店{i % 97}", "address": ADDRESSES[i % len(ADDRESSES)]},
            "subject": "质量问题", "description": "商品有质量问题，要求退货。", "demand": "退货",
            "amount": "100.00", "occurred_on": "2026-01-05"}
    if categories:
        axis, code = categories[i % len(categories)]
        body["category"] = {axis: code}
    return body


# --- the load client -----------------------------------------------------------------------------------

class Phase:
    def __init__(self, name: str):
        self.name, self.latencies, self.others = name, [], {}
        self.started = self.ended = 0.0

    def record(self, status: int, latency: float) -> None:
        if 200 <= status < 300:
            self.latencies.append(latency)
        else:
            self.others[status] = self.others.get(status, 0) + 1

    @property
    def seconds(self) -> float:
        return max(self.ended - self.started, 1e-9)

    def line(self) -> str:
        values = sorted(self.latencies)
        others = ", ".join(f"{n}× {s}" for s, n in sorted(self.others.items())) or "none"
        return (f"{len(values) / self.seconds:8.1f}/s  p50 {percentile(values, 50) * 1000:6.1f} ms  "
                f"p99 {percentile(values, 99) * 1000:6.1f} ms  ({len(values)} answered 2xx; others: {others})")


async def _send(session, url: str, headers: dict, body: bytes) -> int:
    try:
        async with session.post(url, data=body, headers=headers) as response:
            await response.read()
            return response.status
    except Exception as exc:  # a refused or dropped connection counts as an answer of its own
        return -1 if "Timeout" not in type(exc).__name__ else -2


async def open_loop(url: str, headers: dict, bodies: list[bytes], rate: float, seconds: float) -> Phase:
    import aiohttp
    phase = Phase(f"fixed {rate:.0f}/s")
    connector = aiohttp.TCPConnector(limit=256)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        loop = asyncio.get_running_loop()
        count = int(rate * seconds)
        phase.started = start = loop.time() + 0.1
        tasks = []

        async def one(i: int) -> None:
            slot = start + i / rate
            delay = slot - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            status = await _send(session, url, headers, bodies[i % len(bodies)])
            phase.record(status, loop.time() - slot)

        for i in range(count):
            tasks.append(asyncio.ensure_future(one(i)))
        await asyncio.gather(*tasks)
        phase.ended = max(loop.time(), start + seconds)
    return phase


async def closed_loop(url: str, headers: dict, bodies: list[bytes], connections: int, seconds: float) -> Phase:
    import aiohttp
    phase = Phase(f"saturation, {connections} connections")
    connector = aiohttp.TCPConnector(limit=connections)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        loop = asyncio.get_running_loop()
        phase.started = loop.time()
        end = phase.started + seconds
        counter = iter(range(10**9))

        async def client() -> None:
            while loop.time() < end:
                sent = loop.time()
                status = await _send(session, url, headers, bodies[next(counter) % len(bodies)])
                phase.record(status, loop.time() - sent)

        await asyncio.gather(*(client() for _ in range(connections)))
        phase.ended = loop.time()
    return phase


# --- processes and CPU -----------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if int(Path(f"/proc/{entry.name}/stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
                continue
    return found


def postgres_backends(database: str) -> list[int]:
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                title = Path(f"/proc/{entry.name}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except (FileNotFoundError, ProcessLookupError):
                continue
            if title.startswith("postgres: ") and f" {database} " in title:
                found.append(int(entry.name))
    return found


def machine_busy_seconds() -> float:
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


class CpuSample:
    """CPU seconds of the server's processes, the database's backends, this client, and the machine."""

    def __init__(self, server_pid: int, database: str):
        self.server = server_pid
        self.server_cpu = {pid: cpu_seconds(pid) for pid in [server_pid, *children(server_pid)]}
        self.backends = {pid: cpu_seconds(pid) for pid in postgres_backends(database)}
        self.client = time.process_time()
        self.machine = machine_busy_seconds()
        self.database = database
        self.wall = time.monotonic()

    def since(self) -> dict[str, float]:
        server = sum(cpu_seconds(pid) - self.server_cpu.get(pid, 0.0)
                     for pid in [self.server, *children(self.server)])
        backends = sum(cpu_seconds(pid) - self.backends.get(pid, 0.0) for pid in postgres_backends(self.database))
        client = time.process_time() - self.client
        machine = machine_busy_seconds() - self.machine
        return {"server": server, "postgres": backends, "client": client,
                "others": max(machine - server - backends - client, 0.0), "wall": time.monotonic() - self.wall}


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def start_gunicorn(args: list[str], log: Path, env: dict) -> subprocess.Popen:
    with open(log, "ab") as out:
        return subprocess.Popen([str(BIN / "gunicorn"), *args], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)


def wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float = 60.0) -> None:
    import urllib.error
    import urllib.request
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            urllib.request.urlopen(url, timeout=1)  # noqa: S310  (our own local server)
            return
        except urllib.error.HTTPError:
            return  # it answers: any status will do
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise TimeoutError(f"gunicorn did not answer within {timeout:.0f} s")


def redis_commands(client) -> int:
    stats = client.info("commandstats")
    return sum(v["calls"] for k, v in stats.items() if k.startswith("cmdstat_") and k not in ("cmdstat_info",
                                                                                                "cmdstat_config"))


# --- one server, both phases ---------------------------------------------------------------------------

def wait_idle(server: subprocess.Popen, limit: float = 120.0) -> float:
    """Wait until the server's processes use under 5 % of a core (requests an earlier phase left queued
    are done), so one phase never pays for another. Returns the seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        pids = [server.pid, *children(server.pid)]
        before = sum(cpu_seconds(pid) for pid in pids)
        time.sleep(0.5)
        if sum(cpu_seconds(pid) for pid in pids) - before < 0.025:
            break
    return time.monotonic() - started


def run_phases(name: str, url: str, headers: dict, bodies: list[bytes], args, server: subprocess.Popen,
               database: str, redis_client) -> dict:
    asyncio.run(closed_loop(url, headers, bodies, args.connections, 2.0))  # warm: connections, caches, imports
    results = {}
    for kind in ("saturation", "fixed"):  # saturation first: an overloaded fixed phase leaves a queue behind
        waited = wait_idle(server)
        redis_client.config_resetstat()
        before_load = loadavg()
        sample = CpuSample(server.pid, database)
        if kind == "fixed":
            phase = asyncio.run(open_loop(url, headers, bodies, args.rate, args.seconds))
        else:
            phase = asyncio.run(closed_loop(url, headers, bodies, args.connections, args.seconds))
        cpu = sample.since()
        answered = max(len(phase.latencies), 1)
        commands = redis_commands(redis_client)
        print(f"  {name:13} {phase.name:28} {phase.line()}", flush=True)
        print(f"                CPU per answer: server {cpu['server'] / answered * 1000:.2f} ms, PostgreSQL "
              f"{cpu['postgres'] / answered * 1000:.2f} ms, client {cpu['client'] / answered * 1000:.2f} ms; "
              f"other processes {cpu['others'] / cpu['wall']:.0%} of a core; Redis commands/answer "
              f"{commands / answered:.1f}; load {before_load} → {loadavg()}"
              + (f"; waited {waited:.0f} s for the server to go idle" if waited > 2 else ""), flush=True)
        results[kind] = phase
    return results


# --- in-process: statements and profile -------------------------------------------------------------------

class StatementCounter:
    """SQL statements (and pings), transactions and connection checkouts made by this thread, with the
    line of hotline code each came from."""

    def __init__(self):
        self.events: list[tuple[str, str, str]] = []
        self.on = False
        self.thread = threading.get_ident()

    def _where(self) -> str:
        for frame in reversed(traceback.extract_stack()[:-3]):
            if "/hotline/" in frame.filename and "/.venv/" not in frame.filename:
                return f"{frame.filename.split('/hotline/', 1)[1]}:{frame.lineno} {frame.name}"
        return "?"

    def add(self, kind: str, text: str = "") -> None:
        if self.on and threading.get_ident() == self.thread:
            self.events.append((kind, re.sub(r"\s+", " ", text)[:90], self._where()))

    def install(self, engine) -> None:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine
        from sqlalchemy.pool import Pool
        event.listen(Engine, "before_cursor_execute", lambda c, cur, stmt, *a: self.add("statement", stmt))
        event.listen(Engine, "begin", lambda c: self.add("begin"))
        event.listen(Engine, "commit", lambda c: self.add("commit"))
        event.listen(Pool, "checkout", lambda *a: self.add("checkout"))
        dialect = engine.dialect
        ping = dialect.do_ping

        def counted_ping(dbapi_connection):
            self.add("statement", "(pool pre-ping) SELECT 1")
            return ping(dbapi_connection)
        dialect.do_ping = counted_ping


def in_process_figures(token: str, bodies: list[dict], profile_requests: int) -> None:
    from hotline import create_app
    from hotline.extensions import db
    app = create_app()
    counter = StatementCounter()
    with app.app_context():
        counter.install(db.engine)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    for body in bodies[:3]:  # warm: imports, caches, the token's last use written
        assert client.post("/api/v1/cases", json=body, headers=headers).status_code == 201
    # Twenty in a row: the averages include what happens only now and then (a block of case numbers, the
    # token's last use, the look at the reference data's generation); one typical request is listed.
    runs = []
    for body in bodies[3:23]:
        counter.events = []
        counter.on = True
        response = client.post("/api/v1/cases", json=body, headers=headers)
        counter.on = False
        assert response.status_code == 201, response.get_json()
        runs.append(list(counter.events))

    def mean(kind: str) -> float:
        return sum(1 for run in runs for event in run if event[0] == kind) / len(runs)
    typical = min(runs, key=len)
    print(f"\nPOST /api/v1/cases in process, {len(runs)} in a row: {mean('statement'):.2f} SQL statements, "
          f"{mean('begin'):.2f} transactions, {mean('checkout'):.2f} connection checkouts per request on "
          f"average; the statements of a typical one ({sum(1 for e in typical if e[0] == 'statement')}):")
    for kind, text, where in typical:
        print(f"  {kind:9} {text:90} {where}")
    started = time.thread_time()
    for i in range(profile_requests):
        client.post("/api/v1/cases", json=bodies[i % len(bodies)], headers=headers)
    plain = (time.thread_time() - started) / profile_requests
    # Timed by this thread's CPU clock: waiting for PostgreSQL is not counted, only our own work.
    profiler = cProfile.Profile(time.thread_time)
    profiler.enable()
    for i in range(profile_requests):
        client.post("/api/v1/cases", json=bodies[i % len(bodies)], headers=headers)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    total = stats.total_tt
    print(f"\n{profile_requests} requests in process (Flask's test client): {plain * 1000:.2f} ms of CPU per "
          f"request; under cProfile {total / profile_requests * 1000:.2f} ms. Top lines by cumulative CPU time:")
    stats.sort_stats("cumulative").print_stats(28)
    lines = out.getvalue().splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip().startswith("ncalls")), 0)
    for line in lines[start:start + 30]:
        print("  " + line[:170])
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
    lines = out.getvalue().splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip().startswith("ncalls")), 0)
    print("\n  top lines by own time:")
    for line in lines[start:start + 16]:
        print("  " + line[:170])


# --- main ------------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each phase (default 10)")
    parser.add_argument("--rate", type=float, default=float(TARGET_RATE), help="fixed offered load per second "
                                                                               f"(default {TARGET_RATE})")
    parser.add_argument("--connections", type=int, default=8, help="closed-loop clients at saturation (default 8)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    parser.add_argument("--threads", type=int, default=2, help="gunicorn threads per worker (default 2, as "
                                                               "gunicorn.conf.py; issue #13 measured 4)")
    parser.add_argument("--profile-requests", type=int, default=100, help="requests profiled in process (default 100)")
    parser.add_argument("--skip-bare", action="store_true", help="leave out the bare endpoint")
    parser.add_argument("--database-url", default=os.environ.get("HOTLINE_INTAKE_BENCH_DATABASE_URL", DEFAULT_DB),
                        help=f"PostgreSQL database of the bench's own; dropped and created (default {DEFAULT_DB})")
    args = parser.parse_args()
    if not args.database_url.startswith("postgresql"):
        sys.exit("the intake bench runs on PostgreSQL")
    try:
        import aiohttp  # noqa: F401
    except ImportError:
        sys.exit("the load client needs aiohttp: .venv/bin/pip install -e '.[dev]'")
    import redis

    workdir = Path(tempfile.mkdtemp(prefix="hotline-bench-intake-"))
    redis_proc = server = None
    print(f"intake bench, revision {revision()}, {os.cpu_count()} CPUs, load average {loadavg()}", flush=True)
    try:
        redis_port = free_port()
        redis_proc = subprocess.Popen(
            ["redis-server", "--port", str(redis_port), "--save", "", "--appendonly", "no", "--bind", "127.0.0.1",
             "--dir", str(workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        redis_client = redis.Redis(port=redis_port, socket_connect_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            try:
                redis_client.ping()
                break
            except redis.exceptions.ConnectionError:
                if time.monotonic() > deadline:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.05)
        database = reset_database(args.database_url)
        env = {**os.environ, "HOTLINE_DATABASE_URL": args.database_url,
               "HOTLINE_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
               "HOTLINE_BROKER_URL": f"redis://127.0.0.1:{redis_port}/1",
               "HOTLINE_SECRET_KEY": "bench", "HOTLINE_ENV": "development", "HOTLINE_SMS_BACKEND": "log",
               # one token sends everything here: the per-token intake limit must not be what is measured
               "HOTLINE_API_CREATE_RATE_LIMIT": "100000000 per minute"}
        os.environ.update({k: v for k, v in env.items() if k.startswith("HOTLINE_")})
        init = subprocess.run([str(BIN / "hotline"), "init"], cwd=ROOT, env=env, timeout=300, capture_output=True,
                              text=True)
        if init.returncode:
            raise RuntimeError(f"hotline init failed:\n{init.stdout}{init.stderr}")

        from sqlalchemy import select

        from hotline import create_app
        from hotline.auth.operations import create_token, create_user
        from hotline.extensions import db
        from hotline.reference.models import Category
        app = create_app()
        with app.app_context():
            create_user(USERNAME, "bench-password-2026", "operator")
            token = create_token(USERNAME)
            categories = [tuple(row) for row in db.session.execute(
                select(Category.axis, Category.code).where(Category.axis.in_(("goods", "service")))
                .order_by(Category.code).limit(20))]
            db.session.commit()
            db.engine.dispose()
        bodies = [case_body(i, categories) for i in range(500)]
        encoded = [json.dumps(b, ensure_ascii=False).encode() for b in bodies]
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        gunicorn_args = ["--workers", str(args.workers), "--threads", str(args.threads), "--timeout", "60"]
        print(f"gunicorn {args.workers} workers × {args.threads} threads; phases of {args.seconds:.0f} s; "
              f"database {database}; private Redis on port {redis_port}\n", flush=True)

        figures = {}
        # (With a broker, a web worker runs no relay thread: hotline/outbox/relay.py start_relay.)
        plain = workdir / "gunicorn_plain.py"
        plain.write_text("# the bare endpoint's settings: nothing but the timeout\ntimeout = 60\n")
        servers = [("app", ROOT / "gunicorn.conf.py", "wsgi:app", "/api/v1/cases")]
        if not args.skip_bare:
            from bench import bare_app
            bare_app.create_table(bare_app.app)
            with bare_app.app.app_context():
                bare_app.db.engine.dispose()
            servers.append(("bare", plain, "bench.bare_app:app", "/bare"))
        for name, config, target, path in servers:
            port = free_port()
            log = workdir / f"{name.replace(' ', '_').replace(',', '')}.log"
            server = start_gunicorn(["-c", str(config), "--bind", f"127.0.0.1:{port}", *gunicorn_args, target],
                                    log, env)
            wait_http(f"http://127.0.0.1:{port}{path}", server, log)
            figures[name] = run_phases(name, f"http://127.0.0.1:{port}{path}", headers, encoded, args, server,
                                       database, redis_client)
            stop_process(server)
            server = None

        def rate(phase: Phase) -> float:
            return len(phase.latencies) / phase.seconds

        print(f"\nDESIGN.md §4 (targets: ≥ {TARGET_RATE}/s sustained, p99 ≤ {TARGET_P99_MS} ms, ≥ {TARGET_RATIO:.0%} "
              "of bare):")
        for name in [n for n in figures if n != "bare"]:
            phases = figures[name]
            line = (f"  {name:13} {rate(phases['fixed']):6.0f}/s at {args.rate:.0f}/s offered, p99 "
                    f"{percentile(sorted(phases['fixed'].latencies), 99) * 1000:.0f} ms; saturation "
                    f"{rate(phases['saturation']):.0f}/s")
            if "bare" in figures:
                line += f" = {rate(phases['saturation']) / max(rate(figures['bare']['saturation']), 1e-9):.1%} of bare"
            print(line)
        if "bare" in figures:
            print(f"  bare          saturation {rate(figures['bare']['saturation']):.0f}/s")
        in_process_figures(token, bodies, args.profile_requests)
    finally:
        stop_process(server)
        stop_process(redis_proc)
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
