"""关怀模式 in Chromium at 390 px: axe finds no serious or critical violation on the consumer's pages, with the
care mode off and on, and nothing scrolls sideways."""
import json
import urllib.request

import pytest

from hotline.testing import LocalHotline

# ---- axe in both modes, in Chromium at 390 px ----

@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    local = LocalHotline(tmp_path_factory.mktemp("care"), secret="care-test")
    local.cli("init")
    local.cli("users", "create", "op", "--role", "operator", stdin="Care-mode-2026\n")
    token = local.cli("tokens", "create", "op").split()[-1]
    base = local.start()
    body = json.dumps({"kind": "complaint", "channel": "phone", "consumer": {"name": "张三", "phone": "13900001111"},
                       "business": {"name": "测试商店", "address": "辽宁省鞍山市铁西区兴盛街道人民路88号"},
                       "subject": "质量问题", "description": "商品有质量问题。"}).encode()
    request = urllib.request.Request(base + "/api/v1/cases", body, {"Content-Type": "application/json",
                                                                    "Authorization": f"Bearer {token}"})
    created = json.load(urllib.request.urlopen(request))
    yield base, created["number"], created["query_code"]
    local.stop()


@pytest.mark.browser
@pytest.mark.parametrize("care", [False, True])
def test_axe_finds_no_serious_violation_in_either_mode(portal, care, browser):
    from axe_playwright_python.sync_playwright import Axe
    base, number, code = portal
    problems = []
    context = browser.new_context(viewport={"width": 390, "height": 800}, locale="zh-CN")  # the care cookie lives here
    page = context.new_page()
    page.goto(base + "/track")
    if care:
        page.click("a.care-switch")
        page.wait_for_load_state("load")  # the switch reloads the page: its stylesheet must be in
        assert page.evaluate("document.body.className") == "care"
        page.wait_for_function("parseFloat(getComputedStyle(document.body).fontSize) >= 18", timeout=5000)
    page.fill("#number", number)
    page.fill("#code", code)
    page.click("main button[type=submit]")
    page.wait_for_url("**/track/case")
    for path in ("/track/case", "/track/add", "/track", "/alerts"):
        page.goto(base + path)
        if page.evaluate("document.documentElement.scrollWidth") > 390:
            problems.append(f"{path}: horizontal scroll")
        for v in Axe().run(page).response["violations"]:
            if v["impact"] in ("serious", "critical"):
                problems.append(f"{path}: {v['id']} {[n['target'] for n in v['nodes'][:2]]}")
    context.close()
    assert problems == []
