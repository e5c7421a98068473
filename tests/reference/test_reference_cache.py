"""Reference data cached per process (hotline/reference/cache.py): intake reads the rulebook, the calendar,
categories and stations from memory, and an administrator's change still applies to the next case, in
this process at once and in every other one within a second (issue #13)."""
from datetime import date

import pytest
from sqlalchemy import select, text

from hotline.deadlines.models import CalendarDay, CaseClock, DeadlineRule
from hotline.extensions import db
from hotline.reference import cache
from hotline.reference.models import Station
from tests.conftest import PASSWORD, complaint_payload, csrf_token


@pytest.fixture
def operator(make_user, token_for):
    return token_for(make_user("operator"))


def _intake(client, headers, **over):
    response = client.post("/api/v1/cases", json=complaint_payload(**over), headers=headers)
    return response


def _decision_length(number: str) -> int:
    from hotline.cases.models import Case
    db.session.expire_all()
    return db.session.scalar(select(CaseClock.length).join(Case, Case.id == CaseClock.case_id)
                             .where(Case.number == number))


def _shared_generation():
    return db.session.execute(text("SELECT last FROM case_number_counter WHERE day = :key"),
                              {"key": cache.GENERATION_KEY}).scalar()


def test_a_rule_an_administrator_changes_applies_to_the_next_case(client, operator, make_user):
    first = _intake(client, operator).get_json()["number"]
    assert _decision_length(first) == 7  # Order 121 art. 15; the rulebook is cached now
    before = _shared_generation()
    admin = make_user("admin")
    page = client.post("/login", data={"username": admin.username, "password": PASSWORD,
                                       "csrf_token": csrf_token(client)})
    assert page.status_code == 302
    rule = db.session.scalar(select(DeadlineRule).where(DeadlineRule.version == "order-121",
                                                        DeadlineRule.clock == "complaint_decision"))
    form = {"id": rule.id, "extension": rule.extension, "unit": rule.unit, "basis": rule.basis,
            **({"verified": "on"} if rule.verified else {})}
    try:
        saved = client.post("/admin/deadlines", data={**form, "length": 9, "csrf_token": csrf_token(client)})
        assert saved.status_code == 302
        second = _intake(client, operator).get_json()["number"]
        assert _decision_length(second) == 9
        # The change committed with a bump of the shared generation: what the other processes look at.
        assert (_shared_generation() or 0) > (before or 0)
    finally:  # the region pack's rows outlive the test: put the rule back as the pack has it
        client.post("/admin/deadlines", data={**form, "length": 7, "csrf_token": csrf_token(client)})
        db.session.expire_all()
        assert db.session.get(DeadlineRule, rule.id).length == 7


def test_an_uncommitted_change_is_seen_by_its_own_transaction(app, make_case):
    """An import recomputes the open clocks with the days it has just stored, before its commit."""
    from hotline.deadlines.operations import calendar_overrides
    make_case()  # the calendar is cached now
    db.session.add(CalendarDay(day=date(2026, 11, 27), kind="holiday", name="测试"))
    db.session.flush()
    assert calendar_overrides().get(date(2026, 11, 27)) == "holiday"
    db.session.rollback()
    assert date(2026, 11, 27) not in calendar_overrides()  # rolled back: the cached copy is right again


def test_another_process_change_is_seen_within_the_check_interval(app, monkeypatch):
    """Another process's commit bumps the generation row; this process looks at most once a second."""
    loads = []

    def load():
        loads.append(1)
        return len(loads)
    assert cache.cached("test-value", load) == 1
    assert cache.cached("test-value", load) == 1
    # As another process's admin commit would: only the shared row moves (it is no watched table here).
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO case_number_counter (day, last) VALUES (:key, 100) ON CONFLICT (day) "
                          "DO UPDATE SET last = case_number_counter.last + 1"), {"key": cache.GENERATION_KEY})
    monkeypatch.setattr(cache, "CHECK_SECONDS", 3600.0)
    db.session.rollback()
    assert cache.cached("test-value", load) == 1  # not looked yet: the copy stays within the interval
    monkeypatch.setattr(cache, "CHECK_SECONDS", 0.0)
    assert cache.cached("test-value", load) == 2
    assert cache.cached("test-value", load) == 2


def test_a_raw_sql_write_drops_this_process_copies(app, client, operator):
    code = db.session.scalar(select(Station.code).where(Station.active).order_by(Station.code).limit(1))
    assert _intake(client, operator, channel="station", station=code).status_code == 201
    with db.engine.begin() as conn:  # as a maintenance script would
        conn.execute(text("UPDATE station SET active = :off WHERE code = :code"), {"off": False, "code": code})
    try:
        refused = _intake(client, operator, channel="station", station=code)
        assert refused.status_code == 422 and "station" in refused.get_json()["error"]["fields"]
    finally:
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE station SET active = :on WHERE code = :code"), {"on": True, "code": code})
    assert _intake(client, operator, channel="station", station=code).status_code == 201


@pytest.mark.parametrize(("statement", "table"), [
    ("INSERT INTO deadline_rule (version) VALUES (1)", "deadline_rule"),
    ('DELETE FROM "calendar_day"', "calendar_day"),
    ("  update station SET active = false", "station"),
    ("TRUNCATE TABLE category", "category"),
    ("INSERT OR REPLACE INTO calendar_year VALUES (1)", "calendar_year"),
    ("SELECT * FROM deadline_rule", None),
    ('INSERT INTO "case" (category_goods) VALUES (1)', "case"),
])
def test_written_table(statement, table):
    assert cache.written_table(statement) == table
