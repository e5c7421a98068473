"""The route_case job on a real database: bureau, triage, handler assignment, idempotence."""
from sqlalchemy import func, select

from hotline.cases.models import CaseEvent
from hotline.deadlines.models import CaseClock
from hotline.extensions import db
from hotline.outbox.relay import run_pending


def route_all():
    run_pending()
    db.session.expire_all()


def test_tiexi_business_goes_to_the_tiexi_bureau_and_its_least_busy_handler(make_case, make_user, client,
                                                                             token_for):
    busy, free = make_user("bureau", bureau="tiexi"), make_user("bureau", bureau="tiexi")
    earlier = make_case().case
    route_all()
    assert earlier.assignee_id == busy.id  # both had none open: the longest-serving account
    case = make_case().case
    route_all()
    assert (case.status, case.bureau.code, case.assignee_id) == ("pending", "tiexi", free.id)
    assert case.routing_rule.startswith("#") and "铁西" in case.routing_reason
    detail = client.get(f"/api/v1/cases/{case.number}", headers=token_for(make_user("supervisor"))).get_json()
    assert detail["routing"]["rule"] == case.routing_rule
    assert detail["bureau"]["code"] == "tiexi" and detail["assignee"] == free.display_name
    assert [e["action"] for e in detail["events"]] == ["register", "route"]


def test_out_of_city_business_goes_to_triage_with_reason_and_triage_clock(make_case):
    case = make_case(business={"name": "沈阳某店", "address": "沈阳市和平区中山路1号"}).case
    route_all()
    assert case.status == "triage" and case.bureau is None
    assert "鞍山市以外" in case.routing_reason
    clock = db.session.scalar(select(CaseClock).where(CaseClock.case_id == case.id, CaseClock.clock == "triage"))
    assert clock is not None and clock.met_at is None


def test_routing_twice_has_no_second_effect(make_case):
    from hotline.routing.operations import route_case
    case = make_case().case
    route_case({"case_id": case.id})
    db.session.commit()
    assert route_case({"case_id": case.id}) == "skipped"
    db.session.commit()
    assert db.session.scalar(select(func.count()).where(CaseEvent.case_id == case.id,
                                                        CaseEvent.action == "route")) == 1


def test_case_page_shows_the_routing_rule(make_case, make_user, client, login):
    case = make_case().case
    route_all()
    login(client, make_user("supervisor"))
    page = client.get(f"/cases/{case.number}").get_data(as_text=True)
    assert case.routing_rule in page and "铁西分局" in page


def test_routing_rules_admin_page(make_user, client, login):
    csrf = login(client, make_user("admin"))
    page = client.get("/admin/routing?address=沈阳市和平区").get_data(as_text=True)
    assert "→ <strong>待分派</strong>" in page and "鞍山市以外" in page
    response = client.post("/admin/routing/new", data={"position": "5", "match": "keyword", "value": "测试商城",
                                                      "bureau": "lishan", "active": "on", "csrf_token": csrf})
    assert response.status_code == 302
    page = client.get("/admin/routing?address=鞍山市铁西区测试商城").get_data(as_text=True)
    assert "→ <strong>立山分局</strong>" in page
    # Supervisors keep the routing rules too (README; issue #7, missing step 9); tests/routing/test_rules_admin.py
    # checks every role.
    login_as_operator = make_user("operator")
    client.post("/logout", data={"csrf_token": csrf})
    csrf = login(client, login_as_operator)
    assert client.post("/admin/routing/new", data={"position": "6", "match": "keyword", "value": "x",
                                                   "bureau": "lishan", "csrf_token": csrf}).status_code == 403
