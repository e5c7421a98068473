"""Every staff list pages (issue #7, bug 1 and missing step 11), stacks into labelled cards on a phone
and labels its filters (issue #7, phone layout and accessibility)."""
import re

import pytest
from sqlalchemy import select

from hotline.cases.models import Case
from hotline.deadlines.models import Notification
from hotline.extensions import db
from hotline.outbox.relay import run_pending
from tests.deadlines.test_due_display import END_OF_NOV_3, set_due

# Not a page number from 1 to paging.MAX_PAGE: a 400, not a silent page 1 (issue #12 item 8).
JUNK_PAGES = ["0", "-3", "abc", "2.5", "1e9", "99999999999999999999999999", "9223372036854775808", "１２",
              "1" * 5000, "100001", "²", "1_000", "+5"]


def rows_of(page: str) -> list[str]:
    body = page[page.index("<tbody>"):page.index("</tbody>")]
    return re.findall(r"<tr.*?</tr>", body, re.S)


def test_the_case_list_renders_its_second_page(client, login, make_case, make_user):
    """A role with more than 50 cases (the admin's landing page): page 2 used to answer 500."""
    first = [make_case(subject=f"第{i}件").case.number for i in range(51)]
    login(client, make_user("admin"))
    page1 = client.get("/cases").get_data(as_text=True)
    assert 'rel="next"' in page1 and "第 1 页，共 2 页" in page1 and len(rows_of(page1)) == 50
    response = client.get("/cases?page=2")
    assert response.status_code == 200
    page2 = response.get_data(as_text=True)
    assert "第 2 页，共 2 页" in page2 and 'rel="prev"' in page2 and 'rel="next"' not in page2
    assert len(rows_of(page2)) == 1 and f"/cases/{first[0]}" in page2  # the oldest, last


def test_the_pager_keeps_the_filters(client, login, make_case, make_user, monkeypatch, app):
    monkeypatch.setitem(app.config, "PER_PAGE", 2)
    for _ in range(3):
        make_case(kind="complaint")
    login(client, make_user("admin"))
    page = client.get("/cases?kind=complaint&q=%E8%B4%A8%E9%87%8F").get_data(as_text=True)
    link = re.search(r'href="([^"]+)" rel="next"', page).group(1).replace("&amp;", "&")
    assert "kind=complaint" in link and "page=2" in link and "q=" in link
    assert len(rows_of(client.get(link).get_data(as_text=True))) == 1


@pytest.fixture
def three_of_everything(make_case, make_user, monkeypatch, app):
    """Three cases in each list, with two rows a page."""
    monkeypatch.setitem(app.config, "PER_PAGE", 2)
    handler = make_user("bureau", bureau="tiexi")
    for _ in range(3):
        make_case()
        make_case(business={"name": "外地店", "address": "沈阳市和平区"})
    run_pending()
    for case in db.session.scalars(select(Case).where(Case.status == "pending")):
        clock = set_due(case, END_OF_NOV_3)
        db.session.add(Notification(kind="reminder", clock_id=clock.id, case_id=case.id, clock=clock.clock,
                                    due_at=clock.due_at, user_id=handler.id))
    db.session.commit()
    return handler, make_user("supervisor")


LISTS = [("/cases", "supervisor"), ("/inbox", "bureau"), ("/triage", "supervisor"), ("/overdue", "supervisor"),
         ("/overdue", "bureau"), ("/notices", "bureau")]


@pytest.mark.parametrize("path,role", LISTS)
def test_every_list_has_a_working_second_page(app, login, three_of_everything, path, role):
    handler, supervisor = three_of_everything
    client = app.test_client()
    login(client, handler if role == "bureau" else supervisor)
    page1 = client.get(path).get_data(as_text=True)
    assert 'rel="next"' in page1, path
    response = client.get(f"{path}?page=2")
    assert response.status_code == 200, path
    page2 = response.get_data(as_text=True)
    assert 'rel="prev"' in page2 and "第 2 页" in page2, path
    numbers1 = set(re.findall(r'href="/cases/(\d{14})"', page1))
    numbers2 = set(re.findall(r'href="/cases/(\d{14})"', page2))
    assert numbers2 and not numbers1 & numbers2, path


@pytest.mark.parametrize("path,role", LISTS)
def test_junk_or_huge_page_numbers_answer_400(app, login, three_of_everything, path, role):
    handler, supervisor = three_of_everything
    client = app.test_client()
    login(client, handler if role == "bureau" else supervisor)
    for junk in JUNK_PAGES:
        response = client.get(path, query_string={"page": junk})
        assert response.status_code == 400, (path, junk[:30])
        assert "无法识别该请求" in response.get_data(as_text=True)  # the app's own error page
    assert client.get(path, query_string={"page": ""}).status_code == 200  # an empty field: the first page
    # A page past the end shows the last page, with its rows, rather than an empty list.
    last = client.get(path, query_string={"page": "100000"}).get_data(as_text=True)
    assert re.search(r'href="/cases/\d{14}"', last) and 'rel="next"' not in last, path


def test_inbox_pages_its_open_cases(client, login, make_case, make_user, monkeypatch, app):
    """It said "542 open" and showed 50 rows with no page links."""
    monkeypatch.setitem(app.config, "PER_PAGE", 2)
    handler = make_user("bureau", bureau="tiexi")
    for _ in range(5):
        make_case()
    run_pending()
    login(client, handler)
    page = client.get("/inbox").get_data(as_text=True)
    assert "5 件未办结" in page
    assert "第 1 页，共 3 页" in page
    assert len(rows_of(client.get("/inbox?page=3").get_data(as_text=True))) == 1


# The tables of this part (triage's is its own page's; notices are a list, not a table).
TABLES = [("/cases", "supervisor"), ("/cases", "bureau"), ("/inbox", "bureau"), ("/overdue", "supervisor")]


@pytest.mark.parametrize("path,role", TABLES)
def test_each_cell_carries_its_column_name_for_the_phone_layout(app, login, three_of_everything, path, role):
    """At 390 px the tables stack into cards; each cell names its column (data-label)."""
    handler, supervisor = three_of_everything
    client = app.test_client()
    login(client, handler if role == "bureau" else supervisor)
    page = client.get(path).get_data(as_text=True)
    headers = re.findall(r"<th>(.*?)</th>", page)
    for row in rows_of(page):
        labels = re.findall(r'<td data-label="([^"]+)"', row)
        assert labels == headers, (path, labels, headers)
        assert len(re.findall(r"<td", row)) == len(labels)


@pytest.mark.parametrize("path,role", [("/cases", "supervisor"), ("/cases", "bureau"), ("/inbox", "bureau")])
def test_every_filter_has_a_label(app, login, make_user, path, role):
    client = app.test_client()
    login(client, make_user(role, bureau="tiexi" if role == "bureau" else None))
    page = client.get(path).get_data(as_text=True)
    form = page[page.index('class="filters"'):]
    form = form[:form.index("</form>")]
    controls = re.findall(r"<(?:input|select)\b[^>]*>", form)
    assert controls
    for control in controls:
        labelled = "aria-label=" in control or re.search(r'<label[^>]*>\s*' + re.escape(control), form)
        assert labelled, control




def test_a_query_string_cannot_break_the_pager(client, login, make_case, make_user, monkeypatch, app):
    """`?endpoint=` and `?_method=` are url_for's own parameters: a pager link drops them (was a 500)."""
    monkeypatch.setitem(app.config, "PER_PAGE", 1)
    for i in range(3):
        make_case(subject=f"案件{i}")
    login(client, make_user("admin"))
    for query in ("endpoint=x", "_method=POST", "values=1&anchor=a", "page=3&endpoint=x"):
        response = client.get(f"/cases?{query}")
        assert response.status_code == 200, query
        assert 'rel="next"' in response.get_data(as_text=True) or 'rel="prev"' in response.get_data(as_text=True)
    for query in ("page=²", "page=99999999999999999999"):
        assert client.get(f"/cases?{query}").status_code == 400, query


def test_the_api_answers_an_empty_page_past_the_end(client, make_case, make_user, token_for):
    """A client paging until `items` is empty must get there: the API does not clamp like the pages."""
    make_case(subject="唯一的案件")
    response = client.get("/api/v1/cases?page=5", headers=token_for(make_user("admin")))
    body = response.get_json()
    assert response.status_code == 200 and body["items"] == [] and body["page"] == 5 and body["total"] == 1
