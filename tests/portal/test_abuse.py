"""What an outside probe tried against the public pages (issue #10 review): limits that a client cannot
dodge by re-writing a number or a content type, an owner a stranger cannot lock out, text that cannot be
stored refused, not a 500."""
import json

from hotline.alerts.models import Subscription  # noqa: F401  (the table the subscription limits protect)
from hotline.extensions import db
from hotline.sms.models import SmsMessage


def lookup(client, number, code, ip="10.0.0.1", content_type="application/json"):
    return client.post("/api/v1/public/lookup", data=json.dumps({"number": number, "code": code}),
                       content_type=content_type, environ_base={"REMOTE_ADDR": ip})


def test_a_json_body_without_a_json_type_is_refused_before_any_code_is_checked(client, filed):
    # Issue #12 item 9: the API reads JSON sent as JSON only, so a rewritten content type tries no code at all
    case, code = filed()
    statuses = [lookup(client, case.number, "WRONG2", ip="10.0.0.1", content_type="text/plain").status_code
                for _ in range(11)]
    assert statuses == [415] * 11
    assert lookup(client, case.number, code, ip="10.0.0.2").status_code == 200


def test_a_stranger_with_wrong_codes_cannot_lock_the_owner_out(client, filed):
    case, code = filed()
    for i in range(12):  # ten clients, wrong codes: each gets its own allowance
        lookup(client, case.number, "WRONG2", ip=f"10.0.1.{i}")
    assert lookup(client, case.number, code, ip="10.9.9.9").status_code == 200


def test_unstorable_text_in_a_public_json_body_is_a_400_not_a_500(client, filed):
    case, _ = filed()
    response = client.post("/api/v1/public/lookup", data='{"number":"' + case.number + '","code":"\\ud800"}',
                           content_type="application/json")
    assert response.status_code == 400 and response.get_json()["error"]["code"]
    deep = client.post("/api/v1/public/lookup", data="[" * 100000 + "]" * 100000, content_type="application/json")
    assert deep.status_code == 400


def test_a_rewritten_number_shares_its_subscription_code_allowance(client):
    sent = []
    for variant in ("13900001111", "13900001111#1", "+86 139-0000-1111", "１３９00001111", "13900001111 ext. 5",
                    "13900001111#2", "13900001111#3"):
        response = client.post("/api/v1/public/subscriptions", json={"phone": variant},
                               environ_base={"REMOTE_ADDR": f"10.2.0.{len(sent)}"})
        sent.append(response.status_code)
    assert 429 in sent
    db.session.rollback()
    assert db.session.query(SmsMessage).filter_by(to_phone="13900001111").count() <= 5


def test_forwarded_addresses_are_believed_only_from_configured_proxies(app):
    from hotline import create_app
    from hotline.extensions import limiter  # noqa: F401
    seen = {}
    for hops in (0, 1):
        other = create_app({"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], "TESTING": True,
                            "SECRET_KEY": "x", "TRUSTED_PROXIES": hops})

        @other.get("/_whoami")
        def whoami():
            from flask import request
            return request.remote_addr
        with other.test_client() as c:
            seen[hops] = c.get("/_whoami", headers={"X-Forwarded-For": "203.0.113.9"},
                               environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_data(as_text=True)
    assert seen == {0: "127.0.0.1", 1: "203.0.113.9"}
