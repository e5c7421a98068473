"""Tencent Cloud SMS (腾讯云短信, API 2021-01-11) through its official SDK.

SendSms carries our attempt id as SessionContext; PullSmsSendStatusByPhoneNumber (a number's
status reports over a time window, read without consuming them, unlike PullSmsSendStatus's queue)
settles an attempt a crash left in `sending`. Tencent knows a message there only once the carrier's
report is in (usually seconds); so reconciliation should wait a few minutes after `sending_at`
before it takes `unknown` to mean "never reached the gateway". The SDK's retryer stays off."""
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111 import models as sms_models
from tencentcloud.sms.v20210111.sms_client import SmsClient

from hotline.sms.gateways.base import DeliveryStatus, GatewayError, SendResult
from hotline.sms.gateways.settings import GatewaySettings, settings_from_config

BEIJING = ZoneInfo("Asia/Shanghai")

# Codes that say this message can never go as it is: fail at once with the code. Everything else
# (LimitExceeded frequency and daily limits, InternalError.*, RequestLimitExceeded, network, a
# package to top up, a key to fix) is temporary. Source: the SDK's sms/v20210111/errorcodes.py and
# 腾讯云短信 SendSms 错误码 (cloud.tencent.com/document/api/382/55981).
PERMANENT = frozenset({
    "InvalidParameterValue.IncorrectPhoneNumber",
    "FailedOperation.PhoneNumberParseFail",
    "FailedOperation.PhoneNumberInBlacklist",  # the number opted out at the carrier or Tencent
    "LimitExceeded.AppCountryOrRegionInBlacklist",
    "MissingParameter.EmptyPhoneNumberSet",
    "InvalidParameterValue.InvalidInternational",
    "UnsupportedOperation.ChineseMainlandTemplateToGlobalPhone",
    "UnsupportedOperation.GlobalTemplateToChineseMainlandPhone",
    "UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber",
    "FailedOperation.SignatureIncorrectOrUnapproved",
    "FailedOperation.MissingSignature",
    "FailedOperation.SignIdNotExist",
    "FailedOperation.TemplateIncorrectOrUnapproved",
    "FailedOperation.TemplateUnapprovedOrNotExist",
    "FailedOperation.TemplateIdNotExist",
    "FailedOperation.TemplateParamSetNotMatchApprovedTemplate",
    "FailedOperation.ContainSensitiveWord",
    "FailedOperation.JsonParseFail",
    "InvalidParameter.DirtyWordFound",
    "InvalidParameter.InvalidParameters",
    "InvalidParameterValue.ContentLengthLimit",
    "InvalidParameterValue.TemplateParameterFormatError",
    "InvalidParameterValue.TemplateParameterLengthLimit",
    "InvalidParameterValue.ProhibitedUseUrlInTemplateParameter",
    "InvalidParameterValue.MarketingTemplateWithoutUnsubscribe",
    "InvalidParameterValue.SdkAppIdNotExist",
})
AMBIGUOUS = {"ClientNetworkError", "ServerNetworkError"}  # no answer, or not the API's: the send may have gone


class TencentGateway:
    name = "tencent"
    # Its status pull knows a message only once the carrier's report is in: "unknown" is final only after this.
    unknown_settles_after = 600

    def __init__(self, settings: GatewaySettings):
        if not (settings.key_id and settings.key_secret and settings.app_id):
            raise ValueError("the tencent SMS backend needs HOTLINE_SMS_ACCESS_KEY_ID (SecretId), "
                             "HOTLINE_SMS_ACCESS_KEY_SECRET (SecretKey) and HOTLINE_SMS_APP_ID (SmsSdkAppId)")
        self.settings = settings
        endpoint, protocol = settings.host_and_protocol()
        http = HttpProfile(protocol=protocol, endpoint=endpoint, reqTimeout=int(max(1, settings.timeout)))
        self.client = SmsClient(credential.Credential(settings.key_id, settings.key_secret),
                                settings.region or "ap-guangzhou", ClientProfile(httpProfile=http))

    @classmethod
    def from_config(cls, config: Mapping) -> "TencentGateway":
        return cls(settings_from_config(config))

    def send(self, phone: str, template_code: str, params: dict[str, str], out_id: str) -> SendResult:
        request = sms_models.SendSmsRequest()
        request.SmsSdkAppId = self.settings.app_id
        request.SignName = self.settings.sign_name
        request.TemplateId = self.settings.template(template_code).id
        request.TemplateParamSet = self.settings.positional(template_code, params)
        request.PhoneNumberSet = [e164(phone)]
        request.SessionContext = out_id
        if self.settings.extend_code:
            request.ExtendCode = self.settings.extend_code
        response = self._call(self.client.SendSms, request)
        status = (response.SendStatusSet or [None])[0]
        if status is None:
            raise GatewayError("EMPTY_ANSWER", "SendSms answered no status", temporary=True)
        if status.Code != "Ok":  # a per-number refusal (a bad number, a frequency limit, a blacklist)
            raise _error(status.Code, status.Message)
        return SendResult(gateway_id=status.SerialNo)

    def query(self, phone: str, out_id: str, sent_on: date, gateway_id: str | None) -> DeliveryStatus:
        request = sms_models.PullSmsSendStatusByPhoneNumberRequest()
        request.SmsSdkAppId = self.settings.app_id
        request.PhoneNumber = e164(phone)
        now = int(datetime.now(UTC).timestamp())
        # Tencent keeps 7 days of reports; an older attempt can no longer be looked up.
        request.BeginTime = max(int(datetime.combine(sent_on, time(0), BEIJING).timestamp()), now - 7 * 86400 + 60)
        request.EndTime = now + 60
        request.Offset, request.Limit = 0, 100
        response = self._call(self.client.PullSmsSendStatusByPhoneNumber, request)
        for report in response.PullSmsSendStatusSet or []:
            if report.SessionContext == out_id or (gateway_id and report.SerialNo == gateway_id):
                at = _beijing(report.UserReceiveTime)
                if report.ReportStatus == "SUCCESS":
                    return DeliveryStatus("delivered", report.SerialNo, at)
                return DeliveryStatus("failed", report.SerialNo, at, report.Description or "FAIL")
        # No report yet: accepted if we hold its SerialNo, else Tencent has not heard of it (so far).
        return DeliveryStatus("sent", gateway_id) if gateway_id else DeliveryStatus("unknown")

    def _call(self, method, request):
        try:
            return method(request)
        except TencentCloudSDKException as error:
            code = error.get_code() or "UNKNOWN"
            if code in AMBIGUOUS:
                raise GatewayError("NETWORK", f"{code}: {str(error.get_message())[:200]}", temporary=True) from error
            raise _error(code, error.get_message()) from error


def e164(phone: str) -> str:
    """Tencent wants +86 numbers; ours are national (13900001111) unless foreign (already +...)."""
    if phone.startswith("+"):
        return phone
    return "+86" + (phone if phone.startswith("1") else phone.lstrip("0"))


def _error(code: str | None, message) -> GatewayError:
    code = code or "UNKNOWN"
    return GatewayError(code, str(message or ""), temporary=code not in PERMANENT)


def _beijing(value: str | None) -> datetime | None:
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING).astimezone(UTC)
    except (TypeError, ValueError):
        return None
