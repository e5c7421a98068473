"""Aliyun SMS (阿里云短信服务, Dysmsapi 2017-05-25) through its official SDK.

SendSms carries our attempt id as OutId; QuerySendDetails (by number and day, matched on OutId)
settles an attempt a crash left in `sending`. The SDK's own retries stay off: a retried SendSms
is a second message, so retrying is the send path's decision, made after asking."""
import json
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from alibabacloud_dysmsapi20170525 import models as sms_models
from alibabacloud_dysmsapi20170525.client import Client
from alibabacloud_tea_openapi import exceptions as sdk_errors
from alibabacloud_tea_openapi import utils_models as open_api_models
from darabonba.exceptions import UnretryableException
from darabonba.runtime import RuntimeOptions

from hotline.sms.gateways.base import DeliveryStatus, GatewayError, SendResult
from hotline.sms.gateways.settings import GatewaySettings, settings_from_config

BEIJING = ZoneInfo("Asia/Shanghai")  # Aliyun's SendDate, send_time and ReceiveDate are Beijing time

# Codes that say this message can never go as it is (the number, the template, the signature, the
# content or a blacklist): the message fails at once with the code. Everything else (throttling,
# isp.SYSTEM_ERROR, network, an account to top up or a key to fix) is temporary: it waits and is
# retried, because nothing may be lost. Source: 阿里云短信服务 API 错误码 (help.aliyun.com/document_detail/101346).
PERMANENT = frozenset({
    "isv.MOBILE_NUMBER_ILLEGAL",  # not a mobile number
    "isv.MOBILE_COUNT_OVER_LIMIT",
    "isv.DOMESTIC_NUMBER_NOT_SUPPORTED",
    "isv.BLACK_KEY_CONTROL_LIMIT",  # forbidden words in the content
    "isv.SMS_CONTENT_ILLEGAL",
    "isv.SMS_TEMPLATE_ILLEGAL",  # template missing, not approved, or not this account's
    "isv.TEMPLATE_MISSING_PARAMETERS",
    "isv.TEMPLATE_PARAMS_ILLEGAL",
    "isv.INVALID_JSON_PARAM",
    "isv.INVALID_PARAMETERS",
    "isv.PARAM_LENGTH_LIMIT",
    "isv.PARAM_NOT_SUPPORT_URL",
    "isv.SMS_SIGNATURE_ILLEGAL",  # signature missing or not approved
    "isv.SMS_SIGN_ILLEGAL",
    "isv.SMS_SIGNATURE_SCENE_ILLEGAL",
    "isv.SIGN_NAME_ILLEGAL",
    "isv.EXTEND_CODE_ERROR",
    "isv.SMS_TEST_SIGN_TEMPLATE_LIMIT",
    "isv.SMS_TEST_NUMBER_LIMIT",
    "SIGNATURE_BLACKLIST",  # the number is on the signature's blacklist (it opted out at the carrier)
    "isv.BLACKLIST",
    "isv.SECURITY_FROZEN_ACCOUNT",
})


class AliyunGateway:
    name = "aliyun"

    def __init__(self, settings: GatewaySettings):
        self.settings = settings
        endpoint, protocol = settings.host_and_protocol()
        config = open_api_models.Config(
            access_key_id=settings.key_id, access_key_secret=settings.key_secret,
            region_id=settings.region or "cn-hangzhou", endpoint=endpoint, protocol=protocol,
            connect_timeout=int(settings.timeout * 1000), read_timeout=int(settings.timeout * 1000))
        self.client = Client(config)

    @classmethod
    def from_config(cls, config: Mapping) -> "AliyunGateway":
        return cls(settings_from_config(config))

    def send(self, phone: str, template_code: str, params: dict[str, str], out_id: str) -> SendResult:
        request = sms_models.SendSmsRequest(
            phone_numbers=phone.removeprefix("+"), sign_name=self.settings.sign_name,
            template_code=self.settings.template(template_code).id,
            template_param=json.dumps({key: str(value) for key, value in params.items()}, ensure_ascii=False),
            out_id=out_id, sms_up_extend_code=self.settings.extend_code)
        body = self._call(self.client.send_sms_with_options, request).body
        if body.code != "OK":
            raise _error(body.code, body.message)
        return SendResult(gateway_id=body.biz_id)

    def query(self, phone: str, out_id: str, sent_on: date, gateway_id: str | None) -> DeliveryStatus:
        """Look the attempt up on the day it was sent (Beijing date) and, past midnight, the next."""
        days = [sent_on] + ([sent_on + timedelta(days=1)] if sent_on < datetime.now(BEIJING).date() else [])
        for day in days:
            found = self._find(phone, out_id, day, gateway_id)
            if found is not None:
                return found
        return DeliveryStatus("unknown")

    def _find(self, phone: str, out_id: str, day: date, gateway_id: str | None) -> DeliveryStatus | None:
        page = 1
        while True:
            request = sms_models.QuerySendDetailsRequest(
                phone_number=phone.removeprefix("+"), send_date=day.strftime("%Y%m%d"), biz_id=gateway_id,
                page_size=50, current_page=page)
            body = self._call(self.client.query_send_details_with_options, request).body
            if body.code != "OK":
                raise _error(body.code, body.message)
            details = (body.sms_send_detail_dtos.sms_send_detail_dto
                       if body.sms_send_detail_dtos and body.sms_send_detail_dtos.sms_send_detail_dto else [])
            for detail in details:
                if detail.out_id == out_id:
                    return _status(detail, gateway_id)
            if not details or page * 50 >= int(body.total_count or 0):
                return None
            page += 1

    def _call(self, method, request):
        """Call the SDK; every failure comes out as a GatewayError."""
        try:
            return method(request, RuntimeOptions())
        except sdk_errors.AlibabaCloudException as error:  # HTTP 4xx/5xx with a code
            raise _error(error.code or "HTTP", error.message) from error
        except UnretryableException as error:  # no answer: refused, timed out, cut
            raise GatewayError("NETWORK", str(error)[:200], temporary=True) from error


def _error(code: str | None, message: str | None) -> GatewayError:
    code = code or "UNKNOWN"
    return GatewayError(code, message or "", temporary=code not in PERMANENT)


def _status(detail, gateway_id: str | None) -> DeliveryStatus:
    # SendStatus: 1 waiting for the handset's receipt, 2 failed, 3 delivered
    at = _beijing(detail.receive_date)
    if detail.send_status == 3:
        return DeliveryStatus("delivered", gateway_id, at)
    if detail.send_status == 2:
        return DeliveryStatus("failed", gateway_id, at, detail.err_code or "FAILED")
    return DeliveryStatus("sent", gateway_id)


def _beijing(value: str | None) -> datetime | None:
    """'2026-11-25 10:03:04' in Beijing time → an aware UTC datetime."""
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING).astimezone(UTC)
    except (TypeError, ValueError):
        return None
