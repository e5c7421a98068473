"""The rollups' core: pure cells, range splitting, marking on change, idempotent recounts, the CLI."""
import itertools
from collections import Counter
from datetime import date, timedelta

from sqlalchemy import func, select

from hotline.cases.business_keys import business_key
from hotline.cases.models import Case
from hotline.extensions import db
from hotline.stats import cells, queries
from hotline.stats.facts import Facts
from hotline.stats.models import StatCase, StatDay, StatDirty, StatMonth, StatOpen
from hotline.stats.refresh import drain, mark_dirty, rebuild, refresh


def facts(**over) -> Facts:
    base = dict(received_day=date(2026, 3, 31), bureau_id=2, kind="complaint", channel="phone", category="G0101",
                online=True, status="closed", overdue=False, decided_day=date(2026, 4, 1), decided_on_time=True,
                closed_day=date(2026, 4, 20), outcome="mediated", closed_timed=True, closed_on_time=False,
                recovered=12_345, rated_day=date(2026, 4, 22), rating_bureau_id=2, score=5, accepted=True,
                business_key="u:X", business_name="X", returns=[["2026-03-31", 3]], extensions=[])
    base.update(over)
    return Facts(**base)


def test_cells_of_a_settled_complaint():
    c = cells.cells_of(facts())
    day = {key: dict(zip(cells.DAY_MEASURES, v, strict=True)) for (table, key), v in c.items() if table == "day"}
    assert day[(date(2026, 3, 31), 2, "complaint", "phone", "G0101", "")]["received"] == 1
    assert day[(date(2026, 3, 31), 2, "complaint", "phone", "G0101", "")]["online"] == 1
    assert day[(date(2026, 3, 31), 3, "complaint", "phone", "G0101", "")]["returned"] == 1  # the returning bureau
    closed = day[(date(2026, 4, 20), 2, "complaint", "phone", "G0101", "mediated")]
    assert [closed[m] for m in ("closed", "closed_timed", "closed_on_time", "recovered")] == [1, 1, 0, 12_345]
    assert day[(date(2026, 4, 22), 2, "complaint", "phone", "G0101", "")]["satisfied"] == 1
    assert not any(table == "open" for table, _ in c)  # closed: not in the queue
    business = {key: v for (table, key), v in c.items() if table == "business"}
    assert set(business) == {(date(2026, 3, 1), b, k, "u:X") for b in (2, 0) for k in ("complaint", "")}
    assert all(v == [1, 1, 1, 1, 1] for v in business.values())


def test_unrouted_case_counts_once_at_the_all_bureaus_level():
    c = cells.cells_of(facts(bureau_id=0, status="triage", closed_day=None, outcome=None, rated_day=None))
    assert len([1 for table, _ in c if table == "business"]) == 2
    assert c[("open", (0, "complaint", "phone", "G0101", "triage"))] == [1, 0]


def test_difference_of_equal_facts_is_nothing_and_months_follow_days():
    assert not cells.with_months(cells.difference(facts(), facts()))
    tables = cells.with_months(cells.difference(None, facts()))
    march = tables["month"][(date(2026, 3, 1), 2, "complaint", "phone", "G0101", "")]
    assert march[cells.DAY_MEASURES.index("received")] == 1


def test_declined_and_withdrawn_do_not_count_against_the_business():
    for outcome in ("declined", "withdrawn"):
        made = cells.cells_of(facts(outcome=outcome, accepted=False))
        business = [v for (t, _), v in made.items() if t == "business"]
        assert all(v[1] == 0 for v in business)


def test_cover_range_reads_a_mostly_covered_month_as_the_month_minus_its_other_days():
    d = date
    # The dashboard's default on 26 November: 4 days of October, and November minus the days to come
    cover = queries.cover_range(d(2026, 10, 28), d(2026, 11, 26))
    assert cover == queries.Cover([(d(2026, 10, 28), d(2026, 10, 31))], [(d(2026, 11, 27), d(2026, 11, 30))],
                                  (d(2026, 11, 1), d(2026, 11, 1)))
    # This year to date: whole months only, minus the rest of November
    cover = queries.cover_range(d(2026, 1, 1), d(2026, 11, 26))
    assert (cover.add, cover.subtract, cover.months) == ([], [(d(2026, 11, 27), d(2026, 11, 30))],
                                                          (d(2026, 1, 1), d(2026, 11, 1)))
    # Inside one month: the cheaper side, both ends subtracted when the range is most of the month
    assert queries.cover_range(d(2026, 2, 3), d(2026, 2, 5)).add == [(d(2026, 2, 3), d(2026, 2, 5))]
    cover = queries.cover_range(d(2026, 3, 2), d(2026, 3, 30))
    assert (cover.add, cover.subtract, cover.months) == ([], [(d(2026, 3, 1), d(2026, 3, 1)),
                                                              (d(2026, 3, 31), d(2026, 3, 31))],
                                                          (d(2026, 3, 1), d(2026, 3, 1)))
    # Every day of a span is counted once: add + months − subtract covers exactly [start, end]

    for start, length in itertools.product((d(2025, 12, 20), d(2026, 1, 1), d(2026, 2, 15)), (1, 10, 30, 45, 400)):
        end = start + timedelta(days=length - 1)
        cover = queries.cover_range(start, end)
        days = Counter()
        for a, b in cover.add:
            days.update(a + timedelta(days=i) for i in range((b - a).days + 1))
        if cover.months:
            step = cover.months[0]
            while step <= cover.months[1]:
                following = queries.next_month(step)
                days.update(step + timedelta(days=i) for i in range((following - step).days))
                step = following
        for a, b in cover.subtract:
            days.subtract(a + timedelta(days=i) for i in range((b - a).days + 1))
        assert {day: n for day, n in days.items() if n} == dict.fromkeys(
            (start + timedelta(days=i) for i in range(length)), 1), (start, end)


def test_split_range_into_days_and_whole_months():
    assert queries.split_range(date(2026, 1, 15), date(2026, 4, 10)) == (
        [(date(2026, 1, 15), date(2026, 1, 31)), (date(2026, 4, 1), date(2026, 4, 10))],
        (date(2026, 2, 1), date(2026, 3, 1)))
    assert queries.split_range(date(2026, 2, 1), date(2026, 2, 28)) == ([], (date(2026, 2, 1), date(2026, 2, 1)))
    assert queries.split_range(date(2026, 2, 3), date(2026, 2, 5)) == ([(date(2026, 2, 3), date(2026, 2, 5))], None)
    assert queries.split_range(date(2025, 12, 31), date(2026, 1, 1)) == ([(date(2025, 12, 31), date(2026, 1, 1))], None)


def test_business_key_joins_spellings():
    assert business_key(None, "鞍山 聚福（电子）商务") == business_key(None, "鞍山聚福(电子)商务")
    assert business_key(" 91210300mA0u ", "whatever") == "u:91210300MA0U"
    assert business_key(None, " ·· ") is None


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_change_marks_the_case_and_a_recount_is_idempotent(make_case):
    registered = make_case()
    case = registered.case if hasattr(registered, "case") else registered
    assert db.session.scalar(select(StatDirty.case_id)) == case.id  # marked in the case's own transaction
    assert drain() == 1 and _count(StatDirty) == 0
    day_rows = db.session.execute(select(StatDay)).scalars().all()
    assert sum(row.received for row in day_rows) == 1
    assert sum(row.open for row in db.session.scalars(select(StatOpen))) == 1
    before = [(r.day, r.received) for r in db.session.scalars(select(StatDay))]
    for _ in range(3):  # every job twice, and more: no second effect
        refresh([case.id])
        mark_dirty([case.id])
        db.session.commit()
        drain()
    assert [(r.day, r.received) for r in db.session.scalars(select(StatDay))] == before
    assert db.session.get(StatCase, case.id).counted


def test_rebuild_gives_the_same_rollups(make_case):
    for _ in range(3):
        make_case()
    drain()
    snapshot = sorted((r.month, r.kind, r.received) for r in db.session.scalars(select(StatMonth)))
    assert rebuild() == 3
    assert sorted((r.month, r.kind, r.received) for r in db.session.scalars(select(StatMonth))) == snapshot
    assert rebuild(date(2000, 1, 1)) == 0  # nothing changed behind the app's back


def test_rebuild_from_counts_rows_written_behind_the_apps_back(make_case):
    make_case()
    drain()
    db.session.execute(StatCase.__table__.delete())
    db.session.execute(StatDay.__table__.delete())
    db.session.execute(StatMonth.__table__.delete())
    db.session.execute(StatOpen.__table__.delete())
    db.session.commit()
    assert rebuild(date(2000, 1, 1)) == 1
    assert sum(r.received for r in db.session.scalars(select(StatDay))) == 1


def test_cli_rebuild_and_refresh(app, make_case):
    make_case()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["stats", "refresh"])
    assert result.exit_code == 0 and "1 cases recounted" in result.output
    result = runner.invoke(args=["stats", "rebuild"])
    assert result.exit_code == 0 and "1 cases counted" in result.output
    result = runner.invoke(args=["stats", "rebuild", "--from", "not-a-date"])
    assert result.exit_code == 2
    assert db.session.scalar(select(func.count(Case.id))) == 1
