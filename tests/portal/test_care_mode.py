"""关怀模式 (MIIT 适老化): one switch on every public page, kept in a cookie: at least 18 px body text,
larger targets, high contrast, one step per screen; axe finds no serious or critical violation in either
mode (the browser test at the end runs on Debian's Chromium, skipped without it)."""
import json
import re
import shutil
import urllib.request
from pathlib import Path

import pytest

from hotline.testing import CHROMIUM_ARGS, LocalHotline

CSS = Path(__file__).resolve().parents[2] / "hotline" / "static" / "public.css"


def test_the_switch_is_on_every_public_page_and_kept_in_a_cookie(client):
    for path in ("/track", "/alerts", "/alerts/subscribe"):
        page = client.get(path).get_data(as_text=True)
        assert "关怀模式（大字版）" in page and 'class="care"' not in page, path
    response = client.get("/care?on=1", headers={"Referer": "http://localhost/alerts"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/alerts")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("care=1") and "HttpOnly" in cookie and "Max-Age=31536000" in cookie
    page = client.get("/track").get_data(as_text=True)
    assert '<body class="care">' in page and "退出关怀模式" in page
    client.get("/care?on=0")
    assert '<body class="care">' not in client.get("/track").get_data(as_text=True)


def test_the_switch_never_sends_the_consumer_to_another_site(client):
    response = client.get("/care?on=1", headers={"Referer": "https://evil.example/phish"})
    assert response.headers["Location"].endswith("/track")


def test_care_mode_text_is_at_least_18px():
    css = CSS.read_text()
    body = re.search(r"body\.care \{[^}]*font-size: (\d+)px", css)
    assert body and int(body.group(1)) >= 18
    for size in re.findall(r"body\.care[^{]*\{[^}]*?font-size: (\d+)px", css):
        assert int(size) >= 18


def test_care_mode_rates_one_step_per_screen(client, filed, act):
    # the score alone on the first screen; the comment (and the bureau question) on the next
    case, code = filed()
    act(case, "decline", reason="D03")
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/track").get_data(as_text=True)).group(1)
    client.post("/track", data={"number": case.number, "code": code, "csrf_token": token})
    client.get("/care?on=1")
    first = client.get("/track/rate").get_data(as_text=True)
    assert 'name="score"' in first and 'name="comment"' not in first


# ---- axe in both modes, in Chromium at 390 px ----

@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    if not Path(shutil.which("chromium") or "/usr/bin/chromium").exists():
        pytest.skip("Chromium is missing")
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
def test_axe_finds_no_serious_violation_in_either_mode(portal, care):
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright
    base, number, code = portal
    problems = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                                    headless=True, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 390, "height": 800}, locale="zh-CN").new_page()
        page.goto(base + "/track")
        if care:
            page.click("a.care-switch")
            assert page.evaluate("document.body.className") == "care"
            assert float(page.evaluate("getComputedStyle(document.body).fontSize")[:-2]) >= 18
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
        browser.close()
    assert problems == []
