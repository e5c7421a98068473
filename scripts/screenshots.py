"""Screenshots of the main pages on a fresh demo instance, for the README (`make screenshot`): the
inbox, a case, triage, the extension queue and the console, each at 1280 px (name.png) and at
phone width, 390 px (name-390.png).

Starts `hotline demo` + `hotline run` in a temporary folder and drives Debian's Chromium."""
import sqlite3
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from hotline.testing import CHROMIUM_ARGS, LocalHotline

OUT = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")
WIDTHS = {1280: "", 390: "-390"}


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
            for width, suffix in WIDTHS.items():
                shoot_console(browser, base, caller, width, suffix)
                shoot_bureau(browser, base, width, suffix)
                shoot_supervisor(browser, base, width, suffix)
            browser.close()
    finally:
        local.stop()
    print("\n".join(sorted(str(path) for path in OUT.glob("*.png"))))


def login(browser, base, user, password, width):
    page = browser.new_page(viewport={"width": width, "height": 960 if width > 600 else 844}, locale="zh-CN",
                            device_scale_factor=1 if width > 600 else 2)
    page.goto(base + "/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/login" not in url)
    page.wait_for_load_state()
    return page


def shot(page, name, suffix, full_page=True):
    page.screenshot(path=str(OUT / f"{name}{suffix}.png"), full_page=full_page)


def shoot_console(browser, base, caller, width, suffix):
    page = login(browser, base, "operator", "demo-operator-1", width)
    page.focus("#caller-phone")
    page.keyboard.type(caller)
    page.wait_for_timeout(800)
    page.fill("input[name='consumer.name']", "刘女士")
    page.fill("input[name='business.name']", "鞍山市铁西区某某手机专营店")
    page.fill("input[name='business.address']", "辽宁省鞍山市铁西区兴盛街道人民路88号")
    _pick_category(page)
    page.fill("input[name=subject]", "新买手机屏幕漏液，商家拒绝保修")
    page.fill("textarea[name=description]", "11月20日在该店购买手机一部，三天后屏幕出现漏液，商家称人为损坏拒绝保修。")
    page.fill("input[name=demand]", "更换新机")
    page.fill("input[name=amount]", "2999.00")
    page.fill("input[name=occurred_on]", "2026-11-20")
    page.fill("#answer-search", "三包")
    page.wait_for_timeout(600)
    shot(page, "console", suffix)
    page.close()


def _pick_category(page):
    """The category picker is being rebuilt (issue 7, item 15): use whichever the console has."""
    if page.is_visible("select[name='category.goods']"):  # hidden behind the picker when JS runs
        page.select_option("select[name='category.goods']", "G0101")
        if page.query_selector("select[name='category.issue']"):
            page.select_option("select[name='category.issue']", index=1)
        return
    picker = page.query_selector("input[role=combobox]")
    if picker:
        picker.fill("手机")
        page.wait_for_timeout(300)
        page.keyboard.press("ArrowDown")
        page.keyboard.press("Enter")


def shoot_bureau(browser, base, width, suffix):
    page = login(browser, base, "tiexi", "demo-bureau-1", width)
    page.goto(base + "/inbox")
    shot(page, "inbox", suffix, full_page=False)
    first = page.query_selector("table.list a.number")
    if first:
        first.click()
        page.wait_for_load_state()
        shot(page, "case", suffix)
    page.close()


def shoot_supervisor(browser, base, width, suffix):
    page = login(browser, base, "supervisor", "demo-supervisor-1", width)
    page.goto(base + "/triage")
    shot(page, "triage", suffix, full_page=False)
    page.goto(base + "/extensions")
    shot(page, "extensions", suffix, full_page=False)
    page.close()


if __name__ == "__main__":
    main()
