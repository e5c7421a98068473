"""Fixtures for fault tests with real processes: a private Redis per test (stoppable without touching
the shared one), real Celery workers as subprocesses, and the test app publishing to that Redis."""
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from hotline.extensions import db

PROJECT = Path(__file__).resolve().parents[2]
CLIENT_KEY = "hotline_celery_client"  # where hotline.outbox.publisher caches its Celery client


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return f"(no {path})"


@pytest.fixture
def pg_app(app):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("runs in the PostgreSQL pass (HOTLINE_TEST_DATABASE_URL)")
    return app


class RedisServer:
    """A private redis-server on a fixed port: `stop()` and `start()` again on the same port."""

    def __init__(self, port: int, log_path: Path):
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 10.0) -> None:
        assert self.process is None, "already running"
        log = open(self.log_path, "ab")  # noqa: SIM115  (kept open by the child)
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--save", "", "--appendonly", "no", "--bind", "127.0.0.1"],
            stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + timeout
        while True:
            try:
                redis.Redis(port=self.port, socket_connect_timeout=0.5).ping()
                return
            except redis.exceptions.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server on port {self.port} did not start:\n{tail(self.log_path)}")
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


@pytest.fixture
def own_redis(tmp_path):
    server = RedisServer(free_port(), tmp_path / "redis.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def broker(pg_app, own_redis):
    """The test app publishes to the private Redis for the duration of the test."""
    previous = pg_app.config.get("BROKER_URL")
    pg_app.extensions.pop(CLIENT_KEY, None)
    pg_app.config["BROKER_URL"] = own_redis.url
    yield own_redis
    client = pg_app.extensions.pop(CLIENT_KEY, None)
    if client is not None:
        client.close()
    pg_app.config["BROKER_URL"] = previous


@pytest.fixture
def start_worker(app, tmp_path):
    """Start a real `celery -A workers worker` process; every one is gone after the test."""
    processes: list[subprocess.Popen] = []

    def start(broker_url: str, name: str) -> subprocess.Popen:
        env = {**os.environ, "HOTLINE_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
               "HOTLINE_BROKER_URL": broker_url, "HOTLINE_SECRET_KEY": app.config["SECRET_KEY"]}
        log_path = tmp_path / f"worker-{name}.log"
        with open(log_path, "ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "workers", "worker", "--pool", "threads",
                 "--concurrency", "4", "-Q", "routing,sms,deadlines,default", "-n", f"{name}@%h",
                 "--without-gossip", "--without-mingle", "--loglevel", "WARNING"],
                cwd=PROJECT, env=env, stdout=log, stderr=subprocess.STDOUT)
        process.log_path = log_path
        processes.append(process)
        print(f"\n  worker {name} pid {process.pid}, log {log_path}")
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    # Whatever the workers left in this session's identity map is stale now.
    db.session.rollback()
