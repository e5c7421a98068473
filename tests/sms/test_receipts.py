"""Delivery receipts pushed by the gateways to /sms/receipts/<backend>: statuses move forward only."""
from datetime import UTC, datetime

import pytest

from hotline.extensions import db
from hotline.sms.gateways.aliyun import AliyunGateway
from hotline.sms.gateways.settings import GatewaySettings, Template
from hotline.sms.gateways.tencent import TencentGateway
from hotline.sms.models import SmsMessage
from hotline.types import utcnow
from tests.sms.fake_gateway import FakeGateway

TOKEN = "receipt-token-2026"
PHONE = "13900001111"
PARAMS = {"kind": "投诉", "number": "20261125000421", "code": "K7M2QX"}


@pytest.fixture(autouse=True)
def token(app, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_RECEIPT_TOKEN", TOKEN)


@pytest.fixture
def fake():
    fake = FakeGateway().start()
    yield fake
    fake.stop()


def settings(fake):
    return GatewaySettings(key_id="key", key_secret="secret", sign_name="鞍山12315", app_id="1400000001",
                           templates={"CASE_RECEIPT": Template("SMS_480000001")}, endpoint=fake.endpoint, timeout=3)


def sent_message(fake, backend="aliyun", attempt="1-1", status="sent") -> SmsMessage:
    """A message the send path handed to the gateway (through the real SDK) and recorded."""
    gateway = (AliyunGateway if backend == "aliyun" else TencentGateway)(settings(fake))
    result = gateway.send(PHONE, "CASE_RECEIPT", PARAMS, attempt)
    message = SmsMessage(kind="receipt", template_code="CASE_RECEIPT", params=PARAMS, to_phone=PHONE,
                         dedupe_key=f"receipt:{attempt}", status=status, backend=backend, attempt_id=attempt,
                         attempts=1, gateway_id=result.gateway_id if status != "sending" else None,
                         sending_at=utcnow(), sent_at=utcnow() if status != "sending" else None)
    db.session.add(message)
    db.session.commit()
    return message


def push(client, backend, items, token=TOKEN):
    url = f"/sms/receipts/{backend}" + (f"?token={token}" if token else "")
    return client.post(url, json=items)


def reload(message) -> SmsMessage:
    db.session.expire_all()
    return db.session.get(SmsMessage, message.id)


def test_an_aliyun_receipt_marks_the_message_delivered_at_the_reported_time(client, fake):
    message = sent_message(fake)
    item = fake.aliyun_receipt("1-1") | {"report_time": "2026-11-25 10:03:04"}

    response = push(client, "aliyun", [item])

    assert response.status_code == 200 and response.get_json() == {"code": 0, "msg": "成功"}
    message = reload(message)
    assert message.status == "delivered"
    assert message.delivered_at == datetime(2026, 11, 25, 2, 3, 4, tzinfo=UTC)  # 10:03:04 Beijing time


def test_a_failed_aliyun_receipt_stores_the_error_code(client, fake):
    message = sent_message(fake)
    push(client, "aliyun", [fake.aliyun_receipt("1-1", ok=False, error_code="MK:0005")])
    message = reload(message)
    assert (message.status, message.error_code, message.delivered_at) == ("failed", "MK:0005", None)


def test_a_duplicate_receipt_changes_nothing(client, fake):
    message = sent_message(fake)
    first = fake.aliyun_receipt("1-1") | {"report_time": "2026-11-25 10:03:04"}
    push(client, "aliyun", [first])
    again = push(client, "aliyun", [first | {"report_time": "2026-11-25 11:00:00"}])
    assert again.get_json() == {"code": 0, "msg": "成功"}  # acknowledged, so the gateway stops pushing
    assert reload(message).delivered_at == datetime(2026, 11, 25, 2, 3, 4, tzinfo=UTC)


def test_a_failure_reported_after_delivery_does_not_undo_it(client, fake):
    message = sent_message(fake)
    push(client, "aliyun", [fake.aliyun_receipt("1-1"), fake.aliyun_receipt("1-1", ok=False)])
    message = reload(message)
    assert (message.status, message.error_code) == ("delivered", None)


def test_a_receipt_that_beats_the_senders_commit_still_counts(client, fake):
    message = sent_message(fake, status="sending")  # the worker has not yet committed `sent`
    push(client, "aliyun", [fake.aliyun_receipt("1-1")])
    message = reload(message)
    assert message.status == "delivered" and message.sent_at is not None
    assert message.gateway_id == fake.sends_for("1-1")[0].gateway_id


def test_a_late_receipt_for_an_earlier_attempt_does_not_touch_the_current_one(client, fake):
    message = sent_message(fake, attempt="1-1")
    old_receipt = fake.aliyun_receipt("1-1", ok=False)
    message.attempt_id, message.status, message.gateway_id = "1-2", "sending", None  # retried since
    db.session.commit()

    response = push(client, "aliyun", [old_receipt])

    assert response.get_json() == {"code": 0, "msg": "成功"}
    message = reload(message)
    assert (message.status, message.error_code) == ("sending", None)


def test_a_cancelled_message_stays_cancelled(client, fake):
    message = sent_message(fake)
    message.status = "cancelled"
    db.session.commit()
    push(client, "aliyun", [fake.aliyun_receipt("1-1")])
    assert reload(message).status == "cancelled"


def test_a_tencent_receipt_is_matched_by_serial_number(client, fake):
    message = sent_message(fake, backend="tencent")
    response = push(client, "tencent", [fake.tencent_receipt("1-1") | {"user_receive_time": "2026-11-25 10:03:04"}])
    assert response.status_code == 200 and response.get_json() == {"result": 0, "errmsg": "OK"}
    message = reload(message)
    assert message.status == "delivered"
    assert message.delivered_at == datetime(2026, 11, 25, 2, 3, 4, tzinfo=UTC)


def test_tencent_receipts_out_of_order_and_duplicated_end_delivered(client, fake):
    message = sent_message(fake, backend="tencent")
    fail, ok = fake.tencent_receipt("1-1", ok=False, error_code="MK:0001"), fake.tencent_receipt("1-1")
    for items in ([fail], [ok], [fail], [ok, ok]):
        assert push(client, "tencent", items).status_code == 200
    message = reload(message)
    assert (message.status, message.error_code) == ("delivered", None)


def test_a_receipt_for_another_gateways_message_is_ignored(client, fake):
    message = sent_message(fake, backend="aliyun")
    push(client, "tencent", [{"user_receive_time": "2026-11-25 10:03:04", "nationcode": "86", "mobile": PHONE,
                              "report_status": "FAIL", "errmsg": "MK:1", "description": "", "sid": message.gateway_id}])
    assert reload(message).status == "sent"


@pytest.mark.parametrize("token", [None, "wrong", TOKEN.upper()])
def test_a_push_without_the_token_is_refused_and_changes_nothing(client, fake, token):
    message = sent_message(fake)
    response = push(client, "aliyun", [fake.aliyun_receipt("1-1")], token=token)
    assert response.status_code == 403
    assert reload(message).status == "sent"


def test_the_token_may_come_in_a_header(client, fake):
    message = sent_message(fake)
    client.post("/sms/receipts/aliyun", json=[fake.aliyun_receipt("1-1")], headers={"X-Hotline-Token": TOKEN})
    assert reload(message).status == "delivered"


def test_with_no_token_configured_every_push_is_refused(app, client, fake, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_RECEIPT_TOKEN", None)
    assert push(client, "aliyun", [], token="").status_code == 403


@pytest.mark.parametrize("body", ["not json", [], [1, 2], {"report_status": "MAYBE", "sid": "x"}])
def test_a_body_not_in_the_gateways_format_is_a_400_not_a_500(client, body):
    backend = "tencent" if isinstance(body, dict) else "aliyun"
    if isinstance(body, str):
        response = client.post(f"/sms/receipts/{backend}?token={TOKEN}", data=body, content_type="application/json")
    else:
        response = push(client, backend, body)
    assert response.status_code == 400


def test_an_unknown_backend_is_a_404(client):
    assert push(client, "sendgrid", []).status_code == 404
