"""Personal data: masked by default; unmasked only for the handling bureau and the centre, and
every such view written to the access log; a named reporter's identity likewise."""
from sqlalchemy import select

from hotline.auth.models import AccessLog
from hotline.extensions import db
from hotline.outbox.relay import run_pending

ID = "11010519491231002X"


def routed(make_case, **over):
    case = make_case(**over).case
    run_pending()
    db.session.expire_all()
    return case


def test_handler_sees_the_phone_in_full_and_it_is_logged(client, make_case, make_user, login):
    handler = make_user("bureau", bureau="tiexi")
    case = routed(make_case, consumer={"name": "张三", "phone": "13812345678", "id_number": ID})
    csrf = login(client, handler)
    page = client.get(f"/cases/{case.number}").get_data(as_text=True)
    assert "138****5678" in page and "13812345678" not in page and ID not in page
    revealed = client.post(f"/cases/{case.number}/reveal", data={"csrf_token": csrf}).get_data(as_text=True)
    assert "13812345678" in revealed and ID in revealed
    log = db.session.scalars(select(AccessLog)).all()
    assert [(entry.user_id, entry.case_id) for entry in log] == [(handler.id, case.id)]


def test_others_cannot_unmask(client, make_case, make_user, login):
    case = routed(make_case)
    for role, extra in (("operator", {}), ("station", {"station": "ST-TD-01"})):
        csrf = login(client, make_user(role, **extra))
        assert client.post(f"/cases/{case.number}/reveal", data={"csrf_token": csrf}).status_code == 403
        client.post("/logout", data={"csrf_token": csrf})
    csrf = login(client, make_user("bureau", bureau="tiedong"))
    assert client.post(f"/cases/{case.number}/reveal", data={"csrf_token": csrf}).status_code == 404
    assert db.session.scalars(select(AccessLog)).all() == []


def test_named_reporter_is_shown_only_to_the_bureau_and_the_centre(client, make_case, make_user, token_for, login):
    case = routed(make_case, kind="report", consumer={"name": "李举报", "phone": "13900003333"})
    for role, extra, name in (("operator", {}, "李**"), ("supervisor", {}, "李举报"),
                              ("bureau", {"bureau": "tiexi"}, "李举报")):
        detail = client.get(f"/api/v1/cases/{case.number}", headers=token_for(make_user(role, **extra))).get_json()
        assert detail["consumer"]["name"] == name, role
    listed = client.get("/api/v1/cases?kind=report", headers=token_for(make_user("operator"))).get_json()
    assert listed["items"][0]["consumer"]["name"] == "李**"
    login(client, make_user("operator"))
    page = client.get("/cases?kind=report").get_data(as_text=True)
    assert "李**" in page and "李举报" not in page
