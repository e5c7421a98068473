"""The API docs page (/api/docs, issue #13) in Debian's Chromium against a `hotline run` server: Swagger UI,
from the files the project installs, renders the generated document under the app's strict CSP, with no
console error and no request leaving the server; a developer authorises with an API token and runs a call
from the page."""
import os
from pathlib import Path

import pytest

from hotline.testing import LocalHotline

PASSWORD = "Browser-pass-2026"
pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    local = LocalHotline(tmp_path_factory.mktemp("apidocs"), secret="api-docs-browser-test")
    local.cli("init")
    local.cli("users", "create", "phone-system", "--role", "operator", stdin=f"{PASSWORD}\n{PASSWORD}\n")
    token = local.cli("tokens", "create", "phone-system").split()[0]
    base = local.start()
    yield base, token
    local.stop()


def test_the_docs_page_renders_offline_under_the_csp(server, browser):
    base, token = server
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    problems, outside = [], []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((base, "data:")) else None)

    response = page.goto(base + "/api/docs")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe" not in csp
    # a function string, not an expression: the CSP refuses Playwright's eval of a bare expression
    page.wait_for_function("() => document.querySelectorAll('.opblock').length >= 20")
    assert "hotline 12315 API" in page.inner_text(".info .title")
    assert page.locator("#operations-cases-create_case").count() == 1

    # The answer's model is shown, generated from the response models.
    page.click("#operations-cases-create_case .opblock-summary-control")
    page.wait_for_selector("#operations-cases-create_case .responses-wrapper")
    page.locator("#operations-cases-create_case .responses-wrapper").get_by_text("Schema").first.click()
    page.wait_for_function("() => document.querySelector('#operations-cases-create_case .responses-wrapper')"
                           ".innerText.includes('query_code')")

    # Authorise with a staff token and run a call from the page (fetch to the same origin: allowed by the CSP).
    page.click(".auth-wrapper .authorize")
    bearer = page.locator(".auth-container").first
    page.fill("#auth-bearer-value", token)
    bearer.locator("button.authorize").click()
    bearer.locator(".btn-done").click()
    operation = "#operations-reference-search_answers"
    page.click(f"{operation} .opblock-summary-control")
    page.click(f"{operation} .try-out__btn")
    page.click(f"{operation} .execute")
    page.wait_for_selector(f"{operation} .live-responses-table tbody .response-col_status")
    assert page.inner_text(f"{operation} .live-responses-table tbody .response-col_status").strip() == "200"
    assert '"items"' in page.inner_text(f"{operation} .live-responses-table tbody .response-col_description")

    if os.environ.get("HOTLINE_SCREENSHOT_DIR"):
        page.screenshot(path=str(Path(os.environ["HOTLINE_SCREENSHOT_DIR"]) / "api-docs.png"), full_page=False)
    assert not problems, problems
    assert not outside, f"requests that left the server: {outside}"
    page.close()
