"""GET requests and requests/{id}: cases as Open311 requests, without personal data; reports only to staff
who may see them (Order 121 art. 37)."""
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from hotline.cases.models import Case
from hotline.extensions import db
from hotline.open311.queries import public_text
from hotline.outbox.relay import run_pending
from tests.open311.conftest import BASE, errors, parse

PERSONAL = ("张三", "13900001111", "110101199003074477", "鞍山市铁东区二道街5号", "第二天屏幕就坏了")


def listed(client, query: str = "", fmt: str = "json", headers=None) -> list[dict]:
    response = client.get(f"{BASE}/requests.{fmt}{query}", headers=headers or {})
    assert response.status_code == 200, response.get_data(as_text=True)
    data = parse(response, fmt)
    if fmt == "json":
        return data
    assert data.tag == "service_requests" and {e.tag for e in data} <= {"request"}
    return [{child.tag: child.text for child in request} for request in data]


def numbers(items: list[dict]) -> list[str]:
    return [item["service_request_id"] for item in items]


@pytest.fixture
def complaint(make_case):
    registered = make_case(
        subject="张三的手机屏幕坏了，电话13900001111", description="买的手机第二天屏幕就坏了。",
        consumer={"name": "张三", "phone": "13900001111", "id_number": "110101199003074477",
                  "address": "鞍山市铁东区二道街5号"},
        category={"goods": "G0101", "issue": "I0101"})
    run_pending()  # routed to the 铁西 bureau by the business's address
    db.session.refresh(registered.case)
    return registered.case


@pytest.fixture
def report(make_case):
    registered = make_case(kind="report", subject="无证经营", consumer={"name": "李四", "phone": "13900003333"},
                           demand=None, amount=None)
    run_pending()
    db.session.refresh(registered.case)
    return registered.case


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_a_request_maps_the_case_without_personal_data(client, complaint, fmt):
    response = client.get(f"{BASE}/requests.{fmt}")
    assert not any(text in response.get_data(as_text=True) for text in PERSONAL)
    [item] = listed(client, fmt=fmt)
    assert list(item) == ["service_request_id", "status", "status_notes", "service_name", "service_code",
                          "description", "agency_responsible", "service_notice", "requested_datetime",
                          "updated_datetime", "expected_datetime", "address"]
    assert item["service_request_id"] == complaint.number
    assert (item["status"], item["status_notes"]) == ("open", "待受理")
    assert (item["service_code"], item["service_name"]) == ("complaint-G01", "投诉 · 家用电子电器")
    assert item["description"] == "****的手机屏幕坏了，电话****"
    assert item["agency_responsible"] == "鞍山市市场监督管理局铁西分局"
    assert item["address"] == "辽宁省鞍山市铁西区兴盛街道人民路88号"  # the business's address
    assert item["requested_datetime"].endswith("+08:00")
    received = datetime.fromisoformat(item["requested_datetime"])
    assert received == complaint.received_at.replace(microsecond=0)
    # the decision clock's last day, 24:00 local shown as 23:59:59 of that day
    assert item["expected_datetime"].endswith("T23:59:59+08:00")
    assert datetime.fromisoformat(item["updated_datetime"]) >= received


def test_the_same_request_by_its_id_in_both_formats(client, complaint):
    [as_json] = parse(client.get(f"{BASE}/requests/{complaint.number}.json"), "json")
    xml = parse(client.get(f"{BASE}/requests/{complaint.number}.xml"), "xml")
    assert xml.tag == "service_requests" and len(xml) == 1
    assert {c.tag: c.text or None for c in xml[0]} == {k: (None if v is None else str(v)) for k, v in as_json.items()}
    assert as_json == listed(client)[0]


def test_unknown_requests_are_404(client):
    for number in ("20261125000427", "nonsense", "1" * 40):
        assert errors(client.get(f"{BASE}/requests/{number}.json"), "json", 404) == ["service_request_id: 没有此诉求"]


def test_an_unknown_path_under_open311_answers_in_the_error_format(client):
    """No Open311 route matches, so the blueprint's handlers never run: the app answers in the spec's format."""
    assert errors(client.get(f"{BASE}/nothing.json"), "json", 404)
    assert errors(client.get(f"{BASE}/services/x/y.xml"), "xml", 404)
    assert errors(client.get("/open311/v3/discovery"), "xml", 404)
    assert errors(client.delete(f"{BASE}/requests.json"), "json", 405)
    assert "<html" in client.get("/no-such-page").get_data(as_text=True)  # elsewhere the app's own page


def test_a_closed_case_shows_how_it_ended(client, complaint):
    closed_at = datetime.now(UTC).replace(microsecond=0)
    complaint.status, complaint.outcome, complaint.closed_at = "closed", "mediated", closed_at
    db.session.commit()
    [item] = listed(client)
    assert (item["status"], item["status_notes"]) == ("closed", "已办结（调解成功）")
    assert item["expected_datetime"] is None
    assert datetime.fromisoformat(item["updated_datetime"]) == closed_at


def test_a_case_not_yet_routed_is_the_centres(client, make_case):
    make_case(business={"name": "外地商店", "address": "北京市朝阳区某路1号"})
    [item] = listed(client)
    assert (item["status_notes"], item["agency_responsible"]) == ("已登记", "鞍山市12315指挥中心")
    run_pending()  # outside the city: triage at the centre
    [item] = listed(client)
    assert (item["status_notes"], item["agency_responsible"]) == ("待分派", "鞍山市12315指挥中心")


def test_reports_are_listed_only_to_staff_who_may_see_them(client, complaint, report, api_key_for):
    assert report.bureau.code == "tiexi"
    assert numbers(listed(client)) == [complaint.number]
    errors(client.get(f"{BASE}/requests/{report.number}.json"), "json", 404)
    bureau_b = api_key_for("bureau", bureau="tiedong")
    assert numbers(listed(client, f"?api_key={bureau_b}")) == [complaint.number]
    errors(client.get(f"{BASE}/requests/{report.number}.json?api_key={bureau_b}"), "json", 404)
    for key in (api_key_for("bureau", bureau="tiexi"), api_key_for("supervisor")):
        assert set(numbers(listed(client, f"?api_key={key}"))) == {complaint.number, report.number}
        [item] = parse(client.get(f"{BASE}/requests/{report.number}.json",
                                  headers={"Authorization": f"Bearer {key}"}), "json")
        assert item["service_code"] == "report"
    errors(client.get(f"{BASE}/requests.json?api_key=hl_wrong"), "json", 403)


def test_staff_who_may_see_the_case_read_its_own_description(client, complaint, api_key_for):
    [public] = listed(client)
    [own] = listed(client, f"?api_key={api_key_for('bureau', bureau='tiexi')}")
    [other] = listed(client, f"?api_key={api_key_for('bureau', bureau='tiedong')}")
    assert own["description"] == "买的手机第二天屏幕就坏了。"
    assert public["description"] == other["description"] == "****的手机屏幕坏了，电话****"


def test_filters(client, make_case, complaint):
    other = make_case(kind="consultation", subject="如何退卡", category={"service": "S1301"}, demand=None,
                      amount=None).case
    assert numbers(listed(client)) == [other.number, complaint.number]  # newest first
    assert numbers(listed(client, f"?service_request_id={complaint.number},{other.number},junk")) == [
        other.number, complaint.number]
    assert numbers(listed(client, "?service_code=consultation-S13")) == [other.number]
    assert numbers(listed(client, "?service_code=complaint-G01,consultation")) == [complaint.number]
    assert numbers(listed(client, "?status=open,closed&jurisdiction_id=anshan")) == [other.number, complaint.number]
    other.status, other.outcome, other.closed_at = "closed", "answered", datetime.now(UTC)
    db.session.commit()
    assert numbers(listed(client, "?status=closed")) == [other.number]
    assert numbers(listed(client, "?status=open")) == [complaint.number]
    assert numbers(listed(client, "?page_size=1")) == [other.number]
    assert numbers(listed(client, "?page_size=1&page=2")) == [complaint.number]
    assert listed(client, "?page=3&page_size=1") == []
    assert numbers(listed(client, "?status=&service_code=&page=")) == [other.number, complaint.number]  # empty: absent


def test_the_date_range(client, complaint):
    day = complaint.received_at.astimezone(ZoneInfo("Asia/Shanghai")).date()
    assert numbers(listed(client, f"?start_date={day - timedelta(days=1)}")) == [complaint.number]
    assert listed(client, f"?end_date={day - timedelta(days=1)}T00:00:00Z") == []
    start = (complaint.received_at - timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (complaint.received_at + timedelta(minutes=1)).isoformat()
    assert numbers(listed(client, f"?start_date={start}&end_date={end.replace('+', '%2B')}")) == [complaint.number]
    complaint.received_at = complaint.received_at - timedelta(days=91)  # older than the default 90 days
    db.session.commit()
    assert listed(client) == []


@pytest.mark.parametrize("query, named", [
    ("?start_date=2026-01-01&end_date=2026-06-01", "end_date"),  # more than 90 days
    ("?start_date=2026-06-01&end_date=2026-01-01", "end_date"),
    ("?start_date=yesterday", "start_date"),
    ("?end_date=9999-12-31T23:59:59-12:00", "end_date"),
    ("?start_date=0001-01-01", "start_date"),
    ("?status=pending", "status"),
    ("?service_code=grievance", "service_code"),
    ("?page=0", "page"),
    ("?page_size=501", "page_size"),
    ("?page=1e3", "page"),
    ("?page=202&page_size=500", "page"),  # deeper than 100,000 requests
    ("?service_request_id=" + ",".join(["1"] * 101), "service_request_id"),
])
def test_bad_arguments_are_400_naming_them(client, query, named):
    for fmt in ("xml", "json"):
        [description] = errors(client.get(f"{BASE}/requests.{fmt}{query}"), fmt, 400)
        assert description.startswith(named), description


def test_reads_are_rate_limited_per_client(app, client):
    app.config["OPEN311_RATE_LIMIT"] = "2 per minute"
    try:
        assert client.get(f"{BASE}/services.json").status_code == 200
        assert client.get(f"{BASE}/requests.json").status_code == 200
        errors(client.get(f"{BASE}/discovery.xml"), "xml", 429)  # one budget for every read
    finally:
        app.config.pop("OPEN311_RATE_LIMIT")


def test_text_that_xml_cannot_carry_is_replaced(client, make_case):
    make_case(subject="质量\x01问题\x1b")
    xml = parse(client.get(f"{BASE}/requests.xml"), "xml")  # parses: no raw control character
    assert xml.find("request/description").text == "质量\ufffd问题\ufffd"


def test_public_text_masks_people_and_numbers():
    assert public_text("张三说 138 0000 1111 与 zhang@example.com", ["张三", None, "张"]) == "****说 **** 与 ****"
    assert public_text("退款１３９００００１１１１元", []) == "退款****元"  # full-width digits too
    assert public_text("花了1999元", []) == "花了1999元"  # an amount is not a phone
    assert public_text(None, ["张三"]) is None


def test_the_listing_costs_a_fixed_number_of_statements(app, client, make_case):
    from sqlalchemy import event
    for _ in range(5):
        make_case()
    statements = []

    def count(*_args):
        statements.append(1)
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert len(listed(client)) == 5
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) <= 3  # categories, the page (with update times and deadlines), complainants


def test_every_case_number_in_the_listing_is_real(client, complaint):
    assert db.session.scalar(select(Case.id).where(Case.number == listed(client)[0]["service_request_id"]))
