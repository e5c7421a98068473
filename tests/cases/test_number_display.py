"""How numbers and codes read (issue #7, polish 16 and 17): a case number is grouped 4-4-4-2 wherever
a person reads it, and accepted grouped or plain; URLs and the API keep the digits. The case page
names categories and routing rules instead of showing their codes."""
import re

import pytest

from hotline.cases.models import Case
from hotline.cases.numbers import group_case_number, normalise_case_number
from hotline.deadlines.models import Notification
from hotline.extensions import db
from hotline.outbox.relay import run_pending
from tests.deadlines.test_due_display import set_due


def test_grouping_for_reading_aloud():
    assert group_case_number("20261125000427") == "2026 1125 0004 27"
    assert group_case_number("12345") == "12345"  # not a case number: left as it is
    assert group_case_number(None) == ""


@pytest.mark.parametrize("typed", ["2026 1125 0004 27", "20261125000427", "２０２６　１１２５　０００４　２７",
                                   "2026-1125-0004-27", " 2026 1125 0004 27 "])
def test_a_number_typed_any_way_normalises_to_its_digits(typed):
    assert normalise_case_number(typed) == "20261125000427"


@pytest.fixture
def routed(make_case, make_user):
    handler = make_user("bureau", bureau="tiexi")
    case = make_case(category={"goods": "G0203", "issue": "I0103"}).case
    run_pending()
    db.session.expire_all()
    return db.session.get(Case, case.id), handler


def test_lists_show_the_number_grouped_and_link_the_digits(client, login, routed, make_user):
    case, handler = routed
    grouped = group_case_number(case.number)
    login(client, handler)
    for path in ("/cases", "/inbox"):
        page = client.get(path).get_data(as_text=True)
        assert f'href="/cases/{case.number}" class="number">{grouped}</a>' in page, path


def test_notices_and_overdue_show_the_number_grouped(client, login, routed):
    from tests.deadlines.test_due_display import END_OF_NOV_3
    case, handler = routed
    clock = set_due(case, END_OF_NOV_3)
    db.session.add(Notification(kind="escalation", clock_id=clock.id, case_id=case.id, clock=clock.clock,
                                due_at=clock.due_at, user_id=handler.id))
    db.session.commit()
    login(client, handler)
    for path in ("/notices", "/overdue"):
        assert group_case_number(case.number) in client.get(path).get_data(as_text=True), path


def test_case_page_header_is_grouped_and_the_grouped_address_redirects(client, login, routed):
    case, handler = routed
    grouped = group_case_number(case.number)
    login(client, handler)
    page = client.get(f"/cases/{case.number}").get_data(as_text=True)
    assert f'<span class="number">{grouped}</span>' in page and f"<title>{grouped}" in page
    for typed in (grouped, grouped.replace(" ", "-"), "".join(chr(ord(c) + 0xFEE0) for c in case.number)):
        response = client.get(f"/cases/{typed}")
        assert response.status_code == 302 and response.headers["Location"].endswith(f"/cases/{case.number}")


def test_the_api_keeps_the_plain_digits(client, token_for, routed):
    case, handler = routed
    headers = token_for(handler)
    body = client.get(f"/api/v1/cases/{group_case_number(case.number)}", headers=headers).get_json()
    assert body["number"] == case.number
    listed = client.get("/api/v1/cases", headers=headers).get_json()["items"]
    assert [item["number"] for item in listed] == [case.number]


def test_case_page_names_the_categories(client, login, routed):
    case, handler = routed
    login(client, handler)
    page = client.get(f"/cases/{case.number}").get_data(as_text=True)
    assert "乳制品 / 过期变质" in page
    assert "G0203" not in page and "I0103" not in page


def test_routing_reads_as_words_with_the_code_in_a_tooltip_for_the_centre(app, login, routed, make_user):
    case, handler = routed
    assert case.routing_rule == "#1010 division=210303"
    client = app.test_client()
    login(client, handler)
    page = client.get(f"/cases/{case.number}").get_data(as_text=True)
    page = page[:page.index("<aside")]  # the fields; the timeline is another part's
    assert "规则 #1010：铁西区 → 铁西分局" in page
    assert "division=" not in page and "210303" not in page  # the bureau reads words only
    client = app.test_client()
    login(client, make_user("supervisor"))
    page = client.get(f"/cases/{case.number}").get_data(as_text=True)
    line = re.search(r'<span title="([^"]*)">([^<]*)</span>', page[page.index('class="routing"'):])
    assert "#1010 division=210303" in line.group(1) and line.group(2) == "规则 #1010：铁西区 → 铁西分局"


def test_triage_reason_reads_as_words(client, login, make_case, make_user):
    case = make_case(business={"name": "外地店", "address": "沈阳市和平区"}).case
    run_pending()
    login(client, make_user("supervisor"))
    page = client.get(f"/cases/{case.number}").get_data(as_text=True)
    assert "转指挥中心分派：经营者不在本市" in page and "待指挥中心分派" in page


def test_a_consultation_answered_on_the_spot_needs_no_bureau(client, login, make_user, token_for):
    operator = make_user("operator")
    body = {"kind": "consultation", "channel": "phone", "consumer": {"phone": "13900002222"},
            "subject": "七日无理由退货", "answer": "网购商品自收到之日起七日内可无理由退货。"}
    number = client.post("/api/v1/cases", json=body, headers=token_for(operator)).get_json()["number"]
    login(client, operator)
    page = client.get(f"/cases/{number}").get_data(as_text=True)
    assert "无需分派（已当场答复）" in page and "尚未分派" not in page
