"""Case workflow in a real browser (Debian's Chromium, Playwright) against a `hotline run` server:
a supervisor transfers an out-of-city case from triage, and a handler's extension request is approved
from the supervisors' queue (issue #7, missing steps 7 and 8)."""
import json
import os
import re
import time
import urllib.request
from pathlib import Path

import pytest

from hotline.testing import LocalHotline

PASSWORD = "Browser-pass-2026"
pytestmark = pytest.mark.browser


def _api(base: str, token: str, path: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(base + "/api/v1" + path, method="POST" if body else "GET",
                                     data=json.dumps(body).encode() if body else None,
                                     headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    return json.load(urllib.request.urlopen(request, timeout=10))


def _routed(base: str, token: str, number: str) -> dict:
    """The case once the server's relay has routed it (routing runs in-process after commit)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        case = _api(base, token, f"/cases/{number}")
        if case["status"] != "registered":
            return case
        time.sleep(0.2)
    raise AssertionError(f"{number} was not routed")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    local = LocalHotline(tmp_path_factory.mktemp("workflow"), secret="workflow-browser-test")
    local.cli("init")
    for name, args in (("chief", ["--role", "supervisor", "--display-name", "赵主任"]),
                       ("handler", ["--role", "bureau", "--bureau", "tiexi", "--display-name", "李承办"])):
        local.cli("users", "create", name, *args, stdin=f"{PASSWORD}\n{PASSWORD}\n")
    token = local.cli("tokens", "create", "chief").strip()
    base = local.start()
    outside = _api(base, token, "/cases", {
        "kind": "complaint", "channel": "phone", "consumer": {"name": "王先生", "phone": "13812345678"},
        "business": {"name": "沈阳某某电器城", "address": "辽宁省沈阳市和平区太原街1号"},
        "subject": "网购空调不安装", "amount": "3999.00"})["number"]
    report = _api(base, token, "/cases", {
        "kind": "report", "channel": "phone", "consumer": {"name": "刘女士", "phone": "13912345678"},
        "business": {"name": "鞍山某某药房", "address": "辽宁省鞍山市铁西区兴盛街道人民路88号"},
        "subject": "药房无证销售处方药"})["number"]
    assert _routed(base, token, outside)["status"] == "triage"
    assert _routed(base, token, report)["status"] == "pending"
    yield base, token, outside, report
    local.stop()


def _log_in(browser, base: str, username: str):
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page.goto(base + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/login" not in url)
    return page


def _screenshot(page, name: str) -> None:
    if os.environ.get("HOTLINE_SCREENSHOT_DIR"):
        page.screenshot(path=str(Path(os.environ["HOTLINE_SCREENSHOT_DIR"]) / name), full_page=True)


def test_supervisor_transfers_an_out_of_city_case_from_triage(server, browser):
    base, token, outside, _ = server
    page = _log_in(browser, base, "chief")
    page.goto(base + "/triage")
    row = page.locator("tr", has=page.locator(f"a[href='/cases/{outside}']"))
    assert "鞍山市以外" in row.inner_text()  # why it is here
    _screenshot(page, "triage.png")
    row.locator("input[name=receiver]").fill("沈阳市12315")
    row.get_by_role("button", name="移送").click()
    page.wait_for_selector(".flash.ok")
    assert page.url.endswith("/triage")
    assert "已移送沈阳市12315，本件在本市办结。已短信告知消费者。" in page.inner_text(".flash.ok")
    assert page.locator(f"a[href='/cases/{outside}']").count() == 0
    case = _api(base, token, f"/cases/{outside}")
    assert (case["status"], case["outcome"]) == ("closed", "transferred")
    assert case["messages"][-1]["kind"] == "closure"
    page.goto(base + f"/cases/{outside}")
    assert "移送至沈阳市12315" in page.inner_text("ol.timeline")
    page.close()


def test_extension_requested_by_the_handler_and_approved_by_the_centre(server, browser):
    base, token, _, report = server
    handler = _log_in(browser, base, "handler")
    handler.goto(base + f"/cases/{report}")
    handler.click("details.action-start_verification button[type=submit]")
    handler.wait_for_selector(".flash.ok")
    assert "已开始核查。举报核查期限" in handler.inner_text(".flash.ok")
    due_before = re.search(r"举报核查: (\d{4}-\d{2}-\d{2})", handler.inner_text("ul.deadlines")).group(1)
    request = handler.locator("details.action-request_extension")
    assert request.evaluate("d => !d.open")  # the decision (file a case) greets the handler, not this
    request.locator("summary").click()
    assert "申请延期（15 个工作日）" in request.locator("summary").inner_text()
    request.locator("textarea[name=reason]").fill("需调取药品进货台账，涉及外省供货商")
    request.locator("button[type=submit]").click()
    handler.wait_for_selector(".flash.ok")
    assert "已提交延期申请，由指挥中心审批。" in handler.inner_text(".flash.ok")
    assert handler.locator("details.action-request_extension").count() == 0  # asked once: not offered again

    chief = _log_in(browser, base, "chief")
    link = chief.get_by_role("link", name=re.compile("延期审批"))
    assert link.locator(".badge").inner_text() == "1"
    link.click()
    row = chief.locator("tr", has=chief.locator(f"a[href='/cases/{report}']"))
    cells = row.inner_text()
    assert "铁西" in cells and "李承办" in cells and "需调取药品进货台账" in cells and due_before in cells
    _screenshot(chief, "extensions.png")
    row.get_by_role("button", name="批准", exact=True).click()
    chief.wait_for_selector(".flash.ok")
    assert "延长 15 个工作日" in chief.inner_text(".flash.ok") and "已通知承办人" in chief.inner_text(".flash.ok")
    assert chief.locator(f"a[href='/cases/{report}']").count() == 0
    assert chief.get_by_role("link", name=re.compile("延期审批")).locator(".badge").count() == 0

    handler.goto(base + f"/cases/{report}")
    deadlines = handler.inner_text("ul.deadlines")
    due_after = re.search(r"举报核查: (\d{4}-\d{2}-\d{2})", deadlines).group(1)
    assert due_after > due_before and "已延长 15 个工作日" in deadlines
    assert "批准延期" in handler.inner_text("ol.timeline")
    _screenshot(handler, "case-report.png")
    assert handler.locator("details.action-request_extension").count() == 0
    handler.goto(base + "/notices")
    assert "延期已批准" in handler.inner_text("main")
    handler.close()
    chief.close()
