"""The rate limiter's Redis down (issue #12, item 3): log-in still works, limits count in memory with a
logged warning, and no request answers 500."""
import logging
import socket

import pytest

from hotline import create_app
from hotline.auth.operations import create_user
from hotline.extensions import db, limiter
from tests.conftest import PASSWORD, IsolatedClient


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens there once the probe is closed


@pytest.fixture
def redis_down_app(app):
    config = {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], "SECRET_KEY": "test-secret",
              "REDIS_URL": f"redis://127.0.0.1:{_closed_port()}/0", "LOGIN_RATE_LIMIT": "3 per minute",
              "WTF_CSRF_ENABLED": False, "TESTING": True}
    down = create_app(config)
    down.test_client_class = IsolatedClient  # a fresh `g` for each request, as a server gives
    yield down
    # The limiter is one object for every app: give it back to the session's app and its memory store.
    limiter.init_app(app)
    limiter._storage_dead = False


def test_log_in_works_when_the_limiter_store_is_down(redis_down_app, caplog, monkeypatch):
    # Alembic's logging set-up (the session's migration) disables loggers that existed before it.
    monkeypatch.setattr(logging.getLogger("flask-limiter"), "disabled", False)
    with redis_down_app.app_context():
        create_user("during-outage", PASSWORD, "operator")
        db.session.commit()
        client = redis_down_app.test_client()
        with caplog.at_level(logging.WARNING, logger="flask-limiter"):
            assert client.post("/login", data={"username": "during-outage", "password": PASSWORD}).status_code == 302
        assert any("falling back to in-memory" in r.getMessage() for r in caplog.records)
        client = redis_down_app.test_client()
        codes = [client.post("/login", data={"username": "during-outage", "password": "wrong"}).status_code
                 for _ in range(4)]
        assert codes == [200, 200, 200, 429]  # still limited, in this process's memory
        other = redis_down_app.test_client()
        assert other.post("/login", data={"username": "during-outage", "password": PASSWORD},
                          environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 302
        assert other.get("/cases").status_code == 200
