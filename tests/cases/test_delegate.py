"""委托调解 (Order 121 art. 19, issue #8): the bureau entrusts mediation to a consumer association or another
mediation body, named; the case stays with the bureau, its mediation clock runs on, and the case page and
timeline say who mediates."""
import re

import pytest
from sqlalchemy import select

from hotline.cases.models import Case, CaseEvent
from hotline.deadlines.models import CaseClock
from hotline.extensions import db
from hotline.outbox.relay import run_pending

BODY = "鞍山市消费者协会"


@pytest.fixture
def accepted(make_case, make_user, token_for, client):
    """A complaint accepted at 铁西, its handler and the handler's API headers."""
    handler = make_user("bureau", bureau="tiexi", username="handler")
    headers = token_for(handler)

    def make():
        case = make_case().case
        run_pending()
        db.session.expire_all()
        assert act(client, case, headers, action="accept").status_code == 200
        db.session.expire_all()
        return db.session.get(Case, case.id)
    return make, handler, headers


def act(client, case, headers, **body):
    return client.post(f"/api/v1/cases/{case.number}/actions", json=body, headers=headers)


def mediation(case) -> CaseClock:
    db.session.expire_all()
    return db.session.scalar(select(CaseClock).where(CaseClock.case_id == case.id, CaseClock.clock == "mediation"))


def test_delegate_names_the_body_and_the_clock_runs_on(client, accepted):
    make, handler, headers = accepted
    case = make()
    due = mediation(case).due_at
    response = act(client, case, headers, action="delegate")
    assert response.status_code == 422 and "reason" in response.get_json()["error"]["fields"]
    assert act(client, case, headers, action="delegate", reason="协" * 129).status_code == 422
    body = act(client, case, headers, action="delegate", reason=BODY, note="双方同意").get_json()
    assert (body["status"], body["delegated_to"], body["bureau"]["code"]) == ("accepted", BODY, "tiexi")
    assert body["assignee"] == handler.display_name
    event = body["events"][-1]
    assert (event["action"], event["reason"], event["note"]) == ("delegate", BODY, "双方同意")
    clock = mediation(case)
    assert clock.due_at == due and clock.met_at is None and clock.paused_at is None  # runs on, unchanged
    assert [m["kind"] for m in body["messages"]] == ["receipt", "decision"]  # nothing sent for a delegation
    # another body later (the association declined it): named again, the earlier one kept in the trail
    body = act(client, case, headers, action="delegate", reason="鞍山市人民调解委员会").get_json()
    assert body["delegated_to"] == "鞍山市人民调解委员会"
    stored = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id,
                                                        CaseEvent.action == "delegate").order_by(CaseEvent.id)).all()
    assert [e.data for e in stored] == [{"delegated_to": BODY, "previous": None},
                                        {"delegated_to": "鞍山市人民调解委员会", "previous": BODY}]


def test_only_the_case_bureau_and_the_centre_delegate_and_only_during_mediation(client, accepted, make_case,
                                                                                make_user, token_for):
    make, _handler, headers = accepted
    pending = make_case().case
    run_pending()
    assert act(client, pending, headers, action="delegate", reason=BODY).status_code == 409  # not yet accepted
    case = make()
    other = token_for(make_user("bureau", bureau="tiedong"))
    assert act(client, case, other, action="delegate", reason=BODY).status_code in (404, 409)
    assert act(client, case, token_for(make_user("operator")), action="delegate", reason=BODY).status_code == 403
    assert act(client, case, headers, action="suspend", reason="testing").status_code == 200
    body = act(client, case, token_for(make_user("supervisor")), action="delegate", reason=BODY).get_json()
    assert (body["status"], body["delegated_to"]) == ("suspended", BODY)  # a suspended mediation may be entrusted


def test_case_page_and_timeline_show_who_mediates(client, accepted, login):
    make, handler, _headers = accepted
    case = make()
    csrf = login(client, handler)
    page = client.get(f"/cases/{case.number}").get_data(as_text=True)
    assert 'class="action-delegate"' in page and "消费者协会或其他调解组织" in page
    response = client.post(f"/cases/{case.number}/actions",
                           data={"csrf_token": csrf, "version": case.version, "action": "delegate", "reason": BODY})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    flash = " ".join(re.findall(r'<p class="flash ok">(.*?)</p>', page))
    assert f"已委托{BODY}调解" in flash and "调解期限" in flash
    fields = page[:page.index("<aside>")]
    assert f"委托{BODY}调解（第十九条）" in fields
    timeline = page[page.index('class="timeline"'):]
    assert "委托调解" in timeline and f"委托{BODY}调解" in timeline
