"""Clocks on real cases: the rulebook in force on receipt, calendar imports, pauses, the sweep."""
import threading
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from hotline.cases.models import Case, CaseEvent
from hotline.deadlines.models import CaseClock, DeadlineRule, Notification
from hotline.deadlines.operations import import_calendar_days, mark_year_complete, parse_calendar_csv
from hotline.deadlines.sweep import sweep
from hotline.extensions import db
from hotline.outbox.relay import run_pending
from tests.conftest import complaint_payload


def clock_of(case, name="complaint_decision") -> CaseClock:
    db.session.expire_all()
    return db.session.scalar(select(CaseClock).where(CaseClock.case_id == case.id, CaseClock.clock == name))


def local_day(instant: datetime) -> date:
    """The last day of a period: its end (24:00 Shanghai) minus a moment."""
    return (instant - timedelta(seconds=1)).astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai")).date()


def test_worked_example_through_the_api(client, make_user, token_for):
    body = complaint_payload(received_at="2026-09-29T10:00:00+08:00", occurred_on="2026-09-01")
    response = client.post("/api/v1/cases", json=body, headers=token_for(make_user("operator")))
    due = response.get_json()["deadlines"][0]
    assert due["clock"] == "complaint_decision" and due["due"].startswith("2026-10-14T16:00")  # 24:00 Shanghai


def test_a_case_keeps_the_rules_in_force_on_the_day_it_was_received(make_case):
    db.session.add(DeadlineRule(version="local-2026-11", title="本地试行", effective_from=date(2026, 11, 1),
                                verified=True, clock="complaint_decision", starts="receipt", length=10, basis="试行"))
    db.session.commit()
    before = make_case(received_at="2026-10-30T10:00:00+08:00", occurred_on="2026-10-01").case
    after = make_case(received_at="2026-11-02T10:00:00+08:00", occurred_on="2026-10-01").case
    old, new = clock_of(before), clock_of(after)
    assert (old.rule_version, old.length) == ("order-121", 7)
    assert (new.rule_version, new.length) == ("local-2026-11", 10)
    assert local_day(old.due_at) == date(2026, 11, 10)
    assert local_day(new.due_at) == date(2026, 11, 16)


def test_order_20_applies_before_2026_04_15(make_case):
    case = make_case(received_at="2026-04-14T10:00:00+08:00", occurred_on="2026-04-01").case
    assert clock_of(case).rule_version == "order-20"
    case = make_case(received_at="2026-04-15T10:00:00+08:00", occurred_on="2026-04-01").case
    assert clock_of(case).rule_version == "order-121"


def received_on_28_december():
    """A case received (and registered) on 2026-12-28, as the clock will read then."""
    from hotline.cases.operations import register_case
    from hotline.cases.schemas import parse_case
    case = register_case(parse_case(complaint_payload(occurred_on="2026-12-01")), None,
                         now=datetime(2026, 12, 28, 2, tzinfo=UTC)).case
    db.session.commit()
    return case


def test_importing_a_year_the_package_does_not_know_moves_open_deadlines(app):
    # Received 2026-12-28: 7 working days run into 2027, which chinesecalendar 1.11 does not know.
    case = received_on_28_december()
    clock = clock_of(case)
    assert clock.fallback_calendar and local_day(clock.due_at) == date(2027, 1, 6)
    closed = received_on_28_december()
    clock_of(closed).met_at = datetime(2026, 12, 29, tzinfo=UTC)
    db.session.commit()
    days, recomputed = import_calendar_days(parse_calendar_csv(
        "date,kind,name\n2027-01-01,holiday,元旦\n2027-01-04,holiday,元旦（假设）\n"))
    db.session.commit()
    assert days == 2 and recomputed == 1  # the met clock is left alone
    clock = clock_of(case)
    assert local_day(clock.due_at) == date(2027, 1, 8)  # 12-29, 12-30, 12-31, 1-5, 1-6, 1-7, 1-8
    assert clock.fallback_calendar  # two days are not the year's schedule (issue #7, bug 5)
    mark_year_complete(2027, None)
    db.session.commit()
    clock = clock_of(case)
    assert local_day(clock.due_at) == date(2027, 1, 8) and not clock.fallback_calendar


def test_calendar_import_refuses_a_bad_file_whole(app):
    runner = app.test_cli_runner()
    import tempfile
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False, encoding="utf-8") as f:
        f.write("2027-01-01,holiday,元旦\n2027-02-30,holiday,错\n2027-03-01,party,x\n")
    result = runner.invoke(args=["calendar", "import", f.name])
    assert result.exit_code != 0 and "line 2" in result.output and "line 3" in result.output
    assert db.session.scalar(select(func.count()).select_from(__import__("hotline").models.CalendarDay)) == 0


def test_calendar_admin_page_imports(client, make_user, login):
    csrf = login(client, make_user("admin"))
    response = client.post("/admin/calendar", data={"text": "2027-01-01,holiday,元旦", "csrf_token": csrf})
    assert response.status_code == 302
    assert "元旦" in client.get("/admin/calendar").get_data(as_text=True)
    assert client.post("/admin/calendar", data={"text": "nonsense", "csrf_token": csrf}).status_code == 422


def test_unknown_year_is_warned_about(client, make_user, login):
    login(client, make_user("supervisor"))
    page = client.get("/overdue").get_data(as_text=True)
    assert "2027" in page  # chinesecalendar 1.11 stops at 2026: next year has no official calendar


def test_suspended_working_days_are_not_counted(make_case, make_user, client, token_for):
    handler = make_user("bureau", bureau="tiexi")
    # Received under Order 20: mediation runs in working days, and so do its pauses (art. 20).
    case = make_case(received_at="2026-04-10T10:00:00+08:00", occurred_on="2026-04-01").case
    run_pending()
    headers = token_for(handler)
    client.post(f"/api/v1/cases/{case.number}/actions", json={"action": "accept"}, headers=headers)
    client.post(f"/api/v1/cases/{case.number}/actions", json={"action": "suspend", "reason": "testing"},
                headers=headers)
    mediation = clock_of(case, "mediation")
    before = mediation.due_at
    # Suspended a fortnight ago (Wednesday 2026-11-11): 10 working days until today's resumption.
    mediation.paused_at = datetime(2026, 11, 11, 2, tzinfo=UTC)
    db.session.commit()
    client.post(f"/api/v1/cases/{case.number}/actions", json={"action": "resume"}, headers=headers)
    mediation = clock_of(case, "mediation")
    today = datetime.now(UTC).astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai")).date()
    from hotline.deadlines.calendar import working_days_between
    paused = working_days_between(date(2026, 11, 11), today)
    assert mediation.paused_days == paused and mediation.paused_at is None
    assert local_day(mediation.due_at) > local_day(before) or paused == 0


def make_due(make_case, n, days_ago):
    cases = [make_case().case for _ in range(n)]
    for case in cases:
        clock = clock_of(case)
        clock.due_at = datetime.now(UTC) - timedelta(days=days_ago)
        db.session.commit()
    return cases


def counts():
    db.session.expire_all()
    return dict(db.session.execute(select(Notification.kind, func.count()).group_by(Notification.kind)).all())


def test_sweep_twice_reminds_and_escalates_once(make_case, make_user, login, client):
    make_user("bureau", bureau="tiexi")
    overdue = make_due(make_case, 3, 1)
    soon = make_due(make_case, 2, -1)  # due tomorrow: within two working days (or close enough)
    make_due(make_case, 2, -30)  # far off: nothing
    run_pending()
    first = sweep()
    assert (first.reminders, first.escalations) == (5, 3)
    assert sweep().reminders == sweep().escalations == 0
    assert counts() == {"reminder": 5, "escalation": 3}
    assert all(db.session.get(Case, c.id).overdue for c in overdue)
    assert not any(db.session.get(Case, c.id).overdue for c in soon)
    assert db.session.scalar(select(func.count()).where(CaseEvent.action == "escalate")) == 3
    login(client, make_user("supervisor"))
    page = client.get("/overdue").get_data(as_text=True)
    assert all(c.number in page for c in overdue)
    assert "badge" in client.get("/notices").get_data(as_text=True)


def test_a_clock_reminded_again_for_the_same_due_date_does_not_stop_the_sweep(make_case, make_user):
    """A clock restarted with the due date it had (a case returned to the centre twice in a day) must not
    make a second notice for that date, nor fail the sweep on the unique notice (found by the stats workload)."""
    make_user("bureau", bureau="tiexi")
    cases = make_due(make_case, 2, 1)
    run_pending()
    assert sweep().reminders >= 2
    clock = db.session.scalars(select(CaseClock).where(CaseClock.case_id == cases[0].id,
                                                       CaseClock.reminded_at.is_not(None))).first()
    clock.reminded_at = clock.escalated_at = None  # what restart() does, the due date unchanged
    db.session.commit()
    again = sweep()
    assert again.reminders == 1 and again.escalations >= 0
    assert db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.clock_id == clock.id, Notification.kind == "reminder")) == 1


def test_two_sweeps_at_once_send_each_notice_once(app, make_case):
    make_due(make_case, 40, 1)
    make_due(make_case, 40, -1)
    results, start = [], threading.Barrier(3)

    def run():
        with app.app_context():
            start.wait()
            results.append(sweep())
            db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sum(r.reminders for r in results) == 80 and sum(r.escalations for r in results) == 40
    assert counts() == {"reminder": 80, "escalation": 40}


def test_meeting_the_clock_takes_the_case_out_of_the_overdue_queue(make_case, make_user, client, token_for):
    handler = make_user("bureau", bureau="tiexi")
    [case] = make_due(make_case, 1, 1)
    run_pending()
    sweep()
    assert db.session.get(Case, case.id).overdue
    client.post(f"/api/v1/cases/{case.number}/actions", json={"action": "accept"}, headers=token_for(handler))
    db.session.expire_all()
    assert not db.session.get(Case, case.id).overdue
    api = client.get("/api/v1/cases?overdue=1", headers=token_for(make_user("supervisor"))).get_json()
    assert api["total"] == 0


def test_sweep_command_prints_what_it_did(app, make_case):
    make_due(make_case, 1, 1)
    result = app.test_cli_runner().invoke(args=["sweep"])
    assert result.exit_code == 0 and "1 escalations" in result.output


def test_rulebook_page_shows_both_versions_and_copies_the_latest(client, make_user, login):
    csrf = login(client, make_user("admin"))
    page = client.get("/admin/deadlines").get_data(as_text=True)
    assert "order-121" in page and "order-20" in page and "warning" not in page  # both verified (issue #8)
    response = client.post("/admin/deadlines", data={"new_version": "local-2027", "title": "试行",
                                                     "effective_from": "2027-01-01", "csrf_token": csrf})
    assert response.status_code == 302
    assert db.session.scalar(select(func.count()).where(DeadlineRule.version == "local-2027")) == 8


def test_a_clock_started_after_a_calendar_import_counts_the_new_days(app):
    """Intake remembers the due date per start day (hotline/deadlines/operations.py _due_for_start); an
    imported holiday drops that memo with the calendar's cached copy, so the next clock counts it."""
    from hotline.deadlines.operations import _due_for_start
    started = datetime(2031, 3, 3, 2, 0, tzinfo=UTC)  # a Monday in a year with no calendar yet
    _, before, _ = _due_for_start(started, 7, "working", "Asia/Shanghai")
    assert _due_for_start(started, 7, "working", "Asia/Shanghai")[1] == before  # remembered
    import_calendar_days([(date(2031, 3, 5), "holiday", "测试假日")])
    db.session.commit()
    _, after, _ = _due_for_start(started, 7, "working", "Asia/Shanghai")
    assert after == before + timedelta(days=1)
