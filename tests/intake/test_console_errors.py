"""The console after a mistake and after a registration: every wrong field marked at once with the
first one focused and nothing typed lost; then what happened to the case and what the caller is told."""
import re
from html.parser import HTMLParser

from hotline.cases.models import Case
from hotline.extensions import db
from hotline.routing.operations import route_case
from hotline.sms.models import SmsMessage
from tests.intake.test_console import FORM


def post(client, csrf, **fields):
    data = {**FORM, "csrf_token": csrf}
    data.update(fields)
    return client.post("/console", data={k: v for k, v in data.items() if v is not None}, follow_redirects=True)


def marked(html: str) -> list[str]:
    """The fields with an error next to them, in page order."""
    return re.findall(r'<span class="error" id="[^"]+" data-field="([^"]+)"', html)


def test_every_wrong_field_is_marked_at_once(client, make_user, login):
    csrf = login(client, make_user("operator"))
    # A bad phone used to hide the missing name and business: pydantic stopped before those rules.
    response = post(client, csrf, **{"consumer.phone": "12", "consumer.name": "", "business.name": "",
                                     "subject": "", "amount": "abc"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert marked(html) == ["consumer.phone", "consumer.name", "business.name", "subject", "amount"]
    summary = html[html.index('id="form-errors"'):html.index('id="intake"')]
    assert summary.count("<li>") == 5 and 'href="#caller-phone"' in summary and "投诉须填写消费者姓名" in summary
    # The first wrong field has the focus (the phone field's usual autofocus is not competing with it).
    assert re.search(r'<input id="caller-phone"[^>]*aria-invalid="true"[^>]*autofocus', html)
    assert html.count("autofocus") == 1
    assert db.session.query(Case).count() == 0


def test_checks_after_the_form_are_reported_together(client, make_user, login):
    csrf = login(client, make_user("operator"))
    response = post(client, csrf, **{"occurred_on": "2099-01-01", "category.goods": "G9999",
                                     "category.issue": "I0101"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert marked(html) == ["category.goods", "occurred_on"]
    assert re.search(r'<select id="f-category-goods"[^>]*aria-invalid="true"[^>]*autofocus', html)


def test_the_form_keeps_every_value_after_an_error(client, make_user, login):
    csrf = login(client, make_user("operator"))
    response = post(client, csrf, **{"subject": "", "category.goods": "G0203", "category.issue": "I0101",
                                     "description": "第一行\n第二行", "consumer.anonymous": "on"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r'<option value="G0203"[^>]*selected>', html)
    assert re.search(r'<option value="I0101"[^>]*selected>', html)
    assert ">第一行\n第二行</textarea>" in html and 'value="好再来餐馆"' in html and 'value="38.50"' in html
    assert re.search(r'name="consumer.anonymous" checked', html)


def test_after_registering_the_operator_sees_the_first_deadline_then_the_bureau(client, make_user, login):
    make_user("bureau", bureau="tiexi", username="tiexi1")
    csrf = login(client, make_user("operator"))
    html = post(client, csrf).get_data(as_text=True)
    number = re.search(r'data-number="(\d{14})"', html).group(1)
    box = html[html.index('id="registered"'):html.index("</section>")]
    assert f'data-next="/intake/cases/{number}/next"' in box
    assert "正在分派承办分局" in box
    assert re.search(r"投诉受理决定期限：\d{4}-\d\d-\d\d", box)
    # What console.js asks until routing has run (in-process right after the commit on the default setup).
    waiting = client.get(f"/intake/cases/{number}/next").get_json()
    assert waiting["done"] is False and waiting["status"] == "registered"
    case = db.session.query(Case).filter_by(number=number).one()
    route_case({"case_id": case.id})
    db.session.commit()
    routed = client.get(f"/intake/cases/{number}/next").get_json()
    assert routed["done"] is True and routed["status"] == "pending"
    assert "铁西" in routed["text"] and "→" in routed["reason"]
    assert routed["deadline"] == waiting["deadline"]


def test_a_case_routing_cannot_place_goes_to_triage_with_the_reason(client, make_user, login):
    csrf = login(client, make_user("operator"))
    html = post(client, csrf, **{"business.address": "沈阳市和平区太原街1号"}).get_data(as_text=True)
    case = db.session.query(Case).one()
    route_case({"case_id": case.id})
    db.session.commit()
    routed = client.get(f"/intake/cases/{case.number}/next").get_json()
    assert routed["status"] == "triage" and "指挥中心" in routed["text"] and "鞍山" in routed["reason"]
    assert "data-next" in html
    # The next render of the result (or a reload of a finished one) needs no asking.
    answered = post(client, csrf, **{"kind": "consultation", "answer": "可以七日无理由退货。", "business.name": ""})
    assert "data-next" not in answered.get_data(as_text=True) and "已当场答复并办结" in answered.get_data(as_text=True)


def test_only_who_may_see_the_case_gets_its_next_steps(client, make_user, login, make_case):
    number = make_case().case.number
    login(client, make_user("station", station="ST-TD-01"))
    assert client.get(f"/intake/cases/{number}/next").status_code == 404  # another station's (here: none)
    bureau = client.application.test_client()
    login(bureau, make_user("bureau", bureau="tiexi"))
    assert bureau.get(f"/intake/cases/{number}/next").status_code == 403


def test_an_anonymous_report_is_told_to_note_the_code_not_that_an_sms_was_sent(client, make_user, login):
    csrf = login(client, make_user("operator"))
    html = post(client, csrf, kind="report", **{"consumer.anonymous": "on", "consumer.name": ""}).get_data(as_text=True)
    assert "短信发送" not in html
    assert "不发送短信" in html and "请当场告知消费者并请其记下" in html
    assert db.session.query(SmsMessage).count() == 0
    # A named complainant with a phone does get the SMS, and is told so.
    html = post(client, csrf).get_data(as_text=True)
    assert "同时以短信发送" in html and db.session.query(SmsMessage).count() == 1


def test_a_phoneless_consultation_is_not_told_of_an_sms(client, make_user, login):
    csrf = login(client, make_user("operator"))
    html = post(client, csrf, kind="consultation", **{"consumer.phone": "", "business.name": ""}).get_data(as_text=True)
    assert "不发送短信" in html and "短信发送" not in html


class Controls(HTMLParser):
    """Every form control of a page, and the labels that name one (wrapping it or by `for`)."""

    def __init__(self):
        super().__init__()
        self.controls, self.label_for, self.open_labels = [], set(), 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "label":
            self.open_labels += 1
            if a.get("for"):
                self.label_for.add(a["for"])
        if tag in ("input", "select", "textarea") and a.get("type") != "hidden":
            self.controls.append((a.get("name") or a.get("id"), a.get("id"), self.open_labels > 0, a.get("aria-label")))

    def handle_endtag(self, tag):
        if tag == "label":
            self.open_labels -= 1


def test_every_input_of_the_intake_pages_has_a_label(client, make_user, login):
    for role, path in (("operator", "/console"), ("station", "/station")):
        c = client.application.test_client()
        login(c, make_user(role, station="ST-TD-01" if role == "station" else None))
        page = Controls()
        page.feed(c.get(path).get_data(as_text=True))
        unlabelled = [name for name, id_, wrapped, aria in page.controls
                      if not (wrapped or aria or (id_ and id_ in page.label_for))]
        assert unlabelled == [], f"{path}: inputs without a label"
        assert len(page.controls) > 20
