"""Issue #12 item 10 (first point): a role that may not take an action is refused with 403; 409 stays for
an action the case's status does not allow now (or a case changed meanwhile)."""
import pytest

from hotline.cases.models import Case
from hotline.extensions import db
from hotline.outbox.relay import run_pending


@pytest.fixture
def pending(make_case):
    """A complaint routed to 铁西, waiting for its decision."""
    case = make_case().case
    run_pending()
    db.session.expire_all()
    return db.session.get(Case, case.id)


def act(client, number, headers, **body):
    return client.post(f"/api/v1/cases/{number}/actions", json=body, headers=headers)


@pytest.mark.parametrize(("role", "action", "body"), [
    ("operator", "accept", {}), ("station", "accept", {}), ("operator", "assign", {"bureau": "tiexi"}),
    ("bureau", "transfer_out", {"receiver": "全国12315平台"}), ("supervisor", "route", {}),
    ("operator", "decline", {"reason": "D01"})])
def test_a_role_that_may_not_take_the_action_gets_403(client, pending, make_user, token_for, role, action, body):
    user = make_user(role, **({"bureau": "tiexi"} if role == "bureau" else {"station": "ST-TD-01"} if role == "station"
                              else {}))
    if role == "station":
        pending.station_id = user.station_id  # a station sees the cases it logged
        db.session.commit()
    response = act(client, pending.number, token_for(user), action=action, **body)
    assert response.status_code == 403, response.get_json()
    assert response.get_json()["error"]["code"] == "forbidden"
    db.session.expire_all()
    assert db.session.get(Case, pending.id).status == "pending"


def test_a_role_is_refused_whatever_the_status(client, pending, make_user, token_for):
    """Even where the status would not allow it either, the role's refusal comes first."""
    bureau = token_for(make_user("bureau", bureau="tiexi"))
    assert act(client, pending.number, bureau, action="accept").status_code == 200
    assert act(client, pending.number, token_for(make_user("operator")), action="accept").status_code == 403


def test_the_status_refusal_stays_409(client, pending, make_user, token_for):
    bureau = token_for(make_user("bureau", bureau="tiexi"))
    assert act(client, pending.number, bureau, action="settle", recovered_amount="1").status_code == 409
    assert act(client, pending.number, bureau, action="start_verification").status_code == 409  # not for a complaint
    assert act(client, pending.number, bureau, action="accept", version=pending.version - 1).status_code == 409


def test_the_case_page_answers_the_same(client, pending, make_user, login):
    csrf = login(client, make_user("operator"))
    refused = client.post(f"/cases/{pending.number}/actions", data={"action": "accept", "csrf_token": csrf})
    assert refused.status_code == 403
    csrf = login(client, make_user("bureau", bureau="tiexi"))
    too_early = client.post(f"/cases/{pending.number}/actions", data={"action": "settle", "recovered_amount": "1",
                                                                      "csrf_token": csrf})
    assert too_early.status_code == 409
