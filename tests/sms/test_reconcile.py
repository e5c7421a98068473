"""Reconciliation (hotline/sms/sending.py `reconcile`): a message left in `sending` is settled by asking
the gateway about its attempt's out-id, never by sending it again blindly."""
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from hotline.extensions import db
from hotline.outbox import relay
from hotline.outbox.models import OutboxJob
from hotline.sms import sending
from hotline.sms.gateways import DeliveryStatus, GatewayError, register_gateway
from hotline.sms.models import SmsMessage
from tests.sms.recording_gateway import RecordingGateway


class WorkerKilled(BaseException):
    """Stands in for kill -9 right after the gateway accepted: nothing after it runs (not even `except Exception`)."""


@pytest.fixture
def fake(app, monkeypatch):
    gateway = register_gateway(app, RecordingGateway())
    monkeypatch.setitem(app.config, "SMS_BACKEND", "fake")
    yield gateway
    app.extensions["sms_gateways"].pop("fake", None)


def later(seconds: int = 61) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


def job_of(message: SmsMessage) -> OutboxJob:
    return db.session.scalar(select(OutboxJob).where(OutboxJob.dedupe_key == f"send_sms:{message.dedupe_key}"))


def crashed_after_send(fake, make_case) -> SmsMessage:
    """A receipt whose worker died after the gateway took it, before `sent` was committed."""
    case = make_case().case
    accept = fake.send

    def send_then_die(*args):
        accept(*args)
        raise WorkerKilled
    fake.send = send_then_die
    with pytest.raises(WorkerKilled):
        relay.execute_job(db.session.scalar(select(OutboxJob.id).where(
            OutboxJob.dedupe_key == f"send_sms:receipt:{case.number}")))
    fake.send = accept
    db.session.rollback()
    return db.session.scalar(select(SmsMessage).where(SmsMessage.dedupe_key == f"receipt:{case.number}"))


def test_a_message_the_gateway_took_before_the_crash_is_marked_sent_and_not_resent(fake, make_case):
    stuck = crashed_after_send(fake, make_case)
    assert stuck.status == "sending" and len(fake.sends) == 1
    # The job's message comes back (redelivered): the job was marked done with the claim (one commit,
    # hotline/outbox/relay.py), so it is skipped and sends nothing; the reconciliation settles the message.
    assert relay.execute_job(job_of(stuck).id) == "skipped"
    assert sending.reconcile().checked == 0  # too young: its worker may still be waiting on the gateway
    result = sending.reconcile(later())
    assert (result.checked, result.sent, result.requeued) == (1, 1, 0)
    db.session.rollback()
    settled = db.session.get(SmsMessage, stuck.id)
    assert (settled.status, settled.gateway_id) == ("sent", fake.sends[0]["gateway_id"])
    assert settled.sent_at == stuck.sending_at
    assert settled.params["code"] == "******"
    assert sending.reconcile(later()).checked == 0
    relay.run_pending()
    assert len(fake.sends) == 1 and fake.calls == 1


def test_an_attempt_the_gateway_never_got_is_sent_again_with_a_new_attempt_id(fake, make_case):
    case = make_case().case
    key = f"receipt:{case.number}"
    fake.failures = [WorkerKilled()]  # died on the way: the gateway has no record of the attempt
    with pytest.raises(WorkerKilled):
        relay.execute_job(db.session.scalar(select(OutboxJob.id).where(OutboxJob.dedupe_key == f"send_sms:{key}")))
    db.session.rollback()
    stuck = db.session.scalar(select(SmsMessage).where(SmsMessage.dedupe_key == key))
    first_attempt = stuck.attempt_id
    relay.execute_job(job_of(stuck).id)  # the redelivered job: in flight, left alone (marks the job done)
    assert job_of(stuck).done_at is not None
    result = sending.reconcile(later())
    assert result.requeued == 1
    db.session.rollback()
    assert db.session.get(SmsMessage, stuck.id).status == "queued" and job_of(stuck).done_at is None
    relay.run_pending()
    db.session.rollback()
    sent = db.session.get(SmsMessage, stuck.id)
    assert (sent.status, sent.attempts) == ("sent", 2) and sent.attempt_id != first_attempt
    assert [s["out_id"] for s in fake.sends] == [sent.attempt_id]


def test_delivered_and_failed_answers_are_recorded(fake, make_case):
    delivered, failed = crashed_after_send(fake, make_case), crashed_after_send(fake, make_case)
    at = datetime(2026, 11, 25, 2, 3, tzinfo=UTC)
    fake.states[delivered.attempt_id] = DeliveryStatus("delivered", "gw-1", at)
    fake.states[failed.attempt_id] = DeliveryStatus("failed", "gw-2", None, "MK:0001")
    result = sending.reconcile(later())
    assert (result.delivered, result.failed) == (1, 1)
    db.session.rollback()
    d, f = db.session.get(SmsMessage, delivered.id), db.session.get(SmsMessage, failed.id)
    assert (d.status, d.delivered_at, d.gateway_id) == ("delivered", at, "gw-1")
    assert (f.status, f.error_code) == ("failed", "MK:0001")


def test_when_the_gateway_cannot_be_asked_the_message_waits_for_the_next_pass(fake, make_case):
    stuck = crashed_after_send(fake, make_case)
    fake.query = lambda *args: (_ for _ in ()).throw(GatewayError("NETWORK", "down", temporary=True))
    assert sending.reconcile(later()).unanswered == 1
    db.session.rollback()
    assert db.session.get(SmsMessage, stuck.id).status == "sending"
    del fake.query
    assert sending.reconcile(later()).sent == 1


def test_a_worker_answering_late_does_not_undo_what_reconciliation_settled(fake, make_case):
    stuck = crashed_after_send(fake, make_case)
    fake.states[stuck.attempt_id] = DeliveryStatus("delivered", "gw-1", datetime.now(UTC))
    sending.reconcile(later())
    # The "dead" worker was only slow: it now reports the gateway's answer for the same attempt.
    sending.deliver(stuck.id, stuck.attempt_id, fake, stuck.to_phone, stuck.template_code, {})
    db.session.rollback()
    assert db.session.get(SmsMessage, stuck.id).status == "delivered"


def test_the_command_line_reconciles(app, fake, make_case, monkeypatch):
    crashed_after_send(fake, make_case)
    monkeypatch.setitem(app.config, "SMS_RECONCILE_AFTER", 0)
    result = app.test_cli_runner().invoke(args=["sms", "reconcile"])
    assert result.exit_code == 0, result.output
    assert "checked 1" in result.output and "sent 1" in result.output


def test_through_aliyun_a_lost_answer_is_settled_by_query_send_details(app, monkeypatch, make_case):
    """The fake gateway records the SendSms and drops the connection: the SDK never hears back."""
    from tests.sms.fake_gateway import FakeGateway
    from tests.sms.recording_gateway import use_aliyun
    gateway = FakeGateway().start()
    try:
        use_aliyun(app, monkeypatch, gateway.endpoint)
        case = make_case().case
        gateway.fail_next("DROP")
        relay.run_pending()
        db.session.rollback()
        stuck = db.session.scalar(select(SmsMessage).where(SmsMessage.dedupe_key == f"receipt:{case.number}"))
        assert stuck.status == "sending"
        relay.run_pending()
        assert sending.reconcile(later()).sent == 1
        db.session.rollback()
        settled = db.session.get(SmsMessage, stuck.id)
        [sent] = gateway.sends_for(phone="13900001111")
        assert (settled.status, sent.out_id) == ("sent", stuck.attempt_id)  # QuerySendDetails has no BizId
    finally:
        gateway.stop()


def test_a_gateway_that_learns_late_is_asked_again_before_unknown_counts(fake, make_case, monkeypatch):
    """Tencent knows a message only from the carrier's report: its early "unknown" must not resend."""
    case = make_case().case
    key = f"receipt:{case.number}"
    fake.failures = [WorkerKilled()]
    with pytest.raises(WorkerKilled):
        relay.execute_job(db.session.scalar(select(OutboxJob.id).where(OutboxJob.dedupe_key == f"send_sms:{key}")))
    db.session.rollback()
    stuck = db.session.scalar(select(SmsMessage).where(SmsMessage.dedupe_key == key))
    monkeypatch.setattr(fake, "unknown_settles_after", 600, raising=False)
    result = sending.reconcile(later(61))
    assert (result.unanswered, result.requeued) == (1, 0)
    db.session.rollback()
    assert db.session.get(SmsMessage, stuck.id).status == "sending"
    assert sending.reconcile(later(601)).requeued == 1
