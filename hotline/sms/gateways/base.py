"""The SMS gateway interface. A message is a template code with named parameters (never free text),
sent with an out-id (the attempt id) the gateway echoes in its receipts and status queries, so a
message left in `sending` by a crash can be settled by asking instead of sending again."""
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol


class GatewayError(Exception):
    """The gateway refused or could not be reached. `temporary` errors are retried with backoff;
    permanent ones fail the message at once, with `code` stored."""

    def __init__(self, code: str, message: str = "", temporary: bool = False):
        super().__init__(f"{code}: {message}" if message else code)
        self.code, self.message, self.temporary = code, message, temporary


@dataclass(frozen=True)
class SendResult:
    gateway_id: str | None  # the gateway's own id for the message (Aliyun BizId, Tencent SerialNo)


@dataclass(frozen=True)
class DeliveryStatus:
    """What the gateway knows of one attempt: `unknown` (never reached it: safe to send again),
    `sent` (accepted, no receipt yet), `delivered` or `failed`."""

    state: str
    gateway_id: str | None = None
    at: datetime | None = None
    error_code: str | None = None


class Gateway(Protocol):
    name: str

    def send(self, phone: str, template_code: str, params: dict[str, str], out_id: str) -> SendResult:
        """Send one templated message; raises GatewayError."""

    def query(self, phone: str, out_id: str, sent_on: date, gateway_id: str | None) -> DeliveryStatus:
        """What became of the attempt with this out-id (for reconciliation after a crash)."""
