"""The log-in throttle counts failures only (issue 7, polish 20): a whole office behind one address
logs in at the start of a shift without using up anyone's allowance; guessing is still stopped."""
from tests.conftest import PASSWORD, csrf_token


def _log_in(client, username, password):
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": csrf_token(client)})


def test_successful_log_ins_do_not_use_up_the_allowance(app, client, make_user):
    assert app.config["LOGIN_RATE_LIMIT"] == "5 per minute"
    user = make_user("operator")
    for _ in range(10):  # ten colleagues of one office, one after the other, same address and name
        response = _log_in(client, user.username, PASSWORD)
        assert response.status_code == 302
        client.post("/logout", data={"csrf_token": csrf_token(client)})
    # The failures that follow still get their full five tries.
    codes = [_log_in(client, user.username, "wrong").status_code for _ in range(5)]
    assert codes == [200] * 5


def test_five_failures_lock_the_user_name_from_that_client(client, make_user):
    user, colleague = make_user("operator"), make_user("operator")
    codes = [_log_in(client, user.username, "wrong").status_code for _ in range(5)]
    assert codes == [200] * 5
    locked = _log_in(client, user.username, PASSWORD)  # even the right password now waits
    assert locked.status_code == 429
    page = locked.get_data(as_text=True)
    assert "尝试次数过多" in page and "Too Many Requests" not in page  # the app's own page, in Chinese
    # A colleague at the same address is not locked out by someone else's typing (issue #12).
    assert _log_in(client, colleague.username, PASSWORD).status_code == 302

