"""Replies pushed by the gateways to /sms/inbound/<backend>: TD, T or 退订 opts the number out at once."""
import pytest
from sqlalchemy import select

from hotline.alerts.models import Subscription
from hotline.extensions import db
from hotline.sms.models import SmsInbound, SmsMessage, SmsOptOut
from hotline.sms.policy import opt_out_scope as policy_scope
from hotline.sms.replies import opt_out_scope
from hotline.types import utcnow
from tests.sms.fake_gateway import FakeGateway

TOKEN = "receipt-token-2026"
PHONE = "13900001111"


@pytest.fixture(autouse=True)
def token(app, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_RECEIPT_TOKEN", TOKEN)


def push(client, backend, body, token=TOKEN):
    return client.post(f"/sms/inbound/{backend}?token={token}", json=body)


def opt_outs() -> list[SmsOptOut]:
    db.session.expire_all()
    return db.session.scalars(select(SmsOptOut)).all()


def subscriber(phone=PHONE) -> Subscription:
    subscription = Subscription(phone=phone, status="confirmed", channel="web", consent_at=utcnow())
    db.session.add(subscription)
    db.session.commit()
    return subscription


@pytest.mark.parametrize("text", ["TD", "td", "T", "退订", " ＴＤ ", "ｔ", "TD。", "退 订", "t d!"])
def test_td_t_and_退订_in_any_width_case_or_spacing_opt_out_of_alerts(text):
    assert opt_out_scope(text) == "marketing"


@pytest.mark.parametrize("text", ["TD全部", "退订全部", "ＴＤ全部", "全部退订"])
def test_td全部_and_退订全部_opt_out_of_everything(text):
    assert opt_out_scope(text) == "all"


@pytest.mark.parametrize("text", ["", "谢谢", "我没有要退订", "TDD", "TEST", "投诉进展如何"])
def test_other_replies_are_not_opt_outs(text):
    assert opt_out_scope(text) is None


def test_an_aliyun_td_reply_opts_the_number_out_at_once_and_ends_its_subscription(client):
    subscription = subscriber()
    queued_alert = SmsMessage(kind="alert", template_code="CONSUMER_ALERT", params={"text": "预付卡风险提示"},
                              to_phone=PHONE, dedupe_key="alert:1:1")
    db.session.add(queued_alert)
    db.session.commit()

    response = push(client, "aliyun", [FakeGateway.aliyun_reply(PHONE, "TD", 1001)])

    assert response.status_code == 200 and response.get_json() == {"code": 0, "msg": "成功"}
    [record] = opt_outs()
    assert (record.phone, record.scope, record.source) == (PHONE, "marketing", "reply")
    assert record.detail == "aliyun: TD" and record.opted_out_at is not None
    assert policy_scope(PHONE) == "marketing"  # what the sender checks before an alert or a survey
    assert db.session.get(Subscription, subscription.id).status == "unsubscribed"
    assert db.session.get(SmsMessage, queued_alert.id).status == "cancelled"  # not even one already queued
    [inbound] = db.session.scalars(select(SmsInbound)).all()
    assert (inbound.backend, inbound.gateway_id, inbound.phone, inbound.action) == ("aliyun", "1001", PHONE, "opt_out")


def test_the_same_reply_pushed_twice_is_kept_once(client):
    reply = FakeGateway.aliyun_reply(PHONE, "退订", 1001)
    push(client, "aliyun", [reply])
    push(client, "aliyun", [reply, reply])
    assert len(db.session.scalars(select(SmsInbound)).all()) == 1
    assert len(opt_outs()) == 1


def test_a_tencent_reply_is_normalised_kept_once_and_honoured(client):
    reply = FakeGateway.tencent_reply(PHONE, "ｔｄ")
    response = push(client, "tencent", reply)  # Tencent pushes one object, with no message id
    push(client, "tencent", reply)
    assert response.status_code == 200 and response.get_json() == {"result": 0, "errmsg": "OK"}
    [inbound] = db.session.scalars(select(SmsInbound)).all()
    assert (inbound.phone, inbound.text, inbound.action) == (PHONE, "ｔｄ", "opt_out")
    assert [o.phone for o in opt_outs()] == [PHONE]


def test_a_number_in_international_form_is_stored_as_the_project_stores_numbers(client):
    push(client, "aliyun", [FakeGateway.aliyun_reply("+86 139-0000-1111", "TD", 1001)])
    assert [o.phone for o in opt_outs()] == [PHONE]


def test_退订全部_widens_an_opt_out_and_a_later_td_does_not_narrow_it(client):
    push(client, "aliyun", [FakeGateway.aliyun_reply(PHONE, "TD", 1001)])
    push(client, "aliyun", [FakeGateway.aliyun_reply(PHONE, "退订全部", 1002)])
    push(client, "aliyun", [FakeGateway.aliyun_reply(PHONE, "T", 1003)])
    [record] = opt_outs()
    assert (record.scope, record.detail) == ("all", "aliyun: 退订全部")
    assert policy_scope(PHONE) == "all"  # case receipts and notices stop too


def test_any_other_reply_is_kept_and_opts_nobody_out(client):
    subscription = subscriber()
    push(client, "aliyun", [FakeGateway.aliyun_reply(PHONE, "请问我的投诉进展如何", 1001)])
    [inbound] = db.session.scalars(select(SmsInbound)).all()
    assert inbound.action == "none"
    assert opt_outs() == []
    assert db.session.get(Subscription, subscription.id).status == "confirmed"


def test_a_reply_push_without_the_token_is_refused(client):
    response = push(client, "aliyun", [FakeGateway.aliyun_reply(PHONE, "TD", 1001)], token="guess")
    assert response.status_code == 403
    assert opt_outs() == [] and db.session.scalars(select(SmsInbound)).all() == []


@pytest.mark.parametrize("backend,body", [("aliyun", [{"content": "TD"}]), ("tencent", {"text": "TD"}),
                                          ("aliyun", "TD")])
def test_a_reply_not_in_the_gateways_format_is_a_400(client, backend, body):
    assert push(client, backend, body).status_code == 400
    assert opt_outs() == []
