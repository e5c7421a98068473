"""The operator's console in a real browser (Debian's Chromium driven by Playwright), against a
`hotline run` server on the embedded default: log a call, see the caller's history, find the case."""
import json
import os
import re
import urllib.request
from pathlib import Path

import pytest

from hotline.testing import LocalHotline

PASSWORD = "Browser-pass-2026"
pytestmark = pytest.mark.browser

# `browser` (one Chromium for the session; a skip, or a failure under CI=true, without it) is in conftest.py.


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    local = LocalHotline(tmp_path_factory.mktemp("browser"), secret="browser-test")
    local.cli("init")
    local.cli("users", "create", "op", "--role", "operator", "--display-name", "王话务",
              stdin=f"{PASSWORD}\n{PASSWORD}\n")
    token = local.cli("tokens", "create", "op").strip()
    base = local.start()
    # An earlier case of the caller, so the console has a history to show.
    body = {"kind": "complaint", "channel": "phone", "consumer": {"name": "李女士", "phone": "13812345678"},
            "business": {"name": "鞍山某某健身房", "address": "鞍山市铁东区园林街道"},
            "subject": "健身房闭店无法退卡", "description": "预付卡余额3000元。", "amount": "3000.00"}
    request = urllib.request.Request(base + "/api/v1/cases", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    earlier = json.load(urllib.request.urlopen(request, timeout=10))["number"]
    yield base, earlier
    local.stop()


def test_operator_logs_a_call_from_the_console(server, browser):
    base, earlier = server
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page.goto(base + "/login")
    page.fill("input[name=username]", "op")
    page.fill("input[name=password]", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/console$"))
    assert page.evaluate("document.activeElement.id") == "caller-phone"  # keyboard-first: the phone has focus
    page.keyboard.type("138 1234 5678")
    page.wait_for_selector(f"#caller-cases a[href$='/cases/{earlier}']", timeout=5000)
    page.fill("input[name='consumer.name']", "李女士")
    page.fill("input[name='business.name']", "鞍山某某电器商行")
    page.fill("input[name='business.address']", "辽宁省鞍山市铁西区兴盛街道人民路88号")
    page.fill("#category-search", "G0101")  # the category picker (the selects are its fallback without JS)
    page.keyboard.press("Enter")
    assert page.eval_on_selector("select[name='category.goods']", "s => s.value") == "G0101"
    page.fill("input[name=subject]", "新买手机屏幕漏液，商家拒绝保修")
    page.fill("textarea[name=description]", "11月20日购买，三天后屏幕出现漏液。<script>alert(1)</script> 😀 𠀀")
    page.fill("input[name=demand]", "更换新机")
    page.fill("input[name=amount]", "2999.00")
    page.fill("input[name=occurred_on]", "2026-11-20")
    if os.environ.get("HOTLINE_SCREENSHOT_DIR"):
        page.screenshot(path=str(Path(os.environ["HOTLINE_SCREENSHOT_DIR"]) / "console.png"), full_page=True)
    page.focus("textarea[name=description]")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector(".registered .number")
    number = page.get_attribute(".registered .number", "data-number")
    assert re.fullmatch(r"\d{14}", number)
    assert page.inner_text(".registered .number") == f"{number[:4]} {number[4:8]} {number[8:12]} {number[12:]}"
    assert re.fullmatch(r"[A-Z2-9]{6}", page.inner_text(".registered .code"))
    page.goto(base + "/cases")
    page.click(f"a[href$='/cases/{number}']")
    page.wait_for_selector("ol.timeline li")
    assert "登记" in page.inner_text("ol.timeline")
    assert "<script>alert(1)</script> 😀 𠀀" in page.inner_text("dd.text")
    assert "138****5678" in page.inner_text("body")
    page.close()
