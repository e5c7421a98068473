"""Routing rules and the gazetteer as pure functions, on the Anshan pack's own data."""
import json
from pathlib import Path

import pytest

from hotline.routing.gazetteer import Division, Gazetteer
from hotline.routing.rules import Facts, Rule, decide

PACK = Path(__file__).resolve().parents[2] / "hotline" / "regions" / "anshan"


@pytest.fixture(autouse=True)
def clean_database():  # pure tests: no database
    yield


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


@pytest.mark.parametrize("address, bureau", [
    ("辽宁省鞍山市铁西区兴盛街道人民路88号", "tiexi"),
    ("鞍山市铁东区园林街道二一九路", "tiedong"),
    ("鞍山市立山区齐大山", "lishan"),
    ("鞍山市千山区汤岗子镇", "qianshan"),
    ("海城市西柳镇服装城", "haicheng"),
    ("台安县新开河镇", "taian"),
    ("岫岩满族自治县岫岩镇", "xiuyan"),
    ("鞍山市高新区鞍千路100号", "gaoxin"),
    ("鞍山经济开发区达道湾", "jingkai"),
    ("鞍山市铁西区　兴盛街道", "tiexi"),  # a full-width space typed with a CJK input method
])
def test_addresses_in_the_city_go_to_their_bureau(gazetteer, rules, address, bureau):
    decision = decide(Facts("complaint", address), rules, gazetteer)
    assert decision.bureau_code == bureau, decision
    assert decision.rule.startswith("#") and decision.reason


@pytest.mark.parametrize("address", [
    "沈阳市和平区中山路1号", "辽宁省沈阳市沈河区", "吉林省四平市铁西区", "北京市朝阳区", "杭州市余杭区", "辽阳市白塔区",
    "沈阳市浑南区科技路",  # a keyword of the 高新区 inside another city must not win
])
def test_addresses_outside_the_city_go_to_triage_never_to_a_wrong_bureau(gazetteer, rules, address):
    decision = decide(Facts("complaint", address), rules, gazetteer)
    assert decision.bureau_code is None
    assert decision.rule == "triage:outside-city" and "鞍山市以外" in decision.reason


def test_unplaceable_addresses_go_to_triage_with_the_reason(gazetteer, rules):
    assert decide(Facts("complaint", "人民路88号"), rules, gazetteer).rule == "triage:no-division"
    assert decide(Facts("complaint", None), rules, gazetteer).rule == "triage:no-address"


def test_online_seller_goes_by_shown_address_else_by_the_platform(gazetteer, rules):
    shown = decide(Facts("complaint", "鞍山市铁东区胜利街道", platform="淘宝"), rules, gazetteer)
    assert shown.bureau_code == "tiedong"
    by_platform = decide(Facts("complaint", None, platform="淘宝", platform_address="浙江省杭州市余杭区"),
                         rules, gazetteer)
    assert by_platform.bureau_code is None and "平台“淘宝”登记地址" in by_platform.reason
    unknown = decide(Facts("complaint", None, platform="某小程序"), rules, gazetteer)
    assert unknown.rule == "triage:platform-unknown"


def test_rules_apply_in_order(gazetteer):
    rules = [Rule(20, "division", "210303", "tiexi", "铁西分局"), Rule(10, "keyword", "万达", "tiedong", "铁东分局"),
             Rule(30, "category", "S05", "gaoxin", "高新区分局"), Rule(40, "kind", "report", "lishan", "立山分局")]
    assert decide(Facts("complaint", "鞍山市铁西区万达广场"), rules, gazetteer).bureau_code == "tiedong"
    assert decide(Facts("complaint", "鞍山市铁西区兴盛街道"), rules, gazetteer).bureau_code == "tiexi"
    assert decide(Facts("complaint", "鞍山市", categories=("S0501",)), rules, gazetteer).bureau_code == "gaoxin"
    assert decide(Facts("report", "鞍山市"), rules, gazetteer).bureau_code == "lishan"
    assert decide(Facts("complaint", "鞍山市"), rules, gazetteer).rule == "triage:no-division"
