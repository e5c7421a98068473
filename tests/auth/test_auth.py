"""Log-in, throttling, cookies, headers, tokens and the user commands."""
from sqlalchemy import select

from hotline.auth.models import ApiToken, User
from hotline.extensions import db
from tests.conftest import PASSWORD, csrf_token


def test_wrong_password_is_refused(client, make_user):
    user = make_user("operator")
    response = client.post("/login", data={"username": user.username, "password": "wrong-password",
                                           "csrf_token": csrf_token(client)})
    assert response.status_code == 200
    assert client.get("/cases").status_code == 302


def test_log_in_is_throttled(client, make_user):
    user = make_user("operator")
    codes = [client.post("/login", data={"username": user.username, "password": "wrong",
                                         "csrf_token": csrf_token(client)}).status_code for _ in range(7)]
    assert codes[:5] == [200] * 5 and codes[-1] == 429


def test_session_cookie_flags_and_security_headers(client, make_user):
    user = make_user("operator")
    response = client.post("/login", data={"username": user.username, "password": PASSWORD,
                                           "csrf_token": csrf_token(client)})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = client.get("/cases")
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY" and page.headers["Cache-Control"] == "no-store"


def test_secure_cookies_in_production(app):
    from cryptography.fernet import Fernet

    from hotline import create_app
    production = create_app({"ENV": "production", "SECRET_KEY": "x" * 32, "QUERY_CODE_KEY": "q" * 32,
                             "DATA_KEYS": Fernet.generate_key().decode(),  # both required in production
                             "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})
    assert production.config["SESSION_COOKIE_SECURE"] is True


def test_open_redirect_after_login_is_refused(client, make_user):
    user = make_user("operator")
    response = client.post("/login?next=https://evil.example/", data={
        "username": user.username, "password": PASSWORD, "csrf_token": csrf_token(client)})
    assert response.headers["Location"] == "/console"


def test_logout(client, make_user, login):
    csrf = login(client, make_user("operator"))
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 302
    assert client.get("/cases").status_code == 302


def test_cli_creates_users_and_tokens_stored_hashed(app, client):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "wang", "--role", "bureau", "--bureau", "tiexi"],
                           input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "wang"))
    assert user.bureau.code == "tiexi" and PASSWORD not in user.password_hash
    result = runner.invoke(args=["tokens", "create", "wang"])
    token = result.output.strip()
    assert result.exit_code == 0 and token.startswith("hl_")
    assert token not in db.session.scalar(select(ApiToken.token_hash))
    assert client.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_cli_refuses_bad_accounts(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["users", "create", "x", "--role", "bureau"], input=f"{PASSWORD}\n").exit_code != 0
    assert runner.invoke(args=["users", "create", "y", "--role", "operator"], input="short\n").exit_code != 0
    assert runner.invoke(args=["users", "create", "z", "--role", "operator"],
                         input=f"{PASSWORD}\nother-password\n").exit_code != 0
    assert runner.invoke(args=["tokens", "create", "nobody"]).exit_code != 0


def test_language_switch(client, make_user, login):
    login(client, make_user("operator"))
    client.get("/lang/en")
    assert "Log out" in client.get("/cases").get_data(as_text=True)
    client.get("/lang/zh")
    assert "退出" in client.get("/cases").get_data(as_text=True)
