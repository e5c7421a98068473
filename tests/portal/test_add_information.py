"""补充材料: the consumer adds information to an open case; staff see it on the timeline and get a notice."""
import re

from sqlalchemy import select

from hotline.cases.models import CaseEvent
from hotline.deadlines.models import Notification
from hotline.extensions import db


def add(client, case, code, text):
    return client.post(f"/api/v1/public/cases/{case.number}/information", json={"code": code, "text": text})


def test_added_information_is_on_the_staff_timeline_with_the_consumer_as_actor(client, filed, make_user, login):
    case, code = filed()
    assert add(client, case, code, "商家今天又拒绝退款，附上聊天记录说明。").status_code == 201
    event = db.session.scalar(select(CaseEvent).where(CaseEvent.case_id == case.id,
                                                      CaseEvent.action == "consumer_info"))
    assert event.actor_label == "consumer" and event.note.startswith("商家今天又拒绝退款")
    login(client, make_user("bureau", bureau="tiexi"))
    page = client.get(f"/cases/{case.number}").get_data(as_text=True)
    assert "消费者补充情况" in page and "商家今天又拒绝退款" in page


def test_the_handler_or_else_the_bureau_gets_a_notice(client, filed, make_user, login):
    case, code = filed()
    add(client, case, code, "补充一")
    notice = db.session.scalar(select(Notification).where(Notification.case_id == case.id))
    assert notice.kind == "consumer_info" and notice.bureau_id == case.bureau_id and notice.read_at is None
    add(client, case, code, "补充二")
    assert len(db.session.scalars(select(Notification).where(Notification.case_id == case.id)).all()) == 1
    login(client, make_user("bureau", bureau="tiexi"))
    assert "消费者补充情况" in client.get("/notices").get_data(as_text=True)


def test_a_closed_case_takes_no_more_information(client, filed, act):
    case, code = filed()
    act(case, "decline", reason="D03")
    assert add(client, case, code, "还有话说").status_code == 409


def test_a_wrong_code_gets_404_and_empty_text_422(client, filed):
    case, code = filed()
    assert add(client, case, "WRONG2", "x").status_code == 404
    response = add(client, case, code, "   ")
    assert response.status_code == 422 and "text" in response.get_json()["error"]["fields"]
    assert db.session.scalar(select(CaseEvent).where(CaseEvent.action == "consumer_info")) is None


def test_the_page_adds_information_after_a_look_up(client, filed):
    case, code = filed()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/track").get_data(as_text=True)).group(1)
    assert client.get("/track/add").status_code == 302  # no look-up yet: back to the form
    client.post("/track", data={"number": case.number, "code": code, "csrf_token": token})
    assert "需要补充的情况" in client.get("/track/add").get_data(as_text=True)
    response = client.post("/track/add", data={"text": "发票照片已补拍", "csrf_token": token})
    assert response.status_code == 302
    assert "您补充了情况" in client.get("/track/case?added=1").get_data(as_text=True)


def test_the_page_takes_photos_through_the_evidence_module(client, filed):
    from io import BytesIO

    from PIL import Image

    from hotline.portal.models import Evidence
    case, code = filed()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/track").get_data(as_text=True)).group(1)
    client.post("/track", data={"number": case.number, "code": code, "csrf_token": token})
    photo = BytesIO()
    Image.new("RGB", (40, 30), "red").save(photo, "JPEG")
    response = client.post("/track/add", data={"text": "", "csrf_token": token,
                                                "evidence": (BytesIO(photo.getvalue()), "发票.jpg")},
                           content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    item = db.session.scalar(select(Evidence).where(Evidence.case_id == case.id))
    assert item.source == "consumer" and item.original_name == "发票.jpg"
    event = db.session.scalar(select(CaseEvent).where(CaseEvent.action == "consumer_info"))
    assert event.data == {"files": 1}
    renamed = client.post("/track/add", data={"text": "", "csrf_token": token,
                                              "evidence": (BytesIO(b"MZ\x90\x00" + b"\x00" * 200), "photo.jpg")},
                          content_type="multipart/form-data")
    assert renamed.status_code == 422 and db.session.scalar(select(Evidence).where(Evidence.id != item.id)) is None
