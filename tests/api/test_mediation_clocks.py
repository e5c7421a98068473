"""Mediation clocks through the API: 60 natural days under Order 121 (art. 23(5)), 45 working days under
Order 20 (art. 21(5)); a suspension for testing (art. 22) or a recusal request (art. 21) is not counted."""
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from hotline.cases import actions
from hotline.extensions import db
from hotline.outbox.relay import run_pending
from tests.conftest import complaint_payload

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: str) -> datetime:
    """10:00 Shanghai of the day, as the action's clock will read it."""
    return datetime.fromisoformat(f"{day}T10:00:00").replace(tzinfo=SHANGHAI).astimezone(UTC)


@pytest.fixture
def handler(make_user, token_for):
    return token_for(make_user("bureau", bureau="tiexi"))


@pytest.fixture
def clock_at(monkeypatch):
    """Take the next actions as if on a given day."""
    def set_day(day: str):
        monkeypatch.setattr(actions, "utcnow", lambda: at(day))
    return set_day


def register(client, operator, received_at: str) -> str:
    body = complaint_payload(received_at=received_at, occurred_on="2026-04-01")
    response = client.post("/api/v1/cases", json=body, headers=operator)
    assert response.status_code == 201, response.get_json()
    run_pending()  # routed to 铁西
    db.session.expire_all()
    return response.get_json()["number"]


def act(client, number, headers, **body):
    response = client.post(f"/api/v1/cases/{number}/actions", json=body, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def mediation(body: dict) -> dict:
    return next(d for d in body["deadlines"] if d["clock"] == "mediation")


def last_day(deadline: dict) -> str:
    """The last day of the period: a stored due is 24:00 Shanghai, i.e. 16:00 UTC of that day."""
    due = datetime.fromisoformat(deadline["due"]).astimezone(SHANGHAI)
    assert due.time() == time(0)
    return (due - timedelta(days=1)).date().isoformat()


@pytest.fixture
def two_complaints(client, make_user, token_for, handler, clock_at):
    """One received under Order 121 (2026-05-05), one under Order 20 (2026-04-10), both accepted 2026-05-06."""
    operator = token_for(make_user("operator"))
    new, old = register(client, operator, "2026-05-05T09:00:00+08:00"), register(client, operator,
                                                                                "2026-04-10T09:00:00+08:00")
    clock_at("2026-05-06")
    return act(client, new, handler, action="accept"), act(client, old, handler, action="accept")


def test_mediation_is_60_natural_days_under_order_121_and_45_working_days_under_order_20(two_complaints):
    new, old = map(mediation, two_complaints)
    assert (new["rule_version"], new["length"], new["unit"]) == ("order-121", 60, "natural")
    assert (old["rule_version"], old["length"], old["unit"]) == ("order-20", 45, "working")
    assert last_day(new) == "2026-07-06"  # DESIGN's worked example: day 60 is Sunday 07-05
    # 45 working days from 2026-05-06 (Saturday 05-09 is a make-up working day; Dragon Boat 06-19 is off)
    assert last_day(old) == "2026-07-08"


def test_a_suspension_for_testing_moves_the_due_date_by_the_days_paused(client, handler, clock_at, two_complaints):
    new, old = (body["number"] for body in two_complaints)
    for number in (new, old):
        clock_at("2026-05-20")  # a Wednesday: the goods go to a testing body (art. 22)
        suspended = act(client, number, handler, action="suspend", reason="testing", note="送检")
        assert suspended["status"] == "suspended" and mediation(suspended)["paused"]
        assert [e["reason"] for e in suspended["events"] if e["action"] == "suspend"] == ["testing"]
        clock_at("2026-05-30")  # the report is back on a Saturday
        act(client, number, handler, action="resume")
    new_body = client.get(f"/api/v1/cases/{new}", headers=handler).get_json()
    old_body = client.get(f"/api/v1/cases/{old}", headers=handler).get_json()
    # Order 121: 10 natural days paused, so 70 days from 05-06: Wednesday 07-15.
    assert last_day(mediation(new_body)) == "2026-07-15"
    # Order 20: 7 working days paused (05-21, 22, 25..29), so 52 working days from 05-06.
    assert last_day(mediation(old_body)) == "2026-07-17"


def test_a_recusal_request_stops_the_natural_day_clock_too(client, handler, clock_at, two_complaints):
    number = two_complaints[0]["number"]
    clock_at("2026-06-01")
    act(client, number, handler, action="suspend", reason="recusal")
    clock_at("2026-06-04")
    body = act(client, number, handler, action="resume")
    assert last_day(mediation(body)) == "2026-07-08"  # 63 natural days from 05-06: Wednesday 07-08


def test_suspend_needs_testing_or_recusal(client, handler, clock_at, two_complaints):
    number = two_complaints[0]["number"]
    for reason in ("送检", None, ""):
        response = client.post(f"/api/v1/cases/{number}/actions", json={"action": "suspend", "reason": reason},
                               headers=handler)
        assert response.status_code == 422 and "reason" in response.get_json()["error"]["fields"]
    assert client.get(f"/api/v1/cases/{number}", headers=handler).get_json()["status"] == "accepted"


def test_the_suspend_form_offers_the_two_reasons(client, make_user, login, clock_at, two_complaints):
    login(client, make_user("bureau", bureau="tiexi"))
    page = client.get(f"/cases/{two_complaints[0]['number']}").get_data(as_text=True)
    assert '<option value="testing"' in page and '<option value="recusal"' in page
    assert "检测、鉴定（第二十二条）" in page and "申请回避（第二十一条）" in page
