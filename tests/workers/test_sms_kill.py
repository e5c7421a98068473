"""kill -9 between the gateway call and the commit (issue 9): a real Celery worker on its own
redis-server sends a receipt through a gateway that records the send and then sleeps; the worker is
killed while it sleeps. The message stays `sending`; the job redelivered to a second worker sends
nothing; the reconciliation asks the gateway, finds the message sent, and does not send it again."""
import os
import signal
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from hotline.extensions import db
from hotline.outbox import relay
from hotline.outbox.models import OutboxJob
from hotline.outbox.publisher import send_job
from hotline.sms import sending
from hotline.sms.gateways import register_gateway
from hotline.sms.models import SmsMessage
from hotline.types import utcnow
from tests.sms.recording_gateway import FileGateway
from tests.workers.conftest import tail

pytestmark = pytest.mark.worker


def wait_for(predicate, timeout: float, what: str, worker=None):
    deadline = time.monotonic() + timeout
    while not predicate():
        if worker is not None and worker.poll() is not None:
            pytest.fail(f"the worker died before {what}:\n{tail(worker.log_path)}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} after {timeout:.0f} s" + (f":\n{tail(worker.log_path)}" if worker else ""))
        time.sleep(0.1)


def test_kill_9_after_the_gateway_took_the_receipt_it_is_reconciled_not_resent(
        pg_app, broker, start_worker, make_case, monkeypatch, tmp_path):
    started = time.monotonic()
    record = tmp_path / "gateway.jsonl"
    gateway = FileGateway(path=str(record))
    monkeypatch.setenv("HOTLINE_SMS_BACKEND", "tests.sms.recording_gateway:FileGateway")
    monkeypatch.setenv("HOTLINE_TEST_SMS_RECORD", str(record))
    monkeypatch.setenv("HOTLINE_TEST_SMS_SLEEP", "60")  # accepted, then the worker "hangs" before its commit
    register_gateway(pg_app, gateway)  # this process asks the same gateway when reconciling
    number = make_case().case.number
    key = f"receipt:{number}"
    relay.publish_pending(send_job)

    first = start_worker(broker.url, "sms-first")
    wait_for(lambda: gateway.sends(), 30, "send at the gateway", first)
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    db.session.rollback()
    stuck = db.session.scalar(select(SmsMessage).where(SmsMessage.dedupe_key == key))
    print(f"  kill -9 {time.monotonic() - started:.1f} s in; message {stuck.status}, attempt {stuck.attempt_id}")
    assert stuck.status == "sending" and gateway.sends()[0]["out_id"] == stuck.attempt_id

    # The dead worker's job is published again (after REPUBLISH_AFTER, shortened here) to a second worker.
    monkeypatch.setenv("HOTLINE_TEST_SMS_SLEEP", "0")
    monkeypatch.setattr(relay, "REPUBLISH_AFTER", timedelta(seconds=1))
    second = start_worker(broker.url, "sms-second")
    job_key = f"send_sms:{key}"

    def job_done() -> bool:
        db.session.rollback()
        if db.session.scalar(select(OutboxJob.done_at).where(OutboxJob.dedupe_key == job_key)) is not None:
            return True
        relay.publish_pending(send_job)
        return False
    wait_for(job_done, 30, "second run of the send job", second)
    db.session.rollback()
    assert db.session.get(SmsMessage, stuck.id).status == "sending"  # in flight: the job left it alone
    assert len(gateway.sends()) == 1

    result = sending.reconcile(utcnow() + timedelta(seconds=pg_app.config["SMS_RECONCILE_AFTER"] + 1))
    print(f"  reconciled: {result}; {time.monotonic() - started:.1f} s in")
    assert (result.sent, result.requeued) == (1, 0)
    db.session.rollback()
    settled = db.session.get(SmsMessage, stuck.id)
    assert (settled.status, settled.attempts, settled.gateway_id) == ("sent", 1, f"file-{stuck.attempt_id}")
    assert settled.params["code"] == "******"
    time.sleep(1)  # anything the second worker might still do
    assert len(gateway.sends()) == 1, "the receipt went out twice"
    pg_app.extensions["sms_gateways"].pop("file", None)
