"""The set-based rebuild on PostgreSQL (hotline/stats/rebuild_pg.py) writes exactly the rows the Python
rebuild writes (the path SQLite takes), for cases in every state, made with the app's own operations."""
import json
import random
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select, text
from stdnum.cn import uscc

from hotline.cases.actions import ActionInput, take_action
from hotline.cases.models import Case
from hotline.cases.operations import register_case
from hotline.cases.schemas import parse_case
from hotline.deadlines.sweep import sweep
from hotline.extensions import db
from hotline.outbox.relay import run_pending
from hotline.portal.ratings import rate_case
from hotline.reference.models import Bureau
from hotline.stats import rebuild_pg, refresh
from hotline.stats.models import (
    StatBusinessMonth,
    StatCase,
    StatDay,
    StatDayBureauCategories,
    StatDayCategories,
    StatDayTotals,
    StatDirty,
    StatMonth,
    StatMonthBureauCategories,
    StatMonthCategories,
    StatMonthTotals,
    StatOpen,
)
from hotline.types import utcnow

pytestmark = pytest.mark.postgres
TABLES = (StatCase, StatDay, StatMonth, StatDayTotals, StatMonthTotals, StatDayCategories, StatMonthCategories,
          StatDayBureauCategories, StatMonthBureauCategories, StatOpen, StatBusinessMonth)
CASES = 240

# Addresses that route to a bureau (district, development-zone keyword), and some outside the city: triage.
ADDRESSES = ("辽宁省鞍山市铁西区兴盛街道人民路88号", "辽宁省鞍山市铁东区园林街道胜利路12号",
             "辽宁省鞍山市立山区曙光路5号", "辽宁省鞍山市高新区越岭路10号", "辽宁省海城市东四道街3号",
             "辽宁省鞍山市千山区千山中路7号", "辽宁省沈阳市和平区太原北街1号")
CATEGORIES = ({"goods": "G0101"}, {"goods": "G0201", "service": "S0501"}, {"service": "S1302"},
              {"goods": "G0301"}, {})


@pytest.fixture
def pg(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("runs in the PostgreSQL pass (HOTLINE_TEST_DATABASE_URL)")
    return app


def a_uscc(rng: random.Random) -> str:
    """A code that passes GB 32100, with the GB 11714 organisation code inside it."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = "MA" + "".join(rng.choice(alphabet) for _ in range(6))
    values = [int(c) if c.isdigit() else ord(c) - 55 for c in body]
    check = 11 - sum(v * w for v, w in zip(values, (3, 7, 9, 10, 5, 8, 4, 2), strict=True)) % 11
    head = "91210302" + body + {10: "X", 11: "0"}.get(check, str(check))
    return head + uscc.calc_check_digit(head)


def businesses(rng: random.Random) -> list[dict]:
    """One spelling per business: the Python rebuild names a business after whichever of its cases it
    happens to load last, so two spellings of one key would make the comparison depend on row order."""
    pool = [{"name": f"鞍山测试商店{i}"} for i in range(12)]
    pool += [{"name": f"鞍山测试有限公司{i}", "uscc": a_uscc(rng)} for i in range(6)]
    pool += [{"name": f"网店{i}", "platform": "淘宝", "shop": f"网店{i}旗舰店"} for i in range(4)]
    return pool


def payload(rng: random.Random, kind: str, pool: list[dict]) -> dict:
    received = utcnow() - timedelta(days=rng.uniform(0, 300))  # Order 20 and Order 121 cases
    body = {"kind": kind, "channel": rng.choice(("phone", "web", "national_platform", "walk_in", "letter")),
            "received_at": received.isoformat(), "consumer": {"name": "张三", "phone": "13900001111"},
            "category": rng.choice(CATEGORIES), "subject": "测试", "description": "测试。"}
    if kind in ("complaint", "report") or rng.random() < 0.5:  # a consultation often names no business
        business = dict(rng.choice(pool))
        business["address"] = rng.choice(ADDRESSES)
        body["business"] = business
    if kind == "complaint":
        body["amount"] = str(rng.randint(50, 5000))
    return body


class Workload:
    """Random histories through the workflow, taken with `take_action` as the pages and the API take them."""

    def __init__(self, rng: random.Random, make_user):
        self.rng = rng
        self.operator = make_user("operator")
        self.supervisor = make_user("supervisor")
        self.handlers = {code: make_user("bureau", bureau=code) for code in db.session.scalars(select(Bureau.code))}
        self.codes = sorted(self.handlers)

    def act(self, case: Case, action: str, user=None, **fields) -> None:
        if user is None:
            user = self.handlers[case.bureau.code] if case.bureau else self.supervisor
        take_action(case, user, ActionInput(action=action, **fields))
        db.session.commit()

    def complaint(self, case: Case) -> None:
        roll = self.rng.random()
        if case.status == "triage":
            if roll < 0.3:
                self.act(case, "transfer_out", receiver="沈阳市12315")
                return
            self.act(case, "assign", bureau=self.rng.choice(self.codes))
        elif roll < 0.12:  # 退单 and re-assigned by the centre
            self.act(case, "return_to_centre", reason="不属本辖区")
            if self.rng.random() < 0.7:
                self.act(case, "assign", bureau=self.rng.choice(self.codes))
        roll = self.rng.random()
        if case.status != "pending" or roll < 0.15:
            return  # still waiting for the decision (late ones go overdue)
        if roll < 0.25:
            self.act(case, "decline", reason="D01")
        elif roll < 0.32:
            self.act(case, "withdraw", user=self.operator)
        else:
            self.act(case, "accept")
            roll = self.rng.random()
            if roll < 0.5:
                self.act(case, "settle", recovered_amount=f"{self.rng.randint(1, 90)}.{self.rng.randint(0, 99):02d}",
                         confirm=True)
            elif roll < 0.65:
                self.act(case, "terminate", reason="T01")
            elif roll < 0.75:
                self.act(case, "suspend", reason="testing")

    def report(self, case: Case) -> None:
        if case.status == "triage":
            self.act(case, "assign", bureau=self.rng.choice(self.codes))
        roll = self.rng.random()
        if roll < 0.15:
            return
        if roll < 0.25:
            self.act(case, "decline", reason="R01")
            return
        if self.rng.random() < 0.4:  # 延期申请, approved or still waiting
            self.act(case, "request_extension", reason="案情复杂")
            if self.rng.random() < 0.5:
                self.act(case, "approve_extension", user=self.supervisor)
        self.act(case, "start_verification")
        roll = self.rng.random()
        if roll < 0.4:
            self.act(case, "file_case")
        elif roll < 0.7:
            self.act(case, "no_case", reason="N01")

    def enquiry(self, case: Case) -> None:
        roll = self.rng.random()
        if roll < 0.7:
            self.act(case, "answer", user=self.operator, reason="已答复。")
        elif roll < 0.8:
            self.act(case, "withdraw", user=self.operator)

    def run(self, n: int) -> None:
        pool = businesses(self.rng)
        kinds = self.rng.choices(("complaint", "report", "consultation", "suggestion"), (55, 15, 22, 8), k=n)
        for kind in kinds:
            register_case(parse_case(payload(self.rng, kind, pool)), self.operator)
            db.session.commit()
        while run_pending():  # routing
            pass
        for case in db.session.scalars(select(Case).order_by(Case.id)).all():
            {"complaint": self.complaint, "report": self.report}.get(case.kind, self.enquiry)(case)
        for case in db.session.scalars(select(Case).where(Case.status == "closed").order_by(Case.id)).all():
            if self.rng.random() < 0.6:  # 一事一评, on a later day
                rate_case(case, self.rng.randint(1, 5), None, None,
                          now=min(utcnow(), case.closed_at + timedelta(days=self.rng.uniform(0, 3))))
                db.session.commit()
        sweep()  # late decisions make cases overdue
        db.session.commit()


def snapshot() -> dict[str, list[tuple]]:
    """Every row of every statistics table, sorted; lists (returns, extensions) as JSON text."""
    db.session.expire_all()
    return {model.__tablename__: sorted((tuple(json.dumps(v) if isinstance(v, list) else v for v in row)
                                         for row in db.session.execute(select(model.__table__))), key=repr)
            for model in TABLES}


def python_rebuild(monkeypatch) -> int:
    """The Python path of `refresh.rebuild()`, the one SQLite takes."""
    with monkeypatch.context() as patch:
        patch.setattr(refresh, "_is_postgres", lambda: False)
        return refresh.rebuild()


def assert_same_rows(expected: dict, got: dict) -> None:
    for table, rows in expected.items():
        assert rows, f"{table}: no rows"
        missing, extra = sorted(set(rows) - set(got[table]), key=repr), sorted(set(got[table]) - set(rows), key=repr)
        assert (missing, extra) == ([], []), f"{table}: rows of the Python rebuild only / of the SQL one only"
        assert got[table] == rows, table  # duplicates too


def damage() -> None:
    """Figures gone wrong in every way a merge must repair: changed, missing and stray rows."""
    for statement in ("UPDATE stat_day SET received = received + 7 WHERE day = (SELECT max(day) FROM stat_day)",
                      "DELETE FROM stat_month WHERE month = (SELECT min(month) FROM stat_month)",
                      "INSERT INTO stat_open (bureau_id, kind, channel, category, status, open, overdue) "
                      "VALUES (0, 'complaint', 'letter', 'X99', 'pending', 5, 5)",
                      "UPDATE stat_business_month SET business_name = 'wrong' WHERE kind = ''",
                      "UPDATE stat_day_totals SET closed = closed + 1",
                      "DELETE FROM stat_month_totals WHERE month = (SELECT max(month) FROM stat_month_totals)",
                      "INSERT INTO stat_day_categories (day, kind, category, outcome, received) "
                      "VALUES ('2001-01-01', 'complaint', 'X99', '', 3)",
                      "UPDATE stat_month_categories SET recovered = recovered + 100",
                      "UPDATE stat_day_bureau_categories SET rated = rated + 1",
                      "DELETE FROM stat_month_bureau_categories WHERE month = "
                      "(SELECT min(month) FROM stat_month_bureau_categories)",
                      """UPDATE stat_case SET returns = '[["2020-01-01", 1]]', extensions = '[]', score = NULL
                         WHERE case_id = (SELECT min(case_id) FROM stat_case)"""):
        db.session.execute(text(statement))
    db.session.commit()


def test_sql_rebuild_writes_the_rows_of_the_python_rebuild(pg, make_user, monkeypatch):
    Workload(random.Random(11), make_user).run(CASES)
    cases = db.session.scalar(select(func.count()).select_from(Case))

    assert python_rebuild(monkeypatch) == cases
    expected = snapshot()
    assert refresh.rebuild() == cases  # PostgreSQL: rebuild_pg, merging into the Python rebuild's rows
    assert_same_rows(expected, snapshot())
    damage()
    assert all(snapshot()[table] != rows for table, rows in expected.items())
    assert refresh.rebuild() == cases
    assert_same_rows(expected, snapshot())
    for model in TABLES:  # empty: the first count fills the tables directly
        db.session.execute(delete(model))
    db.session.commit()
    assert refresh.rebuild() == cases
    got = snapshot()
    assert_same_rows(expected, got)
    assert db.session.scalar(select(func.count()).select_from(StatDirty)) == 0
    assert len(got["stat_case"]) == cases

    # The workload reached every state the definitions distinguish.
    facts = db.session.execute(select(StatCase)).scalars().all()
    assert {f.outcome for f in facts} >= {None, "mediated", "terminated", "declined", "withdrawn", "transferred",
                                          "case_filed", "no_case", "answered"}
    assert {f.status for f in facts} >= {"pending", "triage", "accepted", "suspended", "verifying", "closed"}
    assert any(f.returns for f in facts) and any(f.extensions for f in facts)
    assert any(f.overdue for f in facts) and any(f.online for f in facts) and any(f.recovered for f in facts)
    assert any(f.score for f in facts) and any(f.decided_day and not f.decided_on_time for f in facts)
    assert any(f.bureau_id == 0 and f.business_key for f in facts)  # (0, kind) business cells counted once
    assert {(f.business_key or "")[:2] for f in facts} == {"u:", "n:", ""}


def test_a_change_after_the_rebuild_is_counted_by_the_next_drain(pg, make_user, make_case, monkeypatch):
    operator = make_user("operator")
    first, second = make_case(operator).case, make_case(operator).case
    run_pending()
    assert refresh.rebuild() == 2
    rebuilt = snapshot()
    assert refresh.drain() == 0  # the rebuild cleared the marks of what it counted

    take_action(db.session.get(Case, second.id), operator, ActionInput(action="withdraw"))
    db.session.commit()
    assert refresh.drain() == 1
    counted_live = snapshot()
    assert counted_live != rebuilt
    assert refresh.rebuild() == 2
    assert snapshot() == counted_live
    assert python_rebuild(monkeypatch) == 2
    assert snapshot() == counted_live
    assert {first.id, second.id} == set(db.session.scalars(select(StatCase.case_id)))


def test_a_business_is_named_by_its_latest_spelling(pg, make_user, make_case):
    operator = make_user("operator")
    for name in ("鞍山 测试商店", "鞍山测试商店", "ＡＢＣ鞍山测试商店"):
        make_case(operator, business={"name": name, "address": ADDRESSES[0]})
    refresh.rebuild()
    names = {row.business_key: row.business_name for row in db.session.scalars(select(StatBusinessMonth))}
    assert names == {"n:鞍山测试商店": "鞍山测试商店", "n:abc鞍山测试商店": "ＡＢＣ鞍山测试商店"}


def rebuild_locks_held() -> int:
    with db.engine.connect() as conn:
        return conn.execute(text("""SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted
            AND objid = :key AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"""),
                            {"key": refresh.REBUILD_LOCK}).scalar()


def test_a_rebuild_leaves_no_lock_behind_on_a_pooled_connection(pg, make_user, make_case):
    """With two idle connections in the pool, a session lock taken on one was 'released' on the other:
    the first kept it, and every later rebuild waited for ever while every drain did nothing."""
    operator = make_user("operator")
    case_id = make_case(operator).case.id
    db.session.remove()
    first, second = db.engine.connect(), db.engine.connect()
    first.close(), second.close()
    assert refresh.rebuild() == 1
    assert rebuild_locks_held() == 0
    refresh.mark_dirty([case_id])
    db.session.commit()
    assert refresh.drain() == 1  # not locked out
    assert refresh.rebuild() == 1  # not waiting for a lock left behind


def test_a_failed_rebuild_releases_its_lock_and_changes_nothing(pg, make_user, make_case, monkeypatch):
    make_case(make_user("operator"))
    refresh.rebuild()
    before = snapshot()

    def fail(*_args):
        db.session.execute(text("DELETE FROM stat_day"))
        raise RuntimeError("disk full")
    monkeypatch.setattr(rebuild_pg, "_rebuild", fail)
    with pytest.raises(RuntimeError):
        refresh.rebuild()
    assert rebuild_locks_held() == 0
    assert snapshot() == before
