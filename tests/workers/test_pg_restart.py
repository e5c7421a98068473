"""A PostgreSQL restart (DESIGN.md §4, issue #12): requests during the outage get 503 with the error
body, the app recovers by itself (no restart of the app), and no half-written case remains.

The database is a throwaway cluster started here on a private port (initdb + pg_ctl, --no-sync), never
the machine's main cluster, which other tests use. It runs in the PostgreSQL pass only."""
import glob
import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select

from hotline import create_app
from hotline.auth.operations import create_token, create_user
from hotline.cases.models import Case, CaseEvent
from hotline.deadlines.models import CaseClock
from hotline.extensions import db
from hotline.outbox.models import OutboxJob
from hotline.reference.operations import load_region_pack
from tests.conftest import PASSWORD, complaint_payload, csrf_token
from tests.workers.conftest import free_port

pytestmark = [pytest.mark.postgres, pytest.mark.worker]


def _binary(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


class Cluster:
    """A PostgreSQL cluster in a temporary folder, owned by the postgres user when run as root."""

    def __init__(self):
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="hotline-pg-"))
        self.data, self.log = self.folder / "data", self.folder / "server.log"
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = list(args)
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=120, check=check)

    def create(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres")
        self._run(_binary("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync",
                  "-E", "UTF8", "--locale=C")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        result = self._run(_binary("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w",
                           "start", check=False)
        assert result.returncode == 0, f"{result.stdout}{result.stderr}\n{self.log.read_text(errors='replace')}"

    def stop(self, mode: str = "immediate") -> None:
        """`immediate`: as if the server crashed (no clean shutdown; recovery on the next start)."""
        self._run(_binary("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def cluster(pg_app):
    if not _binary("initdb") or not _binary("pg_ctl"):
        pytest.skip("PostgreSQL's initdb and pg_ctl are not installed")
    server = Cluster()
    server.create()
    server.start()
    yield server
    server.destroy()


@pytest.fixture
def restart_app(pg_app, cluster):
    """The app on the throwaway cluster, migrated, with the region pack and an operator."""
    keys = ("SECRET_KEY", "DATA_KEYS", "QUERY_CODE_KEY", "LEGACY_SECRET_KEY", "LOGIN_RATE_LIMIT")
    app = create_app({**{k: pg_app.config[k] for k in keys if pg_app.config.get(k)},
                      "SQLALCHEMY_DATABASE_URI": cluster.url, "TESTING": True, "BROKER_URL": None,
                      # four clients in a loop: the per-token intake limit is not what these tests are about
                      "API_CREATE_RATE_LIMIT": "100000 per minute"})
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        load_region_pack("anshan")
        create_user("restart-operator", PASSWORD, "operator")
        token = create_token("restart-operator")
        db.session.commit()
    app.config["TEST_TOKEN"] = token
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def post_case(client, token: str, subject: str):
    return client.post("/api/v1/cases", json=complaint_payload(subject=subject),
                       headers={"Authorization": f"Bearer {token}"})


def assert_no_half_written_case(app, numbers_answered: set[str]) -> None:
    """Every case answered 201 exists, and every case there is complete: its registration event, its
    first deadline, its routing job and its receipt job (all written in one transaction)."""
    with app.app_context():
        stored = set(db.session.scalars(select(Case.number)))
        assert numbers_answered <= stored, f"answered 201 but missing: {sorted(numbers_answered - stored)[:5]}"
        case_ids = set(db.session.scalars(select(Case.id)))
        registered = set(db.session.scalars(select(CaseEvent.case_id).where(CaseEvent.action == "register")))
        clocked = set(db.session.scalars(select(CaseClock.case_id)))
        routed = {int(key.split(":")[1]) for key in db.session.scalars(
            select(OutboxJob.dedupe_key).where(OutboxJob.task == "route_case"))}
        receipts = db.session.scalar(select(func.count(OutboxJob.id)).where(OutboxJob.task == "send_sms"))
        assert registered == case_ids and clocked == case_ids and routed == case_ids, (
            f"half-written cases: no event {case_ids - registered}, no clock {case_ids - clocked}, "
            f"no routing job {case_ids - routed}")
        assert receipts == len(case_ids)
        extra = stored - numbers_answered
        if extra:  # committed, then the answer was lost with the server: complete, so no harm
            print(f"  {len(extra)} cases committed whose answer was lost with the server")


def test_requests_during_a_restart_get_503_and_the_app_recovers(restart_app, cluster):
    token = restart_app.config["TEST_TOKEN"]
    client = restart_app.test_client()
    first = post_case(client, token, "重启之前")
    assert first.status_code == 201, first.get_json()
    answered = {first.get_json()["number"]}
    page_client = restart_app.test_client()
    response = page_client.post("/login", data={"username": "restart-operator", "password": PASSWORD,
                                                "csrf_token": csrf_token(page_client)})
    assert response.status_code == 302

    cluster.stop()
    for response in (post_case(client, token, "停机期间"),
                     client.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"}),
                     client.get(f"/api/v1/cases/{first.get_json()['number']}",
                                headers={"Authorization": f"Bearer {token}"})):
        assert response.status_code == 503, response.get_data(as_text=True)[:500]
        error = response.get_json()["error"]
        assert error["code"] == "unavailable" and error["message"]
    page = page_client.get("/cases")
    assert page.status_code == 503 and "503" in page.get_data(as_text=True)  # plain text if the page cannot render

    cluster.start()  # the app is not restarted: its pool finds the dead connections and replaces them
    again = post_case(client, token, "重启之后")
    assert again.status_code == 201, again.get_data(as_text=True)[:500]
    answered.add(again.get_json()["number"])
    assert client.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert page_client.get("/cases").status_code == 200
    assert_no_half_written_case(restart_app, answered)


def test_a_crash_in_the_middle_of_a_registration_leaves_no_trace(restart_app, cluster, monkeypatch):
    """The server dies after the case row and its event were written, before the commit."""
    from hotline.cases import operations
    token = restart_app.config["TEST_TOKEN"]
    client = restart_app.test_client()
    original, crashed = operations.enqueue, []

    def enqueue_then_crash(*args, **kwargs):
        job = original(*args, **kwargs)
        if not crashed:
            crashed.append(True)
            db.session.flush()  # the case, its event, its clock and this job are on the server, uncommitted
            cluster.stop()
        return job
    monkeypatch.setattr(operations, "enqueue", enqueue_then_crash)
    response = post_case(client, token, "写了一半")
    assert response.status_code == 503, response.get_data(as_text=True)[:500]
    assert response.get_json()["error"]["code"] == "unavailable"
    monkeypatch.setattr(operations, "enqueue", original)
    cluster.start()
    with restart_app.app_context():
        assert db.session.scalar(select(func.count(Case.id)).where(Case.subject == "写了一半")) == 0
    assert post_case(client, token, "恢复以后").status_code == 201
    assert_no_half_written_case(restart_app, set())


def test_concurrent_intake_through_a_crash_and_restart(restart_app, cluster):
    """Four clients keep registering while the server crashes and comes back: each answer is 201 or
    503 (never 500), and what is stored is whole."""
    token = restart_app.config["TEST_TOKEN"]
    statuses: list[int] = []
    answered: set[str] = set()
    stop = threading.Event()
    lock = threading.Lock()

    def intake(worker: int) -> None:
        client = restart_app.test_client()
        n = 0
        while not stop.is_set():
            n += 1
            response = post_case(client, token, f"并发{worker}-{n}")
            with lock:
                statuses.append(response.status_code)
                if response.status_code == 201:
                    answered.add(response.get_json()["number"])
            if response.status_code != 201:
                time.sleep(0.05)

    threads = [threading.Thread(target=intake, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.5)
        cluster.stop()
        time.sleep(1.5)
        cluster.start()
        back = time.monotonic()
        while time.monotonic() - back < 15:
            with lock:
                recent = statuses[-8:]
            if len(recent) == 8 and all(s == 201 for s in recent):
                break
            time.sleep(0.2)
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
    counts = {status: statuses.count(status) for status in set(statuses)}
    print(f"  answers: {counts}; recovered {time.monotonic() - back:.1f} s after the server came back")
    assert set(counts) <= {201, 503}, counts
    assert counts.get(503), "no request met the outage: the test proves nothing"
    assert statuses[-8:] == [201] * 8, "the app did not recover by itself"
    assert_no_half_written_case(restart_app, answered)
