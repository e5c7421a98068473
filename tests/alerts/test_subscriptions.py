"""Subscribing to alerts by SMS code (API and page), ending it by page, link or code; the same answer
for every number; rate limits per number and per client."""
import re
from datetime import timedelta

from sqlalchemy import select

from hotline.alerts.models import Subscription
from hotline.extensions import db
from hotline.sms.models import SmsMessage, SmsOptOut
from hotline.types import utcnow
from tests.alerts.conftest import TIEDONG, TIEXI

PHONE = "13912345678"


def last_code(phone: str = PHONE) -> str:
    """The code in the newest SMS to the number (still queued: no relay runs in tests)."""
    db.session.expire_all()
    message = db.session.scalars(select(SmsMessage).where(SmsMessage.to_phone == phone)
                                 .order_by(SmsMessage.id.desc())).first()
    assert message.kind == "confirm" and message.template_code == "SUBSCRIPTION_CODE"
    return message.params["code"]


def subscription(phone: str = PHONE) -> Subscription | None:
    db.session.expire_all()
    return db.session.scalar(select(Subscription).where(Subscription.phone == phone))


def ask(client, phone=PHONE, district=None):
    return client.post("/api/v1/public/subscriptions", json={"phone": phone, "district": district})


def confirm(client, code, phone=PHONE):
    return client.post("/api/v1/public/subscriptions/confirm", json={"phone": phone, "code": code})


def test_a_code_by_sms_confirms_the_subscription_with_consent_time_and_channel(client):
    response = ask(client, "+86 139-1234-5678", TIEXI)
    assert response.status_code == 202
    code = last_code()
    assert re.fullmatch(r"\d{6}", code)
    pending = subscription()
    assert (pending.status, pending.district, pending.consent_at) == ("pending", TIEXI, None)
    assert code not in (pending.confirm_code_hash or "") and len(pending.confirm_code_hash) == 64  # a hash only
    wrong = confirm(client, "000000" if code != "000000" else "111111")
    assert wrong.status_code == 422 and "code" in wrong.get_json()["error"]["fields"]
    assert confirm(client, code).status_code == 200
    done = subscription()
    assert (done.status, done.channel, done.district) == ("confirmed", "api", TIEXI) and done.consent_at
    assert done.confirm_code_hash is None
    assert confirm(client, code).status_code == 422  # a code works once


def test_the_answer_is_the_same_for_new_pending_and_confirmed_numbers(client, subscribe):
    subscribe(TIEXI, phone="13900000001")
    subscribe(None, status="pending", phone="13900000002")
    answers = [ask(client, phone) for phone in ("13900000001", "13900000002", "13900000003")]
    assert len({(a.status_code, a.get_data()) for a in answers}) == 1
    assert subscription("13900000001").status == "confirmed"  # a request alone changes nothing


def test_an_expired_code_and_too_many_wrong_codes_are_refused(client):
    ask(client)
    code = last_code()
    sub = subscription()
    sub.confirm_expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert confirm(client, code).status_code == 422
    ask(client)
    code = last_code()
    wrong = "123456" if code != "123456" else "654321"
    for _ in range(5):
        confirm(client, wrong)
    assert confirm(client, code).status_code == 422  # void after five wrong tries
    assert subscription().status == "pending"


def test_bad_numbers_and_districts_get_field_errors(client):
    for phone in ("12345", "041212345678", None, 13912345678):
        response = ask(client, phone)
        assert response.status_code == 422 and "phone" in response.get_json()["error"]["fields"], phone
    response = ask(client, PHONE, "110101")
    assert response.status_code == 422 and "district" in response.get_json()["error"]["fields"]
    assert db.session.scalar(select(SmsMessage.id)) is None


def test_a_confirmed_subscriber_moves_district_only_with_the_new_code(client, subscribe):
    subscribe(TIEXI, phone=PHONE)
    ask(client, PHONE, TIEDONG)
    assert subscription().district == TIEXI  # until the owner confirms
    assert confirm(client, last_code()).status_code == 200
    assert subscription().district == TIEDONG


def test_subscribing_again_after_replying_td_lifts_the_opt_out(client):
    db.session.add(SmsOptOut(phone=PHONE, scope="marketing", source="reply", detail="TD"))
    db.session.commit()
    ask(client)
    confirm(client, last_code())
    assert db.session.scalar(select(SmsOptOut).where(SmsOptOut.phone == PHONE)) is None


def test_code_requests_are_limited_per_number_and_per_client(app, client):
    app.config.update(ALERT_CODE_RATE_LIMIT_PHONE="2 per hour", ALERT_CODE_RATE_LIMIT_CLIENT="3 per hour")
    try:
        assert [ask(client).status_code for _ in range(3)] == [202, 202, 429]
        limited = ask(client, "139 1234 5678")  # the same number written otherwise
        assert limited.status_code == 429 and limited.get_json()["error"]["code"] == "too_many_requests"
        assert ask(client, "13900000009").status_code == 202  # another number: the client's allowance
        assert ask(client, "13900000008").status_code == 429  # the client has used its 3
    finally:
        app.config.pop("ALERT_CODE_RATE_LIMIT_PHONE")
        app.config.pop("ALERT_CODE_RATE_LIMIT_CLIENT")


def test_the_page_subscribes_and_the_link_unsubscribes(client):
    page = client.get("/alerts/subscribe").get_data(as_text=True)
    assert "public.css" in page and "铁西区" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/alerts/subscribe", data={"phone": PHONE, "district": TIEXI, "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith("/alerts/subscribe/confirm")
    form = client.get("/alerts/subscribe/confirm").get_data(as_text=True)
    assert f'value="{PHONE}"' in form  # the number need not be typed again
    wrong = client.post("/alerts/subscribe/confirm", data={"phone": PHONE, "code": "x", "csrf_token": token})
    assert wrong.status_code == 422 and "验证码错误或已过期" in wrong.get_data(as_text=True)
    done = client.post("/alerts/subscribe/confirm", data={"phone": PHONE, "code": last_code(), "csrf_token": token})
    text = done.get_data(as_text=True)
    assert done.status_code == 200 and "139****5678" in text and "铁西区" in text
    assert subscription().channel == "web" and subscription().status == "confirmed"
    link = re.search(r'href="http://localhost(/alerts/unsubscribe/[^"]+)"', text).group(1)
    assert "停止" in client.get(link).get_data(as_text=True)
    assert subscription().status == "confirmed"  # opening the link only asks
    assert client.post(link, data={"csrf_token": token}).status_code == 200
    assert subscription().status == "unsubscribed" and subscription().unsubscribed_at
    assert client.get("/alerts/unsubscribe/forged-token").status_code == 404


def test_the_unsubscribe_page_asks_for_a_code_and_says_the_same_for_unknown_numbers(client, subscribe):
    subscribe(None, phone=PHONE)
    page = client.get("/alerts/unsubscribe").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    unknown = client.post("/alerts/unsubscribe", data={"phone": "13900000007", "csrf_token": token})
    known = client.post("/alerts/unsubscribe", data={"phone": PHONE, "csrf_token": token})
    assert unknown.status_code == known.status_code == 302
    assert unknown.headers["Location"] == known.headers["Location"]
    assert db.session.scalar(select(SmsMessage.id).where(SmsMessage.to_phone == "13900000007")) is None
    response = client.post("/alerts/unsubscribe/confirm", data={"phone": PHONE, "code": last_code(),
                                                                "csrf_token": token})
    assert response.status_code == 200 and "已退订" in response.get_data(as_text=True)
    assert subscription().status == "unsubscribed"
