"""关怀模式 (MIIT 适老化): one switch on every public page, kept in a cookie: at least 18 px body text,
larger targets, high contrast, one step per screen; axe finds no serious or critical violation in either
mode (that check runs in Chromium: tests/browser/test_care_mode_browser.py)."""
import re
from pathlib import Path

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
