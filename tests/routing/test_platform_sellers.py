"""Online sellers: a complaint goes by the address the platform shows for the seller, else (none shown,
or unreachable there) by the platform's registered address (Order 121 art. 13); a report goes by the
seller's actual place of business, never the platform's (art. 31). The reason cites the article."""
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from hotline.cases.models import Case
from hotline.extensions import db
from hotline.outbox.relay import run_pending
from hotline.routing.gazetteer import Division, Gazetteer
from hotline.routing.rules import Facts, Rule, decide
from tests.conftest import complaint_payload

PACK = Path(__file__).resolve().parents[2] / "hotline" / "regions" / "anshan"
SHOWN = "鞍山市铁东区胜利街道二一九路10号"  # the address the platform shows for the seller
PLATFORM_HOME = "鞍山市立山区曙光街道"  # a (made-up) platform registered in the city, to see where it goes


@pytest.fixture(scope="module")
def gazetteer():
    rows = json.loads((PACK / "divisions.json").read_text("utf-8"))
    return Gazetteer([Division(d["code"], d["name"], d.get("parent"), tuple(d.get("aliases", []))) for d in rows],
                     "210300")


@pytest.fixture(scope="module")
def rules():
    names = {b["code"]: b["short_name"] for b in json.loads((PACK / "bureaus.json").read_text("utf-8"))}
    return [Rule(r["position"], r["match"], r["value"], r["bureau"], names[r["bureau"]])
            for r in json.loads((PACK / "routing_rules.json").read_text("utf-8"))]


def online(kind, address, **over):
    return Facts(kind, address, platform="某平台", platform_address=PLATFORM_HOME, rulebook_version="order-121",
                 **over)


def test_complaint_goes_by_the_address_the_platform_shows(gazetteer, rules):
    decision = decide(online("complaint", SHOWN), rules, gazetteer)
    assert decision.bureau_code == "tiedong"
    assert decision.reason.startswith("依据总局令第121号第13条") and "平台公示地址" in decision.reason


def test_complaint_without_a_shown_address_goes_to_the_platforms_home(gazetteer, rules):
    decision = decide(online("complaint", None), rules, gazetteer)
    assert decision.bureau_code == "lishan"
    assert "第13条" in decision.reason and "未公示地址" in decision.reason and "平台“某平台”登记地址" in decision.reason


def test_complaint_about_a_seller_unreachable_at_the_shown_address_goes_to_the_platforms_home(gazetteer, rules):
    decision = decide(online("complaint", SHOWN, address_unreachable=True), rules, gazetteer)
    assert decision.bureau_code == "lishan"
    assert "第13条" in decision.reason and "无法取得联系" in decision.reason


def test_complaint_with_an_unknown_platform_and_no_address_goes_to_triage(gazetteer, rules):
    decision = decide(Facts("complaint", None, platform="某小程序", rulebook_version="order-121"), rules, gazetteer)
    assert decision.bureau_code is None and decision.rule == "triage:platform-unknown"
    assert "第13条" in decision.reason


def test_report_goes_by_the_sellers_actual_place_of_business_never_the_platforms(gazetteer, rules):
    actual = "鞍山市铁西区兴盛街道人民路88号"
    decision = decide(online("report", actual), rules, gazetteer)
    assert decision.bureau_code == "tiexi"
    assert decision.reason.startswith("依据总局令第121号第31条") and "实际经营地" in decision.reason
    # Whether or not the seller answers there: a report is about where the conduct is.
    assert decide(online("report", actual, address_unreachable=True), rules, gazetteer).bureau_code == "tiexi"
    unknown = decide(online("report", None), rules, gazetteer)
    assert unknown.bureau_code is None and unknown.rule == "triage:seller-address-unknown"
    assert "第31条" in unknown.reason and "不按平台" in unknown.reason


def test_the_platform_operator_itself_goes_by_its_registered_address(gazetteer, rules):
    for kind, article in (("complaint", "第13条"), ("report", "第31条")):
        decision = decide(online(kind, None, seller=False), rules, gazetteer)
        assert decision.bureau_code == "lishan" and article in decision.reason


def test_an_order_20_case_cites_order_20(gazetteer, rules):
    facts = Facts("complaint", SHOWN, platform="某平台", platform_address=PLATFORM_HOME, rulebook_version="order-20")
    decision = decide(facts, rules, gazetteer)
    assert decision.bureau_code == "tiedong" and decision.reason.startswith("依据总局令第20号第12条")


def routed(number):
    run_pending()
    db.session.expire_all()
    return db.session.scalar(select(Case).where(Case.number == number))


def test_the_unreachable_tick_sends_a_complaint_to_the_platform(client, make_user, token_for):
    headers = token_for(make_user("operator"))
    body = complaint_payload(business={"name": "某某旗舰店", "platform": "淘宝", "shop": "某某旗舰店",
                                       "address": SHOWN, "address_unreachable": True})
    number = client.post("/api/v1/cases", json=body, headers=headers).get_json()["number"]
    case = routed(number)
    # Taobao is registered in Hangzhou: the centre transfers it there.
    assert case.status == "triage" and case.routing_rule == "triage:outside-city"
    assert "第13条" in case.routing_reason and "平台“淘宝”登记地址" in case.routing_reason
    reachable = complaint_payload(business={"name": "某某旗舰店", "platform": "淘宝", "address": SHOWN})
    case = routed(client.post("/api/v1/cases", json=reachable, headers=headers).get_json()["number"])
    assert case.bureau.code == "tiedong" and "第13条" in case.routing_reason


def test_a_report_about_a_seller_is_never_sent_to_the_platform(client, make_user, token_for):
    headers = token_for(make_user("operator"))
    body = complaint_payload(kind="report", business={"name": "某某旗舰店", "platform": "淘宝"})
    case = routed(client.post("/api/v1/cases", json=body, headers=headers).get_json()["number"])
    assert case.status == "triage" and case.routing_rule == "triage:seller-address-unknown"
    assert "第31条" in case.routing_reason


def test_console_tick_is_kept_with_the_registration(client, make_user, login):
    csrf = login(client, make_user("operator"))
    form = {"kind": "complaint", "channel": "phone", "consumer.phone": "13900001111", "consumer.name": "张三",
            "business.name": "某某旗舰店", "business.platform": "京东", "business.address": SHOWN,
            "business.address_unreachable": "on", "subject": "网购退款", "csrf_token": csrf}
    page = client.post("/console", data=form, follow_redirects=True).get_data(as_text=True)
    assert "通过平台公示的地址无法与经营者取得联系" in page  # the box on the form
    case = routed(db.session.scalar(select(Case.number)))
    assert case.status == "triage" and "平台“京东”登记地址" in case.routing_reason
