"""The consumer looks a case up with its number and query code (DESIGN.md §3 `POST /public/lookup`):
the public view only, the same 404 for a wrong number and a wrong code, and a rate limit."""
import re

from hotline.cases.numbers import format_case_number, group_case_number
from hotline.extensions import db


def lookup(client, number, code):
    return client.post("/api/v1/public/lookup", json={"number": number, "code": code})


def test_the_consumer_sees_status_bureau_public_events_and_deadlines(client, filed):
    case, code = filed()
    response = lookup(client, case.number, code)
    assert response.status_code == 200
    body = response.get_json()
    assert body["number"] == case.number and body["kind"] == "complaint" and body["status"] == "pending"
    assert body["bureau"] == {"name": "鞍山市市场监督管理局铁西分局"}
    assert [e["action"] for e in body["events"]] == ["register", "route"]
    assert all(set(e) == {"action", "at"} for e in body["events"])  # never who, never a note
    assert [d["clock"] for d in body["deadlines"]] == ["complaint_decision"]
    assert body["messages"][0]["to"] == "139****1111"


def test_the_number_may_be_typed_with_spaces_and_the_code_in_lower_case(client, filed):
    case, code = filed()
    assert lookup(client, group_case_number(case.number), code.lower()).status_code == 200


def test_no_personal_data_in_the_body(client, filed):
    case, code = filed(consumer={"name": "王小明", "phone": "13912345678", "id_number": "210302199001011238",
                                 "address": "铁东区胜利路1号"})
    text = lookup(client, case.number, code).get_data(as_text=True)
    for secret in ("王小明", "13912345678", "210302199001011238", "胜利路", "测试商店", "商品有质量问题"):
        assert secret not in text


def test_internal_steps_stay_internal(client, filed, act, make_user, login):
    case, code = filed()
    act(case, "return_to_centre", reason="不属本分局管辖", note="内部备注：地址有误")
    body = lookup(client, case.number, code).get_json()
    assert "return_to_centre" not in [e["action"] for e in body["events"]]
    assert "内部备注" not in str(body) and "不属本分局管辖" not in str(body)


def test_a_wrong_code_and_an_unknown_number_give_the_same_404(client, filed):
    case, code = filed()
    unknown = format_case_number(case.registered_at.date(), 99_999)
    wrong_code = lookup(client, case.number, "ZZZZZZ" if code != "ZZZZZZ" else "YYYYYY")
    no_case = lookup(client, unknown, code)
    assert wrong_code.status_code == no_case.status_code == 404
    assert wrong_code.get_json() == no_case.get_json()


def test_a_mistyped_number_is_caught_by_its_check_digit(client, filed):
    case, code = filed()
    typo = case.number[:-1] + str((int(case.number[-1]) + 1) % 10)
    response = lookup(client, typo, code)
    assert response.status_code == 422 and "number" in response.get_json()["error"]["fields"]


def test_bad_bodies_get_clear_errors(client):
    assert client.post("/api/v1/public/lookup", data="{", content_type="application/json").status_code == 400
    assert client.post("/api/v1/public/lookup", json=["x"]).status_code == 400
    response = client.post("/api/v1/public/lookup", json={"number": 5, "code": None})
    assert response.status_code == 422 and set(response.get_json()["error"]["fields"]) == {"number"}


def test_repeated_wrong_look_ups_of_one_number_get_429(client, filed):
    case, code = filed()
    for _ in range(10):
        assert lookup(client, case.number, "WRONG2").status_code == 404
    response = lookup(client, case.number, code)  # even the right code now waits
    assert response.status_code == 429 and response.get_json()["error"]["code"] == "too_many_requests"


def test_right_look_ups_do_not_use_up_the_numbers_allowance(client, filed):
    case, code = filed()
    for _ in range(12):
        assert lookup(client, case.number, code).status_code == 200


def test_one_client_trying_many_numbers_gets_429(client, filed):
    case, _ = filed()
    day = case.registered_at.date()
    statuses = [lookup(client, format_case_number(day, n), "ABCDEF").status_code for n in range(100, 122)]
    assert statuses[:20] == [404] * 20 and statuses[-1] == 429


def test_the_page_shows_plain_words_deadline_meaning_and_keeps_the_code_out_of_urls(client, filed):
    case, code = filed()
    page = client.get("/track").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/track", data={"number": group_case_number(case.number), "code": code,
                                           "csrf_token": token})
    assert response.status_code == 302 and code not in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已转至承办分局，等待受理决定" in page and "铁西分局" in page
    assert re.search(r"分局应在 \d{1,2}月\d{1,2}日 前决定是否受理", page)
    assert code not in page and "13900001111" not in page


def test_the_page_answers_a_wrong_code_with_one_message_and_then_its_own_429_page(client, filed):
    case, _ = filed()
    page = client.get("/track").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    for _ in range(10):
        response = client.post("/track", data={"number": case.number, "code": "WRONG2", "csrf_token": token})
        assert response.status_code == 404 and "编号或查询码不正确" in response.get_data(as_text=True)
    response = client.post("/track", data={"number": case.number, "code": "WRONG2", "csrf_token": token})
    assert response.status_code == 429 and "尝试次数过多" in response.get_data(as_text=True)
    assert "查询进度" in response.get_data(as_text=True)  # the public layout, not the staff one


def test_a_declined_complaint_shows_the_reason_and_the_other_routes(client, filed, act):
    case, code = filed()
    act(case, "decline", reason="D03")
    body = lookup(client, case.number, code).get_json()
    assert body["status"] == "closed" and body["outcome"] == "declined"
    assert "第16条" in body["reason"]["basis"] and "向人民法院提起诉讼" in body["reason"]["routes"]
    page = client.get("/track")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    client.post("/track", data={"number": case.number, "code": code, "csrf_token": token})
    page = client.get("/track/case").get_data(as_text=True)
    assert "不予受理" in page and "与经营者协商和解" in page and "第39条" in page


def test_the_status_page_without_a_look_up_goes_to_the_form(client):
    response = client.get("/track/case")
    assert response.status_code == 302 and response.headers["Location"].endswith("/track")
    db.session.rollback()
