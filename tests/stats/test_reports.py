"""The monthly and yearly reports (hotline/stats/reports.py): year-on-year and month-on-month changes on
cases placed in three months, the yearly figures against direct counts over the cases, `hotline report`
in each format, and the report pages with their access rules and bad input."""
import csv
import io
import re
from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from hotline.alerts.models import ConsumerAlert
from hotline.cases.actions import ActionInput, take_action
from hotline.cases.models import Case
from hotline.cases.operations import register_case
from hotline.cases.schemas import parse_case
from hotline.extensions import db
from hotline.outbox.relay import run_pending
from hotline.portal.models import CaseRating
from hotline.portal.ratings import rate_case
from hotline.sms.models import SmsMessage
from hotline.stats import reports
from hotline.stats.refresh import drain
from hotline.stats.report_render import month_tables, render_year
from tests.conftest import complaint_payload

SHANGHAI = ZoneInfo("Asia/Shanghai")
ADDRESS = {"tiexi": "辽宁省鞍山市铁西区兴盛街道人民路88号", "tiedong": "辽宁省鞍山市铁东区园林路12号",
           "outside": "北京市朝阳区建国路1号"}


@pytest.fixture
def people(make_user):
    return {"operator": make_user("operator"), "supervisor": make_user("supervisor"),
            "tiexi": make_user("bureau", bureau="tiexi"), "tiedong": make_user("bureau", bureau="tiedong")}


def new(people, day: date, kind="complaint", where="tiexi", **over):
    """A case received at local noon of `day`, routed."""
    over.setdefault("business", {"name": f"商店{where}", "address": ADDRESS[where]})
    over.setdefault("occurred_on", (day.replace(day=1)).isoformat())
    if kind in ("consultation", "suggestion"):
        over.setdefault("answer", "已当场答复。")
    payload = complaint_payload(kind=kind, received_at=datetime.combine(day, time(12), SHANGHAI).isoformat(), **over)
    case = register_case(parse_case(payload), people["operator"]).case
    db.session.commit()
    run_pending()  # the routing job
    db.session.refresh(case)
    return case


def act(case, user, action, **data):
    take_action(case, user, ActionInput(action=action, **data))
    db.session.commit()


def line(lines, key):
    return next(x for x in lines if x.key == key)


# --- the monthly report: changes against the same month last year and the previous month ------------

@pytest.fixture
def three_months(people):
    """September 2026 against September 2025 and August 2026, phones (G0101) and food (G0201)."""
    phone, food = {"goods": "G0101"}, {"goods": "G0201"}
    new(people, date(2025, 9, 10), category=phone)
    for day in (date(2026, 8, 3), date(2026, 8, 20)):
        new(people, day, category=phone)
    new(people, date(2026, 8, 21), kind="consultation")
    september = [new(people, date(2026, 9, d), category=phone if d < 20 else food) for d in (2, 15, 28)]
    new(people, date(2026, 9, 16), kind="report", category=food, consumer={"anonymous": True})
    drain()
    return september


def test_monthly_changes_by_kind_and_category(app, three_months):
    report = reports.monthly(date(2026, 9, 14))  # any day of the month names it
    assert (report.month, report.last_year, report.previous) == (date(2026, 9, 1), date(2025, 9, 1), date(2026, 8, 1))
    complaint = line(report.by_kind, "complaint")
    assert (complaint.current, complaint.bases) == (3, (1, 2))
    assert reports.change(complaint.current, complaint.bases[0]) == (2, 2.0)
    assert reports.change(complaint.current, complaint.bases[1]) == (1, 0.5)
    assert (line(report.by_kind, "report").current, line(report.by_kind, "report").bases) == (1, (0, 0))
    assert reports.change(1, 0) == (1, None)  # no base: no percentage
    assert (line(report.by_kind, "consultation").current, line(report.by_kind, "consultation").bases) == (0, (0, 1))
    phones, food = line(report.by_category, "G0101"), line(report.by_category, "G0201")
    assert (phones.name, phones.current, phones.bases) == ("手机", 2, (1, 2))
    assert (food.name, food.current, food.bases) == ("预包装食品", 2, (0, 0))
    assert line(report.indicators, "received").current == 4
    with app.test_request_context():  # as the page shows it, in the default language
        rows = {row[0]: row for row in month_tables(report)["kind"].rows}
    assert rows["投诉"][1:] == [3, 1, "+2", "200.0%", 2, "+1", "50.0%"]
    total = rows["合计"]
    assert total[1:4] == [4, 1, "+3"] and total[5] == 3


def test_monthly_outcomes_money_and_businesses(app, people, three_months):
    first, second, _third = three_months
    act(first, people["tiexi"], "accept")
    act(first, people["tiexi"], "settle", recovered_amount="80.00", note="退款")
    act(second, people["tiexi"], "accept")
    act(second, people["tiexi"], "terminate", reason="T01")
    drain()
    today = reports.queries.today()
    closing = reports.monthly(today)  # closures count in the month the case was closed: now
    assert line(closing.indicators, "recovered").current == Decimal("80.00")
    assert line(closing.indicators, "mediated").current == 1
    assert line(closing.indicators, "mediation_success").current == 0.5
    september = reports.monthly(date(2026, 9, 1))
    shop = next(b for b in september.businesses if b.name == "商店tiexi")
    assert (shop.counted, shop.accepted, shop.mediation_closed, shop.mediated) == (3, 2, 2, 1)
    assert shop.success_rate == 0.5
    # Disclosure (art. 38): 5 complaints over the 12 months to September (August's 2, September's 3; the one of
    # September 2025 is out of the window) meet the default threshold of 5, and no longer meet 6.
    assert september.disclosure == "rule" and shop.disclosed is True
    from hotline.stats import disclosure
    disclosure.save_rule(6, True, "admin")
    assert next(b for b in reports.monthly(date(2026, 9, 1)).businesses if b.name == "商店tiexi").disclosed is False


def test_monthly_report_of_an_empty_month(app):
    report = reports.monthly(date(2031, 2, 1))
    assert all(x.current == 0 and x.bases == (0, 0) for x in report.by_kind)
    assert report.by_category == [] and report.businesses == []
    assert line(report.indicators, "online_share").current is None


# --- the yearly report against direct counts --------------------------------------------------------

def _year_bounds(year):
    return (datetime.combine(date(year, 1, 1), time(0), SHANGHAI),
            datetime.combine(date(year + 1, 1, 1), time(0), SHANGHAI))


@pytest.fixture
def two_years(people):
    """Cases in 2025 and 2026, moved through their workflows; alerts and messages in both years."""
    made = []
    for i, day in enumerate((date(2025, 3, 4), date(2025, 11, 30), date(2026, 1, 5), date(2026, 2, 14),
                             date(2026, 6, 1), date(2026, 7, 15), date(2026, 10, 8), date(2026, 10, 9))):
        where = ("tiexi", "tiedong")[i % 2]
        handler = people[where]
        channel = ("phone", "web", "letter")[i % 3]
        platform = {"platform": "淘宝"} if i % 3 == 0 else {}
        complaint = new(people, day, where=where, channel=channel,
                        business={"name": f"店{i % 3}", "address": ADDRESS[where], **platform})
        act(complaint, handler, "accept")
        if i % 2:
            act(complaint, handler, "settle", recovered_amount=f"{10 * i}.50", note="和解")
            rate_case(complaint, 1 + i % 5, None, None)
            db.session.commit()
        elif i % 4 == 0:
            act(complaint, handler, "terminate", reason="T01")
        new(people, day, kind="consultation", channel=channel)
        made.append(complaint)
    outside = new(people, date(2026, 4, 2), where="outside")
    act(outside, people["supervisor"], "transfer_out", receiver="全国12315平台")
    for year, status in ((2025, "published"), (2026, "published"), (2026, "withdrawn")):
        published = datetime.combine(date(year, 5, 1), time(10), SHANGHAI)
        db.session.add(ConsumerAlert(title="提示", body="正文", sms_text="短信", status=status, published_at=published))
    db.session.add(ConsumerAlert(title="草稿", body="正文", sms_text="短信", status="draft"))
    messages = db.session.scalars(select(SmsMessage).order_by(SmsMessage.id)).all()
    for i, message in enumerate(messages):
        message.status = ("sent", "delivered", "failed", "queued")[i % 4]
        message.sent_at = datetime.combine(date(2025 + i % 3 // 2, 6, 1), time(9), SHANGHAI)
    db.session.commit()
    drain()
    return made


def test_yearly_figures_agree_with_direct_counts(app, two_years):
    for year in (2025, 2026):
        report = reports.yearly(year)
        start, end = _year_bounds(year)
        received = Case.received_at.between(start, end)
        by_kind = dict(db.session.execute(select(Case.kind, func.count()).where(received).group_by(Case.kind)).all())
        assert {x.key: x.current for x in report.by_kind if x.current} == by_kind
        by_channel = dict(db.session.execute(select(Case.channel, func.count()).where(received)
                                             .group_by(Case.channel)).all())
        assert {x.key: x.current for x in report.by_channel if x.current} == by_channel
        assert sum(m.total for m in report.by_month) == sum(by_kind.values())
        closed = (Case.status == "closed") & Case.closed_at.between(start, end)
        outcomes = dict(db.session.execute(select(Case.outcome, func.count()).where(closed)
                                           .group_by(Case.outcome)).all())
        assert {x.key: x.current for x in report.by_outcome if x.current} == outcomes
        recovered = db.session.scalar(select(func.sum(Case.recovered_amount)).where(closed)) or Decimal("0")
        assert line(report.indicators, "recovered").current == recovered
        ended = outcomes.get("mediated", 0) + outcomes.get("terminated", 0)
        success = line(report.indicators, "mediation_success").current
        assert success == (outcomes.get("mediated", 0) / ended if ended else None)
        rated = CaseRating.rated_at.between(start, end)
        count, satisfied, total = db.session.execute(select(
            func.count(), func.sum((CaseRating.score >= 4).cast(db.Integer)), func.sum(CaseRating.score))
            .where(rated)).one()
        assert line(report.indicators, "rated").current == count
        assert line(report.indicators, "satisfied").current == (satisfied / count if count else None)
        assert line(report.indicators, "mean_rating").current == (total / count if count else None)
        assert line(report.handling, "transferred").current == outcomes.get("transferred", 0)
        alerts = db.session.scalar(select(func.count()).select_from(ConsumerAlert).where(
            ConsumerAlert.published_at.between(start, end)))
        assert report.alerts.current == alerts
        sent = db.session.scalar(select(func.count()).select_from(SmsMessage).where(
            SmsMessage.status.in_(("sent", "delivered")), SmsMessage.sent_at.between(start, end)))
        assert line(report.sms, "total").current == sent
    report = reports.yearly(2026)
    before = reports.yearly(2025)
    assert line(report.indicators, "received").bases == (line(before.indicators, "received").current,)
    assert report.alerts.current == 2 and report.alerts.bases == (1,)
    assert {b.name for b in report.by_bureau} >= {"鞍山市市场监督管理局铁西分局", "鞍山市市场监督管理局铁东分局"}


def test_a_bureau_sees_its_own_figures(app, people, two_years):
    city, tiexi = reports.yearly(2026), reports.yearly(2026, people["tiexi"].bureau_id)
    start, end = _year_bounds(2026)
    mine = db.session.scalar(select(func.count()).where(Case.received_at.between(start, end),
                                                        Case.bureau_id == people["tiexi"].bureau_id))
    assert line(tiexi.indicators, "received").current == mine < line(city.indicators, "received").current
    assert tiexi.bureau_name == "鞍山市市场监督管理局铁西分局" and tiexi.by_bureau == []


# --- hotline report ----------------------------------------------------------------------------------

def run(app, *args):
    return app.test_cli_runner().invoke(args=["report", *args])


def test_cli_prints_each_format(app, two_years):
    md = run(app, "--year", "2026")
    assert md.exit_code == 0, md.output
    assert md.output.startswith("# 鞍山市12315投诉举报热线2026年度统计报告")
    for heading in ("一、总体情况", "二、受理登记情况", "三、办理结果", "四、办理时效与消费者满意度",
                    "五、消费警示与短信服务", "六、各承办单位情况", "七、说明"):
        assert f"## {heading}" in md.output
    assert "| 投诉 | 7 | 2 | +5 | 250.0% | 53.8% |" in md.output  # 6 + the one transferred out; 2025: 2
    html = run(app, "--year", "2026", "--format", "html")
    assert html.exit_code == 0 and html.output.startswith("<!doctype html>")
    assert "<style>" in html.output and "Noto Sans CJK SC" in html.output and "一、总体情况" in html.output
    raw = run(app, "--year", "2026", "--format", "csv")
    assert raw.exit_code == 0 and raw.stdout_bytes.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.stdout_bytes.decode("utf-8-sig"))))
    assert rows[0] == ["鞍山市12315投诉举报热线2026年度统计报告"]
    kinds = rows.index(["一、总体情况 · 主要指标"])
    assert rows[kinds + 1][:3] == ["指标", "2026年", "2025年"]
    assert rows[kinds + 2][:5] == ["登记总量（件）", "13", "4", "+9", "225.0%"]


def test_cli_writes_files_for_a_comma_list(app, tmp_path):
    result = run(app, "--year", "2026", "--format", "md, CSV,html,md", "--output", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["hotline-report-2026.csv", "hotline-report-2026.html", "hotline-report-2026.md"]
    written = [str(tmp_path / "out" / f"hotline-report-2026.{ext}") for ext in ("md", "csv", "html")]
    assert result.output.split() == written
    assert (tmp_path / "out" / "hotline-report-2026.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    one = run(app, "--year", "2026", "--format", "md", "--output", str(tmp_path))
    assert one.exit_code == 0 and (tmp_path / "hotline-report-2026.md").exists()


def test_cli_a_year_without_data_prints_zeros(app):
    result = run(app, "--year", "2031")
    assert result.exit_code == 0, result.output
    assert "2031年，共登记消费者诉求0件，上年无可比数据" in result.output
    assert "| 按时受理率 | – | – | – |  |" in result.output


@pytest.mark.parametrize("args", [["--year", "abc"], ["--year", "1999"], ["--year", "2026", "--format", "pdf"],
                                  ["--year", "2026", "--format", ","], []])
def test_cli_bad_input_is_a_usage_error(app, args):
    result = run(app, *args)
    assert result.exit_code == 2 and "Usage:" in result.output and "Traceback" not in result.output


def test_cli_counts_what_changed_since_the_last_refresh(app, people):
    new(people, date(2026, 3, 3))  # not drained: the command counts it itself
    result = run(app, "--year", "2026", "--format", "csv")
    assert "登记总量（件）,1,0,+1,–" in result.output


# --- the pages --------------------------------------------------------------------------------------

def test_report_pages_for_each_role(app, client, login, make_user, people, three_months):
    assert client.get("/stats/reports/monthly").status_code == 302  # to the log-in
    for user in (make_user("operator"), make_user("station", station="ST-TD-01")):
        other = app.test_client()
        login(other, user)
        for url in ("/stats/reports/monthly", "/stats/reports/year", "/stats/reports/monthly/kind.csv?month=2026-09",
                    "/stats/reports/year?year=2026&format=md"):
            assert other.get(url).status_code == 403, (user.role, url)
    login(client, people["supervisor"])
    page = client.get("/stats/reports/monthly?month=2026-09")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "2026年9月统计月报" in text and "手机" in text and "G0101" not in text and "商店tiexi" in text
    bureau = app.test_client()
    login(bureau, people["tiedong"])
    mine = bureau.get("/stats/reports/monthly?month=2026-09").get_data(as_text=True)
    assert "铁东分局2026年9月统计月报" in mine and "商店tiexi" not in mine
    assert bureau.get("/stats/reports/year?year=2026").status_code == 200


def test_monthly_page_bad_month_and_exports(app, client, login, people, three_months):
    login(client, people["supervisor"])
    for bad in ("abc", "2026-13", "2026-9-1", "1999-12", "2026-00"):
        response = client.get(f"/stats/reports/monthly?month={bad}")
        assert response.status_code == 400 and "2026-10" in response.get_data(as_text=True)
    assert client.get("/stats/reports/monthly").status_code == 200  # the previous month by default
    exported = client.get("/stats/reports/monthly/kind.csv?month=2026-09")
    assert exported.status_code == 200 and exported.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(exported.data.decode("utf-8-sig"))))
    assert rows[0][0] == "类型" and ["投诉", "3", "1", "+2", "200.0%", "2", "+1", "50.0%"] in rows
    xlsx = client.get("/stats/reports/monthly/businesses.xlsx?month=2026-09")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    assert client.get("/stats/reports/monthly/nothing.csv?month=2026-09").status_code == 404
    assert client.get("/stats/reports/monthly/kind.pdf?month=2026-09").status_code == 404
    assert client.get("/stats/reports/monthly/kind.csv?month=nope").status_code == 400


def test_year_page_downloads_and_bad_year(app, client, login, people, three_months):
    login(client, people["supervisor"])
    page = client.get("/stats/reports/year?year=2026")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    nonce = re.search(r'<style nonce="([^"]+)">', text)[1]
    assert f"'nonce-{nonce}'" in page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert "一、总体情况" in text and "format=md" in text and "format=csv" in text
    md = client.get("/stats/reports/year?year=2026&format=md")
    assert md.status_code == 200 and md.mimetype == "text/markdown"
    assert "hotline-report-2026.md" in md.headers["Content-Disposition"]
    assert md.get_data(as_text=True).startswith("# 鞍山市12315投诉举报热线2026年度统计报告")
    assert client.get("/stats/reports/year?year=2026&format=csv").data.startswith(b"\xef\xbb\xbf")
    for bad in ("abc", "1999", "99999", "2026.5"):
        response = client.get(f"/stats/reports/year?year={bad}")
        assert response.status_code == 400 and "四位数年份" in response.get_data(as_text=True)
    assert client.get("/stats/reports/year?year=2026&format=pdf").status_code == 400


def test_year_renders_in_english_too(app, two_years):
    with app.test_request_context():
        from flask_babel import force_locale
        with force_locale("en"):
            text = render_year(reports.yearly(2026), "md")
    assert text.startswith("# 鞍山市 12315 hotline: statistical report for 2026")
    assert "## I. Overview" in text and "On-time decision rate" in text
