"""身份核验 (Order 121 art. 10, 16(6)) and the art. 17 factors as flags (issue #8): the handler records the
identity check, a refusal points the decline form at the art. 16(6) ground, and flags with the cases behind
them help a person judge, never declining anything by themselves."""
import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from hotline.cases import flags, identity
from hotline.cases.models import Case
from hotline.extensions import db
from hotline.outbox.relay import run_pending
from hotline.reference.models import StatutoryGround

USCC = "91210300MA0QC1234L"
BUSINESS = {"name": "测试商店", "address": "辽宁省鞍山市铁西区兴盛街道人民路88号", "uscc": USCC}


@pytest.fixture
def handler(make_user, token_for):
    user = make_user("bureau", bureau="tiexi", username="handler")
    return user, token_for(user)


@pytest.fixture
def routed(make_case):
    def make(**over):
        case = make_case(**over).case
        run_pending()
        db.session.expire_all()
        return db.session.get(Case, case.id)
    return make


def act(client, case, headers, **body):
    return client.post(f"/api/v1/cases/{case.number}/actions", json=body, headers=headers)


def detail(client, case, headers):
    return client.get(f"/api/v1/cases/{case.number}", headers=headers).get_json()


# --- the identity check -------------------------------------------------------------------------------------

def test_identity_check_is_recorded_with_one_of_three_results(client, routed, handler):
    _user, headers = handler
    case = routed()
    response = act(client, case, headers, action="check_identity", reason="maybe")
    assert response.status_code == 422 and "reason" in response.get_json()["error"]["fields"]
    assert act(client, case, headers, action="check_identity").status_code == 422
    body = act(client, case, headers, action="check_identity", reason="done", note="已核对身份证").get_json()
    assert (body["status"], body["identity_check"]) == ("pending", "done")  # nothing else changes
    assert (body["events"][-1]["action"], body["events"][-1]["reason"]) == ("check_identity", "done")
    assert act(client, case, headers, action="accept").status_code == 200
    body = act(client, case, headers, action="check_identity", reason="not_needed").get_json()
    assert (body["status"], body["identity_check"]) == ("accepted", "not_needed")  # offered while accepted too
    assert act(client, case, headers, action="suspend", reason="testing").status_code == 200
    assert act(client, case, headers, action="check_identity", reason="done").status_code == 409


def test_a_refusal_selects_the_art_16_6_ground_in_the_decline_form(client, routed, handler, login):
    user, headers = handler
    case = routed()
    csrf = login(client, user)
    page = client.get(f"/cases/{case.number}").get_data(as_text=True)
    assert 'class="action-check_identity"' in page and "identity-ground" not in page
    assert not re.search(r'<option value="D08"[^>]* selected>', page)
    response = client.post(f"/cases/{case.number}/actions", data={
        "csrf_token": csrf, "version": case.version, "action": "check_identity", "reason": "refused"})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已登记身份核验：投诉人拒不配合。可能适用第十六条第（六）项" in page  # the flash
    decline = page[page.index('class="action-decline"'):]
    decline = decline[:decline.index("</details>")]
    assert re.search(r'<option value="D08"[^>]* selected>', decline)
    assert "已预选不予受理理由 D08（第十六条第（六）项）" in decline
    assert "拒不配合身份核验" in page[:page.index("<aside>")]  # the case's fields say so
    # the handler decides: declining on that ground is an ordinary decline
    db.session.expire_all()
    body = act(client, db.session.get(Case, case.id), headers, action="decline", reason="D08").get_json()
    assert (body["status"], body["outcome"]) == ("closed", "declined")


def test_a_refusal_after_acceptance_selects_the_art_23_6_termination_ground(client, routed, handler, login):
    user, headers = handler
    case = routed()
    assert act(client, case, headers, action="accept").status_code == 200
    csrf = login(client, user)
    db.session.expire_all()
    response = client.post(f"/cases/{case.number}/actions", data={
        "csrf_token": csrf, "version": db.session.get(Case, case.id).version, "action": "check_identity",
        "reason": "refused"})
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "可能适用第二十三条第一款第（六）项，终止调解表单已预选该理由" in page
    terminate = page[page.index('class="action-terminate"'):]
    terminate = terminate[:terminate.index("</details>")]
    assert re.search(r'<option value="T06"[^>]* selected>', terminate) and "已预选终止调解理由 T06" in terminate


def test_no_identity_ground_is_suggested_without_a_refusal_or_under_order_20():
    order_121 = db.session.scalars(select(StatutoryGround).where(StatutoryGround.purpose == "decline",
                                                                 StatutoryGround.version == "order-121")).all()
    order_20 = db.session.scalars(select(StatutoryGround).where(StatutoryGround.purpose == "decline",
                                                                StatutoryGround.version == "order-20")).all()
    assert identity.suggested_decline_ground("refused", order_121) == "D08"
    assert identity.suggested_decline_ground("done", order_121) is None
    assert identity.suggested_decline_ground("refused", order_20) is None  # Order 20 has no such ground
    assert identity.is_identity_ground("X9", "总局令第121号第16条第(六)项")


# --- art. 17 factors ---------------------------------------------------------------------------------------

def test_bulk_quantities_in_the_text():
    assert flags.bulk_quantities("在该店购买50箱矿泉水") == ["50箱"]
    assert flags.bulk_quantities("买了一百瓶酱油和3箱牛奶") == ["一百瓶"]
    assert flags.bulk_quantities("买了3箱牛奶，二十瓶饮料，用了30个月，5个人") == []
    assert flags.bulk_quantities("购买手机 6 部") == ["6 部"]
    assert flags.chinese_number("一百五十") == 150 and flags.chinese_number("十二") == 12
    assert flags.chinese_number("两万") == 20000 and flags.chinese_number("x") is None


def _row(number, days=0, **over):
    fields = dict(number=number, kind="complaint", received_at=datetime(2026, 11, 1, tzinfo=UTC) + timedelta(days=days),
                  consumer_name="张三", consumer_phone="13900001111", consumer_id_number_tail=None,
                  consumer_address=None, business_name="测试商店", business_uscc=None, category_issue=None,
                  subject="质量问题", description="", demand="")
    fields.update(over)
    return SimpleNamespace(**fields)


def test_compute_flags_counts_within_the_window_and_names_the_cases(app):
    with app.test_request_context(), force_locale("en"):
        case = _row("C", 0, category_issue="I01")
        others = [_row("A", -10), _row("B", -30, business_name="别家", category_issue="I01"),
                  _row("OLD", -200), _row("D", -5, consumer_phone="13700002222", consumer_name="李四"),
                  _row("E", -3, consumer_phone="13900001111", consumer_name="王五", business_name="别家")]
        found = {f.code: f for f in flags.compute_flags(case, others, minimum=3, window_days=90)}
        # 张三 by phone: A (same business), B (same issue); OLD is outside the window; 王五 shares the phone
        assert "repeat_business" not in found  # only 2 complaints against this business (C, A) with 张三
        assert found["shared_phone"].cases == ["E"] and "2 complainants" in found["shared_phone"].message
        assert found["shared_phone"].factor.endswith("第17条第（四）项")
        found = {f.code: f for f in flags.compute_flags(case, others + [_row("F", -1)], minimum=3, window_days=90)}
        assert found["repeat_business"].cases == ["A", "F"]
        assert "3 complaints against this business within 90 days" in found["repeat_business"].message
        assert "repeat_issue" not in found  # C and B only
        found = {f.code: f for f in flags.compute_flags(case, others + [_row("G", -2, business_name="第三家",
                                                                             category_issue="I01")])}
        assert found["repeat_issue"].cases == ["B", "G"]


def test_flags_in_the_api_for_handlers_only_with_the_cases_behind_them(client, routed, handler, make_user,
                                                                       token_for):
    _user, headers = handler
    first = routed(business=BUSINESS)
    second = routed(business=BUSINESS, description="分两次在该店购买50箱白酒")
    assert detail(client, second, headers)["flags"] == [
        {"code": "bulk_quantity", "factor": "总局令第121号第17条第（一）项",
         "message": "购买数量与通常消费习惯明显不符：50箱", "cases": []}]
    # the same person, another phone, the same ID-number tail: found through the business's credit code
    third = routed(business=BUSINESS, consumer={"name": "张三", "phone": "13700002222",
                                                "id_number": "11010519491231002X"})
    for earlier in (first, second):  # 张三 had given the same ID number then
        db.session.get(Case, earlier.id).consumer_id_number_tail = "002X"
    db.session.commit()
    [repeat] = [f for f in detail(client, third, headers)["flags"] if f["code"] == "repeat_business"]
    assert repeat == {"code": "repeat_business", "factor": "总局令第121号第17条第（二）项",
                      "message": "同一投诉人90日内对该经营者投诉 3 件", "cases": [second.number, first.number]}
    assert "flags" not in detail(client, third, token_for(make_user("operator")))  # for those who judge
    assert detail(client, third, token_for(make_user("supervisor")))["flags"]


def test_one_phone_for_several_names_is_flagged_on_the_page(client, routed, handler, login, make_user):
    user, headers = handler
    elsewhere = routed(consumer={"name": "李四", "phone": "13900001111"},
                       business={"name": "别店", "address": "辽宁省鞍山市铁东区胜利南路1号"})  # another bureau
    here = routed(consumer={"name": "王五", "phone": "13900001111"})
    mine = routed()
    [flag] = detail(client, mine, headers)["flags"]
    assert (flag["code"], flag["cases"]) == ("shared_phone", [here.number, elsewhere.number])
    assert flag["message"] == "该手机号码被 3 名不同姓名的投诉人使用"
    login(client, user)
    page = client.get(f"/cases/{mine.number}").get_data(as_text=True)
    panel = page[page.index('class="card flags"'):]
    panel = panel[:panel.index("</section>")]
    assert "该手机号码被 3 名不同姓名的投诉人使用" in panel and "不得仅凭提示不予受理" in panel
    assert f'href="/cases/{here.number}"' in panel  # a case of this bureau: a link
    assert elsewhere.bureau_id != mine.bureau_id and f'href="/cases/{elsewhere.number}"' not in panel  # a number only
    assert 'class="action-decline"' in page and 'class="action-accept"' in page  # nothing decided for the handler
