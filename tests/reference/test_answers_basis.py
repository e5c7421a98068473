"""The answer bank as corrected by the review against the published law (issue #8), and the warning an
operator sees before reading out an answer whose legal basis nobody has verified."""
from pathlib import Path

import pytest
from sqlalchemy import select

from hotline.extensions import db
from hotline.reference.models import Answer

CONSOLE_JS = Path(__file__).resolve().parents[2] / "hotline" / "static" / "console.js"


def answer(code: str) -> Answer:
    return db.session.scalar(select(Answer).where(Answer.code == code))


def test_mediation_is_sixty_days_under_order_121():
    a008 = answer("A008")
    assert "四十五个工作日" not in a008.body and "六十日" in a008.body and "鉴定、检测" in a008.body
    assert "第121号" in a008.legal_basis and "第20号" not in a008.legal_basis


@pytest.mark.parametrize("code, wrong, right", [
    ("A001", "等不适用", "签收商品的次日"),
    ("A002", "自售出之日起", "自更换完成之日起重新计算"),
    ("A011", "按保价金额赔偿", "依照民事法律"),
    ("A015", "请查看培训合同中的退费约定", "七日内请求退还预付款本金"),
    ("A018", "主播进行虚假宣传、平台未能提供", "明知或者应知"),
])
def test_corrected_answers(code, wrong, right):
    assert wrong not in answer(code).body and right in answer(code).body


@pytest.mark.parametrize("code, article", [
    ("A003", "第22条"), ("A007", "第10条"), ("A012", "第9条第2款"), ("A014", "法释") , ("A019", "第8条第（七）项"),
])
def test_corrected_answers_cite_the_articles(code, article):
    basis = answer(code).legal_basis
    assert (article in basis) or (article == "法释" and "预付式消费" in basis)
    assert "暂行办法》(国家市场监督管理总局令第20号" not in basis


def test_automatic_renewal_has_an_answer():
    found = [a for a in db.session.scalars(select(Answer)) if "自动续费" in a.keywords]
    assert found and "第10条第2款" in found[0].legal_basis


def test_unverified_bases_are_marked():
    assert not answer("A010").basis_verified and not answer("A002").basis_verified
    assert answer("A006").basis_verified


def test_the_api_warns_of_an_unverified_basis_and_keeps_its_fields(client, make_user, token_for):
    headers = token_for(make_user("operator"))
    items = client.get("/api/v1/answers?q=供暖", headers=headers).get_json()["items"]
    heating = next(i for i in items if i["code"] == "A010")
    assert heating["basis_verified"] is False and heating["basis_warning"] == "法律依据待核实"
    assert {"code", "title", "body", "legal_basis"} <= set(heating)
    fraud = next(i for i in client.get("/api/v1/answers?q=欺诈", headers=headers).get_json()["items"]
                 if i["code"] == "A006")
    assert fraud["basis_verified"] is True and fraud["basis_warning"] is None


def test_the_answer_bank_page_warns_the_operator(client, make_user, login):
    login(client, make_user("operator"))
    assert "法律依据待核实" in client.get("/answers?q=供暖").get_data(as_text=True)
    assert "法律依据待核实" not in client.get("/answers?q=欺诈三倍").get_data(as_text=True)


def test_the_console_shows_the_warning_it_is_given():
    assert "a.basis_warning" in CONSOLE_JS.read_text("utf-8")


def test_a_supervisor_marks_a_basis_checked(client, make_user, login):
    csrf = login(client, make_user("supervisor"))
    response = client.post("/answers/new", data={"title": "供暖收费新规", "body": "按本地规定收费。",
                                                 "legal_basis": "鞍山市某规定", "active": "on", "csrf_token": csrf})
    assert response.status_code == 302
    new = db.session.scalar(select(Answer).where(Answer.title == "供暖收费新规"))
    assert not new.basis_verified and new.edited_locally  # not ticked: the operator is warned
    client.post(f"/answers/{new.code}/edit", data={"title": new.title, "body": new.body, "legal_basis": "鞍山市某规定",
                                                   "basis_verified": "on", "active": "on", "csrf_token": csrf})
    db.session.expire_all()
    assert db.session.scalar(select(Answer.basis_verified).where(Answer.code == new.code))
