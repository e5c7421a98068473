"""The relay hands outbox jobs to whoever runs them, and runs one job exactly once.

- With a broker (`HOTLINE_BROKER_URL`): the process whose commit wrote a job publishes it right after
  that commit (hotline/outbox/operations.py, publisher.py); web processes run no relay thread. The
  relay thread runs in the Celery workers and publishes what nobody published: jobs whose publish
  failed, jobs written in bulk or due later, jobs unfinished long after publishing (message lost,
  REPUBLISH_AFTER), and after a broker outage or restart everything not done at once (what sat in the
  broker when it went away is gone; waiting REPUBLISH_AFTER for it held cases up a minute, issue #12).
  It sleeps until woken (its own process's commits; other processes' by PostgreSQL NOTIFY), looks at
  the broker every few seconds without touching the database, and reads the outbox at least every
  SAFETY_PASS seconds.
- Embedded default: the relay thread runs the jobs itself.
A job is claimed by marking it done in the transaction that carries its effects, with one
UPDATE ... RETURNING that keeps its row locked until that commit: a second run of it (a redelivered
message, two workers) waits, then finds it done; a failed run rolls the mark back with the effects."""
import contextlib
import logging
import os
import random
import select as selectors
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from flask import Flask
from sqlalchemy import Select, bindparam, or_, select, update

from hotline.extensions import db
from hotline.outbox.models import OutboxJob
from hotline.types import utcnow

log = logging.getLogger(__name__)
HANDLERS: dict[str, Callable[[dict], object]] = {}
QUEUES = {"route_case": "routing", "send_sms": "sms"}  # anything else: "default"
REPUBLISH_AFTER = timedelta(seconds=60)  # a published job not done by then is published again
PUBLISH_LEASE = timedelta(seconds=5)  # a claimed batch whose publisher died is taken again after this
SAFETY_PASS = 15.0  # seconds: the workers' relay reads the outbox at least this often, woken or not
BATCH = 500  # jobs claimed and published per pass
NOTIFY_CHANNEL = "hotline_outbox"  # PostgreSQL: a commit wrote jobs for the relay
_OPTIONS = {"synchronize_session": False}
_wakeup = threading.Event()
_pipe: dict[str, int] = {}  # the broker-mode relay thread sleeps in select() on its read end


class Job(NamedTuple):
    """What publishing needs of a job."""
    id: int
    task: str


class Deferred(Exception):  # noqa: N818  (not an error: "not now")
    """Raised by a handler that must wait (SMS quiet hours): the job runs again at `until`, no failure
    counted. What the handler wrote before raising it is committed with the job's new time."""

    def __init__(self, until):
        super().__init__(f"deferred until {until.isoformat()}")
        self.until = until


def handler(task: str):
    """Register the function that performs an outbox task; it must be idempotent, and must not commit or
    roll back the session unless it keeps its own guarantees (the SMS send path does: hotline/sms/sending.py)."""
    def register(fn):
        HANDLERS[task] = fn
        return fn
    return register


def wake() -> None:
    _wakeup.set()
    if "write" in _pipe:
        with contextlib.suppress(OSError):  # the pipe is full: a wake-up is pending anyway
            os.write(_pipe["write"], b"\0")


def _is_postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


# The claim, built once: this runs for every job, and building a statement costs more than sending it.
_JOBS = OutboxJob.__table__
_CLAIM = (update(_JOBS).where(_JOBS.c.id == bindparam("job_id"), _JOBS.c.done_at.is_(None))
          .values(done_at=bindparam("now", type_=_JOBS.c.done_at.type)).returning(_JOBS.c.task, _JOBS.c.payload))


def execute_job(job_id: int) -> str:
    """Run one job now, inside the caller's app context. Returns what happened."""
    claimed = db.session.connection().execute(_CLAIM, {"job_id": job_id, "now": utcnow()}).first()
    if claimed is None or claimed.task not in HANDLERS:
        db.session.rollback()
        return "skipped"
    try:
        result = HANDLERS[claimed.task](claimed.payload)
        db.session.commit()
        return str(result or "done")
    except Deferred as later:
        db.session.connection().execute(update(_JOBS).where(_JOBS.c.id == job_id).values(
            done_at=None, available_at=later.until, published_at=None))
        db.session.commit()
        return "deferred"
    except Exception as exc:
        db.session.rollback()
        _record_failure(job_id, exc)
        raise


def execute_jobs(job_ids: list[int]) -> int:
    """Run several jobs, each on its own as `execute_job` runs it: one failing (and retried later, with
    backoff) does not keep the others from running. Returns how many ran."""
    ran = 0
    for job_id in job_ids:
        try:
            ran += execute_job(job_id) != "skipped"
        except Exception:
            db.session.rollback()  # the failure is recorded (or, the database gone, the job is retried later)
            log.exception("outbox job %s failed", job_id)
    return ran


def _record_failure(job_id: int, exc: Exception) -> None:
    """Retry later with exponential backoff and jitter; the job is never dropped. (A handler that committed
    part of its work committed the claim too: the job is made undone here.)"""
    job = db.session.get(OutboxJob, job_id)
    job.attempts += 1
    job.last_error = repr(exc)[:500]
    delay = min(3600, 2 ** job.attempts) * random.uniform(0.5, 1.5)
    job.available_at = utcnow() + timedelta(seconds=delay)
    job.published_at = job.done_at = None
    db.session.commit()
    log.warning("outbox job %s (%s) failed, attempt %s: %r", job_id, job.task, job.attempts, exc)


def _due() -> Select:
    return select(OutboxJob.id).where(OutboxJob.done_at.is_(None), OutboxJob.available_at <= utcnow(),
                                      OutboxJob.task.in_(list(HANDLERS)))


def run_pending(limit: int = 200) -> int:
    """Embedded default: run due jobs here, each in its own transaction. Returns how many ran."""
    ids = list(db.session.scalars(_due().order_by(OutboxJob.id).limit(limit)))
    db.session.rollback()
    return execute_jobs(ids)


def publish_pending(send: Callable[[Job], None], limit: int = BATCH) -> int:
    """Hand due jobs to the broker; returns how many were sent."""
    return len(_publish(send, limit))


def _claim_for_publishing(limit: int, lease: datetime, everything_after: int | None,
                          published_before: datetime | None) -> list[Job]:
    """One statement: due jobs not published yet or published long ago (after an outage: those with an id
    above `everything_after` not published since `published_before`) get the lease as published_at."""
    now = utcnow()
    due = _due()
    if everything_after is not None:
        due = due.where(OutboxJob.id > everything_after, or_(OutboxJob.published_at.is_(None),
                                                            OutboxJob.published_at < published_before))
    else:
        due = due.where(or_(OutboxJob.published_at.is_(None), OutboxJob.published_at < now - REPUBLISH_AFTER))
    due = due.order_by(OutboxJob.id).limit(limit)
    if _is_postgres():
        due = due.with_for_update(skip_locked=True)  # two relays never publish one job at once
    rows = db.session.execute(update(OutboxJob).where(OutboxJob.id.in_(due)).values(published_at=lease)
                              .returning(OutboxJob.id, OutboxJob.task), execution_options=_OPTIONS)
    return sorted(Job(job_id, task) for job_id, task in rows)


def _publish(send: Callable[[Job], None], limit: int, everything_after: int | None = None,
             published_before: datetime | None = None) -> list[int]:
    """Hand due jobs to the broker. The batch is claimed with a short lease and committed first, so
    no row stays locked while messages go out and a worker can run a job the moment it arrives.
    Sent jobs are then marked published; if this process dies mid-batch, the lease runs out and the
    next pass sends the rest; what the broker refused is released at once. A `send` with a `many`
    attribute takes the whole batch at once (one pipeline): all of it went, or none counts as sent.
    Returns the ids sent."""
    lease = utcnow() - REPUBLISH_AFTER + PUBLISH_LEASE  # eligible again after the lease
    jobs = _claim_for_publishing(limit, lease, everything_after, published_before)
    db.session.commit()
    if not jobs:
        return []
    sent: list[int] = []
    try:
        many = getattr(send, "many", None)
        if many is not None:
            many(jobs)
            sent = [job.id for job in jobs]
        else:
            for job in jobs:
                send(job)
                sent.append(job.id)
    finally:
        if sent:
            db.session.execute(update(OutboxJob).where(OutboxJob.id.in_(sent), OutboxJob.published_at == lease)
                               .values(published_at=utcnow()), execution_options=_OPTIONS)
        unsent = [job.id for job in jobs[len(sent):]]
        if unsent:
            db.session.execute(update(OutboxJob).where(OutboxJob.id.in_(unsent), OutboxJob.done_at.is_(None))
                               .values(published_at=None), execution_options=_OPTIONS)
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
    """One watch per broker URL and process (each process that relays watches on its own)."""
    return _watches.setdefault(url, BrokerWatch())


def republish_unfinished(send: Callable[[Job], None], published_before: datetime, limit: int = BATCH) -> int:
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


def relay_with_broker(send: Callable[[Job], None], broker_instance: Callable[[], BrokerInstance],
                      watch: BrokerWatch, publish: bool = True) -> int:
    """One pass with a broker: check that it answers (and which instance), publish (unless `publish` is
    false: only the check), and after an outage republish what it may have lost. A failure is remembered
    and raised; the next pass tries again."""
    try:
        instance = broker_instance()
    except Exception as exc:
        watch.failed(exc)
        raise
    try:
        cutoff = watch.answered(instance)
        if cutoff is not None:
            return republish_unfinished(send, cutoff)
        return publish_pending(send) if publish else 0
    except Exception as exc:
        db.session.rollback()
        watch.failed(exc)
        raise


def relay_once(app: Flask, publish: bool = True) -> int:
    if app.config.get("BROKER_URL"):
        from hotline.outbox.publisher import broker_instance, send_job
        return relay_with_broker(send_job, broker_instance, broker_watch(app.config["BROKER_URL"]), publish)
    count = 0
    while (ran := run_pending()):
        count += ran
    return count


def _embedded_schedule(app: Flask) -> list[list]:
    """With no broker there is no beat: the relay thread keeps its schedule (the deadline sweep, and
    settling SMS left in `sending`, recounting the statistics, purging day-old idempotency keys), so the embedded
    default reminds and escalates too."""
    from hotline.api.idempotency import purge_expired
    from hotline.deadlines.sweep import sweep
    from hotline.sms.sending import reconcile
    from hotline.stats.refresh import drain
    return [[float(app.config["SWEEP_INTERVAL_SECONDS"]), 0.0, sweep], [30.0, 0.0, reconcile], [2.0, 0.0, drain],
            [3600.0, 0.0, purge_expired]]


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


def start_relay(app: Flask, interval: float = 2.0, *, workers: bool = False) -> threading.Thread | None:
    """This process's relay thread, or None where it needs none.

    Embedded default (no broker): a daemon thread that runs the jobs after each commit of this process
    and every `interval` seconds, and keeps the schedule beat would keep. With a broker only the Celery
    workers (`workers=True`) run one: a web process publishes its own commits' jobs and relays nothing
    else, so relaying costs it no request time (docs/decisions.md, "Relay placement")."""
    if app.config.get("BROKER_URL"):
        if not workers:
            return None

        def loop():
            _relay_for_broker(app, interval)
    else:
        schedule = [] if app.config.get("TESTING") else _embedded_schedule(app)

        def loop():
            _run_embedded(app, interval, schedule)
    thread = threading.Thread(target=loop, name="outbox-relay", daemon=True)
    thread.start()
    return thread


def _run_embedded(app: Flask, interval: float, schedule: list[list]) -> None:
    while True:
        _wakeup.wait(interval)
        _wakeup.clear()
        with app.app_context():
            try:
                relay_once(app)
                _run_due(schedule)
            except Exception as exc:  # the database is down: try again on the next pass
                log.warning("outbox relay pass failed: %r", exc)
            finally:
                db.session.remove()


class _Listener:
    """A PostgreSQL connection of its own, LISTENing on NOTIFY_CHANNEL, for the relay to sleep on."""

    def __init__(self):
        import psycopg
        url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.connection = psycopg.connect(url, autocommit=True, connect_timeout=5)
        self.connection.execute(f"LISTEN {NOTIFY_CHANNEL}")

    def fileno(self) -> int:
        return self.connection.fileno()

    def drain(self) -> bool:
        return any(True for _ in self.connection.notifies(timeout=0))

    def close(self) -> None:
        with contextlib.suppress(Exception):  # a broken connection: nothing to close
            self.connection.close()


def _relay_for_broker(app: Flask, interval: float) -> None:
    """The workers' relay: asleep until woken (a commit of this process, or NOTIFY from another), a look at
    the broker every `interval` seconds (a restart or the end of an outage makes it republish), and the
    outbox read when woken and at least every SAFETY_PASS seconds (jobs due later, lost messages). Without
    a listener (SQLite, or PostgreSQL unreachable) it reads the outbox every `interval` seconds instead."""
    read, write = os.pipe()
    os.set_blocking(read, False)
    os.set_blocking(write, False)
    _pipe.update(read=read, write=write)
    listener: _Listener | None = None
    watch = broker_watch(app.config["BROKER_URL"])
    last_pass = last_look = float("-inf")
    listen_failed = False
    while True:
        woken = False
        if listener is None:
            with app.app_context():
                if _is_postgres():
                    try:
                        listener, woken = _Listener(), True  # what was notified while it was away: read now
                        listen_failed = False
                    except Exception as exc:  # noqa: BLE001  (the database is down: poll meanwhile)
                        if not listen_failed:
                            log.warning("outbox relay cannot LISTEN, polling instead: %r", exc)
                        listen_failed = True
        ready, _, _ = selectors.select([read] + ([listener.fileno()] if listener else []), [], [], interval)
        if read in ready:
            while True:
                try:
                    if not os.read(read, 4096):
                        break
                except BlockingIOError:
                    break
            woken = True
        if listener is not None and listener.fileno() in ready:
            try:
                woken = listener.drain() or woken
            except Exception as exc:  # noqa: BLE001  (the database restarted: listen again)
                log.warning("outbox relay lost its LISTEN connection: %r", exc)
                listener.close()
                listener, woken = None, True
        _wakeup.clear()
        now = time.monotonic()
        if watch.down_since is not None and now - last_look < interval:
            continue  # the broker is down: jobs wait; the next look at it republishes them once it answers
        last_look = now
        full = woken or listener is None or now - last_pass >= SAFETY_PASS
        with app.app_context():
            try:
                if full:
                    last_pass = now
                    while relay_once(app) >= BATCH:  # a full batch: there may be more right away
                        pass
                else:
                    relay_once(app, publish=False)
            except Exception as exc:  # broker or database down: try again on the next pass
                log.warning("outbox relay pass failed: %r", exc)
            finally:
                db.session.remove()
