"""The send path (hotline/sms/sending.py): queued → sending (committed before the gateway is called,
with the attempt id as the out-id) → sent or failed; at most once whatever runs twice or fails."""
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from hotline.extensions import db
from hotline.outbox import relay
from hotline.outbox.models import OutboxJob
from hotline.sms import sending
from hotline.sms.gateways import GatewayError, register_gateway
from hotline.sms.gateways import log as log_gateway
from hotline.sms.models import SmsMessage, SmsOptOut
from hotline.sms.operations import queue_message

PHONE = "13900001111"


def today_at(hour: int, minute: int = 0, days: int = 0) -> datetime:
    tz = ZoneInfo("Asia/Shanghai")
    day = datetime.now(tz).date() + timedelta(days=days)
    return datetime.combine(day, time(hour, minute), tzinfo=tz).astimezone(UTC)


@pytest.fixture
def fake(app, monkeypatch):
    from tests.sms.recording_gateway import RecordingGateway
    gateway = register_gateway(app, RecordingGateway())
    monkeypatch.setitem(app.config, "SMS_BACKEND", "fake")
    yield gateway
    app.extensions["sms_gateways"].pop("fake", None)


@pytest.fixture
def clock(monkeypatch):
    """The send path's clock, set to a time of day (Beijing) so quiet hours do not depend on when tests run."""
    def set_to(at: datetime):
        monkeypatch.setattr(sending, "utcnow", lambda: at)
        return at
    set_to(today_at(10))
    return set_to


def job(dedupe_key: str) -> OutboxJob:
    db.session.rollback()
    return db.session.scalar(select(OutboxJob).where(OutboxJob.dedupe_key == f"send_sms:{dedupe_key}"))


def message(dedupe_key: str) -> SmsMessage:
    db.session.rollback()
    return db.session.scalar(select(SmsMessage).where(SmsMessage.dedupe_key == dedupe_key))


def run(dedupe_key: str) -> str:
    return relay.execute_job(job(dedupe_key).id)


def receipt_key(make_case) -> str:
    return f"receipt:{make_case().case.number}"


def alert(n: int = 1, phone: str = PHONE) -> str:
    key = f"alert:test{n}:{phone}"
    queue_message(kind="alert", template_code="CONSUMER_ALERT", params={"text": "预付卡消费请谨慎。"}, to_phone=phone,
                  dedupe_key=key)
    db.session.commit()
    return key


# -- at most once -------------------------------------------------------------------------------------

def test_the_log_backend_sends_a_receipt_once_even_when_the_job_runs_twice(make_case, monkeypatch):
    lines = []
    monkeypatch.setattr(log_gateway.log, "info", lambda *args: lines.append(args))
    key = receipt_key(make_case)
    assert run(key) == "done"
    sent = message(key)
    assert (sent.status, sent.backend, sent.attempts) == ("sent", "log", 1)
    assert sent.attempt_id and sent.gateway_id == f"log-{sent.attempt_id}" and sent.sent_at is not None
    assert sent.params["code"] == "******"  # decision 4: the query code is not kept once sent
    assert "138" not in str(lines) and "1111" in str(lines[0])  # the masked number only
    job(key).done_at = None  # the done mark lost: the job runs again
    db.session.commit()
    assert run(key) == "done"
    assert len(lines) == 1 and message(key).attempts == 1


def test_sending_is_committed_before_the_gateway_is_called_with_the_attempt_id_as_out_id(fake, make_case):
    key = receipt_key(make_case)
    seen = []

    def look(phone, out_id):  # what another connection (a reconciliation, a second worker) sees right now
        with db.engine.connect() as other:
            seen.append(other.execute(text("SELECT status, attempt_id, attempts, backend FROM sms_message "
                                           "WHERE dedupe_key = :k"), {"k": key}).one())
    fake.on_send = look
    run(key)
    [(status, attempt_id, attempts, backend)] = seen
    assert (status, attempts, backend) == ("sending", 1, "fake")
    assert attempt_id == fake.sends[0]["out_id"] == message(key).attempt_id
    params = fake.sends[0]["params"]
    assert params == {"kind": "投诉", "number": key.split(":")[1], "code": params["code"]}
    assert len(params["code"]) == 6  # the real code leaves; only the stored copy is blanked


def test_two_runs_of_the_job_send_once(fake, make_case):
    key = receipt_key(make_case)
    assert sending.send_queued(key) == "sent"
    assert sending.send_queued(key) == "sent"  # a no-op: the message is no longer queued
    assert run(key) == "done"
    assert fake.calls == 1 and len(fake.sends) == 1


def test_a_message_in_flight_is_not_sent_by_a_second_run(fake, make_case):
    """A second delivery of the job while the first waits on the gateway: it finds `sending` and leaves it."""
    key = receipt_key(make_case)
    results = []
    fake.on_send = lambda phone, out_id: results.append(sending.send_queued(key))
    sending.send_queued(key)
    assert results == ["sending"] and fake.calls == 1


def test_a_temporary_failure_is_retried_with_backoff_and_the_message_goes_once(fake, make_case):
    key = receipt_key(make_case)
    fake.failures = [GatewayError("Throttling.User", "too fast", temporary=True)]
    with pytest.raises(GatewayError):
        run(key)
    waiting = message(key)
    assert (waiting.status, waiting.error_code, waiting.attempts) == ("queued", "Throttling.User", 1)
    assert waiting.params["code"] != "******"  # still to be sent
    retry = job(key)
    assert retry.done_at is None and retry.attempts == 1 and retry.available_at > datetime.now(UTC)
    assert run(key) == "done"
    sent = message(key)
    assert (sent.status, sent.attempts, sent.error_code) == ("sent", 2, None)
    assert len(fake.sends) == 1 and fake.calls == 2
    assert sent.attempt_id == fake.sends[0]["out_id"] and sent.gateway_id == fake.sends[0]["gateway_id"]


def test_a_permanent_failure_fails_at_once_with_the_gateways_code(fake, make_case):
    key = receipt_key(make_case)
    fake.failures = [GatewayError("isv.MOBILE_NUMBER_ILLEGAL", "bad number")]
    assert run(key) == "done"  # nothing to retry
    failed = message(key)
    assert (failed.status, failed.error_code) == ("failed", "isv.MOBILE_NUMBER_ILLEGAL")
    assert "bad number" in failed.error and failed.params["code"] == "******"
    assert run(key) == "skipped" and fake.calls == 1


def test_temporary_failures_give_up_after_the_configured_attempts(app, fake, make_case, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_MAX_ATTEMPTS", 2)
    key = receipt_key(make_case)
    fake.failures = [GatewayError("isp.SYSTEM_ERROR", temporary=True)] * 2
    with pytest.raises(GatewayError):
        run(key)
    assert run(key) == "done"
    assert (message(key).status, message(key).error_code, message(key).attempts) == ("failed", "isp.SYSTEM_ERROR", 2)


def test_no_answer_from_the_gateway_leaves_the_attempt_for_the_reconciliation(fake, make_case):
    """A lost answer may hide an accepted message: never retried blindly (hotline/sms/sending.py UNCERTAIN)."""
    key = receipt_key(make_case)
    fake.failures = [GatewayError("NETWORK", "read timed out", temporary=True)]
    with pytest.raises(GatewayError):
        run(key)
    assert message(key).status == "sending"
    assert run(key) == "done"  # the retried job finds it in flight and sends nothing
    assert fake.calls == 1 and message(key).status == "sending"


# -- policy at send time ----------------------------------------------------------------------------------

def test_an_alert_reaching_the_worker_after_21_00_waits_for_08_00(fake, clock):
    key = alert()
    clock(today_at(21, 0) + timedelta(seconds=1))
    assert run(key) == "deferred"
    waiting, retry = message(key), job(key)
    assert waiting.status == "queued" and waiting.not_before == today_at(8, days=1)
    assert retry.done_at is None and retry.available_at == today_at(8, days=1) and retry.attempts == 0
    assert fake.calls == 0
    clock(today_at(8, days=1))
    assert run(key) == "done" and len(fake.sends) == 1


def test_a_receipt_goes_at_night(fake, clock, make_case):
    clock(today_at(23, 30))
    key = receipt_key(make_case)
    run(key)
    assert message(key).status == "sent"


def test_opted_out_numbers_get_no_alert_and_the_reason_is_kept(fake, clock):
    db.session.add(SmsOptOut(phone=PHONE, scope="marketing", source="reply", detail="TD"))
    db.session.commit()
    key = alert()
    assert run(key) == "done"
    refused = message(key)
    assert (refused.status, refused.error_code) == ("cancelled", "opted_out") and "opted out" in refused.error
    assert fake.calls == 0


def test_an_opt_out_of_alerts_still_gets_the_case_receipt_but_an_opt_out_of_all_does_not(fake, make_case):
    db.session.add(SmsOptOut(phone=PHONE, scope="marketing", source="reply"))
    db.session.commit()
    key = receipt_key(make_case)
    run(key)
    assert message(key).status == "sent"
    db.session.execute(SmsOptOut.__table__.update().values(scope="all"))
    db.session.commit()
    other = receipt_key(make_case)
    run(other)
    assert (message(other).status, message(other).error_code) == ("cancelled", "opted_out")
    assert message(other).params["code"] == "******" and len(fake.sends) == 1


def test_the_daily_cap_stops_the_fourth_alert_of_the_day(fake, clock):
    keys = [alert(n) for n in range(1, 5)]
    for key in keys:
        run(key)
    assert [message(k).status for k in keys] == ["sent", "sent", "sent", "cancelled"]
    assert message(keys[3]).error_code == "daily_cap" and len(fake.sends) == 3
    clock(today_at(10, days=1))  # a new day
    fifth = alert(5)
    run(fifth)
    assert message(fifth).status == "sent"


def test_case_notices_do_not_count_against_the_cap(fake, clock, make_case):
    for _ in range(3):
        run(receipt_key(make_case))
    key = alert()
    run(key)
    assert message(key).status == "sent"


# -- what the workflow sends ----------------------------------------------------------------------------

def test_closure_sms_names_the_outcome_in_words(client, make_case, make_user, token_for):
    from hotline.sms.templates import TEMPLATES
    headers = token_for(make_user("bureau", bureau="tiexi"))
    case = make_case().case
    relay.run_pending()
    for body in ({"action": "accept"}, {"action": "settle", "recovered_amount": "80.00"}):
        assert client.post(f"/api/v1/cases/{case.number}/actions", json=body, headers=headers).status_code == 200
    closure = db.session.scalar(select(SmsMessage).where(SmsMessage.case_id == case.id, SmsMessage.kind == "closure"))
    assert TEMPLATES[closure.template_code].format(**closure.params) == (
        f"【12315】您的投诉（编号{case.number}）已办结，办理结果：调解成功。可凭编号和查询码查看详情。")


def test_every_template_the_workflow_uses_is_registered_with_an_approval_note():
    from hotline.sms.templates import registry
    templates = registry().templates
    for code in ("CASE_RECEIPT", "CASE_ACCEPTED", "COMPLAINT_DECLINED", "REPORT_DECLINED", "CASE_TRANSFERRED",
                 "CASE_CLOSED", "RATING_INVITATION", "HANDLER_REMINDER", "CONSUMER_ALERT"):
        assert templates[code].approval, code
    assert "退订" in templates["CONSUMER_ALERT"].text and "退订" in templates["RATING_INVITATION"].text
    assert registry().signature_note


def test_the_sweep_reminds_an_opted_in_handler_by_sms_once_per_clock(fake, clock, make_case, make_user):
    from hotline.deadlines.models import CaseClock
    from hotline.deadlines.sweep import sweep
    handler = make_user("bureau", bureau="tiexi")
    handler.mobile, handler.sms_reminders = "13700007777", True
    silent = make_user("bureau", bureau="tiexi")
    silent.mobile = "13700008888"  # a number, but no opt-in
    mine, theirs = make_case().case, make_case().case
    mine.assignee_id, theirs.assignee_id = handler.id, silent.id
    db.session.execute(CaseClock.__table__.update().values(due_at=datetime.now(UTC) + timedelta(hours=20)))
    db.session.commit()
    sweep()
    sweep()
    reminders = db.session.scalars(select(SmsMessage).where(SmsMessage.kind == "reminder")).all()
    assert [(m.to_phone, m.case_id) for m in reminders] == [("13700007777", mine.id)]
    assert reminders[0].template_code == "HANDLER_REMINDER" and reminders[0].params["number"] == mine.number
    assert reminders[0].params["clock"] == "投诉受理决定"
    run(reminders[0].dedupe_key)
    assert message(reminders[0].dedupe_key).status == "sent"


# -- the case page -------------------------------------------------------------------------------------

def test_the_case_page_shows_each_message_with_its_status_and_delivery_time(client, login, make_case, make_user):
    key = receipt_key(make_case)
    run(key)
    sent = message(key)
    sent.status, sent.delivered_at = "delivered", datetime(2026, 11, 25, 2, 3, tzinfo=UTC)
    db.session.commit()
    login(client, make_user("supervisor"))
    page = client.get(f"/cases/{key.split(':')[1]}").get_data(as_text=True)
    card = page[page.index("<h2>短信</h2>") if "<h2>短信</h2>" in page else page.index("Messages"):]
    assert "139****1111" in card and "已送达" in card and "2026-11-25 10:03" in card
    assert "13900001111" not in page


# -- through the real Aliyun SDK, against the local fake gateway ---------------------------------------

@pytest.fixture
def aliyun(app, monkeypatch):
    from tests.sms.fake_gateway import FakeGateway
    from tests.sms.recording_gateway import use_aliyun
    fake = FakeGateway().start()
    use_aliyun(app, monkeypatch, fake.endpoint)
    yield fake
    fake.stop()


def test_receipt_decision_and_closure_go_once_each_through_aliyun_despite_a_retry_and_a_throttle(
        aliyun, client, make_case, make_user, token_for):
    headers = token_for(make_user("bureau", bureau="tiexi"))
    case = make_case().case
    relay.run_pending()  # routing and the receipt
    aliyun.fail_next("Throttling.User")  # the decision's first try is throttled: temporary
    for body in ({"action": "accept"}, {"action": "settle", "recovered_amount": "80.00"}):
        assert client.post(f"/api/v1/cases/{case.number}/actions", json=body, headers=headers).status_code == 200
        relay.run_pending()
    for _ in range(2):  # the throttled job is due again after its backoff; and every job runs once more
        db.session.execute(OutboxJob.__table__.update().values(available_at=datetime.now(UTC) - timedelta(seconds=1),
                                                                done_at=None))
        db.session.commit()
        relay.run_pending()
    messages = db.session.scalars(select(SmsMessage).where(SmsMessage.case_id == case.id).order_by(SmsMessage.id)).all()
    assert [(m.kind, m.status, m.backend) for m in messages] == [
        ("receipt", "sent", "aliyun"), ("decision", "sent", "aliyun"), ("closure", "sent", "aliyun")]
    assert [m.attempts for m in messages] == [1, 2, 1]
    sends = {s.out_id: s for s in aliyun.sends_for(phone=PHONE)}  # the throttled decision went after the closure
    assert len(sends) == 3 and set(sends) == {m.attempt_id for m in messages}
    assert [sends[m.attempt_id].template for m in messages] == ["SMS_480000001", "SMS_480000002", "SMS_480000004"]
    assert [sends[m.attempt_id].gateway_id for m in messages] == [m.gateway_id for m in messages]
    assert sends[messages[2].attempt_id].params == {"kind": "投诉", "number": case.number, "outcome": "调解成功"}


def test_a_permanent_aliyun_error_is_stored_on_the_message(aliyun, make_case):
    key = receipt_key(make_case)
    aliyun.fail_next("isv.MOBILE_NUMBER_ILLEGAL")
    run(key)
    failed = message(key)
    assert (failed.status, failed.error_code) == ("failed", "isv.MOBILE_NUMBER_ILLEGAL")
    assert aliyun.sends_for(phone=PHONE) == []
