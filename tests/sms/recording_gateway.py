"""Gateway objects implementing hotline/sms/gateways/base.py for the send-path tests.

`RecordingGateway` keeps what it accepted in memory and can be told to fail; `FileGateway` writes each
accepted send to a file (one JSON line) and can sleep after it, so a worker in another process can be
killed between the gateway call and the commit while the test still reads what "the gateway" has."""
import json
import os
import time
from datetime import date
from pathlib import Path

from hotline.sms.gateways.base import DeliveryStatus, GatewayError, SendResult


class RecordingGateway:
    name = "fake"

    def __init__(self):
        self.sends: list[dict] = []  # accepted: {phone, template, params, out_id, gateway_id}
        self.calls = 0
        self.failures: list[GatewayError | BaseException] = []  # raised by the next calls, in order
        self.states: dict[str, DeliveryStatus] = {}  # query answers by out-id (default: sent if accepted)
        self.on_send = None  # called with (phone, out_id) before accepting: tests look at the database here

    def send(self, phone, template_code, params, out_id):
        self.calls += 1
        if self.on_send:
            self.on_send(phone, out_id)
        if self.failures:
            raise self.failures.pop(0)
        gateway_id = f"fake-{len(self.sends) + 1}"
        self.sends.append({"phone": phone, "template": template_code, "params": params, "out_id": out_id,
                           "gateway_id": gateway_id})
        return SendResult(gateway_id)

    def query(self, phone, out_id, sent_on: date, gateway_id):
        if out_id in self.states:
            return self.states[out_id]
        for sent in self.sends:
            if sent["out_id"] == out_id:
                return DeliveryStatus("sent", sent["gateway_id"])
        return DeliveryStatus("unknown")


class FileGateway:
    """HOTLINE_SMS_BACKEND=tests.sms.recording_gateway:FileGateway, with HOTLINE_TEST_SMS_RECORD (the file)
    and HOTLINE_TEST_SMS_SLEEP (seconds to sleep after accepting, before returning)."""

    name = "file"

    def __init__(self, config=None, path: str | None = None):
        self.path = Path(path or os.environ["HOTLINE_TEST_SMS_RECORD"])
        self.sleep = float(os.environ.get("HOTLINE_TEST_SMS_SLEEP", "0"))

    def sends(self) -> list[dict]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text().splitlines() if line.strip()]

    def send(self, phone, template_code, params, out_id):
        gateway_id = f"file-{out_id}"
        with open(self.path, "a") as record:
            record.write(json.dumps({"phone": phone, "template": template_code, "out_id": out_id,
                                     "gateway_id": gateway_id}) + "\n")
            record.flush()
            os.fsync(record.fileno())
        time.sleep(self.sleep)  # the gateway has it; the worker has not committed yet
        return SendResult(gateway_id)

    def query(self, phone, out_id, sent_on, gateway_id):
        for sent in self.sends():
            if sent["out_id"] == out_id:
                return DeliveryStatus("sent", sent["gateway_id"])
        return DeliveryStatus("unknown")


ALIYUN_TEMPLATES = {"CASE_RECEIPT": "SMS_480000001", "CASE_ACCEPTED": "SMS_480000002",
                    "COMPLAINT_DECLINED": "SMS_480000003", "CASE_CLOSED": "SMS_480000004",
                    "CASE_TRANSFERRED": "SMS_480000005", "CONSUMER_ALERT": "SMS_480000006"}


def use_aliyun(app, monkeypatch, endpoint: str) -> None:
    """Point the app's `aliyun` backend (the real SDK) at the local fake gateway (tests/sms/fake_gateway.py)."""
    for key, value in {"SMS_BACKEND": "aliyun", "SMS_ACCESS_KEY_ID": "LTAI-test", "SMS_ACCESS_KEY_SECRET": "secret",
                       "SMS_SIGN_NAME": "12315", "SMS_TEMPLATES": json.dumps(ALIYUN_TEMPLATES),
                       "SMS_ENDPOINT": endpoint, "SMS_TIMEOUT": "3"}.items():
        monkeypatch.setitem(app.config, key, value)
    app.extensions.setdefault("sms_gateways", {}).pop("aliyun", None)
    monkeypatch.setitem(app.extensions["sms_gateways"], "aliyun", None)  # restored (dropped) after the test
    app.extensions["sms_gateways"].pop("aliyun")
