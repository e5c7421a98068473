"""Nothing is lost (DESIGN.md §4), with real Celery worker processes on a private Redis: a worker
killed with -9 mid-routing, Redis down during intake, two workers and duplicated messages, and a
task run twice. Each case is routed exactly once: one `route` event and a done `route_case` job."""
import os
import signal
import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from hotline.cases.models import Case, CaseEvent
from hotline.cases.operations import register_case
from hotline.cases.schemas import parse_case
from hotline.extensions import db
from hotline.outbox import relay
from hotline.outbox.models import OutboxJob
from hotline.outbox.publisher import send_job
from hotline.sms.gateways import log as log_gateway
from hotline.sms.models import SmsMessage
from hotline.types import utcnow
from tests.conftest import complaint_payload
from tests.workers.conftest import tail

pytestmark = pytest.mark.worker

TIEXI = "辽宁省鞍山市铁西区兴盛街道人民路88号"  # routes to the Tiexi bureau


def create_cases(n: int) -> None:
    """n registered cases, each with its route_case (and receipt send_sms) outbox job."""
    for i in range(1, n + 1):
        register_case(parse_case(complaint_payload(business={"name": f"测试商店{i}", "address": TIEXI})), None)
        if i % 100 == 0:
            db.session.commit()
    db.session.commit()


def publish_all() -> int:
    """The relay's pass, run here in the test process: publish every due job (500 a batch)."""
    total = 0
    while True:
        published = relay.publish_pending(send_job)
        total += published
        if published < 500:
            return total


def routed_count() -> int:
    db.session.rollback()  # a fresh snapshot: the workers commit in other processes
    return db.session.scalar(select(func.count(Case.id)).where(Case.status != "registered"))


def wait_for_routed(expected: int, timeout: float, tick: Callable[[], object] | None = None,
                    tick_every: float = 1.0, workers=()) -> float:
    """Poll until `expected` cases left `registered`; call `tick` (a relay pass) every `tick_every`
    seconds. Returns the seconds it took; fails with the workers' logs after `timeout`."""
    start = last_tick = last_print = time.monotonic()
    while True:
        routed = routed_count()
        now = time.monotonic()
        if routed >= expected:
            print(f"  routed {routed}/{expected} after {now - start:.1f} s")
            return now - start
        if now - start > timeout:
            logs = "\n".join(f"--- {w.log_path}\n{tail(w.log_path)}" for w in workers)
            pytest.fail(f"only {routed}/{expected} routed after {timeout:.0f} s\n{undone_jobs()}\n{logs}")
        if now - last_print >= 5:
            print(f"  ... {routed}/{expected} routed after {now - start:.0f} s")
            last_print = now
        if tick is not None and now - last_tick >= tick_every:
            try:
                tick()
            except Exception as exc:  # the broker may still be coming back: the next pass retries
                db.session.rollback()
                print(f"  relay pass failed: {exc!r}")
            last_tick = now
        time.sleep(0.2)


def undone_jobs() -> str:
    """What the outbox says about the jobs not done yet (for failure messages)."""
    db.session.rollback()
    rows = db.session.execute(
        select(OutboxJob.task, OutboxJob.published_at.is_(None), OutboxJob.attempts, func.count(OutboxJob.id),
               func.min(OutboxJob.published_at), func.max(OutboxJob.last_error))
        .where(OutboxJob.done_at.is_(None))
        .group_by(OutboxJob.task, OutboxJob.published_at.is_(None), OutboxJob.attempts)).all()
    return "jobs not done (task, unpublished, attempts, count, first published, an error):\n" + "\n".join(
        f"  {row}" for row in rows) + f"\n  now {utcnow()}"


def wait_for_done(timeout: float, tick: Callable[[], object] | None = None, tick_every: float = 1.0) -> None:
    """Poll until every outbox job (route_case and send_sms) is done."""
    deadline = time.monotonic() + timeout
    last_tick = time.monotonic()
    while True:
        db.session.rollback()
        left = db.session.scalar(select(func.count(OutboxJob.id)).where(OutboxJob.done_at.is_(None)))
        if not left:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"{left} outbox jobs still not done after {timeout:.0f} s")
        if tick is not None and time.monotonic() - last_tick >= tick_every:
            tick()
            last_tick = time.monotonic()
        time.sleep(0.2)


def assert_routed_exactly_once(expected: int) -> None:
    db.session.rollback()
    case_ids = set(db.session.scalars(select(Case.id)))
    assert len(case_ids) == expected
    still_registered = db.session.scalar(select(func.count(Case.id)).where(Case.status == "registered"))
    assert still_registered == 0
    route_events = dict(db.session.execute(
        select(CaseEvent.case_id, func.count(CaseEvent.id)).where(CaseEvent.action == "route")
        .group_by(CaseEvent.case_id)).all())
    twice = {case_id: n for case_id, n in route_events.items() if n != 1}
    assert not twice, f"cases routed more than once: {dict(list(twice.items())[:10])}"
    assert set(route_events) == case_ids, f"cases never routed: {sorted(case_ids - set(route_events))[:10]}"
    route_jobs = db.session.execute(select(OutboxJob.done_at).where(OutboxJob.task == "route_case")).all()
    assert len(route_jobs) == expected
    assert all(done_at is not None for (done_at,) in route_jobs), "a route_case job is not marked done"


def job_for(dedupe_key: str) -> OutboxJob:
    return db.session.scalar(select(OutboxJob).where(OutboxJob.dedupe_key == dedupe_key))


def test_kill_9_worker_while_routing_1000_cases(broker, start_worker, monkeypatch):
    create_cases(1000)  # each commit publishes its own jobs (hotline/outbox/operations.py) ...
    publish_all()  # ... and the relay's pass whatever they left
    db.session.rollback()
    handed_over = db.session.scalar(select(func.count(OutboxJob.id)).where(OutboxJob.published_at.is_not(None)))
    assert handed_over == 2000  # 1000 route_case + 1000 receipt SMS
    first = start_worker(broker.url, "first")
    started = time.monotonic()
    while (routed := routed_count()) < 200:
        assert first.poll() is None, f"the worker died:\n{tail(first.log_path)}"
        assert time.monotonic() - started < 60, f"routing did not start:\n{tail(first.log_path)}"
        time.sleep(0.05)
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    at_kill = routed_count()
    print(f"  kill -9 with {routed} routed (seen), {at_kill} committed, {time.monotonic() - started:.1f} s "
          "after the worker started")
    assert at_kill < 1000, "the worker finished before it could be killed: the test proves nothing"

    # Messages the dead worker had reserved stay unacknowledged in Redis (visibility timeout 300 s);
    # the relay republishes whatever stays undone, after REPUBLISH_AFTER (60 s, shortened here).
    monkeypatch.setattr(relay, "REPUBLISH_AFTER", timedelta(seconds=10))
    second = start_worker(broker.url, "second")
    wait_for_routed(1000, timeout=120, tick=publish_all, tick_every=2.0, workers=[second])
    assert_routed_exactly_once(1000)


def test_redis_down_during_intake(broker, start_worker, make_user, token_for, pg_app):
    worker = start_worker(broker.url, "intake")
    create_cases(1)  # a first case routed proves the worker consumes before Redis goes away
    publish_all()
    wait_for_routed(1, timeout=60, workers=[worker])

    broker.stop()
    headers = token_for(make_user("operator"))
    client = pg_app.test_client()
    started = time.monotonic()
    statuses = [client.post("/api/v1/cases", json=complaint_payload(), headers=headers).status_code
                for _ in range(200)]
    print(f"  200 intakes with Redis down in {time.monotonic() - started:.1f} s")
    assert statuses == [201] * 200

    try:
        published = relay.publish_pending(send_job)
    except Exception as exc:  # the broker is down: the pass fails, the jobs stay in the outbox
        print(f"  relay pass with Redis down: {exc!r}")
        db.session.rollback()
        published = 0
    assert published == 0
    db.session.rollback()
    waiting = db.session.execute(select(OutboxJob.published_at, OutboxJob.done_at).join(
        Case, Case.id == OutboxJob.payload["case_id"].as_integer()).where(
        OutboxJob.task == "route_case", Case.status == "registered")).all()
    assert len(waiting) == 200
    # Nothing counts as handed to the broker. A relay pass that is trying right now (the worker runs one
    # too) holds its claim for a moment: a claim is a lease dated in the past, never a publication.
    lease_limit = utcnow() - relay.REPUBLISH_AFTER + relay.PUBLISH_LEASE
    assert all(done_at is None and (published_at is None or published_at <= lease_limit)
               for published_at, done_at in waiting)

    broker.start()  # same port, empty: whatever was queued before is gone with the old process
    back = time.monotonic()
    elapsed = wait_for_routed(201, timeout=60, tick=publish_all, tick_every=1.0, workers=[worker])
    print(f"  all 200 routed {elapsed:.1f} s after Redis came back ({time.monotonic() - back:.1f} s)")
    assert_routed_exactly_once(201)


def test_two_workers_one_queue_route_each_case_once(broker, start_worker):
    create_cases(500)
    jobs = db.session.scalars(select(OutboxJob).where(OutboxJob.done_at.is_(None)).order_by(OutboxJob.id)).all()
    assert len(jobs) == 1000
    for job in jobs:  # every message twice on purpose: duplicates are what this test is about
        send_job(job)
        send_job(job)
        job.published_at = utcnow()
    db.session.commit()
    workers = [start_worker(broker.url, "one"), start_worker(broker.url, "two")]
    elapsed = wait_for_routed(500, timeout=120, workers=workers)
    wait_for_done(timeout=30)
    print(f"  500 cases (2000 messages) done by two workers in {elapsed:.1f} s")
    assert_routed_exactly_once(500)
    assert db.session.scalar(select(func.count(SmsMessage.id)).where(SmsMessage.status != "sent")) == 0
    assert all(w.poll() is None for w in workers)


def test_task_runs_twice_without_second_effect(app, make_case, monkeypatch):
    sent = []
    monkeypatch.setattr(log_gateway.log, "info", lambda *args: sent.append(args))  # the log backend's one line
    registered = make_case()
    case_id, number = registered.case.id, registered.case.number
    route_job, sms_job = job_for(f"route_case:{case_id}").id, job_for(f"send_sms:receipt:{number}").id

    assert relay.execute_job(route_job) == "pending"
    assert relay.execute_job(route_job) == "skipped"
    # Even with its done mark lost, the handler itself does nothing the second time.
    job_for(f"route_case:{case_id}").done_at = None
    db.session.commit()
    assert relay.execute_job(route_job) == "skipped"
    db.session.expire_all()
    case = db.session.get(Case, case_id)
    assert case.status == "pending"
    assert [e.action for e in case.events].count("route") == 1
    assert db.session.get(OutboxJob, route_job).done_at is not None

    assert relay.execute_job(sms_job) == "done"
    message = db.session.scalar(select(SmsMessage).where(SmsMessage.dedupe_key == f"receipt:{number}"))
    first_sent_at = message.sent_at
    assert message.status == "sent" and first_sent_at is not None
    assert message.params["code"] == "******"
    assert relay.execute_job(sms_job) == "skipped"
    db.session.get(OutboxJob, sms_job).done_at = None
    db.session.commit()
    assert relay.execute_job(sms_job) == "done"  # the handler ran, and left the sent message alone
    db.session.expire_all()
    message = db.session.get(SmsMessage, message.id)
    assert (message.status, message.sent_at) == ("sent", first_sent_at)
    assert len(sent) == 1, "the SMS went out twice"
    assert db.session.get(OutboxJob, sms_job).done_at is not None


def test_message_arriving_before_the_relay_commits_still_runs_its_job(pg_app, make_case):
    """A worker can get a message while the relay's pass is still open (it locks its whole batch and
    records published_at only at the end). That delivery must not be lost as "skipped": the job must
    run now, or stay unpublished so that the next pass sends it again at once (not 60 s later)."""
    registered = make_case()
    job_id = job_for(f"route_case:{registered.case.id}").id
    results: dict[int, str] = {}
    deliveries: list[threading.Thread] = []

    def deliver(job_id: int) -> None:  # a worker thread running the task for this message
        with pg_app.app_context():
            try:
                results[job_id] = relay.execute_job(job_id)
            finally:
                db.session.remove()

    def send(job: OutboxJob) -> None:
        deliveries.append(threading.Thread(target=deliver, args=(job.id,)))
        deliveries[-1].start()
        time.sleep(0.2)  # the message is consumed before the relay goes on to the next job

    relay.publish_pending(send)
    for thread in deliveries:
        thread.join(30)
    db.session.rollback()
    job = db.session.get(OutboxJob, job_id)
    print(f"  execute_job during the relay pass: {results.get(job_id)!r}; done_at {job.done_at}, "
          f"published_at {job.published_at}")
    assert job.done_at is not None or job.published_at is None, (
        f"execute_job returned {results.get(job_id)!r} while the relay held the row lock; the job is marked "
        "published but will not run before REPUBLISH_AFTER")


def test_worker_routes_tiexi_to_its_bureau_and_shenyang_to_triage(broker, start_worker, make_user, token_for,
                                                                   login, pg_app):
    """The routing stage end to end with a real worker: API intake, relay, worker, case page."""
    start_worker(broker.url, "routing")
    client = pg_app.test_client()
    operator = token_for(make_user("operator"))
    numbers = {}
    for name, address in (("tiexi", TIEXI), ("shenyang", "辽宁省沈阳市和平区中山路1号")):
        response = client.post("/api/v1/cases", json=complaint_payload(business={"name": "某店", "address": address}),
                               headers=operator)
        assert response.status_code == 201
        numbers[name] = response.get_json()["number"]
    wait_for_routed(2, 60, tick=publish_all)
    supervisor = make_user("supervisor")
    headers = token_for(supervisor)
    tiexi = client.get(f"/api/v1/cases/{numbers['tiexi']}", headers=headers).get_json()
    assert tiexi["status"] == "pending" and "铁西" in tiexi["bureau"]["name"]
    assert tiexi["routing"]["rule"].startswith("#") and tiexi["routing"]["reason"]
    shenyang = client.get(f"/api/v1/cases/{numbers['shenyang']}", headers=headers).get_json()
    assert shenyang["status"] == "triage" and shenyang["bureau"] is None
    assert shenyang["routing"]["rule"] == "triage:outside-city" and "沈阳市" in shenyang["routing"]["reason"]
    login(client, supervisor)
    page = client.get(f"/cases/{numbers['tiexi']}").get_data(as_text=True)
    assert tiexi["routing"]["rule"] in page and "铁西分局" in page


def test_two_sweep_processes_at_once_notify_each_clock_once(pg_app, make_case):
    """Two `hotline sweep` processes (as two beats would) over the same due clocks."""
    import subprocess
    import sys
    from datetime import UTC, datetime

    from hotline.deadlines.models import CaseClock, Notification
    cases = [make_case().case for _ in range(300)]
    db.session.execute(CaseClock.__table__.update().where(CaseClock.case_id.in_([c.id for c in cases[:200]]))
                       .values(due_at=datetime.now(UTC) - timedelta(days=1)))
    db.session.commit()
    env = {**os.environ, "HOTLINE_DATABASE_URL": pg_app.config["SQLALCHEMY_DATABASE_URI"],
           "HOTLINE_SECRET_KEY": pg_app.config["SECRET_KEY"]}
    env.pop("HOTLINE_BROKER_URL", None)
    command = [sys.executable, "-c", "from hotline.cli import main; main()", "sweep"]
    runs = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [run.communicate(timeout=120)[0] for run in runs]
    assert all(run.returncode == 0 for run in runs), outputs
    db.session.rollback()
    kinds = dict(db.session.execute(select(Notification.kind, func.count()).group_by(Notification.kind)).all())
    assert kinds == {"escalation": 200, "reminder": 200}, outputs
    assert db.session.scalar(select(func.count()).where(CaseEvent.action == "escalate")) == 200
