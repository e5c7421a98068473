"""Nobody can lock a user out of log-in (issue #12, item 2): failures count per account from one client,
per client, and per account from everywhere; a browser the account logged in from before has its own
allowance, so floods of failures never refuse the right password there."""
import secrets

import pytest

from tests.conftest import PASSWORD, IsolatedClient, csrf_token

ATTACKER, USER_ADDRESS = "198.51.100.66", "203.0.113.7"


@pytest.fixture(autouse=True)
def _browsers(app):
    app.test_client_class = IsolatedClient  # each test_client() a browser of its own, with a fresh `g`


def _log_in(client, username, password, address="127.0.0.1"):
    token = csrf_token(client)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": address})


def _flood_random_names(app, address, until_locked=True):
    """Failures against random user names from one address, until that address is refused."""
    attacker = app.test_client()
    for attempt in range(100):
        if _log_in(attacker, f"nobody-{secrets.token_hex(4)}", "guess-guess", address).status_code == 429:
            return attempt
    raise AssertionError("the client limit never applied")


def _known_browser(app, user, address):
    """A browser the user has logged in from (then logged out): it holds the device cookie."""
    browser = app.test_client()
    assert _log_in(browser, user.username, PASSWORD, address).status_code == 302
    browser.post("/logout", data={"csrf_token": csrf_token(browser)})
    return browser


def test_a_flood_of_random_names_locks_that_client_only(app, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_CLIENT_RATE_LIMIT", "8 per minute")
    user = make_user("operator")
    assert _flood_random_names(app, ATTACKER) == 8  # the client allowance, over all names
    assert _log_in(app.test_client(), user.username, PASSWORD, USER_ADDRESS).status_code == 302


def test_a_flood_from_the_users_own_address_does_not_lock_out_their_browser(app, make_user, monkeypatch):
    """Behind a proxy that is not configured as trusted, or in one office, everybody shares an address."""
    monkeypatch.setitem(app.config, "LOGIN_CLIENT_RATE_LIMIT", "8 per minute")
    user = make_user("operator")
    browser = _known_browser(app, user, USER_ADDRESS)
    _flood_random_names(app, USER_ADDRESS)
    assert _log_in(app.test_client(), user.username, PASSWORD, USER_ADDRESS).status_code == 429  # a new browser
    assert _log_in(browser, user.username, PASSWORD, USER_ADDRESS).status_code == 302  # the user's own


def test_a_flood_against_one_account_from_many_addresses_slows_it_but_not_at_the_users_browser(
        app, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_ACCOUNT_RATE_LIMIT", "12 per hour")
    user = make_user("operator")
    browser = _known_browser(app, user, USER_ADDRESS)
    codes = [_log_in(app.test_client(), user.username, "guess-guess", f"192.0.2.{i}").status_code
             for i in range(1, 15)]  # two tries each from seven addresses would pass a per-address limit
    assert codes[:12] == [200] * 12 and codes[12:] == [429, 429]
    assert _log_in(app.test_client(), user.username, PASSWORD, "192.0.2.99").status_code == 429  # slowed
    assert _log_in(browser, user.username, PASSWORD, USER_ADDRESS).status_code == 302


def test_the_users_browser_still_has_an_allowance_of_its_own(app, make_user):
    user = make_user("operator")
    browser = _known_browser(app, user, USER_ADDRESS)
    codes = [_log_in(browser, user.username, "wrong-password", USER_ADDRESS).status_code for _ in range(6)]
    assert codes == [200] * 5 + [429]  # HOTLINE_LOGIN_RATE_LIMIT per device: guessing there stops too


def test_a_device_cookie_counts_for_its_own_account_only_and_cannot_be_forged(app, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_CLIENT_RATE_LIMIT", "8 per minute")
    user, other = make_user("operator"), make_user("operator")
    browser = _known_browser(app, user, USER_ADDRESS)
    _flood_random_names(app, USER_ADDRESS)
    assert _log_in(browser, other.username, PASSWORD, USER_ADDRESS).status_code == 429
    forged = app.test_client()
    forged.set_cookie("hotline_device", browser.get_cookie("hotline_device", path="/login").value[:-2] + "xx",
                      path="/login")
    assert _log_in(forged, user.username, PASSWORD, USER_ADDRESS).status_code == 429


def test_the_device_cookie_is_httponly_and_limited_to_the_log_in_page(app, make_user):
    response = _log_in(app.test_client(), make_user("operator").username, PASSWORD)
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("hotline_device="))
    assert "HttpOnly" in cookie and "Path=/login" in cookie and "SameSite=Lax" in cookie
