"""Issue #12 item 9: the API reads a body only when it is sent as UTF-8 JSON (415 for another content
type, 400 for bytes that are not UTF-8, or not JSON), on the staff and the public endpoints alike; and
an amount is ASCII digits with an optional "." and at most two decimals, nothing else Python would read."""
import json

import pytest
from sqlalchemy import func, select

from hotline.cases.models import Case
from hotline.extensions import db
from tests.conftest import complaint_payload

BODY = json.dumps(complaint_payload(), ensure_ascii=False)


@pytest.fixture
def headers(make_user, token_for):
    return token_for(make_user("supervisor"))


def cases() -> int:
    return db.session.scalar(select(func.count(Case.id)))


@pytest.mark.parametrize("content_type", ["text/plain", "text/plain; charset=utf-8", None,
                                          "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                                          "application/xml", "application/json; charset=utf-16"])
def test_a_body_not_sent_as_json_is_415(client, headers, content_type):
    extra = {"Content-Type": content_type} if content_type else {}
    response = client.post("/api/v1/cases", data=BODY.encode(), headers={**headers, **extra})
    assert response.status_code == 415
    assert response.get_json()["error"]["code"] == "unsupported_media_type"
    assert cases() == 0


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32", "gb18030"])
def test_a_json_body_not_in_utf8_is_400(client, headers, encoding):
    response = client.post("/api/v1/cases", data=BODY.encode(encoding),
                           headers={**headers, "Content-Type": "application/json"})
    assert response.status_code == 400 and response.get_json()["error"]["message"]
    assert cases() == 0


@pytest.mark.parametrize("raw", ["\ufeff" + BODY, '{"kind": "consultation", "kind": "complaint", "channel": "phone", '
                                 '"subject": "x"}', '{"amount": NaN}', '{"amount": Infinity}', "{'kind': 1}"])
def test_json_that_is_not_plain_json_is_400(client, headers, raw):
    """A byte-order mark, a key given twice (which one counts?), NaN and Infinity are not JSON (RFC 8259)."""
    response = client.post("/api/v1/cases", data=raw.encode(), headers={**headers, "Content-Type": "application/json"})
    assert response.status_code == 400


def test_json_as_json_still_works(client, headers):
    for content_type in ("application/json", "application/json; charset=UTF-8", "application/problem+json"):
        response = client.post("/api/v1/cases", data=BODY.encode(), headers={**headers, "Content-Type": content_type})
        assert response.status_code == 201, content_type


def test_the_actions_and_the_public_endpoints_read_json_only(client, headers, make_case):
    registered = make_case()
    number, code = registered.case.number, registered.query_code
    for path, body in ((f"/api/v1/cases/{number}/actions", {"action": "accept"}),
                       ("/api/v1/public/lookup", {"number": number, "code": code}),
                       (f"/api/v1/public/cases/{number}/rating", {"code": code, "score": 5}),
                       ("/api/v1/public/subscriptions", {"phone": "13900001111"}),
                       ("/api/v1/alerts", {"title": "t", "body": "b", "sms_text": "s"})):
        raw = json.dumps(body).encode()
        assert client.post(path, data=raw, headers={**headers, "Content-Type": "text/plain"}).status_code == 415, path
        assert client.post(path, data=body and json.dumps(body).encode("utf-16"),
                           headers={**headers, "Content-Type": "application/json"}).status_code == 400, path
    assert client.post("/api/v1/public/lookup", json={"number": number, "code": code}).status_code == 200


def test_a_write_without_a_body_is_left_to_the_endpoint(client, headers):
    response = client.post("/api/v1/cases", headers=headers)
    assert response.status_code == 422  # the body must be a JSON object


@pytest.mark.parametrize("amount", ["1_000", "١٢٣", "１２３", "1e3", "1E3", " 12", "12 ", "12.345", "+5", "-5", "12.",
                                    ".5", "0x10", "1,0,0", "Infinity", "NaN", "12,5"])
def test_amounts_are_ascii_digits_with_at_most_two_decimals(client, headers, amount):
    response = client.post("/api/v1/cases", json=complaint_payload(amount=amount), headers=headers)
    assert response.status_code == 422 and "amount" in response.get_json()["error"]["fields"], amount
    assert cases() == 0


def test_an_amount_as_a_json_number_in_exponent_form_is_refused(client, headers):
    raw = BODY.replace('"amount": "100.00"', '"amount": 1e3')
    assert '"amount": 1e3' in raw
    response = client.post("/api/v1/cases", data=raw.encode(), headers={**headers, "Content-Type": "application/json"})
    assert response.status_code == 422 and "amount" in response.get_json()["error"]["fields"]


@pytest.mark.parametrize(("amount", "stored"), [("12", "12.00"), ("12.5", "12.50"), ("1,234.56", "1234.56"),
                                                ("0", "0.00"), (38, "38.00")])
def test_amounts_written_plainly_are_accepted(client, headers, amount, stored):
    response = client.post("/api/v1/cases", json=complaint_payload(amount=amount), headers=headers)
    assert response.status_code == 201
    assert str(db.session.scalar(select(Case.amount))) == stored


def test_a_recovered_amount_follows_the_same_rule(client, make_case, make_user, token_for):
    from hotline.outbox.relay import run_pending
    case = make_case().case
    run_pending()
    handler = token_for(make_user("bureau", bureau="tiexi"))
    client.post(f"/api/v1/cases/{case.number}/actions", json={"action": "accept"}, headers=handler)
    for amount in ("1_000", "١٢", "5e1"):
        response = client.post(f"/api/v1/cases/{case.number}/actions",
                               json={"action": "settle", "recovered_amount": amount}, headers=handler)
        assert response.status_code == 422 and "recovered_amount" in response.get_json()["error"]["fields"]


def test_the_console_reads_full_width_digits_typed_with_a_cjk_input_method(client, make_user, login):
    from tests.intake.test_console import FORM
    csrf = login(client, make_user("operator"))
    assert client.post("/console", data={**FORM, "amount": "１２．５ ", "csrf_token": csrf}).status_code == 303
    assert str(db.session.scalar(select(Case.amount))) == "12.50"
    refused = client.post("/console", data={**FORM, "amount": "١٢٣", "subject": "另一件", "csrf_token": csrf})
    assert refused.status_code == 422 and 'data-field="amount"' in refused.get_data(as_text=True)
