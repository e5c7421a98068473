"""`GET /alerts` (public), `POST /alerts`, `POST /alerts/{id}/publish` (DESIGN.md §3)."""
from hotline.alerts.models import ConsumerAlert
from hotline.extensions import db
from tests.alerts.conftest import TIEXI

ALERT = {"title": "汛期食品安全提示", "body": "注意食品储存。", "sms_text": "汛期注意食品储存，变质食品勿食用。",
         "district": TIEXI}


def test_supervisor_creates_and_publishes_and_the_public_sees_it(client, make_user, token_for):
    headers = token_for(make_user("supervisor"))
    created = client.post("/api/v1/alerts", json=ALERT, headers=headers)
    assert created.status_code == 201
    body = created.get_json()
    assert body["id"] and body["status"] == "draft" and body["district"] == TIEXI and body["district_name"] == "铁西区"
    assert client.get("/api/v1/alerts").get_json()["total"] == 0  # a draft is not public
    published = client.post(f"/api/v1/alerts/{body['id']}/publish", headers=headers)
    assert published.status_code == 200 and published.get_json()["status"] == "published"
    listing = client.get("/api/v1/alerts").get_json()  # no credentials
    assert listing["total"] == 1 and listing["items"][0]["title"] == ALERT["title"]
    assert listing["items"][0]["published_at"]


def test_publishing_twice_or_a_withdrawn_alert_is_a_conflict(client, make_user, token_for):
    from hotline.alerts.operations import withdraw_alert
    chief = make_user("supervisor")
    headers = token_for(chief)
    alert_id = client.post("/api/v1/alerts", json=ALERT, headers=headers).get_json()["id"]
    assert client.post(f"/api/v1/alerts/{alert_id}/publish", headers=headers).status_code == 200
    again = client.post(f"/api/v1/alerts/{alert_id}/publish", headers=headers)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "conflict"
    withdraw_alert(alert_id, chief)
    db.session.commit()
    assert client.post(f"/api/v1/alerts/{alert_id}/publish", headers=headers).status_code == 409
    assert client.get("/api/v1/alerts").get_json()["items"] == []
    assert client.post("/api/v1/alerts/99999/publish", headers=headers).status_code == 404


def test_invalid_fields_get_422_with_each_field(client, make_user, token_for):
    headers = token_for(make_user("admin"))
    response = client.post("/api/v1/alerts", json={"title": "", "body": 5, "sms_text": "长" * 70,
                                                    "district": "999999", "categories": ["NOPE"]}, headers=headers)
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert set(fields) == {"title", "body", "sms_text", "district", "categories"}
    assert client.post("/api/v1/alerts", data="{", headers={**headers, "Content-Type": "application/json"}
                       ).status_code == 400
    assert client.post("/api/v1/alerts", json=[1], headers=headers).status_code == 400
    # A NUL in a text or a category code: a 422 naming the field (PostgreSQL refused it with a 500; schemathesis)
    response = client.post("/api/v1/alerts", json={**ALERT, "title": "a\x00", "categories": ["\x00"]}, headers=headers)
    assert response.status_code == 422 and set(response.get_json()["error"]["fields"]) == {"title", "categories"}
    assert db.session.query(ConsumerAlert).count() == 0


def test_only_supervisors_and_administrators_write_alerts(client, make_user, token_for):
    assert client.post("/api/v1/alerts", json=ALERT).status_code == 401
    for user in (make_user("operator"), make_user("bureau", bureau="tiexi"), make_user("station", station="ST-TD-01")):
        response = client.post("/api/v1/alerts", json=ALERT, headers=token_for(user))
        assert response.status_code == 403, user.role
    assert client.post("/api/v1/alerts/1/publish", headers=token_for(make_user("operator"))).status_code == 403


def test_the_public_list_pages_and_refuses_bad_paging(client, make_user, token_for):
    headers = token_for(make_user("supervisor"))
    for n in range(3):
        alert_id = client.post("/api/v1/alerts", json={**ALERT, "title": f"提示{n}"}, headers=headers).get_json()["id"]
        client.post(f"/api/v1/alerts/{alert_id}/publish", headers=headers)
    page = client.get("/api/v1/alerts?per_page=2&page=2").get_json()
    assert (page["total"], page["page"], [a["title"] for a in page["items"]]) == (3, 2, ["提示0"])
    assert client.get("/api/v1/alerts?page=0").status_code == 422
    assert client.get("/api/v1/alerts?per_page=x").status_code == 422


def test_the_openapi_document_names_the_alert_endpoints(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert {"/api/v1/alerts", "/api/v1/alerts/{alert_id}/publish", "/api/v1/public/subscriptions",
            "/api/v1/public/subscriptions/confirm"} <= set(paths)
    assert paths["/api/v1/alerts"]["get"]["security"] == []
