"""Issue #12 item 7 (API): an `Idempotency-Key` on `POST /cases` and on the actions makes a repeat (a
retry after a timeout, a double click in a client) answer the first result instead of doing it again;
and item 6's per-token rate limit on intake."""
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

import hotline.api.cases as api_cases
from hotline.api.models import IdempotencyKey
from hotline.cases.models import Case, CaseEvent
from hotline.extensions import db
from hotline.outbox.relay import run_pending
from hotline.sms.models import SmsMessage
from hotline.types import utcnow
from tests.conftest import complaint_payload


@pytest.fixture
def headers(make_user, token_for):
    return token_for(make_user("operator"))


def create(client, headers, key, **over):
    return client.post("/api/v1/cases", json=complaint_payload(**over), headers={**headers, "Idempotency-Key": key})


def count(model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_a_repeat_answers_the_first_result_and_registers_nothing_more(client, headers):
    first = create(client, headers, "4f1c2b8e-retry-1")
    again = create(client, headers, "4f1c2b8e-retry-1")
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()  # the same number and query code
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert count(Case) == 1
    assert count(SmsMessage) == 1  # one receipt SMS: it is queued by the first request only


def test_without_the_header_each_request_registers(client, headers):
    assert client.post("/api/v1/cases", json=complaint_payload(), headers=headers).status_code == 201
    assert client.post("/api/v1/cases", json=complaint_payload(), headers=headers).status_code == 201
    assert count(Case) == 2


def test_the_same_key_with_another_body_is_422(client, headers):
    assert create(client, headers, "key-A").status_code == 201
    response = create(client, headers, "key-A", subject="另一件事")
    assert response.status_code == 422 and "Idempotency-Key" in response.get_json()["error"]["fields"]
    assert count(Case) == 1


def test_keys_belong_to_their_user(client, headers, make_user, token_for):
    assert create(client, headers, "shared-key").status_code == 201
    other = create(client, token_for(make_user("operator")), "shared-key")
    assert other.status_code == 201 and "Idempotent-Replayed" not in other.headers
    assert count(Case) == 2


def test_a_failed_request_does_not_use_up_its_key(client, headers):
    response = client.post("/api/v1/cases", json=complaint_payload(amount="1_000"),
                           headers={**headers, "Idempotency-Key": "k-fail"})
    assert response.status_code == 422
    assert count(IdempotencyKey) == 0  # released: the corrected request may use the same key
    assert create(client, headers, "k-fail").status_code == 201


@pytest.mark.parametrize("key", ["", "a" * 121, "has space", "键"])
def test_a_malformed_key_is_400(client, headers, key):
    response = client.post("/api/v1/cases", json=complaint_payload(),
                           headers={**headers, "Idempotency-Key": key.encode().decode("latin-1")})
    assert response.status_code == 400 and response.get_json()["error"]["fields"]
    assert count(Case) == 0


def test_keys_are_kept_24_hours_then_purged(client, headers):
    first = create(client, headers, "day-old").get_json()
    db.session.execute(update(IdempotencyKey).values(created_at=utcnow() - timedelta(hours=24, minutes=1)))
    db.session.commit()
    again = create(client, headers, "day-old")
    assert again.status_code == 201 and again.get_json()["number"] != first["number"]
    assert count(Case) == 2
    assert count(IdempotencyKey) == 1  # the day-old key was purged


def test_the_periodic_purge_takes_every_old_key(client, headers):
    """Beat (and the embedded relay thread) purges; a request only replaces its own expired key."""
    from hotline.api.idempotency import purge_expired
    for key in ("old-1", "old-2", "old-3"):
        create(client, headers, key)
    db.session.execute(update(IdempotencyKey).values(created_at=utcnow() - timedelta(days=2)))
    db.session.commit()
    create(client, headers, "new")
    assert count(IdempotencyKey) == 4  # not purged by the request
    assert purge_expired(batch=2) == 3  # in batches of two: 2, then 1
    assert [k.removeprefix("api:") for k in db.session.scalars(select(IdempotencyKey.key))] == ["new"]


def test_an_action_repeated_with_its_key_is_taken_once(client, make_case, make_user, token_for):
    case = make_case().case
    run_pending()
    handler = token_for(make_user("bureau", bureau="tiexi"))
    post = lambda: client.post(f"/api/v1/cases/{case.number}/actions", json={"action": "accept"},  # noqa: E731
                               headers={**handler, "Idempotency-Key": "accept-once"})
    first, again = post(), post()
    assert first.status_code == again.status_code == 200
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    assert count(CaseEvent, CaseEvent.case_id == case.id, CaseEvent.action == "accept") == 1
    # without the key the repeat is refused by the workflow, as before
    assert client.post(f"/api/v1/cases/{case.number}/actions", json={"action": "accept"},
                       headers=handler).status_code == 409


def test_an_unfinished_claim_left_by_a_dead_request_is_taken_over(client, headers, make_user):
    """A worker killed mid-request leaves its claim unanswered (its case was rolled back with it)."""
    first = create(client, headers, "orphan")
    db.session.execute(update(IdempotencyKey).values(status_code=None, response=None,
                                                     created_at=utcnow() - timedelta(minutes=5)))
    db.session.execute(update(Case).values(subject="rolled back"))  # stands for the case that never was
    db.session.commit()
    again = create(client, headers, "orphan")
    assert again.status_code == 201 and again.get_json()["number"] != first.get_json()["number"]


def test_a_running_first_request_makes_the_repeat_wait_409(app, client, headers, monkeypatch):
    create(client, headers, "busy")
    db.session.execute(update(IdempotencyKey).values(status_code=None, response=None))
    db.session.commit()
    monkeypatch.setitem(app.config, "IDEMPOTENCY_WAIT_SECONDS", 0.2)
    response = create(client, headers, "busy")
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "conflict"
    assert count(Case) == 1


def test_two_concurrent_requests_with_one_key_make_one_case(app, headers, monkeypatch):
    """A double click in a client: the second request waits for the first's answer and gets it."""
    register = api_cases.register_case

    def slow_register(*args, **kwargs):
        registered = register(*args, **kwargs)
        time.sleep(0.5)  # the first request is still inside its transaction when the second arrives
        return registered
    monkeypatch.setattr(api_cases, "register_case", slow_register)
    answers: list = []

    def post():
        response = app.test_client().post("/api/v1/cases", json=complaint_payload(),
                                          headers={**headers, "Idempotency-Key": "double-click"})
        answers.append((response.status_code, response.get_json(), response.headers.get("Idempotent-Replayed")))
    threads = [threading.Thread(target=post) for _ in range(2)]
    threads[0].start()
    time.sleep(0.15)
    threads[1].start()
    for thread in threads:
        thread.join(60)
    assert [a[0] for a in answers] == [201, 201]
    assert answers[0][1] == answers[1][1] and sorted(str(a[2]) for a in answers) == ["None", "true"]
    assert count(Case) == 1 and count(SmsMessage) == 1


def test_intake_is_rate_limited_per_token(app, client, headers, make_user, token_for, monkeypatch):
    monkeypatch.setitem(app.config, "API_CREATE_RATE_LIMIT", "2 per minute")
    codes = [client.post("/api/v1/cases", json=complaint_payload(), headers=headers).status_code for _ in range(3)]
    assert codes == [201, 201, 429]
    refused = client.post("/api/v1/cases", json=complaint_payload(), headers=headers)
    assert refused.get_json()["error"]["code"] == "too_many_requests"
    # another token (another phone system) keeps its own allowance
    assert client.post("/api/v1/cases", json=complaint_payload(),
                       headers=token_for(make_user("operator"))).status_code == 201
    assert client.get("/api/v1/cases", headers=headers).status_code == 200  # reads are not limited by it


def test_the_default_limit_is_configured(app):
    assert app.config["API_CREATE_RATE_LIMIT"] == "600 per minute"
