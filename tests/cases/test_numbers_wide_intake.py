"""Issue #12 item 6 end to end: the 100,000th case of a day is registered (it was a 500), found by its
number in every form people type it, and looked up by the consumer."""
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from hotline.cases.models import CaseNumberCounter
from hotline.cases.numbers import group_case_number
from hotline.extensions import db
from tests.conftest import complaint_payload


def _busy_day(app, last: int) -> None:
    day = datetime.now(ZoneInfo(app.config["TIMEZONE"])).date()
    db.session.add(CaseNumberCounter(day=f"{day:%Y%m%d}", last=last))
    db.session.commit()


def test_intake_goes_on_past_99999_cases_a_day(app, client, make_user, token_for, login):
    _busy_day(app, 99_999)
    headers = token_for(make_user("operator"))
    response = client.post("/api/v1/cases", json=complaint_payload(), headers=headers)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    number = body["number"]
    assert len(number) == 16 and number[8:15] == "0100000"
    assert db.session.scalar(select(CaseNumberCounter.last)) == 100_000
    for typed in (number, group_case_number(number), group_case_number(number).replace(" ", "-")):
        assert client.get(f"/api/v1/cases/{typed}", headers=headers).get_json()["number"] == number
    found = client.get("/api/v1/cases", query_string={"q": group_case_number(number)}, headers=headers).get_json()
    assert [c["number"] for c in found["items"]] == [number]
    lookup = client.post("/api/v1/public/lookup",
                         json={"number": group_case_number(number), "code": body["query_code"]})
    assert lookup.status_code == 200 and lookup.get_json()["number"] == number
    login(client, make_user("supervisor"))
    assert group_case_number(number) in client.get("/cases").get_data(as_text=True)

