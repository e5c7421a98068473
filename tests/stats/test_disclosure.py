"""投诉公示 (Order 121 art. 38): the threshold, exclusions, declined and withdrawn complaints not counted, search,
the public pages (no personal data, 404 for a business not disclosed) and the administrator's form."""
import logging
from datetime import date

import pytest
from flask import url_for

from hotline.cases.actions import ActionInput, take_action
from hotline.cases.business_keys import business_key
from hotline.cases.models import Case
from hotline.extensions import db
from hotline.outbox.relay import run_pending
from hotline.stats import disclosure
from hotline.stats.models import DisclosureExclusion
from hotline.stats.refresh import drain

HENGTONG, XINYUAN, HUAYU, MART = "恒通超市", "鑫源手机广场", "华宇饭店", "ABC Mart"


@pytest.fixture
def people(make_user):
    return {"tiexi": make_user("bureau", bureau="tiexi"), "operator": make_user("operator"),
            "admin": make_user("admin"), "supervisor": make_user("supervisor")}


@pytest.fixture
def complaints(make_case, people):
    """恒通 2 complaints; 鑫源 3 received, one declined and one withdrawn (1 counted); 华宇 1 and a report,
    which is not a complaint; ABC Mart 1, settled; 恒通 once more 13 months ago, outside the window."""
    made = {}

    def complain(name, kind="complaint", **over):
        registered = make_case(business={"name": name, "address": "辽宁省鞍山市铁西区兴盛街道人民路88号"},
                               kind=kind, **over)
        made.setdefault(name, []).append(registered.case.id)
        return registered.case.id

    for name in (HENGTONG, HENGTONG, XINYUAN, XINYUAN, XINYUAN, HUAYU, MART):
        complain(name, consumer={"name": "张三丰", "phone": "13900001111"})
    complain(HUAYU, kind="report", consumer={"anonymous": True})
    complain(HENGTONG, received_at="2025-10-15T10:00:00+08:00", occurred_on="2025-10-01")
    run_pending()
    db.session.expire_all()

    def act(case_id, who, **data):
        take_action(db.session.get(Case, case_id), people[who], ActionInput(**data))
        db.session.commit()

    act(made[XINYUAN][0], "tiexi", action="decline", reason="D01")
    act(made[XINYUAN][1], "operator", action="withdraw", reason="已自行和解")
    act(made[MART][0], "tiexi", action="accept")
    act(made[MART][0], "tiexi", action="settle", recovered_amount="10.00")
    drain()
    return made


@pytest.fixture
def audit_log(caplog, monkeypatch):
    """The audit logger's records (Alembic's logging set-up disables loggers that existed before it ran)."""
    monkeypatch.setattr(logging.getLogger("hotline.audit"), "disabled", False)
    caplog.set_level(logging.INFO, logger="hotline.audit")
    return caplog


def key(name: str) -> str:
    return business_key(None, name)


def threshold(n: int, enabled: bool = True) -> None:
    disclosure.save_rule(n, enabled, "test")
    db.session.commit()


def test_window_is_twelve_months_ending_with_this_one():
    months = disclosure.window(date(2026, 1, 15))
    assert len(months) == 12 and months[0] == date(2025, 2, 1) and months[-1] == date(2026, 1, 1)


def test_default_rule_is_five_and_enabled():
    rule = disclosure.rule()
    assert (rule.threshold, rule.enabled) == (5, True)


def test_threshold_counts_complaints_without_declined_and_withdrawn(complaints):
    threshold(2)
    result = disclosure.listing()
    assert [(b.name, b.counted, b.received) for b in result.items] == [(HENGTONG, 2, 2)]  # the old one is outside
    assert disclosure.business(key(XINYUAN)) is None  # 3 received, 1 counted
    threshold(1)
    result = disclosure.listing()
    assert result.items[0].name == HENGTONG and result.total == 4
    counted = {b.name: b.counted for b in result.items}
    assert counted == {HENGTONG: 2, XINYUAN: 1, HUAYU: 1, MART: 1}  # 华宇's report is not a complaint
    mart = disclosure.business(key(MART))
    assert (mart.accepted, mart.mediated, mart.mediation_closed, mart.success_rate) == (1, 1, 1, 1.0)


def test_listing_pages(complaints):
    threshold(1)
    first, second = disclosure.listing(per_page=3), disclosure.listing(page=2, per_page=3)
    assert (first.total, first.pages, len(first.items), len(second.items)) == (4, 2, 3, 1)
    assert disclosure.listing(page=99, per_page=3).page == 2  # a stale page number shows the last page


def test_switched_off_rule_discloses_nothing(client, complaints):
    threshold(1, enabled=False)
    assert disclosure.listing().items == [] and disclosure.business(key(HENGTONG)) is None
    assert client.get(f"/disclosure/{key(HENGTONG)}").status_code == 404
    assert "暂不公示" in client.get("/disclosure").get_data(as_text=True)


def test_search_by_name(complaints):
    threshold(1)
    assert [b.name for b in disclosure.listing("恒通").items] == [HENGTONG]
    assert [b.name for b in disclosure.listing("abc mart").items] == [MART]  # case-insensitive
    assert [b.name for b in disclosure.listing("ＡＢＣ").items] == [MART]  # full-width, through the business key
    assert disclosure.listing("%").items == [] and disclosure.listing("_").items == []  # wildcards are text


def test_exclusion_hides_a_business(complaints, people, client, login, audit_log):
    threshold(1)
    csrf = login(client, people["admin"])
    response = client.post("/manage/disclosure", data={"csrf_token": csrf, "action": "exclude",
                                                       "business": key(HENGTONG), "reason": "法院裁定暂停公示"})
    assert response.status_code == 302
    assert "disclosure exclusion added" in audit_log.text and key(HENGTONG) in audit_log.text
    assert db.session.get(DisclosureExclusion, key(HENGTONG)).business_name == HENGTONG
    assert HENGTONG not in [b.name for b in disclosure.listing().items]
    assert client.get(f"/disclosure/{key(HENGTONG)}").status_code == 404
    page = client.get("/manage/disclosure").get_data(as_text=True)
    assert "法院裁定暂停公示" in page
    # By name as typed (the key is worked out), and lifted again.
    assert client.post("/manage/disclosure", data={"csrf_token": csrf, "action": "exclude", "business": " ＡＢＣ mart ",
                                                   "reason": "测试"}).status_code == 302
    assert db.session.get(DisclosureExclusion, key(MART)) is not None
    assert client.post("/manage/disclosure", data={"csrf_token": csrf, "action": "include",
                                                   "business": key(HENGTONG)}).status_code == 302
    assert HENGTONG in [b.name for b in disclosure.listing().items]


def test_public_pages_show_figures_and_no_personal_data(client, complaints, app):
    threshold(1)
    listing = client.get("/disclosure").get_data(as_text=True)
    with app.test_request_context():
        link = url_for("disclosure.business", key=key(HENGTONG))
    assert link in listing and "%E6%81%92" in link  # the CJK key is quoted, and read back below
    page = client.get(link)
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert HENGTONG in body and "投诉件数" in body and "第三十八条" in body
    numbers = [c.number for c in db.session.query(Case).all()]
    for text in (listing, body):
        assert "张三丰" not in text and "13900001111" not in text
        assert "人民路88号" not in text
        assert not any(number in text for number in numbers)
    assert client.get("/disclosure?q=恒通").get_data(as_text=True).count('class="summary"') == 1
    assert client.get("/disclosure/n:nosuchbusiness").status_code == 404
    assert client.get("/disclosure?page=abc").status_code == 400


def test_admin_form_checks_its_fields(client, login, people, audit_log):
    csrf = login(client, people["admin"])
    for bad in ("0", "1001", "abc", "", "2.5", "１０"):
        response = client.post("/manage/disclosure", data={"csrf_token": csrf, "action": "rule", "threshold": bad,
                                                           "enabled": "on"})
        assert response.status_code == 422, bad
        assert "1 到 1000 之间的整数" in response.get_data(as_text=True)
    assert disclosure.rule().threshold == 5
    assert client.post("/manage/disclosure", data={"csrf_token": csrf, "action": "rule",
                                                   "threshold": "12"}).status_code == 302
    db.session.expire_all()
    assert (disclosure.rule().threshold, disclosure.rule().enabled) == (12, False)
    assert "disclosure rule set" in audit_log.text
    missing_reason = client.post("/manage/disclosure", data={"csrf_token": csrf, "action": "exclude",
                                                             "business": "某商店", "reason": "  "})
    assert missing_reason.status_code == 422 and "必填" in missing_reason.get_data(as_text=True)
    assert client.post("/manage/disclosure", data={"csrf_token": csrf, "action": "exclude", "business": "",
                                                   "reason": "x"}).status_code == 422
    assert client.post("/manage/disclosure", data={"csrf_token": csrf, "action": "include",
                                                   "business": "n:none"}).status_code == 422
    assert client.post("/manage/disclosure", data={"csrf_token": csrf, "action": "fly"}).status_code == 400
    assert client.post("/manage/disclosure", data={"action": "rule", "threshold": "3"}).status_code == 400  # CSRF
    db.session.expire_all()
    assert disclosure.rule().threshold == 12


def test_who_may_see_and_change_the_rule(client, login, people, make_user):
    csrf = login(client, people["supervisor"])
    page = client.get("/manage/disclosure")
    assert page.status_code == 200 and 'name="action"' not in page.get_data(as_text=True)  # read-only
    assert client.post("/manage/disclosure", data={"csrf_token": csrf, "action": "rule",
                                                   "threshold": "1"}).status_code == 403
    client.post("/logout", data={"csrf_token": csrf})
    login(client, make_user("bureau", bureau="tiexi"))
    assert client.get("/manage/disclosure").status_code == 403


def test_public_page_needs_no_log_in_and_works_empty(client):
    response = client.get("/disclosure")
    assert response.status_code == 200 and "投诉公示" in response.get_data(as_text=True)

