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
from tests.workers.conftest import tail
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
    def tick() -> None:
        # The worker outlives the outage (workers/broker.py): it once died now and then, in kombu's
        # Redis transport, and a supervisor had to start another.
        assert worker.poll() is None, f"the worker died when Redis went away:\n{tail(worker.log_path)}"
        relay_pass(pg_app)

    elapsed = wait_for_routed(total, timeout=max(LIMIT, 90), tick=tick, tick_every=RELAY_INTERVAL, workers=[worker])
    print(f"  RECOVERY: all {total} cases routed {elapsed:.1f} s after Redis came back "
          f"({lost} jobs were lost with the old Redis)")
    assert worker.poll() is None, f"the worker died:\n{tail(worker.log_path)}"
    assert elapsed <= LIMIT, f"routed {elapsed:.1f} s after Redis came back; the target is 10 s"
    assert_routed_exactly_once(total)


@pytest.mark.parametrize("transport", ["kombu", "ours"])
def test_closing_a_channel_after_its_connection_was_collected(own_redis, transport):
    """The worker's death, replayed step by step: Redis went away with a job unacknowledged; the consumer's
    Connection.collect() dropped the transport's client, and closing the channel once more (to give the
    message back) built a connection pool from it. kombu's Redis transport raised AttributeError, which
    nothing on the close path catches ("Unrecoverable error", the worker stopped); ours raises the
    connection error it is, which kombu's close ignores. The message stays in Redis's unacked set."""
    import redis
    from kombu import Connection
    from kombu.transport.redis import Transport as KombuTransport

    from workers.broker import Transport
    with Connection(own_redis.url, transport=KombuTransport if transport == "kombu" else Transport) as connection:
        queue = connection.SimpleQueue("broker-recovery-probe")
        queue.put({"job": 1})
        message = queue.get(timeout=5)  # delivered, not acknowledged (as with acks_late)
        channel = message.channel
        channel._disconnect_pools()  # what the first, failed close had done
        connection.transport.client = None  # what Connection.collect() leaves
        if transport == "kombu":
            with pytest.raises(AttributeError):
                connection.maybe_close_channel(channel)
        else:
            connection.maybe_close_channel(channel)
    assert redis.Redis.from_url(own_redis.url).hlen("unacked") == 1


def test_the_worker_settings_survive_a_long_outage(tmp_path):
    """In a process of its own: importing `workers` makes its own app (and binds the extensions to it)."""
    import json
    import subprocess
    import sys

    from tests.workers.conftest import PROJECT
    script = ("import json; from workers import celery_settings as s\n"
              "c = {'TIMEZONE': 'Asia/Shanghai', 'SWEEP_INTERVAL_SECONDS': 60}\n"
              "print(json.dumps([{k: v for k, v in s({**c, 'BROKER_URL': url}).items()\n"
              "                    if k.startswith(('broker', 'worker_c'))}\n"
              "                   for url in ('redis://127.0.0.1:6379/0', 'sentinel://127.0.0.1:26379')]))")
    env = {**os.environ, "HOTLINE_DATABASE_URL": f"sqlite:///{tmp_path / 'settings.db'}"}
    output = subprocess.run([sys.executable, "-c", script], cwd=PROJECT, env=env, capture_output=True, text=True,
                            timeout=120, check=True).stdout
    redis_settings, sentinel = json.loads(output.strip().splitlines()[-1])
    assert redis_settings["broker_transport"] == "workers.broker:Transport"
    assert redis_settings["broker_connection_max_retries"] is None  # the default, 100, gives up after ~45 min
    assert redis_settings["broker_transport_options"]["socket_timeout"] > 1  # above kombu's BRPOP timeout of 1 s
    assert redis_settings["worker_cancel_long_running_tasks_on_connection_loss"] is False
    assert "broker_transport" not in sentinel  # kombu's own Sentinel transport
