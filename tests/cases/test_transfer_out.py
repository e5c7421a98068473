"""移送 (issue #7, missing step 7): a case for another city goes to that city's 12315 or the national
platform, named, closed here with outcome `transferred`, and the consumer hears where it went."""
import re

import pytest
from sqlalchemy import select

from hotline.cases.models import Case, CaseEvent
from hotline.extensions import db
from hotline.outbox.relay import run_pending
from hotline.sms.models import SmsMessage
from hotline.sms.operations import TEMPLATES


@pytest.fixture
def out_of_city(make_case):
    """A complaint about a Shenyang shop: routing sends it to triage."""
    def make(**over):
        case = make_case(business={"name": "外地店", "address": "辽宁省沈阳市和平区太原街1号"}, **over).case
        run_pending()
        db.session.expire_all()
        assert case.status == "triage"
        return case
    return make


def act(client, number, headers, **body):
    return client.post(f"/api/v1/cases/{number}/actions", json=body, headers=headers)


def test_supervisor_transfers_a_triage_case_out_of_the_city(client, out_of_city, make_user, token_for):
    case = out_of_city()
    body = act(client, case.number, token_for(make_user("supervisor")), action="transfer_out",
               receiver="沈阳市12315", note="经营者在沈阳").get_json()
    assert (body["status"], body["outcome"]) == ("closed", "transferred")
    assert body["events"][-1]["action"] == "transfer_out"
    db.session.expire_all()
    assert db.session.get(Case, case.id).transferred_to == "沈阳市12315"
    event = db.session.scalar(select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.action == "transfer_out"))
    assert event.data["receiver"] == "沈阳市12315" and event.note == "经营者在沈阳"
    assert all(d["met_at"] for d in body["deadlines"])  # the triage day is met: nothing runs any more
    sms = db.session.scalar(select(SmsMessage).where(SmsMessage.case_id == case.id,
                                                     SmsMessage.template_code == "CASE_TRANSFERRED"))
    assert sms.params["receiver"] == "沈阳市12315" and sms.to_phone == "13900001111"
    assert "已移送沈阳市12315" in TEMPLATES["CASE_TRANSFERRED"].format(**sms.params)


def test_transfer_needs_the_receiver_and_the_centre(client, out_of_city, make_user, token_for):
    case = out_of_city()
    supervisor = token_for(make_user("supervisor"))
    response = act(client, case.number, supervisor, action="transfer_out")
    assert response.status_code == 422 and "receiver" in response.get_json()["error"]["fields"]
    assert act(client, case.number, supervisor, action="transfer_out", receiver="x" * 129).status_code == 422
    assert act(client, case.number, token_for(make_user("operator")), action="transfer_out",
               receiver="全国12315平台").status_code == 403  # the centre's decision
    db.session.expire_all()
    assert db.session.get(Case, case.id).status == "triage"


def test_a_case_at_a_bureau_is_not_transferred_out(client, make_case, make_user, token_for):
    case = make_case().case
    run_pending()
    db.session.expire_all()
    assert case.status == "pending"
    response = act(client, case.number, token_for(make_user("supervisor")), action="transfer_out",
                   receiver="沈阳市12315")
    assert response.status_code == 409  # a bureau returns it to the centre first


def test_anonymous_report_transferred_without_sms(client, out_of_city, make_user, token_for):
    case = out_of_city(kind="report", consumer={"anonymous": True})
    body = act(client, case.number, token_for(make_user("supervisor")), action="transfer_out",
               receiver="全国12315平台").get_json()
    assert body["outcome"] == "transferred" and body["messages"] == []


def test_transfer_out_is_in_the_openapi_document(client):
    action_in = client.get("/api/openapi.json").get_json()["components"]["schemas"]["ActionIn"]
    assert "transfer_out" in action_in["properties"]["action"]["enum"]
    assert {"receiver", "confirm"} <= set(action_in["properties"])


def test_triage_page_transfers_a_row_in_one_step(client, out_of_city, make_user, login):
    case = out_of_city()
    csrf = login(client, make_user("supervisor"))
    page = client.get("/triage").get_data(as_text=True)
    row = page[page.index(f"/cases/{case.number}"):]
    row = row[:row.index("</tr>")]
    assert 'value="transfer_out"' in row and 'name="receiver"' in row and "移送" in row
    response = client.post(f"/cases/{case.number}/actions", data={
        "action": "transfer_out", "receiver": "沈阳市12315", "next": "triage", "version": case.version,
        "csrf_token": csrf})
    assert response.status_code == 302 and response.headers["Location"].endswith("/triage")
    page = client.get("/triage").get_data(as_text=True)
    assert "已移送沈阳市12315，本件在本市办结。已短信告知消费者。" in page
    assert f"/cases/{case.number}" not in page.split("</h1>", 1)[1].split("</table>")[0]  # gone from the queue
    shown = client.get(f"/cases/{case.number}").get_data(as_text=True)
    assert "已移送" in shown and "移送至沈阳市12315" in shown  # outcome and the timeline entry


def test_a_refused_transfer_from_triage_keeps_what_was_typed(client, out_of_city, make_user, login):
    case = out_of_city()
    csrf = login(client, make_user("supervisor"))
    typed = "沈阳市和平区市场监督管理局12315" * 8  # too long for the receiver field
    response = client.post(f"/cases/{case.number}/actions", data={
        "action": "transfer_out", "receiver": typed, "next": "triage", "version": case.version, "csrf_token": csrf})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'value="{typed}"' in page and re.search(r'name="next" value="triage"', page)
    assert re.search(r'<details class="action-transfer_out" open>', page)


def test_triage_cells_name_their_columns_for_the_phone_layout(client, out_of_city, make_user, login):
    """At 390 px a table stacks into cards; each cell carries its column's name (data-label)."""
    out_of_city()
    login(client, make_user("supervisor"))
    page = client.get("/triage").get_data(as_text=True)
    headers = re.findall(r"<th>(.*?)</th>", page)
    body = page[page.index("<tbody>"):page.index("</tbody>")]
    [row] = re.findall(r"<tr.*?</tr>", body, re.S)
    assert re.findall(r'<td data-label="([^"]+)"', row) == headers and row.count("<td") == len(headers)
