"""What the SMS gateways push to us, server to server: delivery receipts and replies.

POST /sms/receipts/<backend>?token=...  and  POST /sms/inbound/<backend>?token=...
A gateway pushes to a fixed URL you enter in its console, with no header of your choosing, so the
shared token (HOTLINE_SMS_RECEIPT_TOKEN) travels in the query string; an X-Hotline-Token header is
accepted too. Each answer is the one the gateway expects, else it pushes again."""
import hmac

from flask import Blueprint, current_app, jsonify, request

from hotline.extensions import db
from hotline.sms import receipts, replies

bp = Blueprint("sms", __name__, url_prefix="/sms")

# What each gateway wants back: Aliyun's push expects {"code": 0, "msg": "成功"}; Tencent's {"result": 0, ...}.
ANSWERS = {
    "aliyun": (lambda: {"code": 0, "msg": "成功"}, lambda reason: {"code": 1, "msg": reason}),
    "tencent": (lambda: {"result": 0, "errmsg": "OK"}, lambda reason: {"result": 1, "errmsg": reason}),
}


@bp.post("/receipts/<backend>")
def receipt(backend: str):
    return _handle(backend, receipts.apply_receipts)


@bp.post("/inbound/<backend>")
def inbound(backend: str):
    return _handle(backend, replies.record_replies)


def _handle(backend: str, apply):
    if backend not in ANSWERS:
        return jsonify({"code": 1, "msg": "unknown backend"}), 404
    ok, refused = ANSWERS[backend]
    if not _token_ok():
        return jsonify(refused("forbidden")), 403
    body = request.get_json(silent=True, force=True)  # some pushes come without a JSON content type
    if body is None:
        return jsonify(refused("expected a JSON body")), 400
    try:
        apply(backend, body)
    except receipts.BadReceipt as error:
        db.session.rollback()
        return jsonify(refused(str(error))), 400
    db.session.commit()
    return jsonify(ok())


def _token_ok() -> bool:
    expected = current_app.config.get("SMS_RECEIPT_TOKEN")
    given = request.args.get("token") or request.headers.get("X-Hotline-Token") or ""
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())
