"""The bureau scoreboard: figures against a direct count over cases made with the app's operations, the tier
rules, and who sees which rows (page and export)."""
import csv
import io
from collections import defaultdict
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy import select

from hotline.cases import actions
from hotline.cases.actions import ActionInput, take_action
from hotline.cases.models import Case, CaseEvent
from hotline.deadlines.models import CaseClock, ExtensionRequest
from hotline.extensions import db
from hotline.outbox.relay import run_pending
from hotline.portal.models import CaseRating
from hotline.portal.ratings import rate_case
from hotline.reference.models import Bureau
from hotline.stats.refresh import drain
from hotline.stats.scoreboard import FAIR, GOOD, NEEDS_IMPROVEMENT, BureauScore, scoreboard

SHANGHAI = ZoneInfo("Asia/Shanghai")
OCTOBER = date(2026, 10, 1)
TIEDONG_ADDRESS = "辽宁省鞍山市铁东区胜利南路18号"
DECISION = {"complaint": ("complaint_decision",), "report": ("report_verification", "violation_verification")}
CLOSING = {"complaint": ("mediation", "complaint_decision", "triage"),
           "report": ("report_verification", "violation_verification", "triage")}


def at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T10:00:00").replace(tzinfo=SHANGHAI).astimezone(UTC)


def local_month(value: datetime | None) -> date | None:
    return value.astimezone(SHANGHAI).date().replace(day=1) if value else None


@pytest.fixture
def people(make_user):
    return {"tiexi": make_user("bureau", bureau="tiexi"), "tiedong": make_user("bureau", bureau="tiedong"),
            "supervisor": make_user("supervisor"), "operator": make_user("operator")}


@pytest.fixture
def october(make_case, people, monkeypatch):
    """A handful of cases received in September and October 2026, taken through their workflows on given days."""
    def act(case, who, day, **data):
        monkeypatch.setattr(actions, "utcnow", lambda: at(day))
        take_action(db.session.get(Case, case.id), people[who], ActionInput(**data))
        db.session.commit()

    def make(received="2026-10-12", **over):
        case = make_case(received_at=f"{received}T10:00:00+08:00", occurred_on="2026-09-01", **over).case
        run_pending()
        db.session.expire_all()
        return db.session.get(Case, case.id)

    settled, late, declined, returned, withdrawn = (make() for _ in range(5))
    act(settled, "tiexi", "2026-10-13", action="accept")
    act(settled, "tiexi", "2026-10-20", action="settle", recovered_amount="50.00")
    act(late, "tiexi", "2026-10-28", action="accept")  # the decision was due on 10-21
    act(declined, "tiexi", "2026-10-14", action="decline", reason="D01")
    act(returned, "tiexi", "2026-10-13", action="return_to_centre", reason="经营地址在铁东区")
    act(returned, "supervisor", "2026-10-14", action="assign", bureau="tiedong")
    act(returned, "tiedong", "2026-10-15", action="accept")
    act(withdrawn, "operator", "2026-10-13", action="withdraw", reason="已自行和解")
    september = make(received="2026-09-15")
    act(september, "tiexi", "2026-10-09", action="accept")
    report = make(kind="report", business={"name": "铁东某超市", "address": TIEDONG_ADDRESS})
    assert report.bureau.code == "tiedong"
    act(report, "tiedong", "2026-10-13", action="start_verification")
    act(report, "tiedong", "2026-10-20", action="request_extension", reason="需调取平台交易记录")
    for case, score, day in ((settled, 5, "2026-10-22"), (declined, 2, "2026-10-15")):
        rate_case(db.session.get(Case, case.id), score, None, None, now=at(day))
        db.session.commit()
    drain()
    return {"settled": settled, "late": late, "declined": declined, "returned": returned, "withdrawn": withdrawn}


def direct_count(month: date) -> dict[int, dict[str, int]]:
    """The scoreboard's figures counted straight from the cases, their clocks, events, ratings and requests."""
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    codes = dict(db.session.execute(select(Bureau.code, Bureau.id)).all())
    for case in db.session.scalars(select(Case)):
        row = counts[case.bureau_id or 0]
        clocks = {c.clock: c for c in db.session.scalars(select(CaseClock).where(CaseClock.case_id == case.id))}
        row["received"] += local_month(case.received_at) == month
        decision = next((clocks[n] for n in DECISION.get(case.kind, ()) if n in clocks), None)
        # a withdrawal before any decision meets the clock but decides nothing
        undecided = (case.outcome in ("withdrawn", "transferred", "merged") and decision is not None
                     and decision.met_at is not None and decision.met_at >= case.closed_at)
        if decision is not None and local_month(decision.met_at) == month and not undecided:
            row["decided"] += 1
            row["decided_on_time"] += decision.met_at <= decision.due_at
        if case.status == "closed" and local_month(case.closed_at) == month:
            closing = next((clocks[n] for n in CLOSING.get(case.kind, ()) if n in clocks), None)
            if closing is not None:
                row["closed_timed"] += 1
                row["closed_on_time"] += closing.met_at is not None and closing.met_at <= closing.due_at
    for rating in db.session.scalars(select(CaseRating)):
        if local_month(rating.rated_at) == month:
            row = counts[rating.bureau_id]
            row["rated"] += 1
            row["rating_sum"] += rating.score
            row["satisfied"] += rating.score >= 4
    for event in db.session.scalars(select(CaseEvent).where(CaseEvent.action == "return_to_centre")):
        if local_month(event.at) == month:
            counts[codes[event.data["bureau"]]]["returned"] += 1
    for request in db.session.scalars(select(ExtensionRequest)):
        if local_month(request.requested_at) == month:
            counts[db.session.get(Case, request.case_id).bureau_id]["extensions"] += 1
    return counts


FIELDS = ("received", "returned", "decided", "decided_on_time", "closed_timed", "closed_on_time", "rated",
          "satisfied", "rating_sum", "extensions")


def test_scoreboard_agrees_with_a_direct_count(october):
    rows = scoreboard(OCTOBER)
    active = list(db.session.scalars(select(Bureau.code).where(Bureau.active.is_(True)).order_by(Bureau.code)))
    assert [r.code for r in rows] == active  # every active bureau, zero rows too, by code
    expected = direct_count(OCTOBER)
    for row in rows:
        assert {f: getattr(row, f) for f in FIELDS} == {f: expected[row.bureau_id][f] for f in FIELDS}, row.code
    by_code = {r.code: r for r in rows}
    tiexi, tiedong = by_code["tiexi"], by_code["tiedong"]
    # 铁西 kept four of the October cases, and returned one; the September case was decided in October, late.
    assert (tiexi.received, tiexi.returned) == (4, 1)
    assert tiexi.return_rate == pytest.approx(1 / 5)
    assert (tiexi.decided, tiexi.decided_on_time) == (4, 2)  # a withdrawal before acceptance decides nothing
    assert (tiexi.rated, tiexi.satisfied, tiexi.satisfaction, tiexi.mean_rating) == (2, 1, 0.5, 3.5)
    assert (tiedong.received, tiedong.extensions, tiedong.returned) == (2, 1, 0)
    assert all(r.received == 0 and r.decided_on_time_rate is None for r in rows if r.code not in ("tiexi", "tiedong"))
    september = {r.code: r for r in scoreboard(date(2026, 9, 1))}
    assert september["tiexi"].received == 1 and september["tiexi"].decided == 0


def score(**over) -> BureauScore:
    base = dict(bureau_id=1, code="x", name="x", received=95, returned=5, decided=100, decided_on_time=96,
                closed_timed=50, closed_on_time=48, rated=20, satisfied=19, rating_sum=90, extensions=2)
    base.update(over)
    return BureauScore(**base)


def test_tier_rules():
    assert score().tier == GOOD
    assert score(decided_on_time=94).tier == FAIR  # 94 % is below good, above needs improvement
    assert score(decided_on_time=79).tier == NEEDS_IMPROVEMENT
    assert score(closed_on_time=39).tier == NEEDS_IMPROVEMENT  # 78 %
    assert score(returned=15, received=85).tier == FAIR  # 15 % returned
    assert score(returned=26, received=74).tier == NEEDS_IMPROVEMENT
    assert score(satisfied=17).tier == FAIR  # 85 %
    assert score(satisfied=13).tier == NEEDS_IMPROVEMENT  # 65 %
    assert score(decided=4, decided_on_time=4).tier is None  # too few cases to rate
    assert score(decided=4, decided_on_time=4).tier_label
    assert score(rated=3, satisfied=0).tier == GOOD  # three ratings are too few to count
    assert score(closed_timed=0, closed_on_time=0, rated=0, satisfied=0).tier == GOOD  # nothing to measure: left out


def test_rates_are_none_without_a_denominator():
    empty = score(received=0, returned=0, decided=0, decided_on_time=0, closed_timed=0, closed_on_time=0, rated=0,
                  satisfied=0, rating_sum=0)
    assert (empty.decided_on_time_rate, empty.closed_on_time_rate, empty.return_rate, empty.satisfaction,
            empty.mean_rating) == (None, None, None, None, None)


def test_supervisor_sees_every_bureau(client, login, october, people):
    login(client, people["supervisor"])
    page = client.get("/stats/scoreboard/?month=2026-10").get_data(as_text=True)
    tiexi = next(r for r in scoreboard(OCTOBER) if r.code == "tiexi")
    for bureau in db.session.scalars(select(Bureau).where(Bureau.active.is_(True))):
        assert bureau.short_name in page
    assert f"{tiexi.decided_on_time_rate * 100:.1f} % <span class=\"muted\">(2/4)</span>" in page
    assert "95 %" in page and "重办" in page  # the thresholds and the reopen note, in Chinese
    response = client.get("/stats/scoreboard/export.csv?month=2026-10")
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")
    assert len(list(csv.reader(io.StringIO(body[1:])))) == 1 + len(scoreboard(OCTOBER))


def test_bureau_staff_see_their_own_row_only(client, login, october, people):
    login(client, people["tiexi"])
    page = client.get("/stats/scoreboard/?month=2026-10").get_data(as_text=True)
    assert "铁西" in page and "铁东分局" not in page and "立山" not in page
    body = client.get("/stats/scoreboard/export.csv?month=2026-10").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(body[1:])))
    assert len(rows) == 2 and rows[1][0] == "tiexi"
    book = openpyxl.load_workbook(io.BytesIO(client.get("/stats/scoreboard/export.xlsx?month=2026-10").data))
    sheet = [row for row in book.active.iter_rows(values_only=True)]
    assert len(sheet) == 2 and sheet[1][0] == "tiexi" and sheet[1][2] == 4


@pytest.mark.parametrize("role", ["operator", "station"])
def test_intake_roles_may_not_see_it(client, login, make_user, role):
    login(client, make_user(role, station="ST-TD-01" if role == "station" else None))
    assert client.get("/stats/scoreboard/").status_code == 403
    assert client.get("/stats/scoreboard/export.csv").status_code == 403


def test_anonymous_goes_to_log_in(client):
    assert client.get("/stats/scoreboard/").status_code == 302


@pytest.mark.parametrize("month", ["2026-13", "abc", "2026-1x", "1999-12", "2999-01", "2026-10-01", "０２６-10"])
def test_a_bad_month_is_a_400_with_a_message(client, login, people, month):
    login(client, people["supervisor"])
    response = client.get(f"/stats/scoreboard/?month={month}")
    assert response.status_code == 400
    assert 'role="alert"' in response.get_data(as_text=True)
    assert client.get(f"/stats/scoreboard/export.xlsx?month={month}").status_code == 400


def test_default_month_is_the_previous_one(client, login, people):
    from hotline.stats import queries
    login(client, people["supervisor"])
    page = client.get("/stats/scoreboard/").get_data(as_text=True)
    today = queries.today()
    previous = date(today.year - (today.month == 1), (today.month - 2) % 12 + 1, 1)
    assert f'value="{previous:%Y-%m}"' in page
    assert client.get("/stats/scoreboard/export.pdf").status_code == 404
