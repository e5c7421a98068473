"""A consumer submits a complaint with a photo from a phone (390 px, Debian's Chromium, Playwright)
against a `hotline run` server: the form, the summary with the SMS code, the receipt with the case
number and query code; then looks the case up with them (issue #10, must-show 1). With
HOTLINE_SCREENSHOT_DIR set, the submit and receipt pages are saved as submit-390.png and receipt-390.png."""
import io
import json
import os
import re
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from PIL import Image

from hotline import PROJECT_ROOT
from hotline.sms.gateways.base import DeliveryStatus, SendResult
from hotline.testing import LocalHotline

pytestmark = pytest.mark.browser
PHONE = "13912345678"


class CodeRecorder:
    """An SMS gateway for this test's server: it writes each message with its parameters to a file, as
    the consumer's phone would receive it (the log backend keeps no code once a message has left)."""

    name = "recorder"

    def __init__(self, config=None):
        self.path = Path(os.environ["HOTLINE_TEST_SMS_RECORD"])

    def send(self, phone, template_code, params, out_id):
        with open(self.path, "a") as record:
            record.write(json.dumps({"phone": phone, "template": template_code, "params": params}) + "\n")
        return SendResult(f"recorder-{out_id}")

    def query(self, phone, out_id, sent_on, gateway_id):
        return DeliveryStatus("unknown")


def received(path: Path, template: str, timeout: float = 15) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            found = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
            found = [m for m in found if m["template"] == template]
            if found:
                return found[-1]
        time.sleep(0.1)
    pytest.fail(f"no {template} SMS within {timeout} s")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("portal")
    local = LocalHotline(folder, secret="portal-browser-test")
    record = folder / "sms.jsonl"
    local.env.update(HOTLINE_SMS_BACKEND="tests.browser.test_portal_browser:CodeRecorder",
                     HOTLINE_TEST_SMS_RECORD=str(record), HOTLINE_STORAGE_DIR=str(folder / "evidence"),
                     PYTHONPATH=os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])))
    local.cli("init")
    local.cli("users", "create", "handler", "--role", "bureau", "--bureau", "tiexi", stdin="Handler-pass-2026\n" * 2)
    token = local.cli("tokens", "create", "handler").strip()
    base = local.start()
    yield base, record, folder / "evidence", token
    local.stop()


@pytest.fixture(scope="module")
def axe():
    from axe_playwright_python.sync_playwright import Axe
    return Axe()


def _checked(page, axe) -> None:
    """No serious or critical axe-core violation, and nothing wider than the phone's screen."""
    bad = [(v["id"], [n["target"] for n in v["nodes"][:2]]) for v in axe.run(page).response["violations"]
           if v["impact"] in ("serious", "critical")]
    assert not bad, f"{page.url}: {bad}"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, f"{page.url} scrolls sideways"


def _screenshot(page, name: str) -> None:
    if os.environ.get("HOTLINE_SCREENSHOT_DIR"):
        page.screenshot(path=str(Path(os.environ["HOTLINE_SCREENSHOT_DIR"]) / name), full_page=True)


def _photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (180, 40, 40)).save(out, "JPEG")
    return out.getvalue()


def test_a_consumer_submits_a_complaint_with_a_photo_and_gets_the_number_and_code(server, browser, axe):
    base, record, evidence_folder, token = server
    page = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN", device_scale_factor=2,
                            is_mobile=True, has_touch=True)
    page.goto(base + "/submit")
    assert page.locator("input[name=kind][value=complaint]").is_checked()  # a complaint unless chosen otherwise
    page.get_by_label("姓名", exact=True).fill("李四")
    page.get_by_label("手机号码", exact=True).fill(PHONE)
    page.get_by_label("通讯地址", exact=True).fill("鞍山市铁西区人民路1号")
    page.get_by_label("经营者名称", exact=True).fill("鞍山某电器商店")
    page.get_by_label("经营者地址", exact=True).fill("辽宁省鞍山市铁西区兴盛街道人民路88号")
    page.get_by_label("一句话概括", exact=True).fill("新买的手机开不了机")
    page.get_by_label("事情经过", exact=True).fill("11月1日在店里买的手机，第二天开不了机，商店拒绝退货。")
    page.get_by_label("投诉请求", exact=True).fill("退货退款")
    page.get_by_label("涉及金额（元）", exact=True).fill("2999")
    page.get_by_label("照片、票据、合同、录音录像", exact=True).set_input_files(
        files=[{"name": "发票.jpg", "mimeType": "image/jpeg", "buffer": _photo()}])
    _checked(page, axe)
    _screenshot(page, "submit-390.png")
    page.get_by_role("button", name="下一步：核对并提交").click()

    page.wait_for_selector(".submit-summary")
    summary = page.inner_text(".submit-summary")
    assert "新买的手机开不了机" in summary and "发票.jpg" in summary and "139****5678" in summary
    _checked(page, axe)
    code = received(record, "SUBMIT_CODE")
    assert code["phone"] == PHONE
    page.get_by_label(re.compile("短信验证码")).fill(code["params"]["code"])
    page.get_by_role("button", name="提交", exact=True).click()

    page.wait_for_selector(".submit-receipt")
    number = page.inner_text("#case-number").replace(" ", "")
    query_code = page.inner_text("#query-code").strip()
    assert re.fullmatch(r"\d{14}", number) and re.fullmatch(r"[A-Z0-9]{6}", query_code)
    assert "已登记" in page.inner_text("h1")
    _checked(page, axe)
    _screenshot(page, "receipt-390.png")
    sms = received(record, "CASE_RECEIPT")  # the same number and code by SMS
    assert sms["phone"] == PHONE and sms["params"]["number"] == number and sms["params"]["code"] == query_code
    stored = [p for p in evidence_folder.rglob("*") if p.is_file()]
    assert len(stored) == 1 and "发票" not in stored[0].name  # the photo, under a random name

    page.get_by_role("link", name="查询进度").last.click()
    page.get_by_label("案件编号", exact=True).fill(number)
    page.get_by_label("查询码", exact=True).fill(query_code)
    page.get_by_role("button", name="查询").click()
    page.wait_for_load_state()
    text = page.inner_text("main")
    assert number[:4] in text.replace(" ", "") and "查询码" not in page.title()

    # The bureau accepts and settles it through the API; the consumer then rates it, once.
    def act(body: dict) -> int:
        request = urllib.request.Request(f"{base}/api/v1/cases/{number}/actions", data=json.dumps(body).encode(),
                                         method="POST", headers={"Content-Type": "application/json",
                                                                 "Authorization": f"Bearer {token}"})
        try:
            return urllib.request.urlopen(request, timeout=10).status
        except urllib.error.HTTPError as error:
            return error.code
    deadline = time.monotonic() + 15
    while (status := act({"action": "accept"})) == 409 and time.monotonic() < deadline:
        time.sleep(0.3)  # routing runs right after the commit, in the server's relay thread
    assert status == 200
    assert act({"action": "settle", "recovered_amount": "2999.00", "note": "商家同意退货退款"}) == 200
    page.reload()
    page.get_by_role("link", name="评价办理情况").click()
    page.locator("input[name=score][value='5']").check()
    _checked(page, axe)
    page.get_by_role("button", name="下一页").click()
    page.get_by_label(re.compile("意见建议")).fill("处理及时，谢谢。")
    page.get_by_role("button", name="提交评价").click()
    page.wait_for_load_state()
    assert "感谢您的评价" in page.inner_text("main")
    again = page.request.post(f"{base}/api/v1/public/cases/{number}/rating",
                              data=json.dumps({"code": query_code, "score": 1}),
                              headers={"Content-Type": "application/json"})
    assert again.status == 409  # 一事一评: a second rating is refused
