"""The `log` backend, the default: the message is stored (the database has its text) and one log
line with the masked number is written; nothing leaves the machine. It keeps no record of its own,
so a message a crash left in `sending` is reported `unknown` and logged once more."""
import logging
from collections.abc import Mapping
from datetime import date

from hotline.cases.validation import mask_phone
from hotline.sms.gateways.base import DeliveryStatus, SendResult

log = logging.getLogger(__name__)


class LogGateway:
    name = "log"

    def __init__(self, config: Mapping | None = None):
        self.config = config

    @classmethod
    def from_config(cls, config: Mapping) -> "LogGateway":
        return cls(config)

    def send(self, phone: str, template_code: str, params: dict[str, str], out_id: str) -> SendResult:
        log.info("SMS %s to %s (out-id %s)", template_code, mask_phone(phone), out_id)
        return SendResult(gateway_id=f"log-{out_id}")

    def query(self, phone: str, out_id: str, sent_on: date, gateway_id: str | None) -> DeliveryStatus:
        return DeliveryStatus("unknown")
