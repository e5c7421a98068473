"""Issue #12 item 7 (pages): the console and the station page post/redirect/get with a one-time form
token, so a refresh, a double click or the same form sent again never registers a second case or
sends a second SMS; the second post leads to the case the first one made."""
import re
import threading
import time

import pytest
from sqlalchemy import func, select

import hotline.intake.views as intake_views
from hotline.cases.models import Case
from hotline.extensions import db
from hotline.sms.models import SmsMessage
from tests.intake.test_console import FORM


def form_token(page) -> str:
    return re.search(r'name="form_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)


def cases() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(Case.id)))


def sms() -> int:
    return db.session.scalar(select(func.count(SmsMessage.id)))


def shown_number(page) -> str:
    return re.search(r'data-number="(\d{14,16})"', page.get_data(as_text=True)).group(1)


@pytest.fixture
def operator(client, make_user, login):
    csrf = login(client, make_user("operator"))
    return {**FORM, "csrf_token": csrf, "form_token": form_token(client.get("/console"))}


def test_registering_redirects_to_the_confirmation(client, operator):
    response = client.post("/console", data=operator)
    assert response.status_code == 303 and response.headers["Location"].endswith("/console")
    page = client.get("/console")
    number, code = shown_number(page), re.search(r'class="code">([A-Z0-9]{6})<', page.get_data(as_text=True)).group(1)
    assert db.session.scalar(select(Case.number)) == number and code
    # the confirmation is shown once; the next visit is an empty form with a new token
    again = client.get("/console")
    assert 'id="registered"' not in again.get_data(as_text=True) and form_token(again) != operator["form_token"]


def test_a_refresh_or_double_click_registers_once_and_sends_one_sms(client, operator):
    first = client.post("/console", data=operator)
    first_page = client.get("/console")
    second = client.post("/console", data=operator)  # the browser sends the same form again
    assert first.status_code == second.status_code == 303
    second_page = client.get("/console")
    assert cases() == 1 and sms() == 1
    assert shown_number(second_page) == shown_number(first_page)  # led to the case the first post made
    code = re.compile(r'class="code">([A-Z0-9]{6})<')
    assert code.search(second_page.get_data(as_text=True)).group(1) == \
        code.search(first_page.get_data(as_text=True)).group(1)


def test_the_same_token_with_other_content_is_not_taken_for_a_repeat(client, operator):
    client.post("/console", data=operator)
    number = db.session.scalar(select(Case.number))
    response = client.post("/console", data={**operator, "subject": "另一通电话"})
    html = response.get_data(as_text=True)
    assert response.status_code == 409 and cases() == 1
    assert number[:4] in html and 'value="另一通电话"' in html  # names the first case, keeps what was typed
    fresh = form_token(response)
    assert fresh != operator["form_token"]
    assert client.post("/console", data={**operator, "subject": "另一通电话", "form_token": fresh}).status_code == 303
    assert cases() == 2


def test_a_form_refused_for_its_fields_keeps_its_token_and_goes_through_corrected(client, operator):
    bad = client.post("/console", data={**operator, "consumer.phone": "12"})
    assert bad.status_code == 422 and form_token(bad) == operator["form_token"]
    assert client.post("/console", data=operator).status_code == 303
    assert cases() == 1


def test_a_client_without_the_token_cannot_register_the_same_form_twice(client, operator):
    untokened = {k: v for k, v in operator.items() if k != "form_token"}
    assert client.post("/console", data=untokened).status_code == 303
    assert client.post("/console", data=untokened).status_code == 303
    assert cases() == 1 and sms() == 1
    assert client.post("/console", data={**untokened, "subject": "第二通电话"}).status_code == 303
    assert cases() == 2


def test_the_station_page_registers_once_too(client, make_user, login):
    csrf = login(client, make_user("station", station="ST-TD-01"))
    form = {**FORM, "csrf_token": csrf, "form_token": form_token(client.get("/station"))}
    assert client.post("/station", data=form).status_code == 303
    assert client.post("/station", data=form).status_code == 303
    assert cases() == 1
    assert db.session.scalar(select(Case.number)) in client.get("/station").get_data(as_text=True)


def test_another_users_token_registers_for_them(client, operator, make_user, login, app):
    client.post("/console", data=operator)
    other = app.test_client()
    csrf = login(other, make_user("operator"))
    assert other.post("/console", data={**operator, "csrf_token": csrf}).status_code == 303
    assert cases() == 2  # tokens are kept per user: one cannot be led to another's case


def test_a_double_click_sent_at_once_registers_once(app, client, operator, monkeypatch):
    register = intake_views.register_case

    def slow_register(*args, **kwargs):
        registered = register(*args, **kwargs)
        time.sleep(0.5)  # the first post is still inside its transaction when the second arrives
        return registered
    monkeypatch.setattr(intake_views, "register_case", slow_register)
    cookie = client.get_cookie("session")
    codes: list[int] = []

    def post():
        other = app.test_client()
        other.set_cookie("session", cookie.value)
        codes.append(other.post("/console", data=operator).status_code)
    threads = [threading.Thread(target=post) for _ in range(2)]
    threads[0].start()
    time.sleep(0.15)
    threads[1].start()
    for thread in threads:
        thread.join(60)
    assert codes == [303, 303]
    assert cases() == 1 and sms() == 1
