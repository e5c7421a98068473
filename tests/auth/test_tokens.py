"""API tokens can be listed and revoked, and record when they were last used (issue #12, item 10);
a deactivated account costs the same password hash as an active one."""
import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from hotline.auth import operations
from hotline.auth.models import ApiToken
from hotline.auth.operations import authenticate, create_token, deactivate_user
from hotline.extensions import db
from hotline.types import utcnow
from tests.conftest import PASSWORD


@pytest.fixture
def audit_log(caplog, monkeypatch):
    # Alembic's logging set-up (the session's migration) disables loggers that existed before it.
    monkeypatch.setattr(logging.getLogger("hotline.audit"), "disabled", False)
    caplog.set_level(logging.INFO, logger="hotline.audit")
    return caplog


def _row(token: str) -> ApiToken:
    db.session.expire_all()
    return db.session.scalar(select(ApiToken).where(ApiToken.prefix == token[:10]))


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


# ---- last used ----------------------------------------------------------------------------------------

def test_last_used_is_written_at_most_once_a_minute(client, make_user, monkeypatch):
    token = create_token(make_user("operator").username)
    db.session.commit()
    assert _row(token).last_used_at is None
    assert client.get("/api/v1/cases", headers=_bearer(token)).status_code == 200
    first = _row(token).last_used_at
    assert first is not None and utcnow() - first < timedelta(seconds=30)

    later = first + timedelta(seconds=50)
    monkeypatch.setattr(operations, "utcnow", lambda: later)
    assert client.get("/api/v1/cases", headers=_bearer(token)).status_code == 200
    assert _row(token).last_used_at == first  # no write on every request

    later = first + timedelta(seconds=61)
    assert client.get("/api/v1/cases", headers=_bearer(token)).status_code == 200
    assert _row(token).last_used_at == later


def test_last_used_survives_a_write_request(client, make_user, token_for):
    from tests.conftest import complaint_payload
    headers = token_for(make_user("operator"))
    assert client.post("/api/v1/cases", json=complaint_payload(), headers=headers).status_code == 201
    assert _row(headers["Authorization"][7:]).last_used_at is not None


# ---- the commands -------------------------------------------------------------------------------------

def test_tokens_list_shows_prefixes_and_dates_never_the_token(app, client, make_user):
    alice, bob = make_user("operator", username="alice"), make_user("bureau", bureau="tiexi", username="bob")
    first, second = create_token(alice.username), create_token(bob.username)
    db.session.commit()
    client.get("/api/v1/cases", headers=_bearer(first))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["tokens", "list"])
    assert result.exit_code == 0, result.output
    assert first[:10] in result.output and second[:10] in result.output and "alice" in result.output
    assert first not in result.output and second not in result.output
    assert "2 tokens, 2 live" in result.output
    only_bob = runner.invoke(args=["tokens", "list", "--user", "bob"]).output
    assert second[:10] in only_bob and first[:10] not in only_bob
    assert runner.invoke(args=["tokens", "list", "--user", "nobody"]).exit_code != 0


def test_tokens_revoke_by_prefix_or_user(app, client, make_user, audit_log):
    make_user("operator", username="alice"), make_user("operator", username="bob")
    one, two, three = create_token("alice"), create_token("alice"), create_token("bob")
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["tokens", "revoke", one[:10]])
    assert result.exit_code == 0 and "1 tokens revoked" in result.output
    assert client.get("/api/v1/cases", headers=_bearer(one)).status_code == 401
    assert client.get("/api/v1/cases", headers=_bearer(two)).status_code == 200
    assert f"API token {one[:10]} of user alice revoked by the command line" in audit_log.text

    assert runner.invoke(args=["tokens", "revoke", one[:10]]).exit_code != 0  # already revoked
    assert runner.invoke(args=["tokens", "revoke"]).exit_code != 0  # neither a prefix nor a user
    assert runner.invoke(args=["tokens", "revoke", two[:10], "--user", "alice"]).exit_code != 0  # both

    result = runner.invoke(args=["tokens", "revoke", "--user", "alice"])
    assert result.exit_code == 0 and "1 tokens revoked" in result.output
    assert client.get("/api/v1/cases", headers=_bearer(two)).status_code == 401
    assert client.get("/api/v1/cases", headers=_bearer(three)).status_code == 200
    assert "3 tokens, 1 live" in runner.invoke(args=["tokens", "list"]).output


def test_an_ambiguous_prefix_revokes_nothing(app, make_user):
    make_user("operator", username="alice")
    one, two = create_token("alice"), create_token("alice")
    db.session.commit()
    _row(two).prefix = one[:10]  # 42 random bits make this rare, not impossible
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["tokens", "revoke", one[:10]])
    assert result.exit_code != 0 and "2 live tokens share the prefix" in result.output
    assert db.session.scalar(select(ApiToken.id).where(ApiToken.revoked_at.is_not(None))) is None


# ---- the administrator's page -------------------------------------------------------------------------

def test_the_admin_page_lists_and_revokes_tokens(client, make_user, login, audit_log):
    admin = make_user("admin")
    token = create_token(make_user("operator", username="carol").username)
    db.session.commit()
    csrf = login(client, admin)
    page = client.get("/admin/tokens").get_data(as_text=True)
    assert token[:10] in page and token not in page and "carol" in page
    assert 'href="/admin/tokens"' in client.get("/cases").get_data(as_text=True)  # in the admin's menu
    row = _row(token)

    assert client.post(f"/admin/tokens/{row.id}/revoke").status_code == 400  # no CSRF token
    assert client.get("/api/v1/cases", headers=_bearer(token)).status_code == 200
    response = client.post(f"/admin/tokens/{row.id}/revoke", data={"csrf_token": csrf})
    assert response.status_code == 302 and response.headers["Location"].startswith("/admin/tokens")
    assert client.get("/api/v1/cases", headers=_bearer(token)).status_code == 401
    assert f"API token {token[:10]} of user carol revoked by {admin.username}" in audit_log.text
    assert _row(token).revoked_at is not None
    for missing in (row.id + 1000, 99999999999999999999):
        assert client.post(f"/admin/tokens/{missing}/revoke", data={"csrf_token": csrf}).status_code == 404


@pytest.mark.parametrize("role", ["operator", "supervisor", "bureau"])
def test_only_the_administrator_sees_the_tokens_page(client, make_user, login, role):
    token = create_token(make_user("operator").username)
    db.session.commit()
    csrf = login(client, make_user(role, **({"bureau": "tiexi"} if role == "bureau" else {})))
    assert client.get("/admin/tokens").status_code == 403
    assert client.post(f"/admin/tokens/{_row(token).id}/revoke", data={"csrf_token": csrf}).status_code == 403
    assert 'href="/admin/tokens"' not in client.get("/cases").get_data(as_text=True)


def test_the_tokens_page_is_anonymous_proof(client):
    assert client.get("/admin/tokens").status_code == 302


# ---- timing of deactivated accounts -------------------------------------------------------------------

def test_a_deactivated_account_costs_one_password_hash_like_any_other(make_user, monkeypatch):
    user = make_user("operator")
    deactivate_user(user.username)
    db.session.commit()
    checked = []
    real = operations.check_password_hash
    monkeypatch.setattr(operations, "check_password_hash",
                        lambda stored, password: checked.append(stored) or real(stored, password))
    assert authenticate(user.username, PASSWORD) is None
    assert authenticate("no-such-user", PASSWORD) is None
    assert authenticate(make_user("operator").username, "wrong-password") is None
    assert len(checked) == 3  # one hash each: deactivated, unknown, wrong password
    assert checked[0] == user.password_hash
