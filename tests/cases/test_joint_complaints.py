"""共同投诉 (Order 121 art. 12): one case, several complainants, at most two representatives; every
complainant gets the SMS, and each one's personal data is masked and encrypted like the consumer's."""
import re

from sqlalchemy import select

from hotline.auth.models import AccessLog
from hotline.cases import personal_data
from hotline.cases.models import Case, CaseComplainant
from hotline.extensions import db
from hotline.outbox.relay import run_pending
from hotline.sms.models import SmsMessage
from tests.conftest import complaint_payload

ID = "11010519491231002X"


SECOND_ID = "110102198001010025"
JOINT = {"consumer": {"name": "张三", "phone": "13900001111", "representative": True},
         "complainants": [{"name": "李四", "phone": "139 0000 2222", "id_number": SECOND_ID,
                           "address": "鞍山市铁西区兴盛街道", "representative": True},
                          {"name": "王五", "phone": "13900003333"},
                          {"name": "赵六"}]}


def post(client, headers, **over):
    return client.post("/api/v1/cases", json=complaint_payload(**over), headers=headers)


def test_joint_complaint_with_two_representatives_is_one_case_and_every_complainant_gets_the_receipt(
        client, make_user, token_for):
    headers = token_for(make_user("operator"))
    response = post(client, headers, **JOINT)
    assert response.status_code == 201, response.get_json()
    number = response.get_json()["number"]
    case = db.session.scalar(select(Case).where(Case.number == number))
    rows = db.session.scalars(select(CaseComplainant).where(CaseComplainant.case_id == case.id)
                              .order_by(CaseComplainant.position)).all()
    assert [(r.position, r.name, r.phone, r.representative) for r in rows] == [
        (1, "李四", "13900002222", True), (2, "王五", "13900003333", False), (3, "赵六", None, False)]
    # The ID number is encrypted at rest like the consumer's, its last four kept for the masked display.
    assert SECOND_ID not in rows[0].id_number_enc and rows[0].id_number_tail == SECOND_ID[-4:]
    assert personal_data.decrypt(rows[0].id_number_enc) == SECOND_ID
    receipts = db.session.scalars(select(SmsMessage).where(SmsMessage.case_id == case.id,
                                                           SmsMessage.kind == "receipt")).all()
    assert sorted(m.to_phone for m in receipts) == ["13900001111", "13900002222", "13900003333"]
    assert len({m.dedupe_key for m in receipts}) == 3

    detail = client.get(f"/api/v1/cases/{number}", headers=token_for(make_user("supervisor"))).get_json()
    assert detail["consumer"]["representative"] is True
    first = detail["complainants"][0]
    assert first == {"position": 1, "name": "李四", "phone": "139****2222", "id_number": "*" * 14 + SECOND_ID[-4:],
                     "address": "鞍山市铁西区兴盛街道", "representative": True}
    assert "13900002222" not in response.get_data(as_text=True) + str(detail)


def test_a_third_representative_is_refused(client, make_user, token_for):
    headers = token_for(make_user("operator"))
    complainants = [{**JOINT["complainants"][0]}, {"name": "王五", "representative": True}]
    response = post(client, headers, consumer=JOINT["consumer"], complainants=complainants)
    assert response.status_code == 422
    assert "代表人最多两名" in response.get_json()["error"]["fields"]["complainants"]
    assert db.session.query(Case).count() == 0
    # Two in all, the consumer not among them: accepted.
    ok = post(client, headers, complainants=complainants)
    assert ok.status_code == 201


def test_each_complainant_is_checked_like_the_consumer(client, make_user, token_for):
    headers = token_for(make_user("operator"))
    response = post(client, headers, complainants=[{"name": "李四", "phone": "12", "id_number": "110105194912310021"},
                                                   {"phone": "13900003333"}])
    fields = response.get_json()["error"]["fields"]
    assert response.status_code == 422
    assert set(fields) >= {"complainants.0.phone", "complainants.0.id_number"}
    nameless = post(client, headers, complainants=[{"phone": "13900003333"}])
    assert "complainants.0.name" in nameless.get_json()["error"]["fields"]
    report = post(client, headers, kind="report", complainants=[{"name": "李四"}])
    assert report.status_code == 422 and "complainants" in report.get_json()["error"]["fields"]


def test_the_decision_reaches_every_complainant(client, make_case, make_user, token_for):
    handler = make_user("bureau", bureau="tiexi")
    case = make_case(**JOINT).case
    run_pending()
    db.session.expire_all()
    response = client.post(f"/api/v1/cases/{case.number}/actions", json={"action": "accept"},
                           headers=token_for(handler))
    assert response.status_code == 200, response.get_json()
    decisions = [m for m in response.get_json()["messages"] if m["kind"] == "decision"]
    assert sorted(m["to"] for m in decisions) == ["139****1111", "139****2222", "139****3333"]


def test_console_adds_complainant_rows_without_javascript_and_registers_them(client, make_user, login):
    csrf = login(client, make_user("operator"))
    form = {"kind": "complaint", "channel": "phone", "consumer.phone": "13900001111", "consumer.name": "张三",
            "business.name": "好再来餐馆", "business.address": "鞍山市铁西区兴盛街道人民路88号", "subject": "团购退款",
            "complainants.0.name": "李四", "complainants.0.phone": "13900002222", "csrf_token": csrf}
    more = client.post("/console", data={**form, "add_complainant": "1"})
    html = more.get_data(as_text=True)
    assert more.status_code == 200 and db.session.query(Case).count() == 0  # nothing registered yet
    assert 'name="complainants.1.name"' in html and 'value="李四"' in html
    bad = client.post("/console", data={**form, "complainants.1.name": "王五", "complainants.1.phone": "12"})
    assert bad.status_code == 422 and 'data-field="complainants.1.phone"' in bad.get_data(as_text=True)
    done = client.post("/console", data={**form, "complainants.1.name": "王五", "complainants.1.representative": "on",
                                         "consumer.representative": "on"}, follow_redirects=True)
    page = done.get_data(as_text=True)
    assert done.status_code == 200, page
    number = re.search(r'data-number="(\d{14})"', page).group(1)
    case = db.session.scalar(select(Case).where(Case.number == number))
    names = db.session.scalars(select(CaseComplainant.name).where(CaseComplainant.case_id == case.id)
                               .order_by(CaseComplainant.position)).all()
    assert names == ["李四", "王五"]


def test_case_page_masks_each_complainant_until_the_handler_reveals_it(client, make_case, make_user, login):
    handler = make_user("bureau", bureau="tiexi")
    case = make_case(**JOINT).case
    run_pending()
    csrf = login(client, handler)
    page = client.get(f"/cases/{case.number}").get_data(as_text=True)
    assert "李四" in page and "139****2222" in page and "13900002222" not in page and SECOND_ID not in page
    revealed = client.post(f"/cases/{case.number}/reveal", data={"csrf_token": csrf}).get_data(as_text=True)
    assert "13900002222" in revealed and SECOND_ID in revealed
    log = db.session.scalar(select(AccessLog).where(AccessLog.case_id == case.id))
    assert "complainants" in log.what
