"""The holiday calendar and the rulebook pages (issue #7: bug 5, missing step 9, polish 16/17, labels)."""
import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from hotline.cases.models import Case
from hotline.cases.operations import register_case
from hotline.cases.schemas import parse_case
from hotline.deadlines.models import CalendarDay, CalendarYear, CaseClock, DeadlineRule
from hotline.deadlines.operations import years_without_calendar
from hotline.extensions import db
from tests.conftest import complaint_payload

WHERE = {"bureau": {"bureau": "tiexi"}, "station": {"station": "ST-TD-01"}}


def open_clock_into_2027() -> CaseClock:
    """A complaint received 2026-12-28: its 7 working days run into 2027, which chinesecalendar lacks."""
    case = register_case(parse_case(complaint_payload(occurred_on="2026-12-01")), None,
                         now=datetime(2026, 12, 28, 2, tzinfo=UTC)).case
    db.session.commit()
    return db.session.scalar(select(CaseClock).where(CaseClock.case_id == case.id))


def warning_on(page: str) -> bool:
    return "2027 年尚无官方节假日安排" in page


def tds(page: str) -> list[str]:
    return re.findall(r"<td\b[^>]*>", page)


# --- bug 5: a partly imported year keeps its warning --------------------------------------------

def test_one_imported_day_does_not_silence_the_warning(client, make_user, login):
    clock = open_clock_into_2027()
    assert clock.fallback_calendar
    csrf = login(client, make_user("admin"))
    response = client.post("/admin/calendar", data={"text": "2027-01-01,holiday,元旦", "csrf_token": csrf})
    assert response.status_code == 302
    page = client.get("/admin/calendar").get_data(as_text=True)
    assert warning_on(page)
    assert "录入不完整" in page  # the year's row says why
    assert "2027" in client.get("/overdue").get_data(as_text=True)  # the overdue queue still names it
    db.session.expire_all()
    assert db.session.get(CaseClock, clock.id).fallback_calendar  # and the case still shows its warning
    assert years_without_calendar([2026, 2027]) == [2027]


def test_marking_a_year_complete_clears_the_warning_and_keeps_who_and_when(client, make_user, login):
    clock = open_clock_into_2027()
    supervisor = make_user("supervisor", username="zhang")
    csrf = login(client, supervisor)
    client.post("/admin/calendar/day", data={"day": "2027-01-01", "kind": "holiday", "name": "元旦",
                                             "csrf_token": csrf})
    response = client.post("/admin/calendar/year", data={"year": "2027", "complete": "1", "csrf_token": csrf})
    assert response.status_code == 302
    page = client.get("/admin/calendar").get_data(as_text=True)
    assert "已标记 2027 年放假安排录入完整；已重新计算 1 个未办结时限。" in page
    assert not warning_on(page)
    assert "录入完整（zhang 于" in page
    row = db.session.get(CalendarYear, 2027)
    assert row.marked_by_id == supervisor.id and row.marked_at is not None
    db.session.expire_all()
    assert not db.session.get(CaseClock, clock.id).fallback_calendar
    assert years_without_calendar([2027]) == []
    # Taken back: the warning and the clock's flag return.
    client.post("/admin/calendar/year", data={"year": "2027", "complete": "0", "csrf_token": csrf})
    assert warning_on(client.get("/admin/calendar").get_data(as_text=True))
    db.session.expire_all()
    assert db.session.get(CalendarYear, 2027) is None
    assert db.session.get(CaseClock, clock.id).fallback_calendar


def test_marking_needs_csrf(client, make_user, login):
    login(client, make_user("admin"))
    db.session.add(CalendarDay(day=date(2027, 1, 1), kind="holiday", name="元旦"))
    db.session.commit()
    assert client.post("/admin/calendar/year", data={"year": "2027", "complete": "1"}).status_code == 400
    assert db.session.get(CalendarYear, 2027) is None


@pytest.mark.parametrize(("year", "message"), [
    ("2027", "2027 年尚未录入任何日期"),  # nothing of it entered: surely not complete
    ("2026", "2026 年已有官方放假安排"),  # the package has it
    ("abc", "年份无效"),
    ("99999", "年份无效"),
])
def test_marking_a_year_that_cannot_be_complete_says_why(client, make_user, login, year, message):
    csrf = login(client, make_user("admin"))
    response = client.post("/admin/calendar/year", data={"year": year, "complete": "1", "csrf_token": csrf},
                           follow_redirects=True)
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert db.session.scalars(select(CalendarYear)).all() == []


def test_cli_marks_a_year_complete(app):
    db.session.add(CalendarDay(day=date(2027, 1, 1), kind="holiday", name="元旦"))
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["calendar", "complete", "2027"])
    assert result.exit_code == 0 and "2027 marked complete" in result.output
    assert db.session.get(CalendarYear, 2027).marked_by_id is None
    result = runner.invoke(args=["calendar", "complete", "2026"])
    assert result.exit_code != 0 and "covered by the official calendar" in result.output
    assert runner.invoke(args=["calendar", "complete", "2027", "--undo"]).exit_code == 0
    db.session.expire_all()
    assert db.session.get(CalendarYear, 2027) is None


# --- missing step 9: one day with a date picker, by whoever keeps the calendar ------------------

def test_supervisor_adds_a_day_with_the_date_picker(client, make_user, login):
    csrf = login(client, make_user("supervisor"))
    page = client.get("/admin/calendar").get_data(as_text=True)
    assert '<input type="date" name="day"' in page
    assert '<option value="workday"' in page and "调休上班日" in page
    response = client.post("/admin/calendar/day", data={"day": "2027-02-20", "kind": "workday", "name": "春节调休",
                                                        "csrf_token": csrf})
    assert response.status_code == 302
    row = db.session.get(CalendarDay, date(2027, 2, 20))
    assert (row.kind, row.name) == ("workday", "春节调休")
    assert "2027-02-20 已设为调休上班日" in client.get("/admin/calendar").get_data(as_text=True)


def test_a_bad_day_is_refused_with_the_values_kept(client, make_user, login):
    csrf = login(client, make_user("admin"))
    response = client.post("/admin/calendar/day", data={"day": "", "kind": "party", "name": "端午",
                                                        "csrf_token": csrf})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "请选择日期" in page and "请选择节假日或调休上班日" in page
    assert 'value="端午"' in page
    assert db.session.scalars(select(CalendarDay)).all() == []


def test_a_day_can_be_removed(client, make_user, login):
    csrf = login(client, make_user("admin"))
    client.post("/admin/calendar/day", data={"day": "2027-01-01", "kind": "holiday", "csrf_token": csrf})
    assert client.post("/admin/calendar/day/2027-01-01/delete", data={"csrf_token": csrf}).status_code == 302
    assert db.session.get(CalendarDay, date(2027, 1, 1)) is None
    assert client.post("/admin/calendar/day/not-a-day/delete", data={"csrf_token": csrf}).status_code == 404


@pytest.mark.parametrize("role", ["operator", "station", "bureau"])
def test_only_the_centre_keeps_the_calendar(client, make_user, login, role):
    csrf = login(client, make_user(role, **WHERE.get(role, {})))
    assert client.get("/admin/calendar").status_code == 403
    for url, data in [("/admin/calendar", {"text": "2027-01-01,holiday,元旦"}),
                      ("/admin/calendar/day", {"day": "2027-01-01", "kind": "holiday"}),
                      ("/admin/calendar/day/2027-01-01/delete", {}),
                      ("/admin/calendar/year", {"year": "2027", "complete": "1"})]:
        assert client.post(url, data=data | {"csrf_token": csrf}).status_code == 403, url
    assert db.session.scalars(select(CalendarDay)).all() == []


@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_supervisors_and_admins_import(client, make_user, login, role):
    csrf = login(client, make_user(role))
    response = client.post("/admin/calendar", data={"text": "2027-01-01,holiday,元旦", "csrf_token": csrf})
    assert response.status_code == 302
    assert db.session.get(CalendarDay, date(2027, 1, 1)).name == "元旦"


# --- polish: words people read ------------------------------------------------------------------

def test_import_errors_are_translated_with_their_line_numbers(client, make_user, login):
    csrf = login(client, make_user("admin"))
    text = "2027-01-01,holiday,元旦\n2027-02-30,holiday,错\n2027-03-01,party,x\n"
    response = client.post("/admin/calendar", data={"text": text, "csrf_token": csrf})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "第 2 行：“2027-02-30”不是日期" in page
    assert "第 3 行：类型应为 holiday（节假日）或 workday（调休上班日），而不是“party”" in page
    assert "is not a date" not in page
    assert "2027-02-30,holiday" in page  # the pasted lines stay to be corrected
    client.get("/lang/en")
    page = client.post("/admin/calendar", data={"text": text, "csrf_token": csrf}).get_data(as_text=True)
    assert "line 2: “2027-02-30” is not a date" in page


def test_calendar_table_says_name_not_person_name_and_stacks(client, make_user, login):
    csrf = login(client, make_user("admin"))
    client.post("/admin/calendar/day", data={"day": "2027-01-01", "kind": "holiday", "name": "元旦",
                                             "csrf_token": csrf})
    page = client.get("/admin/calendar").get_data(as_text=True)
    assert "<th>名称</th>" in page and "姓名" not in page
    cells = tds(page)
    assert cells and all("data-label=" in td or "colspan" in td for td in cells)
    assert 'data-label="名称"' in page


# --- the rulebook -------------------------------------------------------------------------------

def test_rulebook_starts_column_in_words(client, make_user, login):
    login(client, make_user("supervisor"))
    page = client.get("/admin/deadlines").get_data(as_text=True)
    assert "<td data-label=\"起算\">收到之日</td>" in page
    assert "受理之日" in page and "终止调解之日" in page
    assert ">receipt<" not in page and ">acceptance<" not in page


def test_supervisor_edits_the_rulebook(client, make_user, login):
    csrf = login(client, make_user("supervisor"))
    rule = db.session.scalar(select(DeadlineRule).where(DeadlineRule.clock == "complaint_decision")
                             .order_by(DeadlineRule.id).limit(1))
    before = rule.length
    response = client.post("/admin/deadlines", data={"id": rule.id, "length": before, "extension": "0",
                                                     "basis": rule.basis, "verified": "on", "csrf_token": csrf})
    assert response.status_code == 302
    page = client.post("/admin/deadlines", data={"id": rule.id, "length": "seven", "csrf_token": csrf},
                       follow_redirects=True).get_data(as_text=True)
    assert "工作日" in page  # "length and extension must be whole numbers of working days"
    db.session.expire_all()
    assert db.session.get(DeadlineRule, rule.id).length == before


@pytest.mark.parametrize("role", ["operator", "station", "bureau"])
def test_others_cannot_touch_the_rulebook(client, make_user, login, role):
    csrf = login(client, make_user(role, **WHERE.get(role, {})))
    rule = db.session.scalar(select(DeadlineRule).limit(1))
    assert client.get("/admin/deadlines").status_code == 403
    assert client.post("/admin/deadlines", data={"id": rule.id, "length": "99", "csrf_token": csrf}).status_code == 403
    assert client.post("/admin/deadlines", data={"new_version": "x", "effective_from": "2030-01-01",
                                                 "csrf_token": csrf}).status_code == 403


def test_every_rulebook_and_calendar_input_is_labelled(client, make_user, login):
    login(client, make_user("admin"))
    for url in ("/admin/deadlines", "/admin/calendar"):
        page = client.get(url).get_data(as_text=True)
        assert unlabelled_inputs(page) == [], url
        assert all("data-label=" in td or "colspan" in td for td in tds(page)), url


def unlabelled_inputs(page: str) -> list[str]:
    """Visible inputs with neither an aria-label nor an enclosing <label> (a rough check of the markup)."""
    bad = []
    for match in re.finditer(r"<(input|select|textarea)\b[^>]*>", page):
        tag = match.group(0)
        if 'type="hidden"' in tag or "aria-label=" in tag:
            continue
        before = page[:match.start()]
        if before.rfind("<label") <= before.rfind("</label>"):
            bad.append(tag)
    return bad


def test_case_page_names_the_year_without_a_calendar(client, make_user, login):
    clock = open_clock_into_2027()
    login(client, make_user("supervisor"))
    page = client.get(f"/cases/{db.session.get(Case, clock.case_id).number}").get_data(as_text=True)
    assert "2027 年尚无官方节假日安排，仅扣除周末" in page
    assert "本年度" not in page
