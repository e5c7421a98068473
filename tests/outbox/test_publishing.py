"""Publishing with a broker (issue #13): a commit publishes its own jobs right after it, in one pipeline;
what it cannot publish is left to the relay, which is woken; jobs of one queue share messages."""
import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from hotline.extensions import db
from hotline.outbox import operations, publisher, relay
from hotline.outbox.models import OutboxJob
from hotline.types import utcnow


@pytest.fixture
def sent(app, monkeypatch):
    """A broker configured, and what is published after commit recorded instead of sent."""
    batches: list[list[relay.Job]] = []
    monkeypatch.setitem(app.config, "BROKER_URL", "redis://127.0.0.1:1/0")  # never reached
    monkeypatch.setattr(publisher, "send_jobs", lambda jobs: batches.append(list(jobs)))
    monkeypatch.setitem(operations._breaker, "until", 0.0)
    return batches


def jobs():
    db.session.rollback()
    return db.session.scalars(select(OutboxJob).order_by(OutboxJob.id)).all()


def test_a_commit_publishes_its_own_jobs_once_marked_published_in_the_insert(sent, make_case):
    before = utcnow()
    make_case()
    assert len(sent) == 1  # one pipeline for the commit's route_case and receipt
    assert sorted(job.task for job in sent[0]) == ["route_case", "send_sms"]
    written = jobs()
    assert {job.id for job in written} == {job.id for job in sent[0]}
    assert all(job.published_at is not None and job.published_at >= before for job in written)
    assert relay.publish_pending(lambda job: pytest.fail("published twice")) == 0


def test_a_rolled_back_transaction_publishes_nothing(sent):
    operations.enqueue("route_case", {"case_id": 1}, "route_case:test")
    db.session.flush()
    db.session.rollback()
    db.session.commit()
    assert sent == []


def test_a_job_due_later_is_left_to_the_relay(sent):
    job = operations.enqueue("send_sms", {"dedupe_key": "later"}, "send_sms:later")
    job.available_at = utcnow() + timedelta(hours=8)  # quiet hours
    db.session.commit()
    assert sent == []
    assert jobs()[0].published_at is None


def test_a_failed_publish_leaves_the_jobs_to_the_relay_and_later_commits_too(app, sent, make_case, monkeypatch):
    def broker_down(jobs):
        raise ConnectionError("broker down")
    monkeypatch.setattr(publisher, "send_jobs", broker_down)
    woken = []
    monkeypatch.setattr(relay, "_wakeup", type("Event", (), {"set": lambda self: woken.append(1)})())
    make_case()
    assert all(job.published_at is None for job in jobs())  # released: the relay's next pass takes them
    assert woken
    assert not operations.publishes_on_commit()  # for a few seconds commits do not even try
    monkeypatch.setattr(publisher, "send_jobs", lambda jobs: sent.append(list(jobs)))
    make_case()
    assert sent == [] and all(job.published_at is None for job in jobs())
    monkeypatch.setitem(operations._breaker, "until", time.monotonic() - 1)
    make_case()
    assert len(sent) == 1


def test_jobs_of_a_queue_share_messages_in_one_pipeline(app, monkeypatch):
    calls = []

    class Producer:
        @contextmanager
        def batch(self, max_size):
            calls.append(("batch", max_size))
            yield

    class Client:
        @contextmanager
        def producer_or_acquire(self):
            yield Producer()

        def send_task(self, name, args, queue, retry, producer):
            calls.append((name, queue, args[0]))

    monkeypatch.setattr(publisher, "_client", lambda app=None: Client())
    routes = [relay.Job(i, "route_case") for i in range(1, 24)]
    publisher.send_jobs([*routes, relay.Job(100, "send_sms")])
    assert calls[0][0] == "batch"
    messages = calls[1:]
    assert [(name, queue) for name, queue, _ in messages] == [(publisher.RUN_JOBS, "routing")] * 3 + [
        (publisher.RUN_JOB, "sms")]
    assert [len(ids) for _, _, ids in messages[:3]] == [10, 10, 3]
    assert messages[3][2] == 100


def test_jobs_in_one_message_run_each_on_its_own(make_case, monkeypatch):
    for _ in range(3):
        make_case()
    routes = [job for job in jobs() if job.task == "route_case"]
    ids, failing = [job.id for job in routes], routes[1].payload["case_id"]
    real = relay.HANDLERS["route_case"]

    def second_fails(payload):
        if payload["case_id"] == failing:
            raise RuntimeError("this one fails")
        return real(payload)
    monkeypatch.setitem(relay.HANDLERS, "route_case", second_fails)
    assert relay.execute_jobs(ids) == 2
    by_id = {job.id: job for job in jobs()}
    assert [by_id[i].done_at is not None for i in ids] == [True, False, True]
    assert by_id[ids[1]].attempts == 1 and by_id[ids[1]].available_at > utcnow()  # retried later


def test_a_deferred_job_keeps_what_its_handler_wrote_and_runs_again_later(monkeypatch):
    until = utcnow() + timedelta(hours=1)

    def waits(payload):
        db.session.execute(text("UPDATE outbox_job SET last_error = 'waiting' WHERE id = :id"), {"id": payload["id"]})
        raise relay.Deferred(until)
    monkeypatch.setitem(relay.HANDLERS, "waits", waits)
    job = operations.enqueue("waits", {}, "waits:1")
    db.session.commit()
    job.payload = {"id": job.id}
    db.session.commit()
    assert relay.execute_job(job.id) == "deferred"
    [stored] = jobs()
    assert stored.last_error == "waiting"  # committed with the job's new time, in one transaction
    assert stored.done_at is None and stored.published_at is None and stored.available_at == until


def test_only_jobs_left_to_the_relay_wake_the_workers_relays_by_notify(app, sent, monkeypatch):
    import select as selectors
    if db.engine.dialect.name != "postgresql":
        pytest.skip("LISTEN/NOTIFY: the PostgreSQL pass")
    listener = relay._Listener()

    def notified(within: float) -> bool:
        ready, _, _ = selectors.select([listener.fileno()], [], [], within)
        return bool(ready) and listener.drain()
    try:
        operations.enqueue("route_case", {"case_id": 1}, "route_case:published")
        db.session.commit()
        assert len(sent) == 1 and not notified(0.5)  # published by the commit itself: nobody is woken
        monkeypatch.setitem(operations._breaker, "until", time.monotonic() + 60)  # as after a failed publish
        operations.enqueue("route_case", {"case_id": 2}, "route_case:left")
        db.session.flush()
        assert not notified(0.3)  # NOTIFY goes out with the commit, not before
        db.session.commit()
        assert notified(5.0)
    finally:
        listener.close()
