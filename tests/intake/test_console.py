"""The operator's console and the station page: log a call, see errors by field, answer on the spot."""
import re

from hotline.cases.models import Case
from hotline.extensions import db

FORM = {"kind": "complaint", "channel": "phone", "consumer.phone": "139 0000 1111", "consumer.name": "张三",
        "business.name": "好再来餐馆", "business.address": "鞍山市铁西区兴盛街道人民路88号",
        "subject": "外卖有异物", "description": "饭菜里有头发。", "demand": "退款", "amount": "38.50",
        "occurred_on": "2026-11-20", "category.service": "", "received_at": ""}


def test_operator_logs_a_phone_complaint(client, make_user, login):
    csrf = login(client, make_user("operator"))
    page = client.get("/console")
    assert page.status_code == 200
    assert 'id="caller-phone"' in page.get_data(as_text=True)
    response = client.post("/console", data={**FORM, "csrf_token": csrf}, follow_redirects=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    number = re.search(r'data-number="(\d{14})"', html).group(1)
    code = re.search(r'class="code">([A-Z0-9]{6})<', html).group(1)
    case = db.session.query(Case).filter_by(number=number).one()
    assert case.channel == "phone" and case.consumer_phone == "13900001111" and str(case.amount) == "38.50"
    assert code and case.query_code_hash != code
    listing = client.get("/cases").get_data(as_text=True)
    assert number in listing and "139****1111" in listing and "13900001111" not in listing
    detail = client.get(f"/cases/{number}").get_data(as_text=True)
    assert "外卖有异物" in detail and "timeline" in detail and "139****1111" in detail


def test_console_shows_field_errors_and_keeps_input(client, make_user, login):
    csrf = login(client, make_user("operator"))
    response = client.post("/console", data={**FORM, "consumer.phone": "12", "amount": "abc", "csrf_token": csrf})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'data-field="consumer.phone"' in html and 'data-field="amount"' in html
    assert 'value="好再来餐馆"' in html  # nothing typed is lost
    assert db.session.query(Case).count() == 0


def test_form_without_csrf_is_refused(client, make_user, login):
    login(client, make_user("operator"))
    assert client.post("/console", data=FORM).status_code == 400
    assert db.session.query(Case).count() == 0


def test_consultation_answered_from_the_answer_bank_closes_at_once(client, make_user, login):
    csrf = login(client, make_user("operator"))
    answers = client.get("/api/v1/answers?q=七日").get_json()["items"]
    assert answers
    response = client.post("/console", data={
        "kind": "consultation", "channel": "phone", "consumer.phone": "13900002222", "subject": answers[0]["title"],
        "answer": answers[0]["body"], "answer_code": answers[0]["code"], "csrf_token": csrf},
        follow_redirects=True)
    assert response.status_code == 200
    case = db.session.query(Case).one()
    assert (case.status, case.outcome) == ("closed", "answered")
    assert [e.action for e in case.events] == ["register", "answer"]


def test_station_page_logs_for_the_station(client, make_user, login):
    user = make_user("station", station="ST-TD-01")
    csrf = login(client, user)
    assert client.get("/console").status_code == 403
    response = client.post("/station", data={**FORM, "channel": "phone", "csrf_token": csrf}, follow_redirects=True)
    assert response.status_code == 200
    case = db.session.query(Case).one()
    assert case.channel == "station" and case.station.code == "ST-TD-01"
    assert case.number in client.get("/station").get_data(as_text=True)


def test_bureau_staff_cannot_open_intake_pages(client, make_user, login):
    login(client, make_user("bureau", bureau="tiexi"))
    assert client.get("/console").status_code == 403
    assert client.get("/station").status_code == 403
    assert client.get("/cases").status_code == 200


def test_answer_bank_is_kept_by_supervisors(client, make_user, login):
    csrf = login(client, make_user("supervisor"))
    response = client.post("/answers/new", data={"title": "测试条目", "body": "标准答复", "keywords": "测试 条目",
                                                 "legal_basis": "消法", "active": "on", "csrf_token": csrf})
    assert response.status_code == 302
    assert "测试条目" in client.get("/answers?q=测试条目").get_data(as_text=True)
    assert client.post("/answers/new", data={"title": "", "body": "", "csrf_token": csrf}).status_code == 422


def test_operator_cannot_edit_the_answer_bank(client, make_user, login):
    login(client, make_user("operator"))
    assert client.get("/answers").status_code == 200
    assert client.get("/answers/new").status_code == 403
