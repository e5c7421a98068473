"""重复举报 (Order 121 art. 35): the same reporter and business as an earlier report is shown with that
report's number at intake and on the case; the same facts can be declined citing art. 35; new facts
can be merged into the earlier open report, whose verification clock restarts from the last receipt."""
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from hotline.cases import repeats
from hotline.cases.models import Case, CaseEvent
from hotline.deadlines.models import CaseClock
from hotline.extensions import db
from hotline.outbox.relay import run_pending

SHANGHAI = ZoneInfo("Asia/Shanghai")
REPORT = {"kind": "report", "channel": "phone", "consumer": {"name": "举报人", "phone": "13800005555"},
          "business": {"name": "惠民超市", "address": "鞍山市铁西区兴盛街道人民路1号"},
          "category": {"issue": "I01"},
          "subject": "销售过期食品", "description": "货架上的牛奶已过保质期，生产日期2026年5月1日。"}


def report(client, headers, **over):
    body = {**REPORT, **over}
    response = client.post("/api/v1/cases", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    run_pending()
    db.session.expire_all()
    return response.get_json()


def verification_clock(number):
    case = db.session.scalar(select(Case).where(Case.number == number))
    return db.session.scalar(select(CaseClock).where(CaseClock.case_id == case.id,
                                                     CaseClock.clock == "report_verification"))


def test_same_facts_rules():
    """The suggestion the handler sees: same business by credit code or name, same facts by text."""
    a = Case(kind="report", business_name="惠民 超市", category_issue="I01", subject="销售过期食品",
             description="货架上的牛奶已过保质期。")
    b = Case(kind="report", business_name="惠民超市", category_issue="I01", subject="销售过期食品！",
             description="货架上的牛奶，已过保质期")
    assert repeats.same_business(a, b) and repeats.same_facts(a, b)
    c = Case(kind="report", business_name="惠民超市", category_issue="I01", subject="无照经营",
             description="店内另设烟酒柜台，没有烟草专卖许可证。")
    assert not repeats.same_facts(a, c)
    d = Case(kind="report", business_name="惠民超市", category_issue="I02", subject=a.subject,
             description=a.description)
    assert not repeats.same_facts(a, d)  # another issue is another matter
    assert not repeats.same_business(Case(business_uscc="91210300MA0Y00000A", business_name="惠民超市"),
                                      Case(business_uscc="91210300MA0Y00001B", business_name="惠民超市"))


def test_repeat_report_is_shown_at_intake_and_offered_for_decline(client, make_user, token_for, login):
    operator = token_for(make_user("operator"))
    handler = make_user("bureau", bureau="tiexi")
    first = report(client, operator)
    assert first["repeat_of"] is None
    second = report(client, operator, description="货架上的牛奶已过保质期，生产日期为2026年5月1日！")
    assert second["repeat_of"] == {"number": first["number"], "status": "pending", "same_facts": True}
    detail = client.get(f"/api/v1/cases/{second['number']}", headers=token_for(handler)).get_json()
    assert detail["repeat_of"]["number"] == first["number"]

    login(client, handler)
    page = client.get(f"/cases/{second['number']}").get_data(as_text=True)
    assert f"/cases/{first['number']}" in page and "相同举报人、相同被举报人" in page
    assert "第35条" in page
    decline_form = page[page.index("action-decline"):]
    assert 'value="R01"' in decline_form[:decline_form.index("</form>")]

    response = client.post(f"/api/v1/cases/{second['number']}/actions", json={"action": "decline", "reason": "R01"},
                           headers=token_for(handler))
    assert response.status_code == 200, response.get_json()
    assert (response.get_json()["status"], response.get_json()["outcome"]) == ("closed", "declined")


def test_console_tells_the_operator_about_the_earlier_report(client, make_user, token_for, login):
    first = report(client, token_for(make_user("operator")))
    csrf = login(client, make_user("operator"))
    form = {"kind": "report", "channel": "phone", "consumer.phone": "13800005555", "consumer.name": "举报人",
            "business.name": "惠民超市", "business.address": "鞍山市铁西区兴盛街道人民路1号",
            "subject": "无照经营烟草", "description": "另设烟酒柜台，没有烟草专卖许可证。", "csrf_token": csrf}
    page = client.post("/console", data=form, follow_redirects=True).get_data(as_text=True)
    assert 'class="notice repeat-of"' in page and f"/cases/{first['number']}" in page
    assert 'id="repeat-notice"' in page  # and console.js says it before registering, from the caller's history


def test_new_facts_are_merged_and_the_earlier_clock_restarts_from_the_last_receipt(client, make_user, token_for,
                                                                                  login):
    operator = token_for(make_user("operator"))
    handler = make_user("bureau", bureau="tiexi")
    first = report(client, operator, received_at="2026-11-02T09:00:00")
    before = verification_clock(first["number"]).due_at
    second = report(client, operator, received_at="2026-11-16T15:30:00", subject="无照经营烟草",
                    description="超市另设烟酒柜台，没有烟草专卖许可证。")
    assert second["repeat_of"]["same_facts"] is False

    response = client.post(f"/api/v1/cases/{second['number']}/actions", json={"action": "merge_report"},
                           headers=token_for(handler))
    assert response.status_code == 200, response.get_json()
    merged = response.get_json()
    assert (merged["status"], merged["outcome"]) == ("closed", "merged")
    assert merged["merged_into"]["number"] == first["number"]
    assert {"number": first["number"], "kind": "report", "relation": "merged"} in merged["links"]

    clock = verification_clock(first["number"])
    assert clock.started_at == datetime(2026, 11, 16, 15, 30, tzinfo=SHANGHAI)
    assert clock.met_at is None and clock.due_at > before
    # 15 working days from Monday 11-16: the last day is Monday 12-07.
    assert clock.due_at.astimezone(SHANGHAI).date().isoformat() == "2026-12-08"  # 00:00 after the last day
    assert verification_clock(second["number"]).met_at is not None

    earlier = db.session.scalar(select(Case).where(Case.number == first["number"]))
    event = db.session.scalar(select(CaseEvent).where(CaseEvent.case_id == earlier.id,
                                                      CaseEvent.action == "merged_in"))
    assert event.data["merged_from"] == second["number"]
    login(client, handler)
    page = client.get(f"/cases/{first['number']}").get_data(as_text=True)
    assert "2026-11-16" in page and "第35条" in page
    page = client.get(f"/cases/{second['number']}").get_data(as_text=True)
    assert f"/cases/{first['number']}" in page and 'class="notice merged-into"' in page


def test_merge_needs_an_open_earlier_report_of_the_same_reporter_and_business(client, make_user, token_for):
    operator = token_for(make_user("operator"))
    handler = token_for(make_user("bureau", bureau="tiexi"))
    lone = report(client, operator)
    response = client.post(f"/api/v1/cases/{lone['number']}/actions", json={"action": "merge_report"},
                           headers=handler)
    assert response.status_code == 422 and "第35条" in response.get_json()["error"]["fields"]["reason"]
    other = report(client, operator, consumer={"name": "别人", "phone": "13800006666"})
    response = client.post(f"/api/v1/cases/{other['number']}/actions",
                           json={"action": "merge_report", "reason": lone["number"]}, headers=handler)
    assert response.status_code == 422  # another reporter's report is not a merge target
    assert db.session.scalar(select(Case.status).where(Case.number == other["number"])) == "pending"


def test_merge_target_can_be_typed_as_read_aloud(client, make_user, token_for):
    operator = token_for(make_user("operator"))
    first = report(client, operator)
    second = report(client, operator, subject="无照经营烟草", description="另设烟酒柜台，没有烟草专卖许可证。")
    grouped = " ".join([first["number"][:4], first["number"][4:8], first["number"][8:12], first["number"][12:]])
    response = client.post(f"/api/v1/cases/{second['number']}/actions",
                           json={"action": "merge_report", "reason": grouped},
                           headers=token_for(make_user("supervisor")))
    assert response.status_code == 200 and response.get_json()["merged_into"]["number"] == first["number"]
