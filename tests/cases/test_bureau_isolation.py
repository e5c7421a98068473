"""Bureau B never reads or changes bureau A's cases, through any page or endpoint (DESIGN.md §4)."""
import pytest

from hotline.cases.models import Case
from hotline.extensions import db
from hotline.outbox.relay import run_pending


@pytest.fixture
def setting(make_case, make_user):
    a_user, b_user = make_user("bureau", bureau="tiexi"), make_user("bureau", bureau="tiedong")
    case = make_case(consumer={"name": "甲", "phone": "13700007777"}).case
    run_pending()
    db.session.expire_all()
    assert case.bureau.code == "tiexi"
    return case, a_user, b_user


def test_api_refuses_bureau_b_everything_about_bureau_a_case(client, token_for, setting):
    case, a_user, b_user = setting
    b = token_for(b_user)
    assert client.get(f"/api/v1/cases/{case.number}", headers=b).status_code == 404
    for action in ("accept", "decline", "return_to_centre", "withdraw", "reassign"):
        response = client.post(f"/api/v1/cases/{case.number}/actions", json={"action": action, "reason": "x"},
                               headers=b)
        assert response.status_code == 404, action
    assert client.get(f"/api/v1/cases?q={case.number}", headers=b).get_json()["total"] == 0
    assert client.get("/api/v1/cases?bureau=tiexi", headers=b).get_json()["total"] == 0
    assert client.get("/api/v1/callers/13700007777", headers=b).get_json()["items"] == []
    db.session.expire_all()
    assert db.session.get(Case, case.id).status == "pending"
    a = token_for(a_user)
    assert client.get(f"/api/v1/cases/{case.number}", headers=a).status_code == 200


def test_pages_refuse_bureau_b(client, login, setting):
    case, _, b_user = setting
    csrf = login(client, b_user)
    assert client.get(f"/cases/{case.number}").status_code == 404
    assert client.post(f"/cases/{case.number}/actions", data={"action": "accept", "csrf_token": csrf}).status_code \
        == 404
    assert case.number not in client.get("/cases").get_data(as_text=True)
    assert f'/cases/{case.number}"' not in client.get(f"/cases?q={case.number}").get_data(as_text=True)
    assert case.number not in client.get("/inbox").get_data(as_text=True)
    assert client.get("/triage").status_code == 403
    assert client.get("/admin/routing").status_code == 403
    db.session.expire_all()
    assert db.session.get(Case, case.id).status == "pending"


def test_other_roles_cannot_take_bureau_actions(client, token_for, make_user, setting):
    case, _, _ = setting
    for role, station in (("operator", None), ("station", "ST-TD-01")):
        headers = token_for(make_user(role, station=station))
        response = client.post(f"/api/v1/cases/{case.number}/actions", json={"action": "accept"}, headers=headers)
        assert response.status_code in (403, 404, 409), role
    db.session.expire_all()
    assert db.session.get(Case, case.id).status == "pending"
