"""Submitting online (/submit): the form, the summary with the SMS code, the receipt; the case enters
with channel web and is validated and routed as the console's would be (issue #10)."""
import hashlib
import html
import io
import re
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from hotline.cases import personal_data
from hotline.cases.models import Case, CaseEvent
from hotline.extensions import db
from hotline.outbox.relay import run_pending
from hotline.portal.models import Evidence, PhoneConfirmation
from hotline.sms.models import SmsMessage
from tests.conftest import csrf_token

PHONE = "13912340000"
FORM = {"kind": "complaint", "consumer.name": "李四", "consumer.phone": PHONE,
        "consumer.address": "鞍山市铁西区人民路1号", "business.name": "鞍山某电器商店",
        "business.address": "辽宁省鞍山市铁西区兴盛街道人民路88号", "subject": "新买的手机开不了机",
        "description": "11月1日买的手机，第二天开不了机，商店拒绝退货。", "demand": "退货退款", "amount": "2999.00",
        "occurred_on": "2026-11-01"}


@pytest.fixture(autouse=True)
def evidence_folder(app, tmp_path):
    """Evidence files go to a folder of the test's own."""
    app.config["STORAGE_DIR"] = str(tmp_path / "evidence")
    app.extensions.pop("hotline_storage", None)
    yield tmp_path / "evidence"
    app.config.pop("STORAGE_DIR")
    app.extensions.pop("hotline_storage", None)


def jpeg(size=(40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, "JPEG")
    return out.getvalue()


def last_code(phone: str = PHONE) -> str:
    db.session.expire_all()
    message = db.session.scalars(select(SmsMessage).where(SmsMessage.to_phone == phone, SmsMessage.kind == "confirm")
                                 .order_by(SmsMessage.id.desc())).first()
    assert message.template_code == "SUBMIT_CODE"
    return message.params["code"]


def post_form(client, token=None, files=None, **over):
    data = {**FORM, **over, "csrf_token": token or csrf_token(client)}
    data = {k: v for k, v in data.items() if v is not None}
    if files:
        data["evidence"] = files
    return client.post("/submit", data=data, content_type="multipart/form-data")


def hidden_fields(page: str) -> dict:
    """The summary's form as a browser would send it back (hidden fields)."""
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    return {k: html.unescape(v) for k, v in fields.items()}


def confirm(client, page: str, **extra):
    return client.post("/submit/confirm", data={**hidden_fields(page), "send": "1", **extra})


def submit_complaint(client, **over):
    summary = post_form(client, **over)
    assert summary.status_code == 200, summary.get_data(as_text=True)
    return confirm(client, summary.get_data(as_text=True), code=last_code())


def test_a_complaint_submitted_online_is_registered_with_channel_web_and_routed_like_the_console(client, app):
    summary = post_form(client)
    page = summary.get_data(as_text=True)
    assert summary.status_code == 200 and "新买的手机开不了机" in page and "139****0000" in page
    assert db.session.scalar(select(Case)) is None  # nothing registered before the consumer confirms
    response = confirm(client, page, code=last_code())
    assert response.status_code == 302 and response.headers["Location"].endswith("/submit/receipt")
    case = db.session.scalar(select(Case))
    assert (case.channel, case.kind, case.status) == ("web", "complaint", "registered")
    assert case.consumer_name == "李四" and str(case.amount) == "2999.00"
    register = db.session.scalar(select(CaseEvent).where(CaseEvent.case_id == case.id))
    assert register.actor_label == "consumer" and register.actor_id is None
    run_pending()  # the routing job, as for a case the console registers
    db.session.refresh(case)
    assert case.status == "pending" and case.bureau.code == "tiexi"

    receipt = client.get("/submit/receipt").get_data(as_text=True)
    number = case.number
    grouped = f"{number[:4]} {number[4:8]} {number[8:12]} {number[12:]}"
    assert grouped in receipt
    code = re.search(r'id="query-code">([^<]+)<', receipt).group(1)
    assert personal_data.hash_query_code(number, code) == case.query_code_hash  # the case's code
    receipt_sms = db.session.scalar(select(SmsMessage).where(SmsMessage.kind == "receipt"))
    assert receipt_sms.to_phone == PHONE and receipt_sms.template_code == "CASE_RECEIPT"  # also sent by SMS


def test_the_same_validation_as_the_console_marks_every_wrong_field_and_keeps_what_was_typed(client):
    response = post_form(client, **{"consumer.phone": "12345", "business.uscc": "91210300MA0XXXXXXX",
                                    "consumer.address": "", "demand": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    for field in ("consumer-phone-error", "business-uscc-error", "consumer-address-error", "demand-error"):
        assert f'id="{field}"' in page
    assert "11月1日买的手机，第二天开不了机，商店拒绝退货。" in page and 'value="李四"' in page  # nothing typed is lost
    assert db.session.scalar(select(SmsMessage)) is None  # no code for a form with errors


def test_a_complaint_needs_name_phone_and_address_but_a_report_may_be_anonymous(client, app):
    response = post_form(client, **{"consumer.name": "", "consumer.anonymous": "1"})
    assert response.status_code == 422 and 'id="consumer-name-error"' in response.get_data(as_text=True)

    app.config["PORTAL_CONFIRM_PHONE"] = True
    summary = post_form(client, kind="report", **{"consumer.name": "", "consumer.phone": "", "consumer.address": "",
                                                  "consumer.anonymous": "1", "demand": ""})
    assert summary.status_code == 200, summary.get_data(as_text=True)
    assert 'name="code"' not in summary.get_data(as_text=True)  # no phone, nothing to confirm
    response = confirm(client, summary.get_data(as_text=True))
    assert response.status_code == 302
    case = db.session.scalar(select(Case))
    assert case.kind == "report" and case.consumer_anonymous and case.consumer_name is None
    receipt = client.get("/submit/receipt").get_data(as_text=True)
    assert "记下" in receipt or "write both down" in receipt  # no SMS: the page is the only place of the code


def test_the_code_is_required_and_used_once(client):
    summary = post_form(client).get_data(as_text=True)
    code = last_code()
    wrong = "000000" if code != "000000" else "111111"
    response = confirm(client, summary, code=wrong)
    assert response.status_code == 422 and 'id="code-error"' in response.get_data(as_text=True)
    assert confirm(client, summary, code="").status_code == 422
    assert db.session.scalar(select(Case)) is None
    assert confirm(client, summary, code=code).status_code == 302
    assert confirm(client, summary, code=code).status_code == 422  # the same code twice: refused
    assert len(db.session.scalars(select(Case)).all()) == 1
    row = db.session.scalar(select(PhoneConfirmation))
    assert row.code_hash == "" and code not in (row.code_hash or "")  # only a hash was ever kept


def test_five_wrong_codes_void_the_code(client):
    summary = post_form(client).get_data(as_text=True)
    code = last_code()
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        assert confirm(client, summary, code=wrong).status_code == 422
    assert confirm(client, summary, code=code).status_code == 422
    assert db.session.scalar(select(Case)) is None


def test_codes_are_limited_per_phone(client, app):
    app.config["PORTAL_CODE_RATE_LIMIT_PHONE"] = "2 per hour"
    try:
        token = csrf_token(client)
        assert post_form(client, token).status_code == 200
        assert post_form(client, token).status_code == 200
        response = post_form(client, token)
        assert response.status_code == 429 and "李四" in response.get_data(as_text=True)  # the form comes back
    finally:
        app.config["PORTAL_CODE_RATE_LIMIT_PHONE"] = "5 per hour"


def test_confirmation_can_be_turned_off(client, app):
    app.config["PORTAL_CONFIRM_PHONE"] = False
    try:
        summary = post_form(client).get_data(as_text=True)
        assert 'name="code"' not in summary
        assert confirm(client, summary).status_code == 302
    finally:
        app.config["PORTAL_CONFIRM_PHONE"] = True
    assert db.session.scalar(select(Case)).channel == "web"


def test_the_honeypot_blocks_the_submission(client):
    response = post_form(client, website="http://spam.example")
    assert response.status_code == 422
    assert db.session.scalar(select(SmsMessage)) is None
    summary = post_form(client).get_data(as_text=True)
    response = confirm(client, summary, code=last_code(), website="buy now")
    assert response.status_code == 422 and db.session.scalar(select(Case)) is None


def test_change_goes_back_to_the_form_with_everything(client):
    summary = post_form(client).get_data(as_text=True)
    response = client.post("/submit/confirm", data={**hidden_fields(summary), "edit": "1"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'value="鞍山某电器商店"' in page and "退货退款" in page


def test_a_photo_attached_at_the_form_reaches_the_case_and_staff_download_it(client, make_user, login):
    summary = post_form(client, files=[(io.BytesIO(jpeg()), "发票.jpg")])
    page = summary.get_data(as_text=True)
    assert summary.status_code == 200 and "发票.jpg" in page
    assert confirm(client, page, code=last_code()).status_code == 302
    case = db.session.scalar(select(Case))
    run_pending()
    item = db.session.scalar(select(Evidence))
    assert (item.case_id, item.original_name, item.content_type, item.source) == (case.id, "发票.jpg", "image/jpeg",
                                                                                  "consumer")
    url = f"/cases/{case.number}/evidence/{item.id}"
    assert client.get(url).status_code == 302  # not logged in: to the log-in page

    other_bureau = make_user("bureau", bureau="tiedong")
    login(client, other_bureau)
    assert client.get(url).status_code == 404  # not their case: nothing to see
    assert "发票.jpg" not in client.get(f"/cases/{case.number}").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(client)})

    handler = make_user("bureau", bureau="tiexi")
    login(client, handler)
    assert "发票.jpg" in client.get(f"/cases/{case.number}").get_data(as_text=True)
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert hashlib.sha256(response.data).hexdigest() == item.sha256


def test_a_refused_file_keeps_the_rest_of_the_form(client):
    response = post_form(client, files=[(io.BytesIO(b"MZ\x90\x00" + b"\x00" * 200), "photo.jpg")])
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="evidence-error"' in page and "photo.jpg" in page
    assert 'value="李四"' in page and db.session.scalar(select(Evidence)) is None


def test_files_of_a_form_with_errors_are_not_stored_and_the_page_says_so(client, app):
    """Nothing is written to storage for a form that does not pass (no disk filled by anonymous junk posts);
    the consumer is told to choose the files again, and everything typed is kept."""
    folder = Path(app.config.get("STORAGE_DIR") or Path(app.instance_path) / "evidence")
    before = {p for p in folder.rglob("*") if p.is_file()} if folder.exists() else set()
    response = post_form(client, files=[(io.BytesIO(jpeg()), "a.jpg")], **{"consumer.address": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "重新选择文件" in page and FORM["subject"] in page
    after = {p for p in folder.rglob("*") if p.is_file()} if folder.exists() else set()
    assert after == before


def test_the_confirmation_code_goes_only_to_a_mainland_mobile(client):
    """No landline can read a code, and no foreign number is texted at the hotline's expense."""
    for phone in ("+1 202 555 0100", "04125551234"):
        response = post_form(client, **{"consumer.phone": phone})
        assert response.status_code == 422 and "大陆手机号码" in response.get_data(as_text=True)
