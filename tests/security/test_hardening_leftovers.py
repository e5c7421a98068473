"""The last defects of issue #12: a page number that is not one answers 400 on the pages too; a calendar
import refuses the year 1 and an overlong name with a message (CLI: exit status 1, no traceback; page:
the form's errors); idempotency keys are purged by a periodic job and the answer kept for a replay is
not readable at rest; a search by a reporter's name does not reveal the report (Order 121 art. 37).
The worker that outlives a Redis outage is tested in tests/workers/test_broker_recovery.py."""
import io
import json
import re
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select, text, update

from hotline.api.idempotency import KEEP, purge_expired
from hotline.api.models import IdempotencyKey
from hotline.cases.queries import Page
from hotline.deadlines.display import format_due, last_day
from hotline.deadlines.models import CalendarDay
from hotline.deadlines.operations import CalendarImportError, import_calendar_days, recompute_open_clocks
from hotline.extensions import db
from hotline.outbox.relay import run_pending
from hotline.paging import MAX_PAGE
from hotline.types import utcnow
from tests.conftest import complaint_payload

# ---- 1. page numbers on the pages --------------------------------------------------------------------

NOT_A_PAGE = ["99999999999999999999", "9" * 5000, "0", "-1", "abc", "²", "１２", "1_000", str(MAX_PAGE + 1)]


@pytest.mark.parametrize("page", NOT_A_PAGE)
def test_a_page_number_that_is_not_one_is_a_400_page(client, login, make_user, make_case, page):
    make_case()
    login(client, make_user("supervisor"))
    response = client.get("/cases", query_string={"page": page})
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert '<header class="top">' in response.get_data(as_text=True)  # the app's own error page


def test_the_deepest_page_still_opens_and_shows_the_last_rows(client, login, make_user, make_case):
    number = make_case().case.number
    login(client, make_user("supervisor"))
    for page in ("", "1", str(MAX_PAGE), " 7 "):
        response = client.get("/cases", query_string={"page": page})
        assert response.status_code == 200 and f"/cases/{number}" in response.get_data(as_text=True), page


def test_no_pager_link_goes_past_the_bound():
    """At 10 million rows a list would have 200,000 pages; the pager stops where page numbers stop."""
    deep = Page([], total=10_000_000, page=MAX_PAGE, per_page=50)
    assert deep.pages == MAX_PAGE  # so no "next" link from the last page a list opens
    assert Page([], total=120, page=1, per_page=50).pages == 3


# ---- 2. calendar import ------------------------------------------------------------------------------

LONG_NAME = "元旦" * 33  # 66 characters


def _import(app, tmp_path, content: bytes):
    path = tmp_path / "days.csv"
    path.write_bytes(content)
    return app.test_cli_runner().invoke(args=["calendar", "import", str(path)])


@pytest.mark.parametrize(("content", "message"), [
    (b"0001-01-01,workday,x\n", "line 1: \u201c0001-01-01\u201d is outside the years the calendar holds"),
    (b"9999-12-31,holiday,x\n", "line 1: \u201c9999-12-31\u201d is outside the years"),
    (f"2027-01-01,holiday,{LONG_NAME}\n".encode(), "line 1: the name is longer than 64 characters"),
    (b"2027-01-01,holiday,a\x00b\n", "line 1: the name contains a character that cannot be stored"),
    (b"\xff\xfe2\x000\x002\x007\x00", "the file is not UTF-8 text"),
    (b'2027-01-01,holiday,"' + b"x" * 200_000 + b'"\n', "line 1: not a readable CSV line"),
])
def test_the_cli_refuses_a_bad_file_with_a_message_and_status_1(app, tmp_path, content, message):
    result = _import(app, tmp_path, content)
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # a ClickException, not a traceback
    assert "nothing imported" in result.output and message in result.output
    assert db.session.scalar(select(func.count()).select_from(CalendarDay)) == 0


def test_the_cli_names_every_bad_line(app, tmp_path):
    result = _import(app, tmp_path, f"date,kind,name\n2027-01-01,holiday,元旦\n0001-01-01,workday,x\n"
                                    f"2027-02-01,holiday,{LONG_NAME}\n".encode())
    assert result.exit_code == 1 and "line 3" in result.output and "line 4" in result.output
    assert "line 2" not in result.output


@pytest.mark.parametrize(("content", "message"), [
    ("0001-01-01,workday,x", "第 1 行：“0001-01-01”超出日历可登记的年份"),
    (f"2027-01-01,holiday,{LONG_NAME}", "第 1 行：名称超过 64 个字"),
])
def test_the_page_shows_the_same_errors_on_the_form(client, login, make_user, content, message):
    csrf = login(client, make_user("admin"))
    response = client.post("/admin/calendar", data={"text": content, "csrf_token": csrf})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page and 'role="alert"' in page


@pytest.mark.parametrize(("content", "message"), [
    (b"2027-01-01,holiday,a\x00b\n", "名称含有无法保存的字符"),
    (b"2027-01-01,holiday,x\n" * 12_000, "文件超过 200 KB"),  # 264 KB: never imported in part
])
def test_an_uploaded_file_is_checked_whole(client, login, make_user, content, message):
    csrf = login(client, make_user("admin"))
    response = client.post("/admin/calendar", data={"file": (io.BytesIO(content), "days.csv"), "csrf_token": csrf},
                           content_type="multipart/form-data")
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(CalendarDay)) == 0


def test_the_arithmetic_is_guarded_at_the_edge_of_the_calendar(app):
    """For callers that skip the parser: the year 1 is refused, and local midnight of 0001-01-01, which
    is in the year 0 in UTC, never reaches the database."""
    with pytest.raises(CalendarImportError):
        import_calendar_days([(date(1, 1, 1), "workday", "x")])
    assert recompute_open_clocks(date(1, 1, 1), date(1, 1, 1)) == 0
    assert recompute_open_clocks(date(1, 1, 1), date(2026, 1, 1)) == 0  # no open clocks in this database
    year_one = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=8)))
    assert last_day(year_one) == date(1, 1, 1)  # the day before date.min does not exist
    assert format_due(year_one, with_time=True)
    assert format_due(datetime(1, 1, 1, tzinfo=UTC), "America/New_York")  # west of UTC: the year 0


# ---- 3. idempotency keys ------------------------------------------------------------------------------

@pytest.fixture
def operator(make_user, token_for):
    return token_for(make_user("operator"))


def _create(client, headers, key: str):
    return client.post("/api/v1/cases", json=complaint_payload(consumer={"name": "张三", "phone": "13900001111"}),
                       headers={**headers, "Idempotency-Key": key})


def test_the_kept_answer_is_encrypted_and_replays_exactly(client, operator):
    first = _create(client, operator, "sealed-1")
    body = first.get_json()
    stored = db.session.execute(text("SELECT response FROM idempotency_key")).scalar_one()
    raw = stored if isinstance(stored, str) else json.dumps(stored)
    assert body["query_code"] not in raw and body["number"] not in raw and "13900001111" not in raw
    assert set(json.loads(raw)) == {"sealed"}
    again = _create(client, operator, "sealed-1")
    assert again.headers["Idempotent-Replayed"] == "true" and again.get_json() == body
    assert again.status_code == first.status_code == 201


def test_an_answer_kept_in_clear_before_is_still_replayed(client, operator):
    """Rows written before the encryption (within their 24 hours at the upgrade) stay readable."""
    first = _create(client, operator, "legacy-1").get_json()
    db.session.execute(text("UPDATE idempotency_key SET response = :plain"), {"plain": json.dumps(first)})
    db.session.commit()
    assert _create(client, operator, "legacy-1").get_json() == first


def test_old_keys_are_purged_by_the_periodic_job(client, operator, app):
    for key in ("old-a", "old-b", "fresh"):
        _create(client, operator, key)
    db.session.execute(update(IdempotencyKey).where(IdempotencyKey.key != "api:fresh")
                       .values(created_at=utcnow() - KEEP - timedelta(minutes=1)))
    db.session.commit()
    assert purge_expired() == 2
    assert db.session.scalars(select(IdempotencyKey.key)).all() == ["api:fresh"]
    # scheduled where the other periodic jobs are: beat (workers/__init__.py) and the embedded relay thread
    from hotline.outbox.relay import _embedded_schedule
    assert purge_expired in [task for _every, _last, task in _embedded_schedule(app)]
    beat = (Path(__file__).parents[2] / "workers" / "__init__.py").read_text(encoding="utf-8")
    assert re.search(r'"task": "hotline\.purge_idempotency_keys"', beat)  # not imported: it makes its own app


# ---- 4. a reporter's name in search -------------------------------------------------------------------

REPORTER = {"name": "欧阳举报人", "phone": "13900003333", "address": "辽宁省鞍山市铁西区兴盛街道幸福小区3号楼"}


def _found(client, headers, q: str) -> set[str]:
    return {item["number"] for item in client.get("/api/v1/cases", query_string={"q": q},
                                                  headers=headers).get_json()["items"]}


@pytest.fixture
def reported(make_case):
    """A complaint that also reported a violation (one call, two linked cases), both routed to Tiexi."""
    registered = make_case(consumer=REPORTER, also_report=True)
    run_pending()
    return registered.case, registered.linked.case


@pytest.mark.parametrize("term", ["欧阳举报人", "欧阳", "举报人"])
def test_a_reporters_name_finds_nothing_for_those_who_see_it_masked(client, make_user, token_for, reported, term):
    complaint, report = reported
    assert report.kind == "report"
    for user in (make_user("operator"), make_user("station", station="ST-TD-01")):
        assert _found(client, token_for(user), term) == set(), user.role


def test_the_handling_bureau_and_the_centre_still_find_both(client, make_user, token_for, reported):
    complaint, report = reported
    for user in (make_user("bureau", bureau="tiexi"), make_user("supervisor"), make_user("admin")):
        assert _found(client, token_for(user), REPORTER["name"]) == {complaint.number, report.number}, user.role


def test_the_case_list_page_does_not_reveal_the_reporter_either(client, login, make_user, reported):
    complaint, report = reported
    login(client, make_user("operator"))
    page = client.get("/cases", query_string={"q": REPORTER["name"]}).get_data(as_text=True)
    assert complaint.number not in page and report.number not in page


def test_other_terms_still_find_the_cases_for_an_operator(client, make_user, token_for, reported, make_case):
    complaint, report = reported
    headers = token_for(make_user("operator"))
    assert {complaint.number, report.number} <= _found(client, headers, complaint.business_name)
    assert _found(client, headers, complaint.number) == {complaint.number}
    named = make_case(consumer={"name": "欧阳投诉人", "phone": "13900004444"}).case
    assert _found(client, headers, "欧阳投诉人") == {named.number}  # a complainant of their own: found
