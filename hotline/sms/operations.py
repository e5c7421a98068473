"""SMS: messages are queued with the change that causes them and sent by the outbox relay."""
import logging

from flask import current_app

from hotline.cases.validation import mask_phone
from hotline.extensions import db
from hotline.outbox.operations import enqueue
from hotline.outbox.relay import handler
from hotline.sms.models import SmsMessage
from hotline.types import utcnow

log = logging.getLogger(__name__)

# Template codes and their text, as a Chinese gateway registers them: a message is sent as a code
# with named parameters, never as free text.
TEMPLATES = {
    "CASE_RECEIPT": "【12315】您的{kind}已登记，编号{number}，查询码{code}。可凭编号和查询码查询办理进度。",
    "CASE_ACCEPTED": "【12315】您的{kind}（编号{number}）已受理，将组织调解。",
    "CASE_DECLINED": "【12315】您的{kind}（编号{number}）不予受理，理由可凭查询码查看。",  # messages queued before #8
    # Order 121 art. 15: the reason, and for a complaint the other routes of Consumer Rights Protection Law art. 39
    "COMPLAINT_DECLINED": "【12315】您的投诉（编号{number}）不予受理。理由：{reason}（{basis}）。"
                          "您还可以通过与经营者协商和解、请求消费者协会或者依法成立的其他调解组织调解、"
                          "根据仲裁协议提请仲裁机构仲裁、向人民法院提起诉讼等途径解决争议（《消费者权益保护法》第三十九条）。",
    "REPORT_DECLINED": "【12315】您的举报（编号{number}）不予受理。理由：{reason}（{basis}）。",
    "CASE_CLOSED": "【12315】您的{kind}（编号{number}）已办结。欢迎对本次服务评价。",
    # 移送: the case belongs to another city's 12315 or the national platform; the consumer hears where
    "CASE_TRANSFERRED": "【12315】您的{kind}（编号{number}）不属本市管辖，已移送{receiver}处理。",
}


def queue_message(*, kind: str, template_code: str, params: dict, to_phone: str, dedupe_key: str,
                  case_id: int | None = None) -> SmsMessage:
    message = SmsMessage(case_id=case_id, kind=kind, template_code=template_code, params=params,
                         to_phone=to_phone, dedupe_key=dedupe_key)
    db.session.add(message)
    enqueue("send_sms", {"dedupe_key": dedupe_key}, dedupe_key=f"send_sms:{dedupe_key}")
    return message


@handler("send_sms")
def send_message(payload: dict) -> None:
    """Send one queued message; a message already sent is left alone (a retried job sends nothing)."""
    message = db.session.query(SmsMessage).filter_by(dedupe_key=payload["dedupe_key"]).one_or_none()
    if message is None or message.status != "queued":
        return
    backend = current_app.config["SMS_BACKEND"]
    if backend != "log":
        raise RuntimeError(f"SMS backend {backend!r} is not available in this version")
    # The log backend keeps the text in the database and logs only the masked number.
    log.info("SMS %s to %s (case %s)", message.template_code, mask_phone(message.to_phone), message.case_id)
    message.status = "sent"
    message.sent_at = utcnow()
    if "code" in message.params:  # the query code is kept only as a hash once it has left
        message.params = {**message.params, "code": "******"}
