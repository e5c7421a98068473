"""The language picked on the log-in page stays after logging in (found by the crawl: log-in cleared
the whole session, so an English user was back in Chinese)."""
from tests.conftest import PASSWORD, csrf_token


def test_language_picked_before_log_in_stays(client, make_user):
    user = make_user("operator")
    client.get("/lang/en")
    assert "Log in" in client.get("/login").get_data(as_text=True)
    response = client.post("/login", data={"username": user.username, "password": PASSWORD,
                                           "csrf_token": csrf_token(client)})
    assert response.status_code == 302
    assert "Log out" in client.get("/cases").get_data(as_text=True)
