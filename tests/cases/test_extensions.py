"""延期申请 (issue #7, missing step 8): the handler asks, the centre approves or refuses, once only."""
import re

import pytest
from sqlalchemy import func, select

from hotline.cases.models import Case, CaseEvent
from hotline.deadlines.display import last_day
from hotline.deadlines.models import CaseClock, ExtensionRequest, Notification
from hotline.extensions import db
from hotline.outbox.relay import run_pending


@pytest.fixture
def report(make_case, make_user, token_for):
    """A named report at 铁西, verifying; its handler, the handler's and a supervisor's API headers."""
    handler = make_user("bureau", bureau="tiexi", username="handler")
    supervisor = make_user("supervisor", username="chief")
    bureau_headers, supervisor_headers = token_for(handler), token_for(supervisor)

    def make(start=True):
        case = make_case(kind="report", subject="无证经营").case
        run_pending()
        if start:
            assert act_on(case, bureau_headers, action="start_verification").status_code == 200
        db.session.expire_all()
        return case
    return make, handler, supervisor, bureau_headers, supervisor_headers


_client = {}


@pytest.fixture(autouse=True)
def _remember_client(client):
    _client["c"] = client


def act_on(case, headers, **body):
    return _client["c"].post(f"/api/v1/cases/{case.number}/actions", json=body, headers=headers)


def verification(case) -> CaseClock:
    db.session.expire_all()
    return db.session.scalar(select(CaseClock).where(CaseClock.case_id == case.id,
                                                     CaseClock.clock == "report_verification"))


def requests_of(case) -> list[ExtensionRequest]:
    return list(db.session.scalars(select(ExtensionRequest).where(ExtensionRequest.case_id == case.id)
                                   .order_by(ExtensionRequest.id)))


def test_request_then_approval_extends_once(report):
    make, handler, supervisor, bureau, centre = report
    case = make()
    due_before = verification(case).due_at
    assert act_on(case, bureau, action="request_extension").status_code == 422  # the reason is required
    body = act_on(case, bureau, action="request_extension", reason="需调取银行流水").get_json()
    assert body["status"] == "verifying" and body["events"][-1]["action"] == "request_extension"
    [request] = requests_of(case)
    assert (request.status, request.reason, request.requested_by_id) == ("pending", "需调取银行流水", handler.id)
    assert verification(case).due_at == due_before  # nothing moves until the centre decides
    assert act_on(case, bureau, action="request_extension", reason="again").status_code == 409  # one pending
    assert act_on(case, centre, action="extend", reason="直接延期").status_code == 409  # decide the request instead
    body = act_on(case, centre, action="approve_extension", note="同意").get_json()
    assert [e["action"] for e in body["events"]][-2:] == ["request_extension", "approve_extension"]
    clock = verification(case)
    assert clock.extended_days == 15 and (clock.due_at - due_before).days >= 15
    assert requests_of(case)[0].status == "approved" and requests_of(case)[0].decided_by_id == supervisor.id
    notice = db.session.scalar(select(Notification).where(Notification.case_id == case.id))
    assert (notice.kind, notice.user_id, notice.due_at) == ("ext_approved", handler.id, clock.due_at)
    # once used, never again: neither a request nor the centre's direct extension
    response = act_on(case, bureau, action="request_extension", reason="再延")
    assert response.status_code == 409 and "一次" in response.get_json()["error"]["message"]
    assert act_on(case, centre, action="extend", reason="再延").status_code == 409
    assert act_on(case, centre, action="approve_extension").status_code == 409


def test_refusal_needs_a_reason_and_the_handler_may_ask_again(report):
    make, handler, _, bureau, centre = report
    case = make()
    due_before = verification(case).due_at
    act_on(case, bureau, action="request_extension", reason="证据需鉴定")
    response = act_on(case, centre, action="refuse_extension")
    assert response.status_code == 422 and "reason" in response.get_json()["error"]["fields"]
    body = act_on(case, centre, action="refuse_extension", reason="期限内可完成").get_json()
    assert body["events"][-1]["action"] == "refuse_extension" and body["events"][-1]["reason"] == "期限内可完成"
    [request] = requests_of(case)
    assert (request.status, request.decision_note) == ("refused", "期限内可完成")
    assert verification(case).due_at == due_before and not verification(case).extended_days
    notice = db.session.scalar(select(Notification).where(Notification.case_id == case.id))
    assert (notice.kind, notice.user_id) == ("ext_refused", handler.id)
    # a refusal does not use the one extension: asked again, refused again, one notice refreshed
    act_on(case, bureau, action="request_extension", reason="新情况")
    assert act_on(case, centre, action="refuse_extension", reason="仍可完成").status_code == 200
    assert db.session.scalar(select(func.count(Notification.id)).where(Notification.case_id == case.id)) == 1


def test_only_the_handling_bureau_asks_and_only_the_centre_decides(report, make_user, token_for):
    make, _, _, bureau, centre = report
    case = make()
    other_bureau = token_for(make_user("bureau", bureau="tiedong"))
    assert act_on(case, other_bureau, action="request_extension", reason="x").status_code == 404
    assert act_on(case, centre, action="request_extension", reason="x").status_code == 403  # the centre extends
    act_on(case, bureau, action="request_extension", reason="需要时间")
    assert act_on(case, bureau, action="approve_extension").status_code == 403  # a role's refusal (issue #12)
    assert act_on(case, token_for(make_user("operator")), action="approve_extension").status_code == 403


def test_a_complaint_has_no_extension(report, make_case):
    _, _, _, bureau, _ = report
    case = make_case().case
    run_pending()
    assert act_on(case, bureau, action="request_extension", reason="x").status_code == 409


def test_closing_the_report_lapses_its_pending_request(report):
    make, _, _, bureau, centre = report
    case = make()
    act_on(case, bureau, action="request_extension", reason="需要时间")
    act_on(case, bureau, action="file_case")
    assert requests_of(case)[0].status == "lapsed"
    assert act_on(case, centre, action="approve_extension").status_code == 409


def test_the_queue_lists_requests_and_approves_from_the_page(report, client, login, make_user, monkeypatch, app):
    make, handler, supervisor, bureau, _ = report
    first, second = make(), make()
    for case in (first, second):
        act_on(case, bureau, action="request_extension", reason=f"需要调查 {case.number[-3:]}")
    monkeypatch.setitem(app.config, "PER_PAGE", 1)
    csrf = login(client, supervisor)
    page = client.get("/extensions").get_data(as_text=True)
    assert re.search(r'延期审批\s*<span class="badge">2</span>', page)  # the header's count
    assert "2 件待审批" in page and "第 1 页，共 2 页" in page
    clock = verification(first)
    row = page[page.index("<tbody>"):page.index("</tbody>")]
    assert f"/cases/{first.number}" in row and second.number not in row  # the oldest request first
    assert "铁西" in row and handler.display_name in row and f"需要调查 {first.number[-3:]}" in row
    assert last_day(clock.due_at).isoformat() in row  # the due date now, as its last day
    assert 'value="approve_extension"' in row and 'value="refuse_extension"' in row
    assert f'href="/cases/{second.number}"' in client.get("/extensions?page=2").get_data(as_text=True)
    response = client.post(f"/cases/{first.number}/actions", data={
        "action": "approve_extension", "next": "extensions", "version": first.version, "csrf_token": csrf})
    assert response.status_code == 302 and response.headers["Location"].endswith("/extensions")
    page = client.get("/extensions").get_data(as_text=True)
    extended = verification(first)
    assert f"延期：延长 15 个工作日。举报核查期限 {last_day(extended.due_at).isoformat()}；已通知承办人。" in page
    assert "1 件待审批" in page
    # approved: the handler sees it on the timeline and in the notices
    login(client, handler)
    assert "延期已批准" in client.get("/notices").get_data(as_text=True)
    shown = client.get(f"/cases/{first.number}").get_data(as_text=True)
    assert "批准延期" in shown and "（已延长 15 个工作日）" in shown


def test_refusing_on_the_page_needs_a_reason_and_keeps_the_queue(report, client, login):
    make, _, supervisor, bureau, _ = report
    case = make()
    act_on(case, bureau, action="request_extension", reason="需要时间")
    csrf = login(client, supervisor)
    response = client.post(f"/cases/{case.number}/actions", data={
        "action": "refuse_extension", "next": "extensions", "version": case.version, "csrf_token": csrf})
    assert response.status_code == 422 and "理由: 必填" in response.get_data(as_text=True).replace("：", ": ")
    response = client.post(f"/cases/{case.number}/actions", data={
        "action": "refuse_extension", "reason": "材料齐全，期限内可完成", "next": "extensions", "version": case.version,
        "csrf_token": csrf}, follow_redirects=True)
    assert "不予延期。" in response.get_data(as_text=True) and "0 件待审批" in response.get_data(as_text=True)


def test_case_page_offers_each_step_only_while_it_fits(report, client, login, make_user):
    make, handler, supervisor, bureau, _ = report
    case = make()
    login(client, handler)
    page = client.get(f"/cases/{case.number}").get_data(as_text=True)
    assert 'value="request_extension"' in page and "申请延期（15 个工作日）" in page
    csrf = login(client, handler)
    client.post(f"/cases/{case.number}/actions", data={"action": "request_extension", "reason": "需调取监控",
                                                       "version": case.version, "csrf_token": csrf})
    page = client.get(f"/cases/{case.number}").get_data(as_text=True)
    assert 'value="request_extension"' not in page and "已申请延期，待指挥中心审批" in page
    login(client, supervisor)
    page = client.get(f"/cases/{case.number}").get_data(as_text=True)
    assert 'value="approve_extension"' in page and 'value="refuse_extension"' in page
    assert 'value="extend"' not in page
    act_on(case, report[4], action="approve_extension")
    page = client.get(f"/cases/{case.number}").get_data(as_text=True)
    assert not re.search(r'value="(extend|approve_extension|request_extension)"', page)


def test_supervisor_extends_directly_with_working_days_in_the_label(report, client, login):
    make, _, supervisor, _, centre = report
    case = make()
    login(client, supervisor)
    page = client.get(f"/cases/{case.number}").get_data(as_text=True)
    assert "延长核查期限（15 个工作日）" in page and "+15 days" not in page
    assert act_on(case, centre, action="extend", reason="案情复杂").status_code == 200
    assert db.session.scalar(select(func.count(CaseEvent.id)).where(CaseEvent.case_id == case.id,
                                                                   CaseEvent.action == "extend")) == 1
    assert db.session.get(Case, case.id).status == "verifying"


def test_queue_cells_name_their_columns_for_the_phone_layout(report, client, login):
    make, _, supervisor, bureau, _ = report
    act_on(make(), bureau, action="request_extension", reason="需要时间")
    login(client, supervisor)
    page = client.get("/extensions").get_data(as_text=True)
    headers = re.findall(r"<th>(.*?)</th>", page)
    body = page[page.index("<tbody>"):page.index("</tbody>")]
    [row] = re.findall(r"<tr.*?</tr>", body, re.S)
    assert re.findall(r'<td data-label="([^"]+)"', row) == headers and row.count("<td") == len(headers)


def test_a_huge_page_of_the_extension_queue_is_a_400_and_a_deep_one_the_last_page(client, login, make_user):
    login(client, make_user("supervisor"))
    assert client.get("/extensions?page=99999999999999999999").status_code == 400
    assert client.get("/extensions?page=100000").status_code == 200


def test_an_approved_extension_earns_a_fresh_reminder_and_escalation(report):
    """Handlers ask near the deadline, after the reminder went out: the new due date must be swept again,
    or a missed extended deadline would never be escalated."""
    make, handler, supervisor, bureau, centre = report
    case = make()
    clock = verification(case)
    clock.reminded_at = clock.escalated_at = clock.started_at
    db.session.commit()
    act_on(case, bureau, action="request_extension", reason="需调取银行流水")
    assert act_on(case, centre, action="approve_extension", note="同意" * 300).status_code == 200  # a long note too
    clock = verification(case)
    assert clock.extended_days and clock.reminded_at is None and clock.escalated_at is None
    assert len(requests_of(case)[-1].decision_note) == 500
