"""The answer bank (issue #7): the search is labelled, the centre keeps the bank, and a consultation
answered from it says so in the reader's language ("知识库 A001", not "answer bank A001")."""
import pytest
from sqlalchemy import select

from hotline.cases.operations import register_case
from hotline.cases.schemas import parse_case
from hotline.extensions import db
from hotline.reference.models import Answer
from tests.deadlines.test_calendar_admin import WHERE, unlabelled_inputs


def test_the_search_is_labelled(client, make_user, login):
    login(client, make_user("operator"))
    page = client.get("/answers?q=退货").get_data(as_text=True)
    assert 'aria-label="搜索标准答复"' in page
    assert unlabelled_inputs(page) == []


@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_the_centre_keeps_the_bank(client, make_user, login, role):
    csrf = login(client, make_user(role))
    assert unlabelled_inputs(client.get("/answers/new").get_data(as_text=True)) == []
    response = client.post("/answers/new", data={"title": "预付卡退款", "body": "可要求经营者退还余额。",
                                                 "keywords": "预付卡 退款", "active": "on", "csrf_token": csrf})
    assert response.status_code == 302
    answer = db.session.scalar(select(Answer).where(Answer.title == "预付卡退款"))
    assert answer.keywords == ["预付卡", "退款"]


def test_a_bad_answer_keeps_what_was_typed(client, make_user, login):
    csrf = login(client, make_user("supervisor"))
    response = client.post("/answers/new", data={"title": "", "body": "正文", "csrf_token": csrf})
    assert response.status_code == 422 and "正文" in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["operator", "station", "bureau"])
def test_others_only_search(client, make_user, login, role):
    csrf = login(client, make_user(role, **WHERE.get(role, {})))
    assert client.get("/answers").status_code == 200
    assert client.get("/answers/new").status_code == 403
    assert client.post("/answers/new", data={"title": "x", "body": "y", "csrf_token": csrf}).status_code == 403
    assert client.post("/answers/A001/edit", data={"title": "x", "body": "y", "csrf_token": csrf}).status_code == 403


def test_the_timeline_names_the_answer_bank_in_the_readers_language(client, make_user, login):
    user = make_user("operator")
    body = {"kind": "consultation", "channel": "phone", "consumer": {"phone": "13900002222"},
            "subject": "七日无理由退货", "answer": "网购商品自收到之日起七日内可无理由退货。", "answer_code": "A001"}
    case = register_case(parse_case(body), user).case
    db.session.commit()
    login(client, user)
    page = client.get(f"/cases/{case.number}").get_data(as_text=True)
    assert "知识库 A001" in page and "answer bank A001" not in page
    client.get("/lang/en")
    assert "answer bank A001" in client.get(f"/cases/{case.number}").get_data(as_text=True)
