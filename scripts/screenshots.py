"""Screenshots of the main pages on a fresh demo instance, for the README (`make screenshot`).

Starts `hotline demo` + `hotline run` in a temporary folder and drives Debian's Chromium."""
import sqlite3
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from hotline.testing import CHROMIUM_ARGS, LocalHotline

OUT = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    local = LocalHotline(tempfile.mkdtemp(prefix="hotline-shots-"), secret="screenshots")
    local.cli("demo")
    with sqlite3.connect(local.database) as db:  # a caller who has called before
        caller = db.execute('SELECT consumer_phone FROM "case" WHERE consumer_phone IS NOT NULL '
                            "GROUP BY consumer_phone HAVING count(*) > 2 LIMIT 1").fetchone()[0]
    base = local.start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
            shoot_console(browser, base, caller)
            shoot_bureau(browser, base)
            shoot_triage(browser, base)
            browser.close()
    finally:
        local.stop()


def login(browser, base, user, password):
    page = browser.new_page(viewport={"width": 1440, "height": 960}, locale="zh-CN")
    page.goto(base + "/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/login" not in url)
    page.wait_for_load_state()
    return page


def shoot_console(browser, base, caller):
    page = login(browser, base, "operator", "demo-operator-1")
    page.focus("#caller-phone")
    page.keyboard.type(caller)
    page.wait_for_timeout(800)
    page.fill("input[name='consumer.name']", "刘女士")
    page.fill("input[name='business.name']", "鞍山市铁西区某某手机专营店")
    page.fill("input[name='business.address']", "辽宁省鞍山市铁西区兴盛街道人民路88号")
    page.select_option("select[name='category.goods']", "G0101")
    page.select_option("select[name='category.issue']", index=1)
    page.fill("input[name=subject]", "新买手机屏幕漏液，商家拒绝保修")
    page.fill("textarea[name=description]", "11月20日在该店购买手机一部，三天后屏幕出现漏液，商家称人为损坏拒绝保修。")
    page.fill("input[name=demand]", "更换新机")
    page.fill("input[name=amount]", "2999.00")
    page.fill("input[name=occurred_on]", "2026-11-20")
    page.fill("#answer-search", "三包")
    page.wait_for_timeout(600)
    page.screenshot(path=str(OUT / "console.png"), full_page=True)
    page.close()


def shoot_bureau(browser, base):
    page = login(browser, base, "tiexi", "demo-bureau-1")
    page.screenshot(path=str(OUT / "inbox.png"), full_page=False)
    first = page.query_selector("table.list a.number")
    if first:
        first.click()
        page.wait_for_load_state()
        page.screenshot(path=str(OUT / "case.png"), full_page=True)
    page.close()


def shoot_triage(browser, base):
    page = login(browser, base, "supervisor", "demo-supervisor-1")
    page.goto(base + "/triage")
    page.screenshot(path=str(OUT / "triage.png"), full_page=False)
    page.close()


if __name__ == "__main__":
    main()
