"""The relay hands outbox jobs to whoever runs them, and runs one job exactly once.

- With a broker (`HOTLINE_BROKER_URL`): jobs are published to Celery right after the commit that
  wrote them (the after-commit hook wakes the relay thread) and again on every pass while they
  stay unpublished (broker down) or unfinished long after publishing (message lost).
- After a broker outage (a failed pass, then a broker that answers again, or a broker restarted
  meanwhile) the first pass republishes every job not done at once: what sat in the broker when it
  went away is gone, and waiting REPUBLISH_AFTER for it held cases up a minute (issue #12).
- Embedded default: the relay thread runs the jobs itself.
A job's effects and its `done_at` commit in one transaction, and the row is locked while it runs,
so running a job twice (a redelivered message, two workers) has no second effect."""
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import or_, select, update

from hotline.extensions import db
from hotline.outbox.models import OutboxJob
from hotline.types import utcnow

log = logging.getLogger(__name__)
HANDLERS: dict[str, Callable[[dict], object]] = {}
QUEUES = {"route_case": "routing", "send_sms": "sms"}  # anything else: "default"
REPUBLISH_AFTER = timedelta(seconds=60)  # a published job not done by then is published again
PUBLISH_LEASE = timedelta(seconds=5)  # a claimed batch whose publisher died is taken again after this
_wakeup = threading.Event()


class Deferred(Exception):  # noqa: N818  (not an error: "not now")
    """Raised by a handler that must wait (SMS quiet hours): the job runs again at `until`, no failure counted."""

    def __init__(self, until):
        super().__init__(f"deferred until {until.isoformat()}")
        self.until = until


def handler(task: str):
    """Register the function that performs an outbox task; it must be idempotent."""
    def register(fn):
        HANDLERS[task] = fn
        return fn
    return register


def wake() -> None:
    _wakeup.set()


def _is_postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


def execute_job(job_id: int) -> str:
    """Run one job now, inside the caller's app context. Returns what happened."""
    query = select(OutboxJob).where(OutboxJob.id == job_id)
    if _is_postgres():
        # A duplicate delivery waits here for the first run to finish, then finds the job done.
        query = query.with_for_update()
    job = db.session.scalar(query)
    if job is None or job.done_at is not None or job.task not in HANDLERS:
        db.session.rollback()
        return "skipped"
    try:
        result = HANDLERS[job.task](job.payload)
        job.done_at = utcnow()
        db.session.commit()
        return str(result or "done")
    except Deferred as later:
        db.session.rollback()
        job = db.session.get(OutboxJob, job_id)
        job.available_at, job.published_at = later.until, None
        db.session.commit()
        return "deferred"
    except Exception as exc:
        db.session.rollback()
        _record_failure(job_id, exc)
        raise


def _record_failure(job_id: int, exc: Exception) -> None:
    """Retry later with exponential backoff and jitter; the job is never dropped."""
    job = db.session.get(OutboxJob, job_id)
    job.attempts += 1
    job.last_error = repr(exc)[:500]
    delay = min(3600, 2 ** job.attempts) * random.uniform(0.5, 1.5)
    job.available_at = utcnow() + timedelta(seconds=delay)
    job.published_at = None
    db.session.commit()
    log.warning("outbox job %s (%s) failed, attempt %s: %r", job_id, job.task, job.attempts, exc)


def _due_jobs(limit: int, for_publishing: bool, everything_after: int | None = None,
              published_before: datetime | None = None) -> list[OutboxJob]:
    """Due jobs not done. For publishing: those not published yet or published long ago; after an
    outage, those with an id above `everything_after` not published since `published_before`."""
    now = utcnow()
    query = select(OutboxJob).where(OutboxJob.done_at.is_(None), OutboxJob.available_at <= now,
                                    OutboxJob.task.in_(list(HANDLERS)))
    if for_publishing:
        if everything_after is not None:
            query = query.where(OutboxJob.id > everything_after, or_(OutboxJob.published_at.is_(None),
                                                                     OutboxJob.published_at < published_before))
        else:
            query = query.where(or_(OutboxJob.published_at.is_(None),
                                    OutboxJob.published_at < now - REPUBLISH_AFTER))
        if _is_postgres():
            query = query.with_for_update(skip_locked=True)  # two relays never publish one job at once
    return list(db.session.scalars(query.order_by(OutboxJob.id).limit(limit)))


def run_pending(limit: int = 200) -> int:
    """Embedded default: run due jobs here, each in its own transaction. Returns how many ran."""
    ids = [job.id for job in _due_jobs(limit, for_publishing=False)]
    db.session.rollback()
    done = 0
    for job_id in ids:
        try:
            done += execute_job(job_id) != "skipped"
        except Exception:
            log.exception("outbox job %s failed", job_id)
    return done


def publish_pending(send: Callable[[OutboxJob], None], limit: int = 500) -> int:
    """Hand due jobs to the broker; returns how many were sent."""
    return len(_publish(send, limit))


def _publish(send: Callable[[OutboxJob], None], limit: int, everything_after: int | None = None,
             published_before: datetime | None = None) -> list[int]:
    """Hand due jobs to the broker. The batch is claimed with a short lease and committed first, so
    no row stays locked while messages go out and a worker can run a job the moment it arrives.
    Sent jobs are then marked published; if this process dies mid-batch, the lease runs out and the
    next pass sends the rest; what the broker refused is released at once. Returns the ids sent."""
    jobs = _due_jobs(limit, for_publishing=True, everything_after=everything_after,
                     published_before=published_before)
    claimed = [job.id for job in jobs]
    lease = utcnow() - REPUBLISH_AFTER + PUBLISH_LEASE  # eligible again after the lease
    for job in jobs:
        job.published_at = lease
    db.session.commit()
    sent: list[int] = []
    try:
        for job in jobs:
            send(job)
            sent.append(job.id)
    finally:
        if sent:
            db.session.execute(update(OutboxJob).where(OutboxJob.id.in_(sent), OutboxJob.published_at == lease)
                               .values(published_at=utcnow()), execution_options={"synchronize_session": False})
        unsent = claimed[len(sent):]
        if unsent:
            db.session.execute(update(OutboxJob).where(OutboxJob.id.in_(unsent), OutboxJob.done_at.is_(None))
                               .values(published_at=None), execution_options={"synchronize_session": False})
        db.session.commit()
    return sent


@dataclass(frozen=True)
class BrokerInstance:
    """The broker process that answered: an id that changes when it restarts (Redis's run_id), and
    since when it runs; both None where the transport does not say."""
    id: str | None = None
    up_since: datetime | None = None


class BrokerWatch:
    """The broker as this process last saw it: down since when, and which instance (a Redis restarted
    without persistence has lost its queues even if no pass saw it down)."""

    def __init__(self):
        self.down_since: datetime | None = None
        self.instance: BrokerInstance | None = None
        self._lock = threading.Lock()

    def failed(self, exc: Exception) -> None:
        with self._lock:
            if self.down_since is None:
                self.down_since = utcnow()
                log.warning("broker unreachable, outbox jobs wait in the database: %r", exc)

    def answered(self, instance: BrokerInstance) -> datetime | None:
        """The broker answered. After an outage or a restart: the moment before which what was
        published may be lost (a restarted broker: when it started, so that what another relay
        republished since is not sent once more); otherwise None."""
        with self._lock:
            known = self.instance is not None and self.instance.id is not None
            restarted = known and instance.id is not None and instance.id != self.instance.id
            cutoff = None
            if restarted or self.down_since is not None:
                # a broker that kept its queues (same instance) may still have lost what was in flight
                cutoff = instance.up_since if (restarted or not known) and instance.up_since else utcnow()
                log.warning("broker back (down since %s%s): republishing what was published before %s and is "
                            "not done", self.down_since, ", restarted" if restarted else "", cutoff)
            self.down_since = None
            self.instance = instance
            return cutoff


_watches: dict[str, BrokerWatch] = {}


def broker_watch(url: str) -> BrokerWatch:
    """One watch per broker URL and process (each web and worker process relays on its own)."""
    return _watches.setdefault(url, BrokerWatch())


def republish_unfinished(send: Callable[[OutboxJob], None], published_before: datetime, limit: int = 500) -> int:
    """After an outage: publish every due job not done that was published before the broker came
    back, however recently, since the broker may have lost it. Running a job twice has no second
    effect (execute_job), so a duplicate costs a skipped task, never a second routing or SMS."""
    total, after_id = 0, 0
    while True:
        sent = _publish(send, limit, everything_after=after_id, published_before=published_before)
        total += len(sent)
        if len(sent) < limit:
            return total
        after_id = max(sent)


def relay_with_broker(send: Callable[[OutboxJob], None], broker_instance: Callable[[], BrokerInstance],
                      watch: BrokerWatch) -> int:
    """One pass with a broker: check that it answers (and which instance), publish, and after an
    outage republish what it may have lost. A failure is remembered and raised; the next pass
    (2 s later in the relay thread) tries again."""
    try:
        instance = broker_instance()
    except Exception as exc:
        watch.failed(exc)
        raise
    try:
        cutoff = watch.answered(instance)
        if cutoff is not None:
            return republish_unfinished(send, cutoff)
        return publish_pending(send)
    except Exception as exc:
        db.session.rollback()
        watch.failed(exc)
        raise


def relay_once(app: Flask) -> int:
    if app.config.get("BROKER_URL"):
        from hotline.outbox.publisher import broker_instance, send_job
        return relay_with_broker(send_job, broker_instance, broker_watch(app.config["BROKER_URL"]))
    count = 0
    while (ran := run_pending()):
        count += ran
    return count


def _embedded_schedule(app: Flask) -> list[list]:
    """With no broker there is no beat: the relay thread keeps its schedule (the deadline sweep, and
    settling SMS left in `sending`, recounting the statistics), so the embedded default reminds and escalates too."""
    from hotline.deadlines.sweep import sweep
    from hotline.sms.sending import reconcile
    from hotline.stats.refresh import drain
    return [[float(app.config["SWEEP_INTERVAL_SECONDS"]), 0.0, sweep], [30.0, 0.0, reconcile], [2.0, 0.0, drain]]


def _run_due(schedule: list[list]) -> None:
    now = time.monotonic()
    for entry in schedule:
        every, last, task = entry
        if now - last >= every:
            entry[1] = now
            try:
                task()
            except Exception as exc:  # the next round tries again
                db.session.rollback()
                log.warning("scheduled %s failed: %r", task.__name__, exc)


def start_relay(app: Flask, interval: float = 2.0) -> threading.Thread:
    """A daemon thread that relays after each commit of this process and every `interval` seconds."""
    schedule = [] if app.config.get("BROKER_URL") or app.config.get("TESTING") else _embedded_schedule(app)

    def loop():
        while True:
            _wakeup.wait(interval)
            _wakeup.clear()
            with app.app_context():
                try:
                    while relay_once(app) >= 500:  # a full batch: there may be more right away
                        pass
                    _run_due(schedule)
                except Exception as exc:  # broker or database down: try again on the next pass
                    log.warning("outbox relay pass failed: %r", exc)
                finally:
                    db.session.remove()
    thread = threading.Thread(target=loop, name="outbox-relay", daemon=True)
    thread.start()
    return thread
