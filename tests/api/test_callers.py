"""GET /api/v1/callers/{phone}: a caller's earlier cases, with dates as people on the hotline read them."""
from datetime import UTC, datetime

from hotline.cases.operations import register_case
from hotline.cases.schemas import parse_case
from hotline.extensions import db
from tests.conftest import complaint_payload


def test_caller_history_dates_are_local_not_utc(client, make_user, token_for):
    # 06:30 in Anshan on 25 November is 22:30 UTC on the 24th: cutting the ISO string said "2026-11-24".
    register_case(parse_case(complaint_payload(received_at="2026-11-25T06:30:00+08:00", occurred_on="2026-11-20")),
                  None, now=datetime(2026, 11, 25, 0, 0, tzinfo=UTC))
    db.session.commit()
    headers = token_for(make_user("operator"))
    item = client.get("/api/v1/callers/13900001111", headers=headers).get_json()["items"][0]
    assert item["received_on"] == "2026-11-25"
    assert item["received_local"] == "2026-11-25 06:30"
    # The contract's fields are unchanged: ISO 8601 in UTC.
    assert item["received_at"].startswith("2026-11-24T22:30:00")
    assert item["business"]["name"] == "测试商店" and item["consumer"]["phone"] == "139****1111"


def test_caller_history_of_an_unknown_number_is_empty_and_a_bad_number_is_422(client, make_user, token_for):
    headers = token_for(make_user("operator"))
    assert client.get("/api/v1/callers/13800000000", headers=headers).get_json()["items"] == []
    response = client.get("/api/v1/callers/12", headers=headers)
    assert response.status_code == 422 and "phone" in response.get_json()["error"]["fields"]

