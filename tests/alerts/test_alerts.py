"""Supervisors write, preview, publish and withdraw an alert on the staff pages; the public sees only
what is published."""
import re

from sqlalchemy import select

from hotline.alerts.models import ConsumerAlert
from hotline.extensions import db
from hotline.sms.models import SmsMessage
from tests.alerts.conftest import TIEXI, run_fanout

FORM = {"title": "警惕“闭店跑路”预付卡", "body": "近期本市多家健身房闭店。\n请勿大额预付。",
        "sms_text": "近期多家健身房闭店，请谨慎办理大额预付卡。", "district": TIEXI, "categories": ["S01"]}


def write(client, token, **over):
    return client.post("/manage/alerts/new", data={**FORM, **over, "csrf_token": token})


def only_alert() -> ConsumerAlert:
    db.session.expire_all()
    return db.session.scalars(select(ConsumerAlert)).one()


def test_supervisor_writes_previews_publishes_and_withdraws(client, login, make_user, subscribe):
    chief = make_user("supervisor")
    subscribe(TIEXI)
    token = login(client, chief)
    response = write(client, token)
    alert = only_alert()
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/manage/alerts/{alert.id}/preview")
    assert (alert.status, alert.created_by_id, alert.district, alert.categories) == ("draft", chief.id, TIEXI, ["S01"])

    preview = client.get(f"/manage/alerts/{alert.id}/preview").get_data(as_text=True)
    assert "【12315】近期多家健身房闭店，请谨慎办理大额预付卡。回复TD退订" in preview  # the exact SMS
    assert "public.css" in preview and "铁西区" in preview
    assert client.get(f"/alerts/{alert.id}").status_code == 404  # a draft is not public
    assert "闭店跑路" not in client.get("/alerts").get_data(as_text=True)

    client.post(f"/manage/alerts/{alert.id}/publish", data={"csrf_token": token})
    alert = only_alert()
    assert (alert.status, alert.published_by_id) == ("published", chief.id) and alert.published_at
    run_fanout()
    page = client.get(f"/manage/alerts/{alert.id}").get_data(as_text=True)
    assert 'data-count="queued">1<' in page and "alerts.js" in page
    progress = client.get(f"/manage/alerts/{alert.id}/progress").get_json()
    assert progress["counts"]["queued"] == 1 and progress["recipients"] == 1 and progress["queuing"] is False

    client.get("/logout")
    anonymous = client.application.test_client()
    listing = anonymous.get("/alerts").get_data(as_text=True)
    assert "警惕“闭店跑路”预付卡" in listing or "警惕&#34;闭店跑路&#34;" in listing or "闭店跑路" in listing
    assert anonymous.get(f"/alerts/{alert.id}").status_code == 200

    client.post(f"/manage/alerts/{alert.id}/withdraw", data={"csrf_token": token})
    alert = only_alert()
    assert alert.status == "withdrawn" and alert.withdrawn_at
    assert anonymous.get(f"/alerts/{alert.id}").status_code == 404
    assert "闭店跑路" not in anonymous.get("/alerts").get_data(as_text=True)
    assert db.session.scalars(select(SmsMessage.status)).all() == ["cancelled"]


def test_the_sms_must_fit_one_message_with_signature_and_opt_out_line(client, login, make_user):
    token = login(client, make_user("supervisor"))
    fits = "预" * (70 - len("【12315】回复TD退订"))
    assert write(client, token, sms_text=fits).status_code == 302
    response = write(client, token, sms_text=fits + "多")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "71" in page and "70" in page  # says how long it is and how long it may be
    assert 'value="警惕“闭店跑路”预付卡"' in page  # what was typed stays
    assert db.session.scalar(select(ConsumerAlert.id).where(ConsumerAlert.sms_text == fits + "多")) is None


def test_required_fields_and_an_unknown_district_are_refused(client, login, make_user):
    token = login(client, make_user("supervisor"))
    response = write(client, token, title="  ", district="110101")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert page.count('class="error"') >= 2


def test_script_in_a_title_is_shown_as_text(client, login, make_user):
    chief = make_user("supervisor")
    token = login(client, chief)
    write(client, token, title="<script>alert(1)</script>")
    alert = only_alert()
    client.post(f"/manage/alerts/{alert.id}/publish", data={"csrf_token": token})
    page = client.application.test_client().get("/alerts").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_a_published_alert_cannot_be_edited_or_published_again(client, login, make_user):
    token = login(client, make_user("supervisor"))
    write(client, token)
    alert = only_alert()
    client.post(f"/manage/alerts/{alert.id}/publish", data={"csrf_token": token})
    response = client.post(f"/manage/alerts/{alert.id}/edit", data={**FORM, "title": "改", "csrf_token": token})
    assert response.status_code == 302 and only_alert().title == FORM["title"]
    client.post(f"/manage/alerts/{alert.id}/publish", data={"csrf_token": token}, follow_redirects=True)
    assert only_alert().status == "published"


def test_a_draft_can_be_edited(client, login, make_user):
    token = login(client, make_user("supervisor"))
    write(client, token)
    alert = only_alert()
    form = client.get(f"/manage/alerts/{alert.id}/edit").get_data(as_text=True)
    assert re.search(r'<option value="210303" selected>', form)
    client.post(f"/manage/alerts/{alert.id}/edit", data={**FORM, "district": "", "categories": [],
                                                         "csrf_token": token})
    assert (only_alert().district, only_alert().categories) == (None, [])


def test_only_supervisors_and_administrators_manage_alerts(client, login, make_user):
    assert client.get("/manage/alerts").status_code == 302  # to log-in
    login(client, make_user("bureau", bureau="tiexi"))
    assert client.get("/manage/alerts").status_code == 403
    assert client.get("/manage/alerts/new").status_code == 403
    admin = client.application.test_client()
    login(admin, make_user("admin"))
    page = admin.get("/manage/alerts").get_data(as_text=True)
    assert "消费警示" in page


def test_the_list_pages(client, login, make_user):
    chief = make_user("supervisor")
    token = login(client, chief)
    for n in range(23):
        write(client, token, title=f"提示{n}")
    first = client.get("/manage/alerts").get_data(as_text=True)
    assert "提示22" in first and "提示2<" not in first and 'rel="next"' in first
    assert "提示2<" in client.get("/manage/alerts?page=2").get_data(as_text=True)
