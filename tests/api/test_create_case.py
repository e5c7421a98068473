"""POST /api/v1/cases as DESIGN.md §3 documents it: shapes, status codes, nothing stored on refusal."""
import json

import pytest
from sqlalchemy import func, select

from hotline.cases.models import Case, CaseEvent
from hotline.cases.numbers import is_valid_case_number
from hotline.extensions import db
from hotline.outbox.models import OutboxJob
from tests.conftest import complaint_payload


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def operator(make_user, token_for):
    return token_for(make_user("operator"))


def test_created_case_has_number_status_code_and_deadlines(client, operator):
    response = client.post("/api/v1/cases", json=complaint_payload(), headers=operator)
    assert response.status_code == 201
    body = response.get_json()
    assert is_valid_case_number(body["number"])
    assert body["status"] == "registered"
    assert len(body["query_code"]) == 6
    assert [d["clock"] for d in body["deadlines"]] == ["complaint_decision"]
    case = db.session.scalar(select(Case).where(Case.number == body["number"]))
    assert body["query_code"] not in case.query_code_hash  # stored only as a hash
    assert [e.action for e in case.events] == ["register"]
    assert db.session.scalar(select(OutboxJob.task).where(OutboxJob.dedupe_key == f"route_case:{case.id}"))


def test_malformed_json_is_400_with_error_body(client, operator):
    response = client.post("/api/v1/cases", data=b'{"kind": ', headers={**operator, "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"
    assert count(Case) == 0


def test_missing_and_invalid_fields_are_422_naming_each(client, operator):
    body = complaint_payload(kind="grievance", amount="12.345", occurred_on="2999-01-01",
                             consumer={"name": "李四", "phone": "12"},
                             business={"name": "店", "uscc": "91110000600037341X"})
    del body["subject"]
    response = client.post("/api/v1/cases", json=body, headers=operator)
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert {"kind", "amount", "consumer.phone", "business.uscc", "subject"} <= set(fields)
    assert count(Case) == count(CaseEvent) == count(OutboxJob) == 0


def test_dates_in_the_future_are_refused(client, operator):
    response = client.post("/api/v1/cases", json=complaint_payload(received_at="2999-01-01T10:00:00+08:00"),
                           headers=operator)
    assert response.status_code == 422
    assert "received_at" in response.get_json()["error"]["fields"]
    response = client.post("/api/v1/cases", json=complaint_payload(occurred_on="2999-01-01"), headers=operator)
    assert "occurred_on" in response.get_json()["error"]["fields"]
    assert count(Case) == 0


def test_impossible_date_and_wrong_types(client, operator):
    body = complaint_payload(occurred_on="2026-02-30", consumer="张三", subject=["x"])
    response = client.post("/api/v1/cases", json=body, headers=operator)
    assert response.status_code == 422
    assert {"occurred_on", "consumer", "subject"} <= set(response.get_json()["error"]["fields"])


def test_body_that_is_not_an_object_is_422(client, operator):
    response = client.post("/api/v1/cases", json=[1, 2], headers=operator)
    assert response.status_code == 422


def test_unknown_fields_and_categories_are_refused(client, operator):
    response = client.post("/api/v1/cases", json=complaint_payload(colour="red", category={"goods": "NOPE"}),
                           headers=operator)
    assert response.status_code == 422
    assert "colour" in response.get_json()["error"]["fields"]
    response = client.post("/api/v1/cases", json=complaint_payload(category={"goods": "NOPE"}), headers=operator)
    assert list(response.get_json()["error"]["fields"]) == ["category.goods"]


def test_oversized_body_is_413(client, operator):
    body = complaint_payload(description="长" * 600_000)
    response = client.post("/api/v1/cases", data=json.dumps(body, ensure_ascii=False).encode(),
                           headers={**operator, "Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"
    assert count(Case) == 0


def test_amount_as_json_number_is_read_exactly(client, operator):
    response = client.post("/api/v1/cases", json=complaint_payload(amount=0.1), headers=operator)
    assert response.status_code == 201
    detail = client.get(f"/api/v1/cases/{response.get_json()['number']}", headers=operator).get_json()
    assert detail["amount"] == "0.10"


def test_nul_character_is_refused_not_a_500(client, operator):
    response = client.post("/api/v1/cases", json=complaint_payload(subject="a\x00b"), headers=operator)
    assert response.status_code == 422
    assert "subject" in response.get_json()["error"]["fields"]


def test_html_emoji_and_rare_cjk_round_trip_and_are_escaped(client, operator, make_user, login):
    text = '<script>alert("x")</script><b>粗</b> 😀 𠀀 鿿'
    response = client.post("/api/v1/cases", json=complaint_payload(subject=text, description=text,
                                                                   business={"name": text}), headers=operator)
    assert response.status_code == 201
    number = response.get_json()["number"]
    detail = client.get(f"/api/v1/cases/{number}", headers=operator).get_json()
    assert detail["subject"] == detail["description"] == detail["business"]["name"] == text
    login(client, make_user("supervisor"))
    page = client.get(f"/cases/{number}").get_data(as_text=True)
    assert "<script>alert" not in page and "<b>粗</b>" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert "😀 𠀀 鿿" in page


def test_consultation_answered_at_once_is_closed(client, operator):
    body = {"kind": "consultation", "channel": "phone", "consumer": {"phone": "13900002222"},
            "subject": "七日无理由退货", "answer": "网购商品自收到之日起七日内可无理由退货。", "answer_code": "A001"}
    response = client.post("/api/v1/cases", json=body, headers=operator)
    assert response.status_code == 201
    assert response.get_json()["status"] == "closed"
    detail = client.get(f"/api/v1/cases/{response.get_json()['number']}", headers=operator).get_json()
    assert detail["outcome"] == "answered"
    assert [e["action"] for e in detail["events"]] == ["register", "answer"]
    assert detail["deadlines"][0]["met_at"] is not None


def test_answer_is_only_for_consultations(client, operator):
    response = client.post("/api/v1/cases", json=complaint_payload(answer="x"), headers=operator)
    assert response.status_code == 422
    assert "answer" in response.get_json()["error"]["fields"]


def test_complaint_with_report_makes_two_linked_cases(client, operator):
    response = client.post("/api/v1/cases", json=complaint_payload(also_report=True), headers=operator)
    assert response.status_code == 201
    body = response.get_json()
    detail = client.get(f"/api/v1/cases/{body['number']}", headers=operator).get_json()
    assert detail["links"] == [{"number": body["linked"]["number"], "kind": "report", "relation": "same_call"}]
    report = client.get(f"/api/v1/cases/{body['linked']['number']}", headers=operator).get_json()
    assert report["kind"] == "report" and report["links"][0]["number"] == body["number"]


def test_receipt_sms_is_queued_and_masked(client, operator, app):
    response = client.post("/api/v1/cases", json=complaint_payload(), headers=operator)
    detail = client.get(f"/api/v1/cases/{response.get_json()['number']}", headers=operator).get_json()
    [message] = detail["messages"]
    assert {k: message[k] for k in ("kind", "to", "status")} == {"kind": "receipt", "to": "139****1111",
                                                                  "status": "queued"}
    assert message["sent_at"] is None and message["delivered_at"] is None
    from hotline.outbox.relay import run_pending
    assert run_pending() >= 1
    detail = client.get(f"/api/v1/cases/{response.get_json()['number']}", headers=operator).get_json()
    assert detail["messages"][0]["status"] == "sent"
    assert run_pending() == 0  # a second run has nothing left to send


def test_station_channel_needs_a_known_station(client, operator):
    response = client.post("/api/v1/cases", json=complaint_payload(channel="station"), headers=operator)
    assert "station" in response.get_json()["error"]["fields"]
    response = client.post("/api/v1/cases", json=complaint_payload(channel="station", station="NOPE"), headers=operator)
    assert list(response.get_json()["error"]["fields"]) == ["station"]
    response = client.post("/api/v1/cases", json=complaint_payload(channel="station", station="ST-TD-01"),
                           headers=operator)
    assert response.status_code == 201


def test_bureau_staff_cannot_register(client, make_user, token_for):
    headers = token_for(make_user("bureau", bureau="tiexi"))
    response = client.post("/api/v1/cases", json=complaint_payload(), headers=headers)
    assert response.status_code == 403
    assert count(Case) == 0
