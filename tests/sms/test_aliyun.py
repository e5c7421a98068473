"""The Aliyun backend, through the real SDK (alibabacloud-dysmsapi20170525) pointed at a local fake."""
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from hotline.sms.gateways import build
from hotline.sms.gateways.aliyun import AliyunGateway
from hotline.sms.gateways.base import GatewayError
from hotline.sms.gateways.settings import GatewaySettings, Template
from tests.sms.fake_gateway import FakeGateway

PHONE = "13900001111"
PARAMS = {"kind": "投诉", "number": "20261125000421", "code": "K7M2QX"}


@pytest.fixture
def fake():
    fake = FakeGateway().start()
    yield fake
    fake.stop()


@pytest.fixture
def gateway(fake):
    return AliyunGateway(GatewaySettings(key_id="LTAI-test", key_secret="secret", sign_name="鞍山12315",
                                         templates={"CASE_RECEIPT": Template("SMS_480000001")},
                                         endpoint=fake.endpoint, timeout=3))


def today():
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


def test_send_gives_the_gateway_the_template_id_named_parameters_and_our_out_id(fake, gateway):
    result = gateway.send(PHONE, "CASE_RECEIPT", PARAMS, "41-1")

    [sent] = fake.sends_for("41-1")
    assert (sent.phone, sent.template, sent.sign_name, sent.params) == (PHONE, "SMS_480000001", "鞍山12315", PARAMS)
    assert result.gateway_id == sent.gateway_id  # BizId, kept for receipts and queries


def test_the_backend_is_built_from_the_environment_settings(fake):
    gateway = build("aliyun", {"SMS_ACCESS_KEY_ID": "LTAI-test", "SMS_ACCESS_KEY_SECRET": "secret",
                               "SMS_TEMPLATES": json.dumps({"CASE_RECEIPT": "SMS_480000001"}),
                               "SMS_ENDPOINT": fake.endpoint})
    gateway.send(PHONE, "CASE_RECEIPT", PARAMS, "41-1")
    assert fake.sends_for("41-1")[0].sign_name == "12315"  # the region pack's signature when none is set


def test_malformed_template_mapping_stops_the_backend_from_starting():
    with pytest.raises(ValueError, match="HOTLINE_SMS_TEMPLATES"):
        build("aliyun", {"SMS_TEMPLATES": '["SMS_1"]'})


def test_template_without_a_gateway_id_fails_at_once_and_nothing_leaves(fake, gateway):
    with pytest.raises(GatewayError) as error:
        gateway.send(PHONE, "CASE_CLOSED", PARAMS, "41-1")
    assert (error.value.code, error.value.temporary) == ("TEMPLATE_NOT_CONFIGURED", False)
    assert fake.sends == []


def test_after_a_crash_the_query_finds_the_attempt_the_gateway_took(fake, gateway):
    gateway.send(PHONE, "CASE_RECEIPT", PARAMS, "41-1")  # ...and the worker died before committing

    assert gateway.query(PHONE, "41-1", today(), None).state == "sent"
    fake.deliver("41-1")
    status = gateway.query(PHONE, "41-1", today(), None)
    assert status.state == "delivered" and status.at is not None


def test_the_query_says_unknown_for_an_attempt_that_never_reached_the_gateway(fake, gateway):
    gateway.send(PHONE, "CASE_RECEIPT", PARAMS, "41-1")
    assert gateway.query(PHONE, "41-2", today(), None).state == "unknown"


def test_the_query_reports_a_failed_delivery_with_its_code(fake, gateway):
    result = gateway.send(PHONE, "CASE_RECEIPT", PARAMS, "41-1")
    fake.deliver("41-1", ok=False, error_code="MK:0005")
    status = gateway.query(PHONE, "41-1", today(), result.gateway_id)
    assert (status.state, status.error_code, status.gateway_id) == ("failed", "MK:0005", result.gateway_id)


def test_the_query_reads_every_page_of_a_busy_number(fake, gateway):
    for n in range(55):  # Aliyun pages by 50 at most
        gateway.send(PHONE, "CASE_RECEIPT", PARAMS, f"{n}-1")
    assert gateway.query(PHONE, "54-1", today(), None).state == "sent"


@pytest.mark.parametrize("code", ["isv.BUSINESS_LIMIT_CONTROL", "isp.SYSTEM_ERROR", "Throttling.User",
                                  "ServiceUnavailable", "isv.AMOUNT_NOT_ENOUGH"])
def test_throttling_system_and_account_errors_are_temporary(fake, gateway, code):
    fake.fail_next(code)
    with pytest.raises(GatewayError) as error:
        gateway.send(PHONE, "CASE_RECEIPT", PARAMS, "41-1")
    assert (error.value.code, error.value.temporary) == (code, True)
    assert fake.sends == []
    gateway.send(PHONE, "CASE_RECEIPT", PARAMS, "41-2")  # the next try goes
    assert len(fake.sends) == 1


@pytest.mark.parametrize("code", ["isv.MOBILE_NUMBER_ILLEGAL", "isv.SMS_TEMPLATE_ILLEGAL", "isv.SMS_SIGNATURE_ILLEGAL",
                                  "SIGNATURE_BLACKLIST", "isv.TEMPLATE_MISSING_PARAMETERS"])
def test_number_template_signature_and_blacklist_errors_are_permanent(fake, gateway, code):
    fake.fail_next(code)
    with pytest.raises(GatewayError) as error:
        gateway.send(PHONE, "CASE_RECEIPT", PARAMS, "41-1")
    assert (error.value.code, error.value.temporary) == (code, False)


def test_a_lost_answer_is_a_temporary_network_error_and_the_query_then_finds_the_message(fake, gateway):
    fake.fail_next("DROP")  # the gateway took it; the answer never came back
    with pytest.raises(GatewayError) as error:
        gateway.send(PHONE, "CASE_RECEIPT", PARAMS, "41-1")
    assert (error.value.code, error.value.temporary) == ("NETWORK", True)
    assert gateway.query(PHONE, "41-1", today(), None).state == "sent"  # so asking first avoids a second SMS


def test_an_unreachable_gateway_is_a_temporary_network_error(fake, gateway):
    fake.stop()
    with pytest.raises(GatewayError) as error:
        gateway.send(PHONE, "CASE_RECEIPT", PARAMS, "41-1")
    assert (error.value.code, error.value.temporary) == ("NETWORK", True)
