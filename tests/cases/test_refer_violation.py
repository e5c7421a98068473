"""调解中发现违法线索 (Order 121 art. 27, issue #8): a violation found while mediating opens a linked report
of the same bureau, already verifying, with its own 15 working days (+15 once, approved)."""
import re

import pytest
from flask import current_app
from sqlalchemy import select

from hotline.cases.models import Case, CaseEvent
from hotline.deadlines import calendar
from hotline.deadlines.models import CaseClock
from hotline.deadlines.operations import calendar_overrides
from hotline.extensions import db
from hotline.outbox.relay import run_pending
from hotline.sms.models import SmsMessage

FINDING = "经营者销售的电热水壶无3C认证标志"


@pytest.fixture
def accepted(make_case, make_user, token_for, client):
    handler = make_user("bureau", bureau="tiexi", username="handler")
    headers = token_for(handler)

    def make(**over):
        case = make_case(**over).case
        run_pending()
        db.session.expire_all()
        assert act(client, case, headers, action="accept").status_code == 200
        db.session.expire_all()
        return db.session.get(Case, case.id)
    return make, handler, headers


def act(client, case, headers, **body):
    return client.post(f"/api/v1/cases/{case.number}/actions", json=body, headers=headers)


def clock_of(case_id, name) -> CaseClock | None:
    db.session.expire_all()
    return db.session.scalar(select(CaseClock).where(CaseClock.case_id == case_id, CaseClock.clock == name))


def refer(client, case, headers):
    body = act(client, case, headers, action="refer_violation", note=FINDING).get_json()
    [link] = [link for link in body["links"] if link["relation"] == "violation"]
    return body, db.session.scalar(select(Case).where(Case.number == link["number"]))


def test_refer_opens_a_linked_report_already_verifying_with_its_own_clock(client, accepted):
    make, handler, headers = accepted
    complaint = make()
    mediation_due = clock_of(complaint.id, "mediation").due_at
    response = act(client, complaint, headers, action="refer_violation")
    assert response.status_code == 422 and "note" in response.get_json()["error"]["fields"]  # the finding
    body, report = refer(client, complaint, headers)
    assert body["status"] == "accepted" and body["events"][-1]["action"] == "refer_violation"
    assert body["events"][-1]["note"] == FINDING
    assert body["links"] == [{"number": report.number, "kind": "report", "relation": "violation"}]
    assert (report.kind, report.status, report.bureau_id, report.assignee_id) == (
        "report", "verifying", complaint.bureau_id, handler.id)
    assert (report.business_name, report.description) == (complaint.business_name, FINDING)
    assert clock_of(complaint.id, "mediation").due_at == mediation_due  # the mediation goes on as it was
    clock = clock_of(report.id, "violation_verification")
    assert (clock.length, clock.unit, clock.extended_days, clock.rule_version) == (15, "working", 0, "order-121")
    _, due, _ = calendar.due_at(clock.started_at, 15, current_app.config["TIMEZONE"], calendar_overrides(),
                                "working")
    assert clock.due_at == due
    assert clock_of(report.id, "report_verification") is None  # its own clock, not a reporter's
    # the report, through the API: linked back, its clock listed; nobody is sent a receipt for it
    detail = client.get(f"/api/v1/cases/{report.number}", headers=headers).get_json()
    assert detail["links"] == [{"number": complaint.number, "kind": "complaint", "relation": "violation"}]
    assert [d["clock"] for d in detail["deadlines"]] == ["violation_verification"]
    assert [e["action"] for e in detail["events"]] == ["refer_violation"]
    assert db.session.scalar(select(SmsMessage).where(SmsMessage.case_id == report.id)) is None


def test_the_violation_clock_is_extended_once_through_the_extension_request(client, accepted, make_user,
                                                                           token_for):
    make, _handler, headers = accepted
    _body, report = refer(client, make(), headers)
    due = clock_of(report.id, "violation_verification").due_at
    assert act(client, report, headers, action="request_extension", reason="需抽样检验").status_code == 200
    centre = token_for(make_user("supervisor"))
    assert act(client, report, centre, action="approve_extension").status_code == 200
    clock = clock_of(report.id, "violation_verification")
    assert clock.extended_days == 15 and clock.due_at > due
    assert act(client, report, headers, action="request_extension", reason="再延").status_code == 409  # once
    body = act(client, report, headers, action="file_case", note="立案").get_json()
    assert (body["status"], body["outcome"]) == ("closed", "case_filed")
    assert clock_of(report.id, "violation_verification").met_at is not None


def test_refer_only_during_mediation_and_by_the_handlers(client, accepted, make_case, make_user, token_for):
    make, _handler, headers = accepted
    pending = make_case().case
    run_pending()
    assert act(client, pending, headers, action="refer_violation", note=FINDING).status_code == 409
    complaint = make()
    assert act(client, complaint, token_for(make_user("operator")), action="refer_violation",
               note=FINDING).status_code == 403
    assert act(client, complaint, headers, action="suspend", reason="testing").status_code == 200
    body, report = refer(client, complaint, headers)  # a suspended mediation may find one too
    assert body["status"] == "suspended" and report.status == "verifying"


def test_case_page_offers_it_and_links_both_ways(client, accepted, login):
    make, handler, _headers = accepted
    complaint = make()
    csrf = login(client, handler)
    page = client.get(f"/cases/{complaint.number}").get_data(as_text=True)
    assert 'class="action-refer_violation"' in page and "发现的违法线索" in page
    response = client.post(f"/cases/{complaint.number}/actions", data={
        "csrf_token": csrf, "version": complaint.version, "action": "refer_violation", "note": FINDING})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    event = db.session.scalar(select(CaseEvent).where(CaseEvent.case_id == complaint.id,
                                                      CaseEvent.action == "refer_violation"))
    number = event.data["report"]
    grouped = f"{number[:4]} {number[4:8]} {number[8:12]} {number[12:]}"
    flash = " ".join(re.findall(r'<p class="flash ok">(.*?)</p>', page))
    assert f"本局已生成举报 {grouped}" in flash and "调解中发现违法线索的核查期限" in flash
    linked = page[page.index("关联工单"):page.index("<aside>")]
    assert f'href="/cases/{number}"' in linked and "调解中发现违法线索" in linked
    report_page = client.get(f"/cases/{number}").get_data(as_text=True)
    assert f'href="/cases/{complaint.number}"' in report_page and "核查中" in report_page
    assert "调解中发现违法线索的核查" in report_page  # its clock in the deadlines
