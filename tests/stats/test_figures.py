"""The drill-down's SQL (hotline/stats/figures.py) counts what the rollups count: a few dozen cases in
varied states, made and moved with the app's own operations, then each figure compared for several
filters. (tests/stats/test_agreement.py checks the rollups against an independent count at scale.)"""
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from hotline.cases.actions import ActionInput, take_action
from hotline.cases.models import Case
from hotline.cases.operations import register_case
from hotline.cases.schemas import parse_case
from hotline.deadlines.sweep import sweep
from hotline.extensions import db
from hotline.outbox.relay import run_pending
from hotline.portal.ratings import rate_case
from hotline.reference.models import Bureau
from hotline.stats import figures, queries
from hotline.stats.cells import DAY_MEASURES
from hotline.stats.queries import Filters
from hotline.stats.refresh import drain
from tests.conftest import complaint_payload

SHANGHAI = ZoneInfo("Asia/Shanghai")
ADDRESS = {"tiexi": "辽宁省鞍山市铁西区兴盛街道人民路88号", "tiedong": "辽宁省鞍山市铁东区园林路12号",
           "lishan": "辽宁省鞍山市立山区胜利北路5号", "outside": "北京市朝阳区建国路1号"}
RANGED = [name for name, f in figures.FIGURES.items() if f.ranged]


def received(days_ago: int) -> str:
    """Local noon `days_ago` days ago: far from midnight, so the local day is unambiguous."""
    day = queries.today() - timedelta(days=days_ago)
    at = datetime.combine(day, time(12), tzinfo=SHANGHAI)
    return min(at, datetime.now(SHANGHAI) - timedelta(seconds=2)).isoformat()  # today: not in the future


@pytest.fixture
def people(make_user):
    return {"operator": make_user("operator"), "supervisor": make_user("supervisor"),
            **{code: make_user("bureau", bureau=code) for code in ("tiexi", "tiedong", "lishan")}}


def act(case, user, action, **data):
    take_action(case, user, ActionInput(action=action, **data))
    db.session.commit()


def new(people, days_ago, where="tiexi", **over):
    over.setdefault("business", {"name": f"商店{where}", "address": ADDRESS[where]})
    payload = complaint_payload(received_at=received(days_ago), occurred_on=None, **over)
    case = register_case(parse_case(payload), people["operator"]).case
    db.session.commit()
    run_pending()  # the routing job
    db.session.refresh(case)
    return case


@pytest.fixture
def scenario(people):
    """About forty cases over the last ten weeks, in every state the figures distinguish."""
    made = []
    for i, days_ago in enumerate((0, 0, 1, 3, 9, 20, 28, 29, 30, 31, 45, 70)):
        where = ("tiexi", "tiedong", "lishan")[i % 3]
        handler = people[where]
        goods = ("G0101", "G0201", "G0301")[i % 3]
        platform = {"platform": "淘宝"} if i % 4 == 0 else {}
        channel = ("phone", "web", "letter")[i % 3]
        settled = new(people, days_ago, where, channel=channel, category={"goods": goods},
                      business={"name": f"店{i % 5}", "address": ADDRESS[where], **platform})
        act(settled, handler, "accept")
        act(settled, handler, "settle", recovered_amount=str(Decimal(10 * i)), note="和解")
        if i % 2 == 0:
            rate_case(settled, 5 - i % 5, None, None)
            db.session.commit()
        made.append(settled)
        pending = new(people, days_ago, where, channel=channel, category={"service": "S0101"})
        made.append(pending)  # waits: goes overdue by the sweep when old enough
        if i % 3 == 0:
            declined = new(people, days_ago, where, kind="complaint")
            act(declined, handler, "decline", reason="D01")
            made.append(declined)
        if i % 4 == 1:
            ended = new(people, days_ago, where)
            act(ended, handler, "accept")
            act(ended, handler, "terminate", reason="T01")
            rate_case(ended, 2, "没解决", True)
            db.session.commit()
            made.append(ended)
        if i % 4 == 2:
            returned = new(people, days_ago, where)
            act(returned, handler, "return_to_centre", reason="不属本辖区")
            act(returned, people["supervisor"], "assign", bureau="lishan" if where != "lishan" else "tiexi")
            made.append(returned)
        if i % 3 == 1:
            report = new(people, days_ago, where, kind="report")
            act(report, handler, "start_verification")
            act(report, handler, "request_extension", reason="需调取银行流水")
            if i % 2:
                act(report, people["supervisor"], "approve_extension")
                act(report, handler, "file_case")
            made.append(report)
    outside = new(people, 2, "outside")  # triage: no bureau
    act(outside, people["supervisor"], "transfer_out", receiver="北京市12315")
    waiting = new(people, 5, "outside")
    withdrawn = new(people, 4, "tiexi")
    act(withdrawn, people["operator"], "withdraw")
    answered = new(people, 0, "tiexi", kind="consultation", answer="已答复")
    made += [outside, waiting, withdrawn, answered]
    sweep()
    db.session.commit()
    drain()
    return made


def rollup(name: str, f: Filters) -> int:
    """The figure as the dashboard reads it from the rollups."""
    if name in DAY_MEASURES:
        return queries.totals(f).total[name]
    if name in ("mediated", "mediation_ended"):
        return getattr(queries.totals(f).total, name)
    if name in figures.OUTCOME_FIGURES:
        return queries.totals(f).by["outcome"].get(name, {"closed": 0})["closed"]
    backlog = queries.backlog(f)
    return {"open": backlog.open, "overdue": backlog.overdue, "due_soon": queries.due_soon(f),
            "extensions_waiting": queries.extensions_waiting(f)}[name]


def filters_to_check() -> list[Filters]:
    today = queries.today()
    ids = dict(db.session.execute(select(Bureau.code, Bureau.id)).all())
    month = today.replace(day=1)
    last_month = (month - timedelta(days=1)).replace(day=1)
    return [Filters(today - timedelta(days=29), today), Filters(today, today),
            Filters(today - timedelta(days=100), today), Filters(last_month, month - timedelta(days=1)),
            Filters(today - timedelta(days=29), today, bureau_id=ids["tiexi"]),
            Filters(today - timedelta(days=60), today, bureau_id=ids["lishan"], kind="complaint"),
            Filters(today - timedelta(days=60), today, bureau_id=0),
            Filters(today - timedelta(days=60), today, channel="web"),
            Filters(today - timedelta(days=60), today, category="G01"),
            Filters(today - timedelta(days=60), today, category="G0201", kind="complaint"),
            Filters(today - timedelta(days=60), today, kind="report")]


def test_each_figure_counts_what_the_rollups_count(scenario):
    checked = 0
    for f in filters_to_check():
        for name in figures.FIGURES:
            if name == "recovered":  # the rollup sums money; the cases behind it must add up to it
                cases = db.session.scalars(figures.cases_query(name, f)).all()
                assert sum(int(c.recovered_amount * 100) for c in cases) == queries.totals(f).total["recovered"], f
                assert all(c.recovered_amount > 0 for c in cases)
                continue
            assert (name, f, figures.count(name, f)) == (name, f, rollup(name, f))
            checked += 1
    assert checked > 200
    # the scenario reaches every figure somewhere, so that no comparison is 0 == 0 only
    wide = Filters(queries.today() - timedelta(days=100), queries.today())
    assert all(figures.count(name, wide) for name in figures.FIGURES if name != "due_soon"), \
        {name: figures.count(name, wide) for name in figures.FIGURES}


def test_the_list_holds_each_case_once_and_narrows_by_status(scenario):
    f = Filters(queries.today() - timedelta(days=100), queries.today())
    for name, figure in figures.FIGURES.items():
        ids = db.session.scalars(figures.cases_query(name, f).with_only_columns(Case.id)).all()
        assert len(ids) == len(set(ids)), name
        if figure.counts == "cases":
            assert len(ids) == figures.count(name, f), name
        else:  # returns and extension requests: a case may count more than once
            assert len(ids) <= figures.count(name, f), name
    # a table cell narrows its figure: the open queue by status
    for status, n in queries.backlog(f).by_status.items():
        assert figures.count("open", f, extra=[Case.status == status]) == n


def test_unknown_figure_is_refused():
    with pytest.raises(figures.UnknownFigure):
        figures.condition("everything", Filters(queries.today(), queries.today()))


def test_a_rating_counts_for_the_bureau_it_was_credited_to(people):
    case = new(people, 3, "tiexi")
    act(case, people["tiexi"], "accept")
    act(case, people["tiexi"], "settle", recovered_amount="5.00")
    rate_case(case, 4, None, None)
    db.session.commit()
    drain()
    ids = dict(db.session.execute(select(Bureau.code, Bureau.id)).all())
    today = queries.today()
    for code in ("tiexi", "tiedong"):
        f = Filters(today - timedelta(days=5), today, bureau_id=ids[code])
        assert figures.count("rated", f) == queries.totals(f).total["rated"] == (code == "tiexi")
