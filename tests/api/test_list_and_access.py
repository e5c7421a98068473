"""Reading cases: lists, filters and paging, one case, a caller's history, and who may see what."""
import pytest

from hotline.cases.models import Case
from hotline.extensions import db
from hotline.reference.models import Bureau
from tests.conftest import complaint_payload


def test_anonymous_requests_are_refused_everywhere(client, make_case):
    number = make_case().case.number
    for path in ("/api/v1/cases", f"/api/v1/cases/{number}", "/api/v1/callers/13900001111", "/api/v1/answers"):
        response = client.get(path)
        assert response.status_code == 401, path
        assert response.get_json()["error"]["code"] == "unauthorized"
    assert client.post("/api/v1/cases", json=complaint_payload()).status_code == 401
    for path in ("/console", "/station", "/cases", f"/cases/{number}", "/answers", "/answers/new"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path


def test_invalid_token_is_401(client):
    assert client.get("/api/v1/cases", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_list_filters_and_paging(client, make_user, token_for, make_case):
    headers = token_for(make_user("supervisor"))
    for i in range(5):
        make_case(subject=f"第{i}件", consumer={"name": "王五", "phone": f"1390000{i:04d}"})
    make_case(kind="report", subject="无照经营", consumer={"anonymous": True})
    body = client.get("/api/v1/cases?per_page=2&page=2", headers=headers).get_json()
    assert body["total"] == 6 and body["page"] == 2 and body["per_page"] == 2 and len(body["items"]) == 2
    assert client.get("/api/v1/cases?kind=report", headers=headers).get_json()["total"] == 1
    assert client.get("/api/v1/cases?q=第3件", headers=headers).get_json()["total"] == 1
    assert client.get("/api/v1/cases?status=closed", headers=headers).get_json()["total"] == 0
    item = client.get("/api/v1/cases?q=第1件", headers=headers).get_json()["items"][0]
    assert item["consumer"]["phone"] == "139****0001"  # masked in lists
    assert client.get("/api/v1/cases?page=x", headers=headers).status_code == 422


def test_case_detail_masks_personal_data(client, make_user, token_for, make_case):
    headers = token_for(make_user("operator"))
    number = make_case(consumer={"name": "赵六", "phone": "13812345678", "id_number": "11010519491231002X"}).case.number
    detail = client.get(f"/api/v1/cases/{number}", headers=headers).get_json()
    assert detail["consumer"]["phone"] == "138****5678"
    assert detail["consumer"]["id_number"] == "**************002X"
    case = db.session.query(Case).filter_by(number=number).one()
    assert "11010519491231002X" not in (case.consumer_id_number_enc or "")  # encrypted at rest
    assert client.get("/api/v1/cases/20260101000010", headers=headers).status_code == 404


def test_caller_history(client, make_user, token_for, make_case):
    headers = token_for(make_user("operator"))
    make_case(subject="第一次")
    make_case(subject="第二次")
    make_case(consumer={"name": "别人", "phone": "13700001111"})
    body = client.get("/api/v1/callers/139 0000 1111", headers=headers).get_json()
    assert body["phone"] == "13900001111"
    assert [c["subject"] for c in body["items"]] == ["第二次", "第一次"]
    assert client.get("/api/v1/callers/12", headers=headers).status_code == 422


@pytest.fixture
def two_stations(make_user, make_case):
    own = make_user("station", station="ST-TD-01")
    other = make_user("station", station="ST-TX-01")
    mine = make_case(actor=own, channel="station").case.number
    theirs = make_case(actor=other, channel="station").case.number
    by_phone = make_case().case.number
    return own, mine, theirs, by_phone


def test_station_user_sees_only_their_station_cases(client, token_for, login, two_stations):
    own, mine, theirs, by_phone = two_stations
    headers = token_for(own)
    listed = [c["number"] for c in client.get("/api/v1/cases", headers=headers).get_json()["items"]]
    assert listed == [mine]
    assert client.get(f"/api/v1/cases/{mine}", headers=headers).status_code == 200
    for number in (theirs, by_phone):
        assert client.get(f"/api/v1/cases/{number}", headers=headers).status_code == 404
    assert client.get("/api/v1/callers/13900001111", headers=headers).get_json()["items"][0]["number"] == mine
    login(client, own)
    page = client.get("/cases").get_data(as_text=True)
    assert mine in page and theirs not in page and by_phone not in page
    assert client.get(f"/cases/{theirs}").status_code == 404
    assert client.get(f"/cases/{mine}").status_code == 200


def test_station_user_always_logs_for_own_station(client, make_user, token_for):
    user = make_user("station", station="ST-TD-01")
    response = client.post("/api/v1/cases", json=complaint_payload(), headers=token_for(user))
    assert response.status_code == 201
    case = db.session.query(Case).filter_by(number=response.get_json()["number"]).one()
    assert case.channel == "station" and case.station.code == "ST-TD-01"


def test_bureau_user_sees_only_own_bureau(client, make_user, token_for, make_case):
    tiexi = make_user("bureau", bureau="tiexi")
    ours, theirs = make_case().case, make_case().case
    ours.bureau = db.session.query(Bureau).filter_by(code="tiexi").one()
    theirs.bureau = db.session.query(Bureau).filter_by(code="tiedong").one()
    db.session.commit()
    headers = token_for(tiexi)
    assert [c["number"] for c in client.get("/api/v1/cases", headers=headers).get_json()["items"]] == [ours.number]
    assert client.get(f"/api/v1/cases/{theirs.number}", headers=headers).status_code == 404
    assert client.get("/api/v1/cases?bureau=tiedong", headers=headers).get_json()["total"] == 0


def test_session_write_to_the_api_needs_csrf(client, make_user, login):
    csrf = login(client, make_user("operator"))
    assert client.post("/api/v1/cases", json=complaint_payload()).status_code == 400
    response = client.post("/api/v1/cases", json=complaint_payload(), headers={"X-CSRFToken": csrf})
    assert response.status_code == 201, response.get_json()


def test_openapi_document(client):
    doc = client.get("/api/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    assert "/api/v1/cases" in doc["paths"] and "CaseIn" in doc["components"]["schemas"]
