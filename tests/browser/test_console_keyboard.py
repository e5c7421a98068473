"""The console by keyboard alone, in Chromium against a `hotline run` server: pick a category by its
pinyin initials, get every missing field at once, never submit by a stray Enter, see where the case
went, read the caller's history in local dates, and fit a 390 px phone."""
import json
import re
import urllib.request

import pytest
from playwright.sync_api import expect

from hotline.testing import LocalHotline

pytestmark = pytest.mark.browser
PASSWORD = "Browser-pass-2026"  # `browser` (Chromium, or a skip / a CI failure without it) is in conftest.py


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    local = LocalHotline(tmp_path_factory.mktemp("keyboard"), secret="keyboard-test")
    local.cli("init")
    local.cli("users", "create", "op", "--role", "operator", "--display-name", "王话务",
              stdin=f"{PASSWORD}\n{PASSWORD}\n")
    local.cli("users", "create", "tiexi1", "--role", "bureau", "--bureau", "tiexi", "--display-name", "铁西承办人",
              stdin=f"{PASSWORD}\n{PASSWORD}\n")
    token = local.cli("tokens", "create", "op").strip()
    base = local.start()
    yield base, token
    local.stop()


def api(base, token, path, body=None):
    request = urllib.request.Request(base + "/api/v1" + path, data=json.dumps(body).encode() if body else None,
                                     method="POST" if body else "GET",
                                     headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    return json.load(urllib.request.urlopen(request, timeout=10))


def console(browser, base, width=1280):
    page = browser.new_page(viewport={"width": width, "height": 900}, locale="zh-CN")
    errors = []
    # The browser's own favicon request is not the console's (the crawl test owns the site's 404s).
    page.on("console", lambda m: errors.append(f"{m.text} {m.location.get('url')}")
            if m.type == "error" and "favicon" not in m.location.get("url", "") else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.goto(base + "/login")
    page.fill("input[name=username]", "op")
    page.fill("input[name=password]", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/console$"))
    # The console puts the focus in the phone field once its script has run: typing before that loses keys.
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'caller-phone'")
    return page, errors


def focused(page) -> str:
    return page.evaluate("document.activeElement.id")


def test_a_category_is_picked_by_pinyin_initials_and_the_case_registers_with_it(server, browser):
    base, token = server
    page, errors = console(browser, base)
    page.keyboard.type("13912340001")
    page.fill("input[name='consumer.name']", "赵先生")
    page.fill("input[name='business.name']", "鞍山某某超市")
    page.fill("input[name='business.address']", "辽宁省鞍山市铁西区兴盛街道人民路88号")
    page.fill("input[name=subject]", "买到过期牛奶")
    # The three selects are replaced by one combobox.
    assert page.is_hidden("select[name='category.goods']") and page.is_visible("#category-search")
    page.focus("#category-search")
    page.keyboard.type("rzp")
    page.wait_for_selector("#category-listbox [role=option]")
    assert page.get_attribute("#category-search", "aria-expanded") == "true"
    assert "乳制品" in page.inner_text("#category-listbox [role=option] >> nth=0")
    page.keyboard.press("ArrowDown")
    active = page.get_attribute("#category-search", "aria-activedescendant")
    assert active and page.get_attribute(f"#{active}", "aria-selected") == "true"
    page.keyboard.press("Enter")  # picks the option; it does not submit the form
    assert page.locator(".registered").count() == 0
    assert page.eval_on_selector("select[name='category.goods']", "s => s.value") == "G0203"
    assert "乳制品" in page.inner_text("#category-chosen")
    assert page.get_attribute("#category-search", "aria-expanded") == "false" and focused(page) == "category-search"
    # The code works too, on another axis; Escape closes the list without picking.
    page.keyboard.type("I01")
    page.wait_for_selector("#category-listbox [role=option]")
    page.keyboard.press("Escape")
    assert page.is_hidden("#category-listbox")
    page.fill("#category-search", "")
    page.keyboard.type("I0101")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    assert page.eval_on_selector("select[name='category.issue']", "s => s.value") == "I0101"
    page.keyboard.press("Control+Enter")
    page.wait_for_selector(".registered .number")
    number = page.get_attribute(".registered .number", "data-number")
    case = api(base, token, f"/cases/{number}")
    assert case["category"] == {"goods": "G0203", "service": None, "issue": "I0101"}
    # Routing runs in-process right after the commit; the box then names the bureau and the first deadline.
    expect(page.locator("#next-where")).to_contain_text("铁西", timeout=8000)
    assert re.search(r"投诉受理决定期限：\d{4}-\d\d-\d\d", page.inner_text("#registered"))
    assert "同时以短信发送" in page.inner_text("#registered")
    assert errors == []
    page.close()


def test_enter_never_submits_a_half_filled_form_and_every_missing_field_shows_at_once(server, browser):
    base, _ = server
    page, errors = console(browser, base)
    page.keyboard.type("13912340002")
    page.keyboard.press("Enter")  # moves on to the name; nothing is sent
    assert focused(page) == "f-consumer-name"
    assert page.locator(".registered").count() == 0 and page.is_hidden("#form-errors")
    page.fill("textarea[name=description]", "")
    page.focus("textarea[name=description]")
    page.keyboard.type("第一行")
    page.keyboard.press("Enter")  # a new line in a textarea
    page.keyboard.type("第二行")
    assert page.input_value("textarea[name=description]") == "第一行\n第二行"
    page.keyboard.press("Control+Enter")  # submits, but the checks find three missing fields at once
    assert page.is_visible("#form-errors")
    marked = page.eval_on_selector_all(".error[data-field]", "es => es.map(e => e.dataset.field)")
    assert marked == ["consumer.name", "business.name", "subject"]
    assert page.locator("#form-errors li").count() == 3
    assert focused(page) == "f-consumer-name"
    assert page.input_value("#caller-phone") == "13912340002"  # nothing typed is lost
    assert page.locator(".registered").count() == 0
    # The server's own checks (a phone that is not one) come back with the typing kept and the focus on it.
    page.fill("#caller-phone", "12")
    page.fill("input[name='consumer.name']", "钱女士")
    page.fill("input[name='business.name']", "某某药房")
    page.fill("input[name=subject]", "价格欺诈")
    page.fill("input[name=amount]", "abc")
    page.keyboard.press("Control+Enter")
    page.wait_for_load_state()
    page.wait_for_selector("#form-errors li")
    marked = page.eval_on_selector_all(".error[data-field]", "es => es.map(e => e.dataset.field)")
    assert marked == ["consumer.phone", "amount"]
    assert focused(page) == "caller-phone"
    assert page.input_value("textarea[name=description]") == "第一行\n第二行"
    assert page.input_value("input[name=amount]") == "abc"
    assert [e for e in errors if "422" not in e] == []  # the form's own 422 is expected
    page.close()


def test_caller_history_shows_the_local_day_of_an_early_morning_call(server, browser):
    base, token = server
    # 06:30 in Anshan = 22:30 UTC the day before: the history used to show 2026-11-24.
    api(base, token, "/cases", {"kind": "consultation", "channel": "phone", "consumer": {"phone": "13912340003"},
                                "subject": "清晨来电", "received_at": "2026-11-25T06:30:00+08:00"})
    page, errors = console(browser, base)
    page.keyboard.type("13912340003")
    page.wait_for_selector("#caller-cases li")
    assert "2026-11-25" in page.inner_text("#caller-cases") and "2026-11-24" not in page.inner_text("#caller-cases")
    assert errors == []
    page.close()


def test_an_anonymous_report_is_told_to_note_the_code(server, browser):
    base, _ = server
    page, errors = console(browser, base)
    page.keyboard.press("Alt+2")
    page.check("input[value=report]")
    page.check("input[name='consumer.anonymous']")
    page.fill("input[name='business.name']", "某某餐馆")
    page.fill("input[name='business.address']", "沈阳市和平区太原街1号")
    page.fill("input[name=subject]", "后厨卫生差")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector(".registered .number")
    box = page.inner_text("#registered")
    assert "不发送短信" in box and "短信发送" not in box
    expect(page.locator("#next-where")).to_contain_text("指挥中心", timeout=8000)
    assert "鞍山" in page.inner_text("#next-reason")
    assert errors == []
    page.close()


def test_the_console_fits_a_phone(server, browser):
    base, _ = server
    page, errors = console(browser, base, width=390)
    page.focus("#category-search")
    page.keyboard.type("sp")
    page.wait_for_selector("#category-listbox [role=option]")
    too_wide = page.evaluate("""() => Array.from(document.querySelectorAll('main *'))
        .filter(e => e.getClientRects().length && e.getBoundingClientRect().right > window.innerWidth + 0.5)
        .map(e => e.tagName + '#' + e.id + '.' + e.className)""")
    assert too_wide == []
    assert page.evaluate("document.querySelector('main').scrollWidth <= window.innerWidth")
    assert page.is_visible("button[type=submit]") or page.locator("button[type=submit]").bounding_box()["width"] > 0
    assert errors == []
    page.close()
