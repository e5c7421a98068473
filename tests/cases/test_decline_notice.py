"""Declining tells the consumer the reason and the other routes of Consumer Rights Protection Law
art. 39 (Order 121 art. 15): in the SMS, and on the decline event the consumer's look-up reads."""
import pytest
from sqlalchemy import select

from hotline.cases.models import CaseEvent
from hotline.extensions import db
from hotline.outbox.relay import run_pending
from hotline.sms.models import SmsMessage
from hotline.sms.operations import TEMPLATES


@pytest.fixture
def decline(client, make_case, make_user, token_for):
    headers = token_for(make_user("bureau", bureau="tiexi"))

    def do(reason: str, **over):
        case = make_case(**over).case
        run_pending()
        response = client.post(f"/api/v1/cases/{case.number}/actions", json={"action": "decline", "reason": reason},
                               headers=headers)
        assert response.status_code == 200, response.get_json()
        event = db.session.scalar(select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.action == "decline"))
        sms = db.session.scalar(select(SmsMessage).where(SmsMessage.case_id == case.id, SmsMessage.kind == "decision"))
        return event, sms
    return do


def test_the_sms_gives_the_reason_its_article_and_the_other_routes(decline):
    event, sms = decline("D08")
    assert sms.template_code == "COMPLAINT_DECLINED"
    text = TEMPLATES[sms.template_code].format(**sms.params)
    assert "冒用他人名义或者拒不配合市场监督管理部门核验真实身份信息" in text
    assert "第121号)第10条第二款、第16条第（六）项" in text
    for route in ("协商和解", "消费者协会", "仲裁", "诉讼"):
        assert route in text


def test_the_decline_event_keeps_the_ground_and_routes_for_the_consumers_look_up(decline):
    event, _ = decline("D03")
    assert event.data["ground"] == "D03" and event.data["version"] == "order-121"
    assert "第16条第（三）项" in event.data["basis"]
    assert event.data["routes"] == ["与经营者协商和解", "请求消费者协会或者依法成立的其他调解组织调解",
                                    "根据与经营者达成的仲裁协议提请仲裁机构仲裁", "向人民法院提起诉讼"]
    assert "第39条" in event.data["routes_basis"]


def test_an_order_20_case_is_told_its_own_orders_ground(decline):
    event, sms = decline("D01", received_at="2026-03-10T10:00:00+08:00", occurred_on="2026-03-01")
    assert event.data["version"] == "order-20"
    assert "第20号)第15条第（一）项" in TEMPLATES[sms.template_code].format(**sms.params)


def test_a_declined_report_hears_the_reason_but_no_dispute_routes(decline):
    event, sms = decline("R02", kind="report", consumer={"name": "李四", "phone": "13900003333"})
    assert sms.template_code == "REPORT_DECLINED" and "routes" not in event.data
    text = TEMPLATES[sms.template_code].format(**sms.params)
    assert "举报内容没有具体的被举报人" in text and "第28条" in text


def test_the_timeline_shows_the_routes_told(client, decline, make_user, login):
    event, _ = decline("D01")
    login(client, make_user("supervisor"))
    page = client.get(f"/cases/{event.case.number}").get_data(as_text=True)
    assert "已告知其他解决途径" in page and "向人民法院提起诉讼" in page
