"""Sessions that end (issue #12, item 1): a copied session cookie stops working after log-out, a password
change or deactivation; a session unused for HOTLINE_SESSION_IDLE_MINUTES ends."""
import pytest

from hotline.auth import sessions
from hotline.auth.operations import deactivate_user, set_password
from hotline.extensions import db
from tests.conftest import csrf_token

NEW_PASSWORD = "Another-password-2026"


def _copy_of_session(client):
    """Another browser holding a copy of this client's session cookie (a stolen or copied cookie)."""
    copy = client.application.test_client()
    copy.set_cookie("session", client.get_cookie("session").value)
    return copy


def _refused(client) -> bool:
    page = client.get("/cases")
    api = client.get("/api/v1/cases")
    return page.status_code == 302 and "/login" in page.headers["Location"] and api.status_code == 401


def test_a_copied_cookie_works_while_the_session_lasts(client, make_user, login):
    login(client, make_user("operator"))
    copy = _copy_of_session(client)
    assert copy.get("/cases").status_code == 200 and copy.get("/api/v1/cases").status_code == 200


def test_log_out_ends_a_copied_cookie(client, make_user, login):
    csrf = login(client, make_user("operator"))
    copy = _copy_of_session(client)
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 302
    assert _refused(copy)
    assert _refused(client)


@pytest.mark.parametrize("change", ["password", "deactivation"])
def test_a_password_change_or_deactivation_ends_every_session(client, make_user, login, change):
    user = make_user("operator")
    login(client, user)
    copy = _copy_of_session(client)
    if change == "password":
        set_password(user.username, NEW_PASSWORD)
    else:
        deactivate_user(user.username)
    db.session.commit()
    assert _refused(client) and _refused(copy)


def test_the_commands_end_sessions_too(app, client, make_user, login):
    user = make_user("operator")
    login(client, user)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "password", user.username], input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert _refused(client)
    login_again = client.post("/login", data={"username": user.username, "password": NEW_PASSWORD,
                                              "csrf_token": csrf_token(client)})
    assert login_again.status_code == 302 and client.get("/cases").status_code == 200
    assert runner.invoke(args=["users", "deactivate", user.username]).exit_code == 0
    assert _refused(client)
    assert runner.invoke(args=["users", "deactivate", "nobody"]).exit_code != 0
    assert runner.invoke(args=["users", "password", user.username], input="short\n").exit_code != 0


def test_a_session_from_before_generations_is_refused(client, make_user, login):
    login(client, make_user("operator"))
    with client.session_transaction() as session:
        del session[sessions.GENERATION]  # a cookie signed before this release
    assert _refused(client)


def test_an_idle_session_ends(app, client, make_user, login, monkeypatch):
    clock = [1_800_000_000.0]
    monkeypatch.setattr(sessions, "now", lambda: clock[0])
    login(client, make_user("operator"))
    assert app.config["SESSION_IDLE_MINUTES"] == 480  # 8 hours for staff by default
    clock[0] += 479 * 60
    assert client.get("/cases").status_code == 200  # used within the limit: the clock restarts
    clock[0] += 479 * 60
    assert client.get("/cases").status_code == 200
    clock[0] += 481 * 60
    assert _refused(client)


def test_the_last_seen_time_is_written_at_most_once_a_minute(client, make_user, login, monkeypatch):
    clock = [1_800_000_000.0]
    monkeypatch.setattr(sessions, "now", lambda: clock[0])
    login(client, make_user("operator"))
    client.get("/cases")  # the first page puts the CSRF token in the session
    clock[0] += 30
    assert "Set-Cookie" not in client.get("/cases").headers  # the cookie stays as it is
    clock[0] += 31
    assert "session=" in client.get("/cases").headers.get("Set-Cookie", "")


def test_a_malformed_user_id_in_the_session_is_refused(client, make_user, login):
    login(client, make_user("operator"))
    with client.session_transaction() as session:
        session["_user_id"] = "99999999999999999999"
    assert _refused(client)
