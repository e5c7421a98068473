"""Consumer alerts in a real browser (Debian's Chromium, Playwright) against a `hotline run` server: a
supervisor writes an alert (the SMS length counts as they type), previews the public page and the exact
SMS, publishes, and watches the sending progress fill in; an anonymous reader then finds the alert on
the public page (issue #9, must-show 4)."""
import os
import sqlite3
from pathlib import Path

import pytest

from hotline.testing import LocalHotline

PASSWORD = "Browser-pass-2026"
SUBSCRIBERS = 3
pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    local = LocalHotline(tmp_path_factory.mktemp("alerts"), secret="alerts-browser-test")
    local.cli("init")
    local.cli("users", "create", "chief", "--role", "supervisor", "--display-name", "赵主任",
              stdin=f"{PASSWORD}\n{PASSWORD}\n")
    with sqlite3.connect(local.database) as db:  # confirmed subscribers of 铁西区 and of the whole city
        db.executemany("INSERT INTO subscription (phone, district, status, channel, created_at, consent_at, "
                       "confirm_attempts) VALUES (?, ?, 'confirmed', 'web', datetime('now'), datetime('now'), 0)",
                       [("13900000001", "210303"), ("13900000002", None), ("13900000003", "210303"),
                        ("13900000004", "210302")])  # 铁东区: not for this alert
    base = local.start()
    yield base
    local.stop()


@pytest.fixture(scope="module")
def axe():
    from axe_playwright_python.sync_playwright import Axe
    return Axe()


def _accessible(page, axe) -> None:
    """No serious or critical axe-core violation (the crawl's bar; it does not reach these pages in the demo)."""
    bad = [(v["id"], [n["target"] for n in v["nodes"][:2]]) for v in axe.run(page).response["violations"]
           if v["impact"] in ("serious", "critical")]
    assert not bad, f"{page.url}: {bad}"


def _screenshot(page, name: str) -> None:
    if os.environ.get("HOTLINE_SCREENSHOT_DIR"):
        page.screenshot(path=str(Path(os.environ["HOTLINE_SCREENSHOT_DIR"]) / name), full_page=True)


def test_supervisor_publishes_an_alert_and_the_public_reads_it(server, browser, axe):
    base = server
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page.goto(base + "/login")
    page.fill("input[name=username]", "chief")
    page.fill("input[name=password]", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/login" not in url)

    page.get_by_role("link", name="消费警示").first.click()
    page.get_by_role("link", name="新建消费警示").click()
    page.get_by_label("标题").fill("警惕健身房闭店跑路")
    page.get_by_label("警示正文（公众页面）").fill("近期铁西区多家健身房闭店。\n请勿大额预付，保留合同和付款凭证。")
    _accessible(page, axe)
    sms = page.get_by_label("短信内容")
    sms.fill("铁西区多家健身房闭店，请勿大额预付。")
    count = page.locator("#sms-count output")
    assert count.inner_text() == str(len("【12315】铁西区多家健身房闭店，请勿大额预付。回复TD退订"))  # counted as typed
    sms.fill("长" * 60)
    assert page.locator("#sms-count.over").count() == 1  # over 70: flagged before saving
    sms.fill("铁西区多家健身房闭店，请勿大额预付。")
    page.get_by_label("发布范围").select_option(label="铁西区")
    page.get_by_role("button", name="保存并预览").click()

    page.wait_for_selector(".preview-bar")
    assert "【12315】铁西区多家健身房闭店，请勿大额预付。回复TD退订" in page.inner_text(".preview-bar .sms")
    assert "警惕健身房闭店跑路" in page.inner_text("article.alert h1")
    _screenshot(page, "alert-preview.png")
    _accessible(page, axe)
    page.get_by_role("button", name="发布并发送").click()

    page.wait_for_selector(".flash.ok")
    assert "已发布" in page.inner_text(".flash.ok")
    total = page.locator('[data-count="recipients"]')
    # The page polls its progress endpoint: the fan-out queues one SMS per subscriber of 铁西区 and of the city.
    page.wait_for_function("n => document.querySelector('[data-count=recipients]').textContent === n",
                           arg=str(SUBSCRIBERS), timeout=15000)
    assert total.inner_text() == str(SUBSCRIBERS)
    waiting, sent = (int(page.inner_text(f'[data-count="{k}"]')) for k in ("queued", "sent"))
    assert waiting + sent == SUBSCRIBERS  # sent by day; by night they wait for 08:00
    # The fan-out's last job (which finds nobody left) may finish a poll after the count is complete.
    page.wait_for_function("() => document.querySelector('[data-field=note]').textContent.includes('短信已全部排队')",
                           timeout=15000)
    _screenshot(page, "alert-progress.png")
    _accessible(page, axe)
    page.close()

    reader = browser.new_context(viewport={"width": 390, "height": 800}, locale="zh-CN").new_page()
    reader.goto(base + "/alerts")
    reader.get_by_role("link", name="警惕健身房闭店跑路").click()
    assert "保留合同和付款凭证" in reader.inner_text("article.alert")
    assert "铁西区" in reader.inner_text("article.alert .meta")
    assert reader.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    _screenshot(reader, "alert-public.png")
    _accessible(reader, axe)
    reader.get_by_role("link", name="短信订阅").first.click()
    assert reader.get_by_label("手机号码").count() == 1
    _accessible(reader, axe)
    reader.close()
