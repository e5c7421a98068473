"""举报人信息保密 (Order 121 art. 37): a reporter's name and address are masked for everyone but the
handling bureau and the centre, in the API (one case, lists, callers), on the pages, and on a complaint
linked to the report; every unmasked view, the handler's and the supervisor's too, is in the access log."""
import json

import pytest
from sqlalchemy import select

from hotline.auth.models import AccessLog
from hotline.cases.confidential import mask_address
from hotline.cases.models import Case
from hotline.extensions import db
from hotline.outbox.relay import run_pending

NAME, PHONE = "李举报", "13900003333"
ADDRESS = "辽宁省鞍山市铁西区兴盛街道幸福小区3号楼2单元501"
MASKED_NAME, MASKED_ADDRESS = "李**", "辽宁省鞍山市铁西区****"
REPORTER = {"name": NAME, "phone": PHONE, "address": ADDRESS}
STATION = "ST-TD-01"

# role → (extra user fields, sees the reporter unmasked; None: may not open the case at all)
ROLES = {
    "operator": ({}, False),
    "station": ({"station": STATION}, False),
    "bureau_a": ({"bureau": "tiexi"}, True),  # the handling bureau (the business is in Tiexi)
    "bureau_b": ({"bureau": "tiedong"}, None),
    "supervisor": ({}, True),
    "admin": ({}, True),
}


def routed(make_case, **over):
    registered = make_case(**over)
    run_pending()
    db.session.expire_all()
    return registered


@pytest.fixture
def report(make_case):
    """A named report logged at a station (so the station's staff may open it), routed to Tiexi."""
    case = routed(make_case, kind="report", channel="station", station=STATION, consumer=REPORTER).case
    assert case.bureau.code == "tiexi"
    return case


@pytest.fixture
def users(make_user):
    made = {}
    for key, (extra, _sees) in ROLES.items():
        made[key] = make_user(key.split("_")[0], **extra)
    return made


def access_log() -> list[tuple[int, int]]:
    db.session.expire_all()
    return [(row.user_id, row.case_id) for row in db.session.scalars(select(AccessLog).order_by(AccessLog.id))]


def test_address_mask_keeps_only_the_administrative_part():
    assert mask_address(ADDRESS) == MASKED_ADDRESS
    assert mask_address("鞍山市铁东区园林小区3号楼") == "鞍山市铁东区****"
    assert mask_address("幸福小区3号楼") == "****"  # a 小区 is not a district
    assert mask_address("人民路88号") == "****"
    assert mask_address(None) is None and mask_address("") == ""


@pytest.mark.parametrize("role", ROLES)
def test_api_case_list_and_callers_per_role(role, client, report, users, token_for):
    user, sees = users[role], ROLES[role][1]
    headers = token_for(user)
    detail = client.get(f"/api/v1/cases/{report.number}", headers=headers)
    if sees is None:
        assert detail.status_code == 404
        assert client.get("/api/v1/cases?kind=report", headers=headers).get_json()["items"] == []
        assert access_log() == []
        return
    consumer = detail.get_json()["consumer"]
    expected = (NAME, ADDRESS) if sees else (MASKED_NAME, MASKED_ADDRESS)
    assert (consumer["name"], consumer["address"]) == expected
    assert consumer["confidential"] is True and consumer["phone"] == "139****3333"
    listed = client.get("/api/v1/cases?kind=report", headers=headers).get_json()["items"]
    assert [item["consumer"]["name"] for item in listed] == [expected[0]]
    callers = client.get(f"/api/v1/callers/{PHONE}", headers=headers).get_json()["items"]
    assert [item["consumer"]["name"] for item in callers] == [expected[0]]
    for body in (json.dumps(detail.get_json(), ensure_ascii=False), str(listed), str(callers)):
        assert (NAME in body) == sees and (sees or "幸福小区" not in body)  # summaries carry no address
    # one row per unmasked request (detail, list, callers); none for a masked view
    assert access_log() == ([(user.id, report.id)] * 3 if sees else [])


@pytest.mark.parametrize("role", ROLES)
def test_case_page_and_list_page_per_role(role, client, report, users, login):
    user, sees = users[role], ROLES[role][1]
    login(client, user)
    page = client.get(f"/cases/{report.number}")
    if sees is None:
        assert page.status_code == 404
        return
    text = page.get_data(as_text=True)
    assert (NAME in text) == sees and ("幸福小区" in text) == sees
    if not sees:
        assert MASKED_NAME in text and MASKED_ADDRESS in text
    assert 'class="muted confidential"' in text  # the page says why
    listing = client.get("/cases?kind=report").get_data(as_text=True)
    assert (NAME in listing) == sees and (MASKED_NAME in listing) != sees
    assert access_log() == ([(user.id, report.id)] * 2 if sees else [])


def test_complaint_from_the_same_call_masks_the_reporter(client, make_case, users, token_for, login):
    """A complaint that also reported a violation names the same person: its page and its JSON must
    not show them in full next to the link to their report."""
    registered = routed(make_case, consumer=REPORTER, also_report=True)
    complaint, linked = registered.case, registered.linked.case
    assert linked.kind == "report"
    for role in ("operator", "supervisor", "bureau_a"):
        user, sees = users[role], ROLES[role][1]
        detail = client.get(f"/api/v1/cases/{complaint.number}", headers=token_for(user)).get_json()
        assert [link["number"] for link in detail["links"]] == [linked.number]
        expected = (NAME, ADDRESS) if sees else (MASKED_NAME, MASKED_ADDRESS)
        assert (detail["consumer"]["name"], detail["consumer"]["address"]) == expected, role
        csrf = login(client, user)
        text = client.get(f"/cases/{complaint.number}").get_data(as_text=True)
        assert (NAME in text) == sees and ("幸福小区" in text) == sees, role
        client.post("/logout", data={"csrf_token": csrf})
    log = access_log()
    assert all(case_id == complaint.id for _user, case_id in log)
    assert {user_id for user_id, _case in log} == {users["supervisor"].id, users["bureau_a"].id}


def test_a_complaint_of_its_own_is_not_confidential(client, make_case, users, token_for):
    complaint = routed(make_case, consumer={"name": "张三", "phone": "13900001111", "address": ADDRESS}).case
    consumer = client.get(f"/api/v1/cases/{complaint.number}", headers=token_for(users["operator"])).get_json()[
        "consumer"]
    assert (consumer["name"], consumer["address"], consumer["confidential"]) == ("张三", ADDRESS, False)
    client.get(f"/api/v1/cases/{complaint.number}", headers=token_for(users["supervisor"]))
    assert access_log() == []  # nothing confidential was shown


def test_action_answer_of_the_handler_is_logged_too(client, report, users, token_for):
    handler = users["bureau_a"]
    response = client.post(f"/api/v1/cases/{report.number}/actions", json={"action": "start_verification"},
                           headers=token_for(handler))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["consumer"]["name"] == NAME
    assert access_log() == [(handler.id, report.id)]


def test_view_is_withheld_when_the_access_log_cannot_be_written(client, report, users, token_for, monkeypatch):
    """No unmasked view goes unrecorded: if the log cannot be written, the answer is a 503."""
    from hotline.cases import confidential

    def broken(_rows):
        raise RuntimeError("disk full")
    monkeypatch.setattr(confidential.db.session, "add_all", broken)
    response = client.get(f"/api/v1/cases/{report.number}", headers=token_for(users["supervisor"]))
    assert response.status_code == 503 and NAME not in response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] == "unavailable"
    assert db.session.get(Case, report.id) is not None


def test_exports_show_the_reporter_only_to_whom_they_may_and_log_each_case(client, report, users, login):
    """The statistics drill-down's export streams its rows after the response started: its unmasked
    views are written when the download ends."""
    from hotline.stats.refresh import drain
    drain()
    for role in ("supervisor", "bureau_a"):
        user = users[role]
        csrf = login(client, user)
        response = client.get("/stats/export/cases.csv?figure=received")
        text = response.get_data(as_text=True)
        assert response.status_code == 200 and report.number in text, text[:300]
        assert NAME in text
        client.post("/logout", data={"csrf_token": csrf})
    assert access_log() == [(users["supervisor"].id, report.id), (users["bureau_a"].id, report.id)]
