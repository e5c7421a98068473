"""What the server benches share (bench/intake.py, bench/routing.py): nearest-rank percentiles, the code
revision measured, a free port, stopping a child process, and dropping and creating the bench's own
database (never one of the test or working databases)."""
import math
import signal
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTECTED = {"test", "hotline_main_pg", "hotline_workers", "hotline_ci", "hotline_stats_bench",
             "postgres", "template0", "template1"}


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted list; NaN for an empty one."""
    if not sorted_values:
        return float("nan")
    return sorted_values[max(1, math.ceil(p / 100 * len(sorted_values))) - 1]


def revision() -> str:
    """The commit measured, marked when tracked files differ from it."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return (head + (" (with uncommitted changes)" if dirty else "")) if head else "unknown"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop_process(proc: subprocess.Popen | None, grace: float = 10.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def reset_database(url: str) -> str:
    """Drop and create the bench's database; refuses the test and working databases. Returns its name."""
    import psycopg
    from sqlalchemy.engine import make_url
    parsed = make_url(url)
    name = parsed.database
    if not name or name in PROTECTED or name.endswith("_test"):
        sys.exit(f"refusing to drop database {name!r}: give a database of the bench's own")
    maintenance = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return name
