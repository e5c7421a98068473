"""The statutory workflow through POST /api/v1/cases/{number}/actions and the case page."""
import threading

import pytest
from sqlalchemy import func, select

from hotline.cases import workflow
from hotline.cases.models import Case, CaseEvent
from hotline.deadlines.models import CaseClock
from hotline.extensions import db
from hotline.outbox.relay import run_pending


@pytest.fixture
def routed(make_case, make_user, token_for):
    """A complaint routed to 铁西, its handler's and a supervisor's API headers."""
    handler = make_user("bureau", bureau="tiexi")
    def make(**over):
        registered = make_case(**over)
        run_pending()
        db.session.expire_all()
        return registered.case
    return make, token_for(handler), token_for(make_user("supervisor"))


def act(client, number, headers, **body):
    return client.post(f"/api/v1/cases/{number}/actions", json=body, headers=headers)


def events(case):
    return db.session.scalar(select(func.count()).where(CaseEvent.case_id == case.id))


def test_complaint_accepted_settled_and_closed(client, routed):
    make, bureau, _ = routed
    case = make()
    assert act(client, case.number, bureau, action="accept").get_json()["status"] == "accepted"
    body = act(client, case.number, bureau, action="settle", recovered_amount="80.00", note="退款80元").get_json()
    assert (body["status"], body["outcome"], body["recovered_amount"]) == ("closed", "mediated", "80.00")
    assert [e["action"] for e in body["events"]] == ["register", "route", "accept", "settle"]
    assert body["events"][-1]["note"] == "退款80元"
    clocks = {d["clock"]: d for d in body["deadlines"]}
    assert clocks["complaint_decision"]["met_at"] and clocks["mediation"]["met_at"]
    assert [m["kind"] for m in body["messages"]] == ["receipt", "decision", "closure"]


def test_illegal_action_is_409_and_changes_nothing(client, routed):
    make, bureau, _ = routed
    case = make()
    before = (case.status, case.version, events(case))
    for body in ({"action": "settle", "recovered_amount": "1"}, {"action": "file_case"}, {"action": "resume"}):
        response = act(client, case.number, bureau, **body)
        assert response.status_code == 409 and response.get_json()["error"]["code"] == "conflict"
    db.session.expire_all()
    assert (case.status, case.version, events(case)) == before


def test_bad_action_input_is_422(client, routed):
    make, bureau, _ = routed
    case = make()
    assert act(client, case.number, bureau, action="fly").status_code == 422
    assert act(client, case.number, bureau, action="accept", colour="red").status_code == 422
    response = act(client, case.number, bureau, action="decline", reason="no such ground")
    assert response.status_code == 422 and "reason" in response.get_json()["error"]["fields"]
    act(client, case.number, bureau, action="accept")
    response = act(client, case.number, bureau, action="settle", recovered_amount="-5")
    assert "recovered_amount" in response.get_json()["error"]["fields"]


def test_decline_cites_a_statutory_ground(client, routed):
    make, bureau, _ = routed
    case = make()
    body = act(client, case.number, bureau, action="decline", reason="D01").get_json()
    assert (body["status"], body["outcome"]) == ("closed", "declined")
    assert body["events"][-1]["reason"]  # the ground's text and legal basis


def test_report_is_verified_and_filed(client, routed):
    make, bureau, supervisor = routed
    case = make(kind="report", consumer={"anonymous": True})
    assert act(client, case.number, bureau, action="accept").status_code == 409  # a report is not accepted
    assert act(client, case.number, bureau, action="start_verification").get_json()["status"] == "verifying"
    assert act(client, case.number, bureau, action="extend", reason="x").status_code == 403  # supervisors only
    due_before = db.session.scalar(select(CaseClock.due_at).where(CaseClock.case_id == case.id,
                                                                  CaseClock.clock == "report_verification"))
    assert act(client, case.number, supervisor, action="extend", reason="案情复杂").status_code == 200
    assert act(client, case.number, supervisor, action="extend", reason="再延").status_code == 409  # once only
    db.session.expire_all()
    due_after = db.session.scalar(select(CaseClock.due_at).where(CaseClock.case_id == case.id,
                                                                 CaseClock.clock == "report_verification"))
    assert (due_after - due_before).days >= 15
    body = act(client, case.number, bureau, action="file_case").get_json()
    assert (body["status"], body["outcome"]) == ("closed", "case_filed")
    assert [e["action"] for e in body["events"]] == ["register", "route", "start_verification", "extend",
                                                     "file_case"]


def test_mediation_suspended_days_are_not_counted(client, routed):
    make, bureau, _ = routed
    case = make()
    act(client, case.number, bureau, action="accept")
    assert act(client, case.number, bureau, action="suspend", reason="testing").get_json()["status"] == "suspended"
    assert act(client, case.number, bureau, action="resume").get_json()["status"] == "accepted"
    assert act(client, case.number, bureau, action="terminate", reason="T01").get_json()["outcome"] == "terminated"


def test_return_to_centre_twice_then_the_assignment_is_final(client, routed):
    make, bureau, supervisor = routed
    case = make()
    assert act(client, case.number, bureau, action="return_to_centre").status_code == 422  # reason required
    for round_ in (1, 2):
        body = act(client, case.number, bureau, action="return_to_centre", reason="不属本辖区").get_json()
        assert body["status"] == "triage" and body["bureau"] is None
        assert act(client, case.number, bureau, action="accept").status_code == 404  # no longer theirs
        body = act(client, case.number, supervisor, action="assign", bureau="tiexi").get_json()
        assert body["status"] == "pending"
    response = act(client, case.number, bureau, action="return_to_centre", reason="还是不属于")
    assert response.status_code == 409
    assert db.session.get(Case, case.id).assignment_final


def test_two_handlers_at_once_one_wins_the_other_gets_409(app, client, routed, make_user, token_for):
    make, bureau, _ = routed
    other = token_for(make_user("bureau", bureau="tiexi"))
    case = make()
    version = case.version
    codes = []
    start = threading.Barrier(2)

    def run(headers, action):
        c = app.test_client()
        start.wait()
        body = {"action": action, "version": version}
        if action == "decline":
            body["reason"] = "D01"
        codes.append(c.post(f"/api/v1/cases/{case.number}/actions", json=body, headers=headers).status_code)

    threads = [threading.Thread(target=run, args=(bureau, "accept")), threading.Thread(target=run, args=(other,
                                                                                                         "decline"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(codes) == [200, 409]
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).where(CaseEvent.case_id == case.id,
                                                        CaseEvent.action.in_(["accept", "decline"]))) == 1


def test_stale_version_is_409(client, routed):
    make, bureau, _ = routed
    case = make()
    assert act(client, case.number, bureau, action="accept", version=case.version - 1).status_code == 409


def test_consultation_answered_later_by_the_bureau(client, routed):
    make, bureau, _ = routed
    case = make(kind="consultation", subject="问价")
    body = act(client, case.number, bureau, action="answer", reason="已电话答复。").get_json()
    assert (body["status"], body["outcome"], body["answer"]) == ("closed", "answered", "已电话答复。")


def test_handler_changed_by_hand(client, routed, make_user):
    make, bureau, _ = routed
    second = make_user("bureau", bureau="tiexi", username="second")
    case = make()
    body = act(client, case.number, bureau, action="reassign", assignee="second").get_json()
    assert body["assignee"] == second.display_name and body["status"] == "pending"
    assert act(client, case.number, bureau, action="reassign", assignee="nobody").status_code == 422


def test_withdraw_closes_any_open_case(client, routed, make_user, token_for):
    make, _, _ = routed
    case = make()
    body = act(client, case.number, token_for(make_user("operator")), action="withdraw", note="消费者撤诉").get_json()
    assert (body["status"], body["outcome"]) == ("closed", "withdrawn")
    assert all(d["met_at"] for d in body["deadlines"])


def test_complaint_and_report_from_one_call_are_handled_separately(client, routed):
    make, bureau, _ = routed
    case = make(also_report=True)
    link = db.session.scalar(select(Case).where(Case.kind == "report"))
    run_pending()
    db.session.expire_all()
    act(client, case.number, bureau, action="accept")
    act(client, link.number, bureau, action="start_verification")
    db.session.expire_all()
    assert (case.status, link.status) == ("accepted", "verifying")


def test_case_page_action_forms(client, routed, make_user, login):
    make, _, _ = routed
    case = make()
    handler = db.session.get(Case, case.id).assignee
    csrf = login(client, handler)
    page = client.get(f"/cases/{case.number}").get_data(as_text=True)
    assert 'name="action" value="accept"' in page and 'name="action" value="settle"' not in page
    response = client.post(f"/cases/{case.number}/actions", data={"action": "accept", "version": case.version,
                                                                  "csrf_token": csrf})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Case, case.id).status == "accepted"
    response = client.post(f"/cases/{case.number}/actions", data={"action": "accept", "csrf_token": csrf})
    # refused: the case page again, as it is now, with the reason (not a redirect that loses the form)
    assert response.status_code == 409 and 'class="flash error"' in response.get_data(as_text=True)


def test_every_action_in_the_table_leads_somewhere_valid():
    statuses = {"registered", "triage", "pending", "accepted", "suspended", "verifying", "closed"}
    for t in workflow.TRANSITIONS:
        assert t.from_statuses <= statuses and (t.to_status is None or t.to_status in statuses)
        assert "closed" not in t.from_statuses  # nothing leaves closed (reopening is a later stage)
        assert (t.outcome is not None) == (t.to_status == "closed")


def test_supervisor_triage_page_assigns_in_one_step(client, make_case, make_user, login):
    case = make_case(business={"name": "外地店", "address": "沈阳市和平区"}).case
    run_pending()
    csrf = login(client, make_user("supervisor"))
    page = client.get("/triage").get_data(as_text=True)
    assert case.number in page and "鞍山市以外" in page
    response = client.post(f"/cases/{case.number}/actions", data={
        "action": "assign", "bureau": "tiedong", "next": "triage", "csrf_token": csrf})
    assert response.status_code == 302 and response.headers["Location"].endswith("/triage")
    db.session.expire_all()
    assert db.session.get(Case, case.id).bureau.code == "tiedong"


def test_bureau_inbox_lists_due_first(client, routed, make_user, login):
    make, _, _ = routed
    first, second = make(), make()
    csrf = login(client, db.session.get(Case, first.id).assignee)  # noqa: F841
    page = client.get("/inbox").get_data(as_text=True)
    assert page.index(first.number) < page.index(second.number)


