"""The Tencent backend, through the real SDK (tencentcloud-sdk-python-sms, 2021-01-11) pointed at a local fake."""
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from hotline.sms.gateways import build
from hotline.sms.gateways.base import GatewayError
from hotline.sms.gateways.settings import GatewaySettings, Template
from hotline.sms.gateways.tencent import TencentGateway
from tests.sms.fake_gateway import FakeGateway

PHONE = "13900001111"
PARAMS = {"code": "K7M2QX", "number": "20261125000421", "kind": "投诉"}


@pytest.fixture
def fake():
    fake = FakeGateway().start()
    yield fake
    fake.stop()


def make_gateway(fake, **over):
    settings = {"key_id": "AKID-test", "key_secret": "secret", "sign_name": "鞍山12315", "app_id": "1400000001",
                "templates": {"CASE_RECEIPT": Template("1800001"),
                              "CASE_ACCEPTED": Template("1800002", ("number", "kind"))},
                "endpoint": fake.endpoint, "timeout": 3, **over}
    return TencentGateway(GatewaySettings(**settings))


@pytest.fixture
def gateway(fake):
    return make_gateway(fake)


def today():
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


def test_send_gives_positional_parameters_in_the_registered_template_order(fake, gateway):
    result = gateway.send(PHONE, "CASE_RECEIPT", PARAMS, "41-1")

    [sent] = fake.sends_for("41-1")
    assert sent.phone == "+86" + PHONE
    assert sent.template == "1800001"
    # the region pack's text reads {kind} … {number} … {code}: Tencent's {1}, {2}, {3}
    assert sent.params == ["投诉", "20261125000421", "K7M2QX"]
    assert sent.request["SmsSdkAppId"] == "1400000001" and sent.request["SessionContext"] == "41-1"
    assert result.gateway_id == sent.gateway_id  # SerialNo


def test_a_parameter_order_given_in_the_mapping_wins(fake, gateway):
    gateway.send(PHONE, "CASE_ACCEPTED", PARAMS, "41-1")
    assert fake.sends_for("41-1")[0].params == ["20261125000421", "投诉"]


def test_a_missing_parameter_fails_at_once_and_nothing_leaves(fake, gateway):
    with pytest.raises(GatewayError) as error:
        gateway.send(PHONE, "CASE_RECEIPT", {"kind": "投诉"}, "41-1")
    assert (error.value.code, error.value.temporary) == ("TEMPLATE_MISSING_PARAMETERS", False)
    assert fake.sends == []


def test_the_extend_code_and_the_environment_settings_reach_the_gateway(fake):
    gateway = build("tencent", {"SMS_ACCESS_KEY_ID": "AKID-test", "SMS_ACCESS_KEY_SECRET": "secret",
                                "SMS_APP_ID": "1400000001", "SMS_EXTEND_CODE": "12",
                                "SMS_TEMPLATES": json.dumps({"CASE_RECEIPT": {"id": "1800001"}}),
                                "SMS_ENDPOINT": fake.endpoint})
    gateway.send(PHONE, "CASE_RECEIPT", PARAMS, "41-1")
    assert fake.sends_for("41-1")[0].request["ExtendCode"] == "12"


def test_the_backend_refuses_to_start_without_credentials():
    with pytest.raises(ValueError, match="HOTLINE_SMS_APP_ID"):
        build("tencent", {"SMS_ACCESS_KEY_ID": "AKID-test", "SMS_ACCESS_KEY_SECRET": "secret"})


def test_after_a_crash_the_status_pull_finds_the_attempt_by_its_session_context(fake, gateway):
    gateway.send(PHONE, "CASE_RECEIPT", PARAMS, "41-1")  # ...and the worker died before committing
    fake.deliver("41-1")
    status = gateway.query(PHONE, "41-1", today(), None)
    assert status.state == "delivered" and status.gateway_id == fake.sends_for("41-1")[0].gateway_id


def test_the_status_pull_reports_a_failed_delivery_with_its_code(fake, gateway):
    gateway.send(PHONE, "CASE_RECEIPT", PARAMS, "41-1")
    fake.deliver("41-1", ok=False, error_code="MK:0001")
    status = gateway.query(PHONE, "41-1", today(), None)
    assert (status.state, status.error_code) == ("failed", "MK:0001")


def test_without_a_report_an_attempt_is_sent_if_we_hold_its_serial_number_else_unknown(fake, gateway):
    result = gateway.send(PHONE, "CASE_RECEIPT", PARAMS, "41-1")
    assert gateway.query(PHONE, "41-1", today(), result.gateway_id).state == "sent"
    assert gateway.query(PHONE, "41-2", today(), None).state == "unknown"


@pytest.mark.parametrize("code", ["LimitExceeded.PhoneNumberThirtySecondLimit", "LimitExceeded.PhoneNumberDailyLimit",
                                  "InternalError.Timeout", "RequestLimitExceeded",
                                  "FailedOperation.InsufficientBalanceInSmsPackage"])
def test_limits_internal_and_account_errors_are_temporary(fake, gateway, code):
    fake.fail_next(code)
    with pytest.raises(GatewayError) as error:
        gateway.send(PHONE, "CASE_RECEIPT", PARAMS, "41-1")
    assert (error.value.code, error.value.temporary) == (code, True)
    assert fake.sends == []


@pytest.mark.parametrize("code", ["InvalidParameterValue.IncorrectPhoneNumber",
                                  "FailedOperation.PhoneNumberInBlacklist",
                                  "FailedOperation.TemplateIncorrectOrUnapproved",
                                  "FailedOperation.SignatureIncorrectOrUnapproved",
                                  "FailedOperation.ContainSensitiveWord"])
def test_number_template_signature_and_blacklist_errors_are_permanent(fake, gateway, code):
    fake.fail_next(code)
    with pytest.raises(GatewayError) as error:
        gateway.send(PHONE, "CASE_RECEIPT", PARAMS, "41-1")
    assert (error.value.code, error.value.temporary) == (code, False)


def test_a_lost_answer_is_a_temporary_network_error(fake, gateway):
    fake.fail_next("DROP")
    with pytest.raises(GatewayError) as error:
        gateway.send(PHONE, "CASE_RECEIPT", PARAMS, "41-1")
    assert (error.value.code, error.value.temporary) == ("NETWORK", True)
    assert len(fake.sends_for("41-1")) == 1  # it did go: the send path must ask before sending again


def test_an_unreachable_gateway_is_a_temporary_network_error(fake, gateway):
    fake.stop()
    with pytest.raises(GatewayError) as error:
        gateway.send(PHONE, "CASE_RECEIPT", PARAMS, "41-1")
    assert (error.value.code, error.value.temporary) == ("NETWORK", True)
