"""The routing-rules page (issue #7): supervisors keep the rules, the try-out and the table read in
names, field errors name the field as the table does, every input is labelled, rows stack on a phone."""
import re

import pytest
from sqlalchemy import select

from hotline.extensions import db
from hotline.reference.models import RoutingRule
from hotline.routing.rules import parse_label
from tests.deadlines.test_calendar_admin import WHERE, tds, unlabelled_inputs

NEW_RULE = {"position": "5", "match": "keyword", "value": "测试商城", "bureau": "lishan", "active": "on"}


def test_try_out_names_the_bureau_and_the_rule(client, make_user, login):
    login(client, make_user("supervisor"))
    page = client.get("/admin/routing?address=辽宁省鞍山市铁西区兴盛街道人民路88号").get_data(as_text=True)
    assert "→ <strong>铁西分局</strong>" in page
    assert "→ <strong>tiexi</strong>" not in page
    assert "规则 #1010：行政区划“铁西区”" in page
    assert "division=210303" not in page


def test_try_out_of_a_keyword_rule(client, make_user, login):
    login(client, make_user("admin"))
    page = client.get("/admin/routing?address=鞍山市高新区千山路1号").get_data(as_text=True)
    assert "→ <strong>高新区分局</strong>" in page
    assert "地址关键词“高新区”" in page


def test_rule_table_reads_in_words(client, make_user, login):
    login(client, make_user("admin"))
    page = client.get("/admin/routing").get_data(as_text=True)
    assert '<option value="division" selected>行政区划</option>' in page
    assert '<option value="keyword" selected>地址关键词</option>' in page
    assert ">division<" not in page and ">keyword<" not in page
    assert '<small class="muted">铁西区</small>' in page  # next to the code 210303 being edited


def test_field_errors_name_the_field_and_keep_the_row(client, make_user, login):
    csrf = login(client, make_user("admin"))
    response = client.post("/admin/routing/new", data=NEW_RULE | {"position": "first", "csrf_token": csrf})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "顺序: 必须是 0 到 1000000 之间的整数" in page
    assert "position:" not in page
    assert 'value="first"' in page and 'value="测试商城"' in page  # what was typed is still there
    assert db.session.scalar(select(RoutingRule).where(RoutingRule.value == "测试商城")) is None


@pytest.mark.parametrize(("field", "value", "message"), [
    ("position", "99999999999999999999", "顺序: 必须是"),
    ("match", "regex", "匹配方式: "),
    ("value", "", "值: "),
    ("bureau", "nowhere", "分局: "),
])
def test_each_bad_field_is_named(client, make_user, login, field, value, message):
    csrf = login(client, make_user("admin"))
    response = client.post("/admin/routing/new", data=NEW_RULE | {field: value, "csrf_token": csrf})
    assert response.status_code == 422 and message in response.get_data(as_text=True)


def test_a_division_rule_needs_a_known_division(client, make_user, login):
    csrf = login(client, make_user("admin"))
    response = client.post("/admin/routing/new", data=NEW_RULE | {"match": "division", "value": "999999",
                                                                  "csrf_token": csrf})
    assert response.status_code == 422 and "没有以 999999 开头的行政区划代码" in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_the_centre_edits_rules(client, make_user, login, role):
    csrf = login(client, make_user(role))
    assert client.post("/admin/routing/new", data=NEW_RULE | {"csrf_token": csrf}).status_code == 302
    rule = db.session.scalar(select(RoutingRule).where(RoutingRule.value == "测试商城"))
    assert rule.position == 5 and rule.bureau.code == "lishan"
    page = client.get("/admin/routing?address=鞍山市铁西区测试商城").get_data(as_text=True)
    assert "→ <strong>立山分局</strong>" in page and "地址关键词“测试商城”" in page
    assert client.post(f"/admin/routing/{rule.id}", data=NEW_RULE | {"position": "7", "csrf_token": csrf}
                       ).status_code == 302
    db.session.expire_all()
    assert db.session.get(RoutingRule, rule.id).position == 7


@pytest.mark.parametrize("role", ["operator", "station", "bureau"])
def test_others_get_403(client, make_user, login, role):
    csrf = login(client, make_user(role, **WHERE.get(role, {})))
    assert client.get("/admin/routing").status_code == 403
    assert client.post("/admin/routing/new", data=NEW_RULE | {"csrf_token": csrf}).status_code == 403
    rule_id = db.session.scalar(select(RoutingRule.id).limit(1))
    assert client.post(f"/admin/routing/{rule_id}", data=NEW_RULE | {"csrf_token": csrf}).status_code == 403


def test_every_input_is_labelled_and_every_cell_stacks(client, make_user, login):
    login(client, make_user("supervisor"))
    page = client.get("/admin/routing?address=鞍山市铁西区").get_data(as_text=True)
    assert unlabelled_inputs(page) == []
    cells = tds(page)
    assert cells and all("data-label=" in td for td in cells)
    # The row's inputs belong to the row's form (a <form> may not wrap table cells).
    assert not re.search(r"<tr>\s*<form", page)


def test_parse_label():
    assert parse_label("#1010 division=210303") == (1010, "division", "210303")
    assert parse_label("#5 keyword=a=b") == (5, "keyword", "a=b")
    assert parse_label("triage:no-rule") is None
    assert parse_label("manual:supervisor") is None
    assert parse_label(None) is None
