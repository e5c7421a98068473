"""Faster recovery after a broker outage (issue #12 item 11), with a real Celery worker on a private
Redis that is stopped and started again. Redis keeps nothing across a restart (`--save ""`), so what
was queued when it stopped is gone: the relay must republish it as soon as Redis is back, not after
REPUBLISH_AFTER (60 s). Measured with this test: 59 s from Redis back to the last case routed before the
fix, 4 s after it (2 cores, other suites running)."""
import os
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from hotline.cases.models import Case
from hotline.cases.operations import register_case
from hotline.cases.schemas import parse_case
from hotline.extensions import db
from hotline.outbox import relay
from hotline.outbox.models import OutboxJob
from hotline.types import utcnow
from tests.conftest import complaint_payload
from tests.workers.test_worker_faults import (
    TIEXI,
    assert_routed_exactly_once,
    create_cases,
    undone_jobs,
    wait_for_routed,
)

# The target is 10 s; the assertion leaves room for a slow CI machine but stays far below
# REPUBLISH_AFTER, so the old behaviour (a wait of about a minute) fails it. The figure is printed.
LIMIT = float(os.environ.get("HOTLINE_RECOVERY_LIMIT", "30"))
BURST = 120  # cases committed at once just before Redis stops; what is queued then is lost
RELAY_INTERVAL = 2.0  # the web process's relay thread (hotline/outbox/relay.py start_relay)


def jobs_published(at) -> list[OutboxJob]:
    """Every job marked as handed to the broker at `at`, not done."""
    jobs = db.session.scalars(select(OutboxJob).order_by(OutboxJob.id)).all()
    for job in jobs:
        job.published_at = at
    db.session.commit()
    return jobs


class FakeBroker:
    """A broker for the relay: up or down, with a run id, recording what it was sent."""

    def __init__(self):
        self.up, self.run_id, self.up_since, self.sent = True, "first", utcnow() - timedelta(hours=1), []

    def instance(self) -> relay.BrokerInstance:
        if not self.up:
            raise ConnectionError("broker down")
        return relay.BrokerInstance(self.run_id, self.up_since)

    def send(self, job: OutboxJob) -> None:
        if not self.up:
            raise ConnectionError("broker down")
        self.sent.append(job.id)

    def relay_pass(self, watch: relay.BrokerWatch) -> int:
        try:
            return relay.relay_with_broker(self.send, self.instance, watch)
        except ConnectionError:
            db.session.rollback()
            return -1


def test_failure_then_success_republishes_what_was_in_flight_at_once(make_case):
    for _ in range(3):
        make_case()
    broker, watch = FakeBroker(), relay.BrokerWatch()
    assert broker.relay_pass(watch) == 6  # 3 route_case + 3 receipts, handed over
    assert broker.relay_pass(watch) == 0  # published a moment ago: not again
    done = db.session.scalars(select(OutboxJob).order_by(OutboxJob.id)).first()
    done.done_at = utcnow()
    db.session.commit()
    broker.up = False
    assert broker.relay_pass(watch) == -1 and watch.down_since is not None
    broker.up, broker.sent = True, []
    assert broker.relay_pass(watch) == 5  # everything not done, long before REPUBLISH_AFTER
    assert done.id not in broker.sent and watch.down_since is None
    assert broker.relay_pass(watch) == 0  # recovered: back to the normal rule


def test_a_restart_nobody_saw_is_recognised_by_the_run_id(make_case):
    """Redis restarted between two passes: no publish failed, but its queues are gone."""
    make_case()
    make_case()
    broker, watch = FakeBroker(), relay.BrokerWatch()
    assert broker.relay_pass(watch) == 4
    jobs_published(utcnow() - timedelta(seconds=10))  # to the old instance
    broker.run_id, broker.up_since = "second", utcnow() - timedelta(seconds=5)
    first, second = db.session.scalars(select(OutboxJob).where(OutboxJob.task == "route_case")
                                       .order_by(OutboxJob.id)).all()
    # another relay already republished the second case's job to the new instance
    second.published_at = utcnow()
    db.session.commit()
    broker.sent = []
    assert broker.relay_pass(watch) == 3 and second.id not in broker.sent and first.id in broker.sent


def test_no_outage_no_republishing(make_case):
    make_case()
    broker, watch = FakeBroker(), relay.BrokerWatch()
    jobs_published(utcnow() - timedelta(seconds=30))
    assert broker.relay_pass(watch) == 0  # first sight of the broker is not a recovery
    jobs_published(utcnow() - relay.REPUBLISH_AFTER - timedelta(seconds=1))
    assert broker.relay_pass(watch) == 2  # the usual safety net still works


def relay_pass(app) -> int:
    """One pass of the relay thread, as a web process runs it."""
    return relay.relay_once(app)


def in_flight() -> int:
    """Jobs handed to the broker and not done: lost if the broker goes away now."""
    db.session.rollback()
    return db.session.scalar(select(func.count(OutboxJob.id)).where(
        OutboxJob.done_at.is_(None), OutboxJob.published_at.is_not(None)))


@pytest.mark.worker
@pytest.mark.postgres
def test_everything_is_routed_soon_after_redis_returns(broker, start_worker, make_user, token_for, pg_app):
    assert relay.REPUBLISH_AFTER >= timedelta(seconds=60)  # the slow path this test must not depend on
    worker = start_worker(broker.url, "recovery")
    create_cases(1)
    relay_pass(pg_app)
    wait_for_routed(1, timeout=60, workers=[worker])

    # A burst the worker cannot finish at once, committed in one go (so that the worker's own relay
    # thread cannot hand it out bit by bit): most of it is still queued in Redis when Redis stops.
    started = time.monotonic()
    for i in range(BURST):
        register_case(parse_case(complaint_payload(business={"name": f"突发{i}", "address": TIEXI})), None)
    db.session.commit()
    print(f"  {BURST} cases registered in {time.monotonic() - started:.1f} s")
    while (n := relay_pass(pg_app)):
        print(f"  relay pass published {n} at {time.monotonic() - started:.1f} s")
    broker.stop()
    lost = in_flight()
    print(f"  Redis stopped with {lost} jobs handed to it and not done\n{undone_jobs()}")
    assert lost > 0, "the worker finished the burst before Redis stopped: the test proves nothing"

    headers = token_for(make_user("operator"))
    client = pg_app.test_client()
    assert [client.post("/api/v1/cases", json=complaint_payload(business={"name": "停机期间", "address": TIEXI}),
                        headers=headers).status_code for _ in range(20)] == [201] * 20
    with pytest.raises(Exception):  # noqa: B017  (the pass fails however the client library says so)
        relay_pass(pg_app)
    db.session.rollback()

    broker.start()  # same port, empty
    total = db.session.scalar(select(func.count(Case.id)))
    workers = [worker]

    def tick() -> None:
        # Celery's thread pool can die when Redis goes away while a task acknowledges (kombu:
        # AttributeError in the Redis transport's _connparams): start another, as a supervisor would.
        if workers[-1].poll() is not None:
            print(f"  the worker died when Redis went away (exit {workers[-1].returncode}); starting another")
            workers.append(start_worker(broker.url, f"recovery{len(workers) + 1}"))
        relay_pass(pg_app)

    elapsed = wait_for_routed(total, timeout=max(LIMIT, 90), tick=tick, tick_every=RELAY_INTERVAL, workers=workers)
    restarted = " (including a worker restart)" if len(workers) > 1 else ""
    print(f"  RECOVERY: all {total} cases routed {elapsed:.1f} s after Redis came back{restarted} "
          f"({lost} jobs were lost with the old Redis)")
    if len(workers) == 1:
        assert elapsed <= LIMIT, f"routed {elapsed:.1f} s after Redis came back; the target is 10 s"
    assert_routed_exactly_once(total)
