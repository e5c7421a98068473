"""Write side of the outbox: a job is added to the session of the change that needs it, so both
commit or neither does. Running the jobs is the relay's business (`hotline.outbox.relay`).

With a broker, the process that commits a job also publishes it, right after the commit (the web
processes run no relay thread): the job is written already marked published, in the same INSERT, and
its message goes out in one Redis pipeline with the commit's other jobs. Jobs this process does not
publish itself (written in bulk with Core, due later, or while the broker was failing) are left to the
relay, which the commit wakes: in this process at once, in the others by PostgreSQL NOTIFY."""
import time
from datetime import datetime

from flask import current_app, has_app_context
from sqlalchemy import event, inspect, text
from sqlalchemy.orm import Session

from hotline.direct_insert import insert_now
from hotline.extensions import db
from hotline.outbox.models import OutboxJob
from hotline.outbox.relay import NOTIFY_CHANNEL, Job, wake
from hotline.types import utcnow

WAKE_KEY = "outbox_wake"  # session.info: the transaction wrote jobs the relay must pick up itself
_PENDING = "outbox_publish_pending"  # jobs this process publishes after commit, not flushed yet
_FLUSHED = "outbox_publish_flushed"  # their ids and tasks once written
_BATCH = "outbox_batch"  # jobs of enqueue(immediate=True), written together just before the commit
# After a publish failed, commits leave their jobs to the relay for this long, rather than each request
# waiting on a broker that does not answer (a hung one costs the 2 s connect timeout).
BREAKER_SECONDS = 5.0
_breaker = {"until": 0.0}


def publishes_on_commit() -> bool:
    """Whether this process hands the jobs it commits to the broker itself: a broker is configured and
    no publish failed in the last BREAKER_SECONDS."""
    return bool(current_app.config.get("BROKER_URL")) and time.monotonic() >= _breaker["until"]


def publish_failed() -> None:
    _breaker["until"] = time.monotonic() + BREAKER_SECONDS


def enqueue(task: str, payload: dict, dedupe_key: str, available_at: datetime | None = None,
            immediate: bool = False) -> OutboxJob:
    """Add a job to the caller's transaction; `available_at` None is now. `immediate` (intake's hot path):
    the transaction's jobs so marked are written together by one Core statement (hotline/direct_insert.py)
    just before it commits, or before its next ORM query; the job has no id until then."""
    job = OutboxJob(task=task, payload=payload, dedupe_key=dedupe_key, available_at=available_at)
    if immediate:
        db.session.info.setdefault(_BATCH, []).append(job)
        return job
    db.session.add(job)
    if publishes_on_commit():
        db.session.info.setdefault(_PENDING, []).append(job)
    else:
        db.session.info[WAKE_KEY] = True
    return job


def _write_batch(session: Session) -> None:
    """Write the jobs of enqueue(immediate=True) waiting in the session, in one statement."""
    batch = session.info.pop(_BATCH, None)
    if not batch:
        return
    now, publish = utcnow(), publishes_on_commit()
    for job in batch:
        if publish and (job.available_at is None or job.available_at <= now):
            job.published_at = now  # in the INSERT itself, as _mark_published does for a flushed job
    insert_now(*batch, session=session)
    flushed = session.info.setdefault(_FLUSHED, [])
    for job in batch:
        if job.published_at is not None:
            flushed.append(Job(job.id, job.task))
        else:
            session.info[WAKE_KEY] = True


@event.listens_for(Session, "before_commit")
def _write_batch_at_commit(session: Session) -> None:
    # Registered before _notify_relays below, so that a job left to the relay wakes it. A savepoint's
    # commit leaves them to the outer one.
    if not session.in_nested_transaction():
        _write_batch(session)


@event.listens_for(Session, "do_orm_execute")
def _write_batch_before_reading(state) -> None:
    # An ORM query later in the same transaction sees the jobs, as it would see flushed ones (the demo
    # settles its history's jobs that way).
    if state.session.info.get(_BATCH):
        _write_batch(state.session)


@event.listens_for(Session, "before_flush")
def _mark_published(session: Session, _context, _instances) -> None:
    # In the INSERT itself, so that no relay pass publishes the job a second time meanwhile.
    pending = session.info.get(_PENDING)
    if not pending:
        return
    now, new = utcnow(), session.new
    for job in list(pending):
        if job in new and job.published_at is None:
            if job.available_at is None or job.available_at <= now:
                job.published_at = now
            else:  # due later (SMS quiet hours): the relay publishes it when it is due
                pending.remove(job)


@event.listens_for(Session, "after_flush_postexec")
def _note_flushed(session: Session, _context) -> None:
    pending = session.info.get(_PENDING)
    if not pending:
        return
    flushed = session.info.setdefault(_FLUSHED, [])
    for job in list(pending):
        state = inspect(job)
        if state.persistent:
            flushed.append(Job(job.id, job.task))
            pending.remove(job)


@event.listens_for(Session, "before_commit")
def _notify_relays(session: Session) -> None:
    # NOTIFY is delivered when (and only if) the transaction commits: the relays of other processes
    # (the workers') wake for jobs nobody publishes, instead of polling for them.
    if (session.info.get(WAKE_KEY) and has_app_context() and current_app.config.get("BROKER_URL")
            and session.in_transaction() and session.get_bind().dialect.name == "postgresql"):
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": NOTIFY_CHANNEL})


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    # The jobs are safe in the database now: publishing them, or waking the relay, only hands them on.
    flushed = session.info.pop(_FLUSHED, None)
    if flushed:
        from hotline.outbox.publisher import publish_committed
        publish_committed(flushed)
    if session.info.pop(WAKE_KEY, False):
        wake()


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction) -> None:
    if transaction.parent is None:  # the outermost transaction: committed (handled above) or rolled back
        session.info.pop(_PENDING, None)
        session.info.pop(_FLUSHED, None)
        session.info.pop(_BATCH, None)
