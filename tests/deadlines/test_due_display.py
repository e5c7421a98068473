"""Every list shows a deadline as its last day, never as the midnight after it (issue #7, bug 2), and
marks overdue and due-soon in words as well as colour (issue #7, accessibility)."""
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from hotline.cases.models import Case
from hotline.deadlines.models import CaseClock, Notification
from hotline.extensions import db
from hotline.outbox.relay import run_pending
from hotline.types import utcnow

# 24:00 of 2026-12-07 in Shanghai, as stored: 00:00 of 12-08 local, 16:00 UTC of 12-07.
END_OF_DEC_7 = datetime(2026, 12, 7, 16, tzinfo=UTC)
# The end of 2026-11-03, long past by the time these tests run (the overdue page needs a past deadline).
END_OF_NOV_3 = datetime(2026, 11, 3, 16, tzinfo=UTC)


def text_of(html: str) -> str:
    """The page as read: tags dropped, the values of title attributes (tooltips) kept."""
    titles = " ".join(re.findall(r'title="([^"]*)"', html))
    return re.sub(r"<[^>]+>", " ", html) + " " + titles


def set_due(case, due_at):
    """Every running clock of the case ends at `due_at`; returns one of them."""
    clocks = db.session.scalars(select(CaseClock).where(CaseClock.case_id == case.id,
                                                        CaseClock.met_at.is_(None))).all()
    for clock in clocks:
        clock.due_at = due_at
    db.session.commit()
    return clocks[0]


@pytest.fixture
def routed_case(make_case, make_user):
    handler = make_user("bureau", bureau="tiexi")
    case = make_case().case
    run_pending()
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert case.bureau.code == "tiexi"
    return case, handler


def assert_last_day(page: str, short: str, next_day: str, next_short: str):
    text = text_of(page)
    assert short in text
    assert next_short not in text and next_day not in text
    assert "00:00" not in " ".join(re.findall(r'title="([^"]*)"', page))


def test_inbox_shows_the_last_day_and_24_00_in_the_tooltip(client, login, routed_case):
    case, handler = routed_case
    set_due(case, END_OF_DEC_7)
    login(client, handler)
    page = client.get("/inbox").get_data(as_text=True)
    assert_last_day(page, "12-07", "2026-12-08", "12-08")
    assert "2026-12-07 24:00" in page


def test_triage_shows_the_last_day(client, login, make_case, make_user):
    case = make_case(business={"name": "外地店", "address": "沈阳市和平区"}).case
    run_pending()
    set_due(case, END_OF_DEC_7)
    login(client, make_user("supervisor"))
    page = client.get("/triage").get_data(as_text=True)
    assert_last_day(page, "12-07", "2026-12-08", "12-08")
    assert "2026-12-07 24:00" in page


def test_notices_show_the_last_day_at_24_00(client, login, routed_case):
    case, handler = routed_case
    clock = set_due(case, END_OF_DEC_7)
    db.session.add(Notification(kind="reminder", clock_id=clock.id, case_id=case.id, clock=clock.clock,
                                due_at=clock.due_at, user_id=handler.id))
    db.session.commit()
    login(client, handler)
    page = client.get("/notices").get_data(as_text=True)
    text = text_of(page)
    assert "2026-12-07 24:00" in text
    assert "2026-12-08" not in text and "12-08" not in text


def test_overdue_shows_the_last_day_at_24_00_and_says_overdue(app, login, routed_case, make_user):
    case, handler = routed_case
    set_due(case, END_OF_NOV_3)
    for user in (handler, make_user("supervisor")):
        client = app.test_client()
        login(client, user)
        page = client.get("/overdue").get_data(as_text=True)
        text = text_of(page)
        assert "2026-11-03 24:00" in text
        assert "2026-11-04" not in text and "11-04" not in text
        row = page[page.index('<tr class="overdue">'):]
        assert "已超期" in row[:row.index("</tr>")]  # in words, not only red


def test_inbox_marks_overdue_and_due_soon_in_words(client, login, make_case, routed_case):
    late, handler = routed_case
    set_due(late, END_OF_NOV_3)
    soon = make_case().case
    run_pending()
    set_due(soon, utcnow() + timedelta(hours=20))
    far = make_case().case
    run_pending()
    set_due(far, END_OF_DEC_7 + timedelta(days=30))
    login(client, handler)
    page = client.get("/inbox").get_data(as_text=True)
    cells = {c.number: page[page.rindex("<tr", 0, page.index(f'/cases/{c.number}')):].split("</tr>")[0]
             for c in (late, soon, far)}
    assert "已超期" in cells[late.number] and "▲" in cells[late.number]
    assert "即将到期" in cells[soon.number]
    assert "已超期" not in cells[far.number] and "即将到期" not in cells[far.number]
