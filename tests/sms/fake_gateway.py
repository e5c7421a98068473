"""A local stand-in for the Aliyun and Tencent SMS APIs, answering the real SDKs on 127.0.0.1.

It accepts any signature (the SDKs sign; checking that is the real gateway's business), records
every send so a test can count the sends per out-id, can be told to fail the next calls with a
gateway error code (or by dropping the connection), and builds the receipts and replies each
gateway pushes, so a test can post them to the app.

Aliyun (RPC style): POST / with the action in `x-acs-action` (or `Action` in the query or form),
parameters in the query string or form body; JSON answer with "Code": "OK".
Tencent (API 3.0): POST / with a JSON body and the action in `X-TC-Action`; answer {"Response": {...}}.
"""
import itertools
import json
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

BEIJING = timezone(timedelta(hours=8))
# Aliyun answers these on HTTP 200 with the code in the body; other codes come with an HTTP error status.
ALIYUN_HTTP_STATUS = {"Throttling.User": 400, "Throttling.Api": 400, "SignatureDoesNotMatch": 400,
                      "InvalidAccessKeyId.NotFound": 404, "ServiceUnavailable": 503, "InternalError": 500}
# Tencent reports these per number in SendStatusSet; other codes as a request error.
TENCENT_PER_NUMBER = ("LimitExceeded.Phone", "InvalidParameterValue.IncorrectPhoneNumber",
                      "FailedOperation.PhoneNumberInBlacklist", "FailedOperation.PhoneNumberParseFail")


@dataclass
class Sent:
    backend: str
    phone: str  # as the SDK sent it: 13900001111 for Aliyun, +8613900001111 for Tencent
    out_id: str | None
    gateway_id: str
    template: str
    params: object  # Aliyun: the TemplateParam dict; Tencent: the TemplateParamSet list
    sign_name: str | None
    at: datetime
    state: str = "sent"  # sent | delivered | failed (what a later status query answers)
    error_code: str | None = None
    request: dict = field(default_factory=dict)


class FakeGateway:
    def __init__(self):
        self.sends: list[Sent] = []
        self.calls: list[tuple[str, str]] = []  # (backend, action) of every request answered
        self._failures: list[tuple[str | None, str]] = []  # (action or None for any send, code)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # -- life --------------------------------------------------------------------------------------
    def start(self) -> "FakeGateway":
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self.server.shutdown()
            self.server.server_close()

    @property
    def endpoint(self) -> str:
        """What HOTLINE_SMS_ENDPOINT is set to: http://127.0.0.1:<port>."""
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    # -- steering ----------------------------------------------------------------------------------
    def fail_next(self, code: str, times: int = 1, action: str = "SendSms") -> None:
        """Answer the next `times` calls of `action` with this error code. The code "DROP" closes the
        connection after recording the send: the gateway took it, the caller never heard back."""
        with self._lock:
            self._failures.extend([(action, code)] * times)

    def sends_for(self, out_id: str | None = None, phone: str | None = None) -> list[Sent]:
        with self._lock:
            return [s for s in self.sends if (out_id is None or s.out_id == out_id)
                    and (phone is None or s.phone.endswith(phone))]

    def deliver(self, out_id: str, ok: bool = True, error_code: str | None = None) -> Sent:
        """The handset's receipt arrived: what later status queries answer."""
        sent = self.sends_for(out_id)[-1]
        sent.state = "delivered" if ok else "failed"
        sent.error_code = None if ok else (error_code or "MK:0001")
        return sent

    # -- what the gateways push ----------------------------------------------------------------------
    def aliyun_receipt(self, out_id: str, ok: bool = True, error_code: str | None = None) -> dict:
        """One SmsReport item, as Aliyun's batch push sends it (a JSON array of these)."""
        sent = self.sends_for(out_id)[-1]
        now = datetime.now(BEIJING).strftime("%Y-%m-%d %H:%M:%S")
        return {"phone_number": sent.phone, "send_time": sent.at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
                "report_time": now, "success": ok, "err_code": "DELIVERED" if ok else (error_code or "MK:0001"),
                "err_msg": "用户接收成功" if ok else "失败", "sms_size": "1", "biz_id": sent.gateway_id,
                "out_id": sent.out_id}

    def tencent_receipt(self, out_id: str, ok: bool = True, error_code: str | None = None) -> dict:
        """One status report, as Tencent's callback sends it (a JSON array of these)."""
        sent = self.sends_for(out_id)[-1]
        return {"user_receive_time": datetime.now(BEIJING).strftime("%Y-%m-%d %H:%M:%S"), "nationcode": "86",
                "mobile": sent.phone.removeprefix("+86"), "report_status": "SUCCESS" if ok else "FAIL",
                "errmsg": "DELIVRD" if ok else (error_code or "MK:0001"),
                "description": "用户短信送达成功" if ok else "失败", "sid": sent.gateway_id}

    @staticmethod
    def aliyun_reply(phone: str, content: str, sequence_id: int) -> dict:
        """One SmsUp item (上行短信), as Aliyun pushes it (a JSON array of these)."""
        return {"phone_number": phone, "send_time": datetime.now(BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
                "content": content, "sign_name": "鞍山12315", "dest_code": "1234", "sequence_id": sequence_id}

    @staticmethod
    def tencent_reply(phone: str, text: str, at: int = 1_780_000_000) -> dict:
        """One reply, as Tencent's reply callback sends it."""
        return {"extend": "", "mobile": phone, "nationcode": "86", "sign": "鞍山12315", "text": text, "time": at}

    # -- answering -----------------------------------------------------------------------------------
    def _take_failure(self, action: str) -> str | None:
        with self._lock:
            for i, (wanted, code) in enumerate(self._failures):
                if wanted in (None, action):
                    del self._failures[i]
                    return code
        return None

    def _record(self, **values) -> Sent:
        with self._lock:
            number = next(self._ids)
            gateway_id = (f"{900000 + number}^{1000000000 + number}" if values["backend"] == "aliyun"
                          else f"2640:{1000000000 + number}")
            sent = Sent(gateway_id=gateway_id, at=datetime.now(BEIJING), **values)
            self.sends.append(sent)
            return sent

    def answer_aliyun(self, action: str, params: dict) -> tuple[int, dict | None]:
        failure = self._take_failure(action)
        request_id = f"FAKE-{next(self._ids)}"
        if action == "SendSms":
            if failure and failure != "DROP":
                status = ALIYUN_HTTP_STATUS.get(failure, 200)
                return status, {"Code": failure, "Message": f"fake {failure}", "RequestId": request_id}
            sent = self._record(backend="aliyun", phone=params.get("PhoneNumbers", ""), out_id=params.get("OutId"),
                                template=params.get("TemplateCode", ""),
                                params=json.loads(params.get("TemplateParam") or "{}"),
                                sign_name=params.get("SignName"), request=params)
            if failure == "DROP":
                return 0, None
            return 200, {"Code": "OK", "Message": "OK", "BizId": sent.gateway_id, "RequestId": request_id}
        if action == "QuerySendDetails":
            if failure:
                answer = {"Code": failure, "Message": "fake", "RequestId": request_id}
                return ALIYUN_HTTP_STATUS.get(failure, 200), answer
            day = params.get("SendDate", "")
            rows = [s for s in self.sends_for(phone=params.get("PhoneNumber", "")) if s.backend == "aliyun"
                    and s.at.strftime("%Y%m%d") == day and (not params.get("BizId") or s.gateway_id == params["BizId"])]
            size, page = int(params.get("PageSize", 10)), int(params.get("CurrentPage", 1))
            chunk = rows[(page - 1) * size:page * size]
            dtos = [{"PhoneNum": s.phone, "SendStatus": {"sent": 1, "failed": 2, "delivered": 3}[s.state],
                     "ErrCode": s.error_code or ("DELIVERED" if s.state == "delivered" else ""),
                     "TemplateCode": s.template, "Content": "【鞍山12315】…", "OutId": s.out_id,
                     "SendDate": s.at.strftime("%Y-%m-%d %H:%M:%S"),
                     "ReceiveDate": s.at.strftime("%Y-%m-%d %H:%M:%S") if s.state != "sent" else ""}
                    for s in chunk]
            return 200, {"Code": "OK", "Message": "OK", "RequestId": request_id, "TotalCount": len(rows),
                         "SmsSendDetailDTOs": {"SmsSendDetailDTO": dtos}}
        return 400, {"Code": "InvalidAction.NotFound", "Message": action, "RequestId": request_id}

    def answer_tencent(self, action: str, body: dict) -> tuple[int, dict | None]:
        failure = self._take_failure(action)
        request_id = f"fake-{next(self._ids)}"
        if failure and failure != "DROP" and not (action == "SendSms" and failure.startswith(TENCENT_PER_NUMBER)):
            return 200, {"Response": {"Error": {"Code": failure, "Message": f"fake {failure}"},
                                      "RequestId": request_id}}
        if action == "SendSms":
            statuses = []
            for phone in body.get("PhoneNumberSet", []):
                if failure and failure != "DROP":
                    statuses.append({"SerialNo": "", "PhoneNumber": phone, "Fee": 0,
                                     "SessionContext": body.get("SessionContext", ""), "Code": failure,
                                     "Message": f"fake {failure}", "IsoCode": "CN"})
                    continue
                sent = self._record(backend="tencent", phone=phone, out_id=body.get("SessionContext"),
                                    template=body.get("TemplateId", ""), params=body.get("TemplateParamSet", []),
                                    sign_name=body.get("SignName"), request=body)
                statuses.append({"SerialNo": sent.gateway_id, "PhoneNumber": phone, "Fee": 1,
                                 "SessionContext": sent.out_id or "", "Code": "Ok", "Message": "send success",
                                 "IsoCode": "CN"})
            if failure == "DROP":
                return 0, None
            return 200, {"Response": {"SendStatusSet": statuses, "RequestId": request_id}}
        if action in ("PullSmsSendStatusByPhoneNumber", "PullSmsSendStatus"):
            begin, end = body.get("BeginTime", 0), body.get("EndTime", 2 ** 40)
            rows = [s for s in self.sends if s.backend == "tencent" and s.state != "sent"
                    and (action == "PullSmsSendStatus" or s.phone == body.get("PhoneNumber"))
                    and begin <= s.at.timestamp() <= end]
            return 200, {"Response": {"PullSmsSendStatusSet": [
                {"UserReceiveTime": s.at.strftime("%Y-%m-%d %H:%M:%S"), "CountryCode": "86",
                 "SubscriberNumber": s.phone.removeprefix("+86"), "PhoneNumber": s.phone, "SerialNo": s.gateway_id,
                 "ReportStatus": "SUCCESS" if s.state == "delivered" else "FAIL",
                 "Description": s.error_code or "DELIVRD", "SessionContext": s.out_id or ""}
                for s in rows[:body.get("Limit", 100)]], "RequestId": request_id}}
        return 200, {"Response": {"Error": {"Code": "InvalidAction", "Message": action}, "RequestId": request_id}}


def _handler(fake: FakeGateway):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet test output
            pass

        def do_GET(self):
            self.do_POST()

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            tencent_action = self.headers.get("X-TC-Action")
            if tencent_action:
                body = json.loads(raw or b"{}")
                backend, action = "tencent", tencent_action
                status, answer = fake.answer_tencent(action, body)
            else:
                params = dict(parse_qsl(urlsplit(self.path).query))
                if raw and "json" not in (self.headers.get("Content-Type") or ""):
                    params.update(parse_qsl(raw.decode()))
                backend, action = "aliyun", self.headers.get("x-acs-action") or params.get("Action", "")
                status, answer = fake.answer_aliyun(action, params)
            fake.calls.append((backend, action))
            if answer is None:  # the request was taken, the answer is lost
                self.close_connection = True
                self.connection.shutdown(2)
                return
            data = json.dumps(answer, ensure_ascii=False).encode()
            self.send_response(status)
            # Tencent's SDK reads errors only from exactly this content type
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler
