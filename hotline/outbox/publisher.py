"""Publishing outbox jobs to Celery by task name (the web process needs no worker code for this): a batch
goes in one Redis pipeline; a commit's own jobs go right after that commit; and asking the broker whether
it answers, and which running instance it is."""
import logging
import threading
from collections.abc import Sequence
from datetime import timedelta

from celery import Celery
from flask import Flask, current_app
from sqlalchemy import text, update

from hotline.extensions import db
from hotline.outbox import operations
from hotline.outbox.models import OutboxJob
from hotline.outbox.relay import NOTIFY_CHANNEL, QUEUES, BrokerInstance, Job, wake
from hotline.types import utcnow

log = logging.getLogger(__name__)
RUN_JOB = "hotline.run_outbox_job"
RUN_JOBS = "hotline.run_outbox_jobs"
# Jobs of one queue published together (a relay pass, a backlog) go up to this many to a message: the
# broker and pool's own cost per message is then shared, while enough messages remain for every thread
# of a worker to take one.
JOBS_PER_MESSAGE = 10
_client_lock = threading.Lock()


def _client(app: Flask | None = None) -> Celery:
    app = app or current_app
    client = app.extensions.get("hotline_celery_client")
    if client is None:
        with _client_lock:
            client = app.extensions.get("hotline_celery_client")
            if client is None:
                client = Celery("hotline-publisher", broker=app.config["BROKER_URL"])
                client.conf.broker_connection_timeout = 2
                client.conf.broker_transport_options = {"socket_connect_timeout": 2, "socket_timeout": 5}
                app.extensions["hotline_celery_client"] = client
    return client


def send_jobs(jobs: Sequence[Job]) -> None:
    """Publish the jobs, all in one Redis pipeline (one round trip): per queue, up to JOBS_PER_MESSAGE
    jobs to a message (`run_outbox_jobs`; a single one: `run_outbox_job`). Raises when the broker did not
    take them; then none counts as sent (a duplicate costs a skipped job, never a second effect)."""
    if not jobs:
        return
    by_queue: dict[str, list[int]] = {}
    for job in jobs:
        by_queue.setdefault(QUEUES.get(job.task, "default"), []).append(job.id)
    messages = [(queue, ids[start:start + JOBS_PER_MESSAGE]) for queue, ids in by_queue.items()
                for start in range(0, len(ids), JOBS_PER_MESSAGE)]
    client = _client()
    with client.producer_or_acquire() as producer, producer.batch(max_size=2 * len(messages)):  # one flush
        for queue, ids in messages:
            # retry=False: with the broker down, fail at once; the relay publishes the jobs again.
            if len(ids) == 1:
                client.send_task(RUN_JOB, args=[ids[0]], queue=queue, retry=False, producer=producer)
            else:
                client.send_task(RUN_JOBS, args=[ids], queue=queue, retry=False, producer=producer)


def send_job(job: Job) -> None:
    """Publish one job. The relay sends whole batches through `send_job.many` (= send_jobs)."""
    send_jobs([job])


send_job.many = send_jobs


def publish_committed(jobs: list[Job]) -> None:
    """Right after the commit that wrote them (marked published in it): publish this process's own jobs.
    If the broker does not take them, they are marked unpublished again and the relays are woken, so
    they go as soon as a relay pass reaches the broker; if this process dies first, the relay's
    republish (REPUBLISH_AFTER) sends them."""
    try:
        send_jobs(jobs)
    except Exception as exc:  # noqa: BLE001  (whatever the client library raises: the relay takes over)
        operations.publish_failed()
        log.warning("publishing %s outbox jobs after commit failed, left to the relay: %r", len(jobs), exc)
        try:
            with db.engine.begin() as conn:  # the session is between transactions in an after-commit hook
                conn.execute(update(OutboxJob).where(OutboxJob.id.in_([job.id for job in jobs]),
                                                     OutboxJob.done_at.is_(None)).values(published_at=None))
                if conn.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_notify(:channel, '')"), {"channel": NOTIFY_CHANNEL})
        except Exception as db_exc:  # noqa: BLE001  (the republish after REPUBLISH_AFTER still sends them)
            log.warning("could not release %s outbox jobs for the relay: %r", len(jobs), db_exc)
        wake()


def broker_instance() -> BrokerInstance:
    """Which broker process answers: Redis's `run_id`, new at every start, and its uptime, so the relay
    sees a restart that emptied the queues even when no publish failed (hotline/outbox/relay.py).
    Raises when the broker does not answer. Other transports: only that it answers."""
    last: Exception | None = None
    for _attempt in range(2):  # a pooled connection from before a restart fails once, then reconnects
        try:
            with _client().pool.acquire(block=True, timeout=2) as connection:
                client = getattr(connection.default_channel, "client", None)
                if client is None or not hasattr(client, "info"):
                    return BrokerInstance()
                server = client.info("server")
            # a second's margin: uptime is whole seconds
            up_since = utcnow() - timedelta(seconds=int(server.get("uptime_in_seconds", 0)) + 1)
            return BrokerInstance(id=str(server.get("run_id")), up_since=up_since)
        except Exception as exc:
            last = exc
    raise last or RuntimeError("the broker did not answer")
