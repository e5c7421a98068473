"""Search finds what staff type (issue #7, missing step 12): part of the caller's name, the last 4
digits of a phone, part of a business name, a case number with or without spaces or in full-width
digits. The same filter serves /cases and GET /api/v1/cases."""
import pytest

from hotline.cases.numbers import group_case_number


@pytest.fixture
def cases(make_case):
    zhang = make_case(consumer={"name": "张三丰", "phone": "13900001111"},
                      business={"name": "鞍山市铁西区好又多超市",
                                "address": "辽宁省鞍山市铁西区兴盛街道人民路88号"}).case
    li = make_case(consumer={"name": "李四", "phone": "13800002222"},
                   business={"name": "千山区百货商店", "address": "辽宁省鞍山市铁东区园林大道1号"}).case
    return zhang, li


def found(client, headers, q) -> set[str]:
    body = client.get("/api/v1/cases", query_string={"q": q}, headers=headers).get_json()
    return {item["number"] for item in body["items"]}


@pytest.fixture
def operator(make_user, token_for):
    return token_for(make_user("operator"))


def test_part_of_the_callers_name(client, operator, cases):
    zhang, li = cases
    assert found(client, operator, "三丰") == {zhang.number}
    assert found(client, operator, "李") == {li.number}


def test_last_four_digits_of_a_phone(client, operator, cases):
    zhang, li = cases
    assert found(client, operator, "1111") == {zhang.number}
    assert found(client, operator, "２２２２") == {li.number}  # typed with a CJK input method
    assert found(client, operator, "13900001111") == {zhang.number}
    assert found(client, operator, "139 0000 1111") == {zhang.number}
    assert found(client, operator, "0000") == set()  # the middle of a number is not its tail


def test_part_of_a_business_name(client, operator, cases):
    zhang, li = cases
    assert found(client, operator, "好又多") == {zhang.number}
    assert found(client, operator, "百货") == {li.number}


@pytest.mark.parametrize("typed", ["{n}", "{grouped}", "{fullwidth}", "{dashed}", " {grouped} "])
def test_a_case_number_with_or_without_spaces(client, operator, cases, typed):
    zhang, _ = cases
    n = zhang.number
    fullwidth = group_case_number(n).translate(str.maketrans("0123456789 ", "０１２３４５６７８９\u3000"))
    q = typed.format(n=n, grouped=group_case_number(n), fullwidth=fullwidth,
                     dashed=group_case_number(n).replace(" ", "-"))
    assert found(client, operator, q) == {zhang.number}


def test_the_leading_digits_of_a_number_find_that_days_cases(client, operator, cases):
    zhang, li = cases
    day = group_case_number(zhang.number)[:9]  # "2026 1125"
    assert found(client, operator, day) >= {zhang.number, li.number}


def test_the_case_list_page_searches_the_same_way(client, login, make_user, cases):
    zhang, li = cases
    login(client, make_user("supervisor"))
    for q in ("三丰", "1111", "好又多", group_case_number(zhang.number)):
        page = client.get("/cases", query_string={"q": q}).get_data(as_text=True)
        assert f"/cases/{zhang.number}" in page and f"/cases/{li.number}" not in page, q
        assert f'value="{q}"' in page  # what was typed stays in the box


def test_a_reporters_name_is_not_searchable_by_those_who_may_not_see_it(client, make_case, make_user, token_for):
    """A named reporter's identity is for the handling bureau and the centre (DESIGN.md §2)."""
    report = make_case(kind="report", consumer={"name": "王举报", "phone": "13700003333"}).case
    assert found(client, token_for(make_user("operator")), "举报") == set()
    assert found(client, token_for(make_user("supervisor")), "王举报") == {report.number}


def test_wildcards_are_typed_text_not_patterns(client, operator, cases):
    assert found(client, operator, "%") == set()
    assert found(client, operator, "_") == set()
