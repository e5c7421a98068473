"""The supervisors' dashboard (issue #11): who may open it, filters and their errors, the figures and
the cases behind each one, the self-refreshing fragment, the server-drawn chart, CSV and XLSX exports."""
import csv
import io
import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotline.cases.actions import ActionInput, take_action
from hotline.extensions import db
from hotline.outbox.relay import run_pending
from hotline.portal.ratings import rate_case
from hotline.stats import charts, queries
from hotline.stats.refresh import drain

TIEDONG = "辽宁省鞍山市铁东区园林路12号"  # complaint_payload's address routes to 铁西


@pytest.fixture
def world(make_case, make_user):
    """Cases at 铁西 and 铁东 in a few states, counted by the rollups; users of every role."""
    users = {role: make_user(role) for role in ("operator", "supervisor", "admin")}
    users["station"] = make_user("station", station="ST-TD-01")
    users["tiexi"] = make_user("bureau", bureau="tiexi")
    users["tiedong"] = make_user("bureau", bureau="tiedong")
    settled = make_case(consumer={"name": "张三", "phone": "13912345678"}).case
    waiting = make_case(subject="等待受理").case
    other = make_case(business={"name": "铁东商店", "address": TIEDONG}, subject="铁东的案件").case
    returned = make_case(subject="退回的案件").case
    run_pending()
    for case in (settled, waiting, other, returned):
        db.session.refresh(case)

    def act(case, user, action, **data):
        take_action(case, user, ActionInput(action=action, **data))
        db.session.commit()
    act(settled, users["tiexi"], "accept")
    act(settled, users["tiexi"], "settle", recovered_amount="88.50")
    rate_case(settled, 5, None, None)
    db.session.commit()
    act(returned, users["tiexi"], "return_to_centre", reason="不属本辖区")
    act(returned, users["supervisor"], "assign", bureau="tiedong")
    drain()
    return users, {"settled": settled, "waiting": waiting, "other": other, "returned": returned}


def page(client, login, user, url="/stats/", status=200):
    login(client, user)
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    return response.get_data(as_text=True)


def figure_links(html: str) -> list[tuple[str, str]]:
    return [(unescape(href), text) for href, text in re.findall(r'<a href="([^"]+)" class="fig">([\d,]+)</a>', html)]


def test_roles(client, login, world):
    users, _ = world
    assert client.get("/stats/").status_code == 302  # anonymous: to the log-in page
    for role in ("operator", "station"):
        page(client, login, users[role], status=403)
        client.post("/logout")
    for role in ("supervisor", "admin"):
        html = page(client, login, users[role])
        assert "铁东分局" in html and "铁西分局" in html
        client.post("/logout")


def test_the_menu_links_to_the_dashboard(client, login, world):
    users, _ = world
    assert 'href="/stats/"' in page(client, login, users["supervisor"], "/cases")


def test_dashboard_figures_and_links(client, login, world):
    users, cases = world
    html = page(client, login, users["supervisor"])
    assert "¥88.50" in html  # money recovered, yuan from fen
    assert "100.0%" in html  # the mediation success rate: 1 of 1
    assert "<svg" in html and "<title" in html and 'role="img"' in html
    assert not re.search(r'(src|href)="(https?:)?//', html)  # nothing from elsewhere
    links = figure_links(html)
    assert links and all(href.startswith("/stats/cases?") for href, _ in links)
    # every number leads to a list whose count is that number
    seen = set()
    for href, text in links:
        if href in seen:
            continue
        seen.add(href)
        listing = client.get(href)
        assert listing.status_code == 200, href
        count = re.search(r'data-count="(\d+)"', listing.get_data(as_text=True))
        assert count and int(count.group(1)) == int(text.replace(",", "")), href


def test_a_rate_with_nothing_measured_is_a_dash(client, login, world):
    users, _ = world
    html = page(client, login, users["supervisor"], "/stats/?kind=suggestion")
    kpis = html[html.index('class="kpis"'):html.index("</section>", html.index('class="kpis"'))]
    assert "–" in kpis and "0.0%" not in kpis and "0%<" not in kpis


@pytest.mark.parametrize("query, field", [
    ("from=2026-13-01", "from"), ("to=yesterday", "to"), ("from=2026-05-02&to=2026-05-01", "to"),
    ("from=2020-01-01&to=2026-01-01", "to"), ("bureau=nowhere", "bureau"), ("kind=rumour", "kind"),
    ("channel=pigeon", "channel"), ("category=ZZ99", "category"), ("from=99999-01-01", "from"),
    ("from=0001-01-01", "from"), ("to=9999-12-31", "to"), ("from=%E2%80%AE2026-01-01", "from"),
])
def test_bad_filters_are_a_400_page_with_the_message(client, login, world, query, field):
    users, _ = world
    html = page(client, login, users["supervisor"], f"/stats/?{query}", status=400)
    assert f'id="err-{field}"' in html and 'aria-invalid="true"' in html
    assert client.get(f"/stats/?{query}&fragment=1").status_code == 400
    assert client.get(f"/stats/export/bureau.csv?{query}").status_code == 400


def test_a_bureau_sees_its_own_bureau_only(client, login, world):
    users, cases = world
    html = page(client, login, users["tiedong"], "/stats/?bureau=tiexi")
    assert "<select name=\"bureau\" disabled>" in html  # locked, whatever the query asks
    assert "铁西分局" not in html.split('class="kpis"')[1]
    # the drill-down lists only cases now at 铁东: the return by 铁西 is not 铁东's
    listing = client.get("/stats/cases?figure=received&from=2024-01-01&to=" + queries.today().isoformat())
    text = listing.get_data(as_text=True)
    assert cases["other"].number in text and cases["returned"].number in text
    assert cases["settled"].number not in text and cases["waiting"].number not in text


def test_cases_now_elsewhere_are_counted_but_not_listed(client, login, world):
    users, cases = world
    today = queries.today().isoformat()
    text = page(client, login, users["tiexi"], f"/stats/cases?figure=returned&from={today}&to={today}")
    assert 'data-count="1"' in text  # 铁西 returned one case ...
    assert cases["returned"].number not in text  # ... which is now at 铁东


def test_drill_down_masks_personal_data_and_pages(client, login, world):
    users, cases = world
    text = page(client, login, users["supervisor"], "/stats/cases?figure=received")
    assert "139****5678" in text and "13912345678" not in text
    assert cases["settled"].number in text
    assert page(client, login, users["supervisor"], "/stats/cases?figure=everything", status=400)
    assert client.get("/stats/cases?figure=open&status=lost").status_code == 400
    narrowed = client.get("/stats/cases?figure=open&status=accepted").get_data(as_text=True)
    assert 'data-count="0"' in narrowed
    assert client.get("/stats/cases?figure=received&page=99999").status_code == 200
    assert client.get("/stats/cases?figure=received&page=999999").status_code == 400


def test_fragment_is_the_figures_only(client, login, world):
    users, _ = world
    login(client, users["supervisor"])
    response = client.get("/stats/?fragment=1&kind=complaint")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["X-Stats-Fragment"] == "1"
    assert "<html" not in body and 'id="stats-updated"' in body and "kind=complaint" in body
    full = client.get("/stats/").get_data(as_text=True)
    assert 'data-refresh="/stats/?fragment=1"' in full  # today stays today when the page is left open
    assert client.get("/static/stats.js").status_code == 200


def read_csv(response) -> list[list[str]]:
    data = response.get_data()
    assert data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def read_xlsx(response) -> list[list]:
    book = openpyxl.load_workbook(io.BytesIO(response.get_data()), read_only=True)
    return [["" if v is None else str(v) for v in row] for row in book.active.iter_rows(values_only=True)]


def same(rows_csv, rows_xlsx) -> bool:
    def norm(v):
        try:
            return float(v)
        except ValueError:
            return v
    return [[norm(v) for v in row] for row in rows_csv] == [[norm(v) for v in row] for row in rows_xlsx]


@pytest.mark.parametrize("table", ["bureau", "kind", "channel", "category", "status", "businesses", "trend"])
def test_tables_export_as_csv_and_xlsx(client, login, world, table):
    users, _ = world
    login(client, users["supervisor"])
    as_csv = client.get(f"/stats/export/{table}.csv?from=2026-01-01&to={queries.today().isoformat()}")
    assert as_csv.status_code == 200 and "attachment" in as_csv.headers["Content-Disposition"]
    rows = read_csv(as_csv)
    assert len(rows) >= 2 and all(len(row) == len(rows[0]) for row in rows)
    as_xlsx = client.get(f"/stats/export/{table}.xlsx?from=2026-01-01&to={queries.today().isoformat()}")
    assert as_xlsx.status_code == 200
    assert same(rows, read_xlsx(as_xlsx))


def test_the_bureau_table_export_has_the_figures(client, login, world):
    users, _ = world
    login(client, users["supervisor"])
    rows = read_csv(client.get("/stats/export/bureau.csv"))
    tiexi = next(row for row in rows if row[0] == "铁西分局")
    header = rows[0]
    assert tiexi[header.index("挽回经济损失（元）")] == "88.50"
    assert tiexi[header.index("退回指挥中心")] == "1"


def test_the_drill_down_exports_stream_its_cases(client, login, world):
    users, cases = world
    login(client, users["tiedong"])
    rows = read_csv(client.get("/stats/export/cases.csv?figure=received&from=2024-01-01"))
    numbers = {row[0] for row in rows[1:]}
    assert numbers == {cases["other"].number, cases["returned"].number}  # 铁东's cases only
    assert same(rows, read_xlsx(client.get("/stats/export/cases.xlsx?figure=received&from=2024-01-01")))
    client.post("/logout")
    login(client, users["supervisor"])
    rows = read_csv(client.get("/stats/export/cases.csv?figure=received"))
    assert any("139****5678" in row for row in rows) and not any("13912345678" in row for row in rows)
    assert client.get("/stats/export/cases.csv?figure=nothing").status_code == 400
    assert client.get("/stats/export/everything.csv").status_code == 404
    assert client.get("/stats/export/bureau.pdf").status_code == 404


def test_exports_use_the_rows_on_the_page_for_bureau_staff(client, login, world):
    users, _ = world
    login(client, users["tiexi"])
    rows = read_csv(client.get("/stats/export/bureau.csv"))
    assert [row[0] for row in rows[1:]] == ["铁西分局"]


def test_chart_labels_stay_inside_and_apart():
    days = [(date(2026, 1, 1) + timedelta(days=i), {"received": i % 9, "closed": (i * 7) % 5}) for i in range(92)]
    months = [(date(2024 + i // 12, i % 12 + 1, 1), {"received": 830_000 + i, "closed": 900}) for i in range(36)]
    from flask import current_app
    with current_app.test_request_context():
        for unit, points in (("day", days), ("month", months), ("day", days[:1])):
            for size in (charts.WIDE, charts.NARROW):
                svg = ET.fromstring(str(charts.trend_chart(unit, points, size=size)))
                ns = "{http://www.w3.org/2000/svg}"
                assert svg.find(f"{ns}title").text
                width, height = size
                texts = svg.findall(f"{ns}text")
                assert all(0 <= float(t.get("x")) <= width and 0 < float(t.get("y")) <= height for t in texts)
                axis = sorted(float(t.get("x")) for t in texts if t.get("class") == "axis" and "-" in t.text)
                assert all(b - a >= (38 if unit == "day" else 52) for a, b in zip(axis, axis[1:], strict=False))
                figures = [t for t in texts if t.get("text-anchor") == "end"]  # the y axis, right-aligned
                assert figures and all(float(t.get("x")) - 7 * len(t.text) >= 0 for t in figures)
                bars = svg.findall(f"{ns}rect[{ns}title]")
                assert len(bars) == 2 * len(points)


def test_empty_range_chart_says_so():
    from flask import current_app
    with current_app.test_request_context():
        svg = str(charts.trend_chart("day", [(date(2026, 1, 1), {"received": 0, "closed": 0})]))
    assert "此期间没有案件" in svg or "No cases in this range" in svg


def test_filters_in_links_are_kept(client, login, world):
    users, _ = world
    html = page(client, login, users["supervisor"], "/stats/?kind=complaint&channel=phone")
    for href, _text in figure_links(html):
        query = parse_qs(urlsplit(href).query)
        assert query["kind"] == ["complaint"], href
        if "business" not in query:  # top businesses count by bureau and kind only
            assert query["channel"] == ["phone"], href


@pytest.fixture
def logged_in(client, login, make_user):
    login(client, make_user("supervisor"))
    return client


# Hypothesis reuses the function's fixtures across its examples: one log-in for all of them.
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params=st.dictionaries(st.sampled_from(["from", "to", "bureau", "kind", "channel", "category", "figure",
                                               "status", "business", "page", "fragment"]),
                              st.text(max_size=60), max_size=5))
def test_no_query_makes_a_server_error(logged_in, params):
    for path in ("/stats/", "/stats/cases", "/stats/export/kind.csv", "/stats/export/cases.csv"):
        response = logged_in.get(path, query_string=params)
        assert response.status_code in (200, 400), (path, params)
