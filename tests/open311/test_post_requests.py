"""POST requests: a form-encoded Open311 request registers a case through the intake every channel uses."""
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from hotline.auth.models import User
from hotline.cases.models import Case
from hotline.extensions import db
from hotline.outbox.models import OutboxJob
from hotline.sms.models import SmsMessage
from tests.conftest import PASSWORD
from tests.open311.conftest import ADDRESS, BASE, complaint_form, errors, parse


def cases() -> int:
    return db.session.scalar(select(func.count()).select_from(Case))


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_a_complaint_is_registered_and_its_number_returned(api_key_for, post_request, fmt):
    form = complaint_form(api_key_for("operator"), lat="41.1", long="122.99", email="a@example.com")
    response = post_request(form, fmt)
    assert response.status_code == 200, response.get_data(as_text=True)
    data = parse(response, fmt)
    if fmt == "xml":
        assert data.tag == "service_requests"
        request = data.find("request")
        assert [c.tag for c in request] == ["service_request_id", "service_notice", "account_id"]
        number, notice, account = (request.findtext(t) for t in ("service_request_id", "service_notice", "account_id"))
    else:
        assert len(data) == 1 and set(data[0]) == {"service_request_id", "service_notice", "account_id"}
        number, notice, account = data[0]["service_request_id"], data[0]["service_notice"], data[0]["account_id"]
    case = db.session.scalar(select(Case).where(Case.number == number))
    assert account == "app-42"
    assert number in notice and "2026" in notice and "短信" in notice  # the first deadline; the code went by SMS
    assert (case.kind, case.channel, case.status) == ("complaint", "web", "registered")
    assert (case.category_goods, case.category_service, case.category_issue) == ("G0101", None, "I0101")
    assert (case.business_name, case.business_address) == ("测试商店", ADDRESS)
    assert (case.consumer_name, case.consumer_phone) == ("张三", "13900001111")
    assert (case.subject, case.demand, case.amount) == ("手机屏幕质量问题", "退货", Decimal("1999.00"))
    # what the case has no field for stays in its description, for the handler
    assert case.description.startswith("买的手机第二天屏幕就坏了。") and "41.1, 122.99" in case.description
    assert "a@example.com" in case.description
    # the same side effects as any intake: the routing job and the receipt SMS
    assert db.session.scalar(select(OutboxJob.id).where(OutboxJob.dedupe_key == f"route_case:{case.id}"))
    assert db.session.scalar(select(SmsMessage.kind).where(SmsMessage.case_id == case.id)) == "receipt"


def test_the_sub_category_defaults_to_the_service_category_and_names_become_the_consumer(api_key_for,
                                                                                        post_request):
    form = complaint_form(api_key_for("supervisor"), **{
        "service_code": "complaint-S13", "attribute[category]": None, "attribute[issue]": None,
        "attribute[consumer_name]": None, "attribute[consumer_phone]": None,
        "first_name": "三", "last_name": "张", "phone": "139 0000 2222"})
    response = post_request(form)
    assert response.status_code == 200, response.get_data(as_text=True)
    case = db.session.scalar(select(Case))
    assert (case.category_goods, case.category_service) == (None, "S13")
    assert (case.consumer_name, case.consumer_phone) == ("张三", "13900002222")


def test_a_station_token_logs_for_its_station(api_key_for, post_request):
    response = post_request(complaint_form(api_key_for("station", station="ST-TD-01")))
    assert response.status_code == 200
    case = db.session.scalar(select(Case))
    assert case.channel == "station" and case.station.code == "ST-TD-01"


def test_an_anonymous_report_gets_its_query_code_in_the_notice(api_key_for, post_request):
    form = {"api_key": api_key_for("operator"), "service_code": "report-S13", "address_string": ADDRESS,
            "attribute[subject]": "预付卡商家关门", "attribute[business_name]": "某健身房",
            "attribute[anonymous]": "true", "description": "办卡后商家关门。"}
    response = post_request(form)
    assert response.status_code == 200, response.get_data(as_text=True)
    notice = parse(response, "json")[0]["service_notice"]
    case = db.session.scalar(select(Case))
    assert case.kind == "report" and case.consumer_anonymous
    assert "查询码：" in notice and db.session.scalar(select(func.count()).select_from(SmsMessage)) == 0


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_a_missing_or_unknown_api_key_is_403(client, post_request, fmt):
    assert "api_key" in errors(post_request(complaint_form(None), fmt), fmt, 403)[0]
    assert errors(post_request(complaint_form("hl_not-a-token"), fmt), fmt, 403) == ["api_key 无效"]
    assert cases() == 0


def test_a_browser_session_is_not_an_api_key(client, make_user, post_request):
    user = make_user("operator")
    from tests.conftest import csrf_token
    client.post("/login", data={"username": user.username, "password": PASSWORD, "csrf_token": csrf_token(client)})
    errors(post_request(complaint_form(None)), "json", 403)
    assert cases() == 0


def test_a_bureau_token_may_not_register(api_key_for, post_request):
    errors(post_request(complaint_form(api_key_for("bureau", bureau="tiexi"))), "json", 403)
    assert cases() == 0


def test_service_code_missing_is_400_and_unknown_404(api_key_for, post_request):
    key = api_key_for()
    assert errors(post_request(complaint_form(key, service_code=None)), "json", 400) == ["service_code: 必填"]
    errors(post_request(complaint_form(key, service_code="complaint-Z99")), "json", 404)
    assert cases() == 0


def test_form_errors_name_the_form_fields_and_store_nothing(api_key_for, post_request):
    key = api_key_for()
    cases_and_messages = [
        ({"attribute[subject]": None}, "attribute[subject]: 必填"),
        ({"attribute[colour]": "red"}, "attribute[colour]"),
        ({"attribute[category]": "S0101"}, "attribute[category]"),  # not a value of this service's list
        ({"attribute[occurred_on]": "last week"}, "attribute[occurred_on]"),
        ({"address_string": None}, "address_string"),  # the spec requires a location
        ({"lat": "41.1"}, "lat, long"),  # lat and long travel together
        ({"lat": "91", "long": "0"}, "lat"),
        ({"description": "长" * 4001}, "description"),
        # the intake's own rules, mapped back onto the form's names
        ({"attribute[consumer_phone]": "12"}, "attribute[consumer_phone]"),
        ({"attribute[consumer_name]": None}, "attribute[consumer_name]"),
        ({"attribute[amount]": "12.345"}, "attribute[amount]"),
        ({"attribute[business_uscc]": "91110000600037341X"}, "attribute[business_uscc]"),
        ({"attribute[occurred_on]": "2999-01-01"}, "attribute[occurred_on]"),
    ]
    for over, expected in cases_and_messages:
        descriptions = errors(post_request(complaint_form(key, **over)), "json", 400)
        assert any(d.startswith(expected) for d in descriptions), (over, descriptions)
    assert cases() == 0


def test_coordinates_or_an_address_id_are_a_location(api_key_for, post_request):
    response = post_request(complaint_form(api_key_for(), address_string=None, lat="41.1", long="122.9"))
    assert response.status_code == 200
    assert db.session.scalar(select(Case.business_address)) is None  # goes to triage: no address to route by


def test_an_occurred_date_and_time_is_read_as_its_local_day(api_key_for, post_request):
    response = post_request(complaint_form(api_key_for(), **{"attribute[occurred_on]": "2026-11-01T20:00:00Z"}))
    assert response.status_code == 200
    assert db.session.scalar(select(Case.occurred_on)).isoformat() == "2026-11-02"


def test_a_json_body_is_400(api_key_for, client):
    response = client.post(f"{BASE}/requests.json?api_key={api_key_for()}", json={"service_code": "complaint"})
    assert "x-www-form-urlencoded" in errors(response, "json", 400)[0]


def test_a_body_too_large_is_413_in_the_error_format(app, api_key_for, post_request):
    errors(post_request(complaint_form(api_key_for(), description="长" * 400_000), "xml"), "xml", 413)


def test_creation_is_rate_limited_per_api_key(app, api_key_for, post_request):
    app.config["API_CREATE_RATE_LIMIT"] = "1 per minute"
    try:
        key = api_key_for()
        assert post_request(complaint_form(key)).status_code == 200
        errors(post_request(complaint_form(key)), "json", 429)
        assert post_request(complaint_form(api_key_for())).status_code == 200  # another integration
    finally:
        app.config["API_CREATE_RATE_LIMIT"] = "600 per minute"


TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(st.dictionaries(st.sampled_from([
    "service_code", "attribute[subject]", "attribute[category]", "attribute[issue]", "attribute[amount]",
    "attribute[occurred_on]", "attribute[consumer_phone]", "attribute[business_uscc]", "attribute[anonymous]",
    "attribute[nothing]", "attribute[subject][]", "lat", "long", "address_id", "first_name", "phone", "email",
    "description", "address_string"]), TEXT, max_size=8))
def test_any_form_is_answered_200_or_400_never_500(app, client, form):
    """Whatever a client sends, with a valid api_key: a case, or the spec's error format."""
    from hotline.auth.operations import create_token, create_user
    if not db.session.scalar(select(func.count()).select_from(User).where(User.username == "fuzz")):
        create_user("fuzz", PASSWORD, "operator")
        db.session.commit()
    key = create_token("fuzz")
    db.session.commit()
    response = client.post(f"{BASE}/requests.xml", data={**complaint_form(key), **form})
    assert response.status_code in (200, 400, 404), response.get_data(as_text=True)
    parse(response, "xml")
