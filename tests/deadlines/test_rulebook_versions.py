"""The rulebook's versions: what the pack loader updates and keeps, no case without a rulebook, versions
an administrator deletes or moves, the admin page, and the 0005 data migration."""
import os
import tempfile
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from hotline.cases.models import Case
from hotline.deadlines.models import CaseClock, DeadlineRule
from hotline.deadlines.operations import load_deadline_rules, start_clock
from hotline.extensions import db
from hotline.reference.operations import read_pack
from tests.conftest import complaint_payload
from tests.intake.test_console import FORM

FIELDS = ("title", "effective_from", "verified", "starts", "length", "extension", "unit", "basis")


@pytest.fixture
def restore_rulebook(app):
    """Reference rows outlive a test: put the rulebook back as the pack loaded it."""
    saved = {(r.version, r.clock): {f: getattr(r, f) for f in FIELDS} for r in db.session.scalars(select(DeadlineRule))}
    yield
    db.session.rollback()
    rows = {(r.version, r.clock): r for r in db.session.scalars(select(DeadlineRule))}
    for key, values in saved.items():
        row = rows.get(key) or DeadlineRule(version=key[0], clock=key[1])
        for name, value in values.items():
            setattr(row, name, value)
        db.session.add(row)
    db.session.commit()


def rule(version, clock) -> DeadlineRule | None:
    db.session.expire_all()
    return db.session.scalar(select(DeadlineRule).where(DeadlineRule.version == version, DeadlineRule.clock == clock))


def ship_the_old_pack():
    """The rulebook as the pack shipped it before issue #8 (Order 20 from 2019, Order 121 unverified)."""
    for row in db.session.scalars(select(DeadlineRule).where(DeadlineRule.version == "order-20")):
        row.effective_from = date(2019, 1, 1)
    for row in db.session.scalars(select(DeadlineRule).where(DeadlineRule.version == "order-121")):
        row.verified = False
    mediation = rule("order-121", "mediation")
    mediation.length, mediation.unit, mediation.basis = 45, "working", "总局令第121号（条款及期限待核实）"
    db.session.add(DeadlineRule(version="order-121", clock="reporter_notice", title="国家市场监督管理总局令第121号",
                                effective_from=date(2026, 4, 15), verified=False, starts="decision", length=5,
                                unit="working", basis="总局令第121号（条款待核实）"))
    db.session.commit()


def test_the_loader_updates_rules_nobody_edited(restore_rulebook):
    ship_the_old_pack()
    counts = load_deadline_rules(read_pack("anshan")["deadline_rules"])
    db.session.commit()
    mediation = rule("order-121", "mediation")
    assert (mediation.length, mediation.unit, mediation.verified) == (60, "natural", True)
    assert "第23条" in mediation.basis
    assert rule("order-20", "mediation").effective_from == date(2020, 1, 1)
    assert rule("order-121", "reporter_notice") is None  # art. 36: no such clock
    assert counts["removed"] == 1 and counts["kept"] == 0


def test_the_loader_keeps_an_administrators_edit(restore_rulebook):
    ship_the_old_pack()
    edited, notice = rule("order-121", "mediation"), rule("order-121", "reporter_notice")
    edited.length, edited.basis = 50, "本局试行"  # an administrator's own numbers
    notice.length = 3
    db.session.commit()
    counts = load_deadline_rules(read_pack("anshan")["deadline_rules"])
    db.session.commit()
    mediation = rule("order-121", "mediation")
    assert (mediation.length, mediation.basis) == (50, "本局试行")
    assert rule("order-121", "reporter_notice").length == 3
    assert counts["kept"] == 2  # and each is logged to the audit log
    # rules nobody touched are still brought up to date
    assert rule("order-121", "complaint_decision").basis.startswith("总局令第121号第15条")


def test_loading_twice_changes_nothing(app):
    counts = load_deadline_rules(read_pack("anshan")["deadline_rules"])
    assert counts == {"added": 0, "updated": 0, "kept": 0, "removed": 0}


def test_a_clock_the_version_does_not_have_starts_nothing(make_case):
    new = make_case(received_at="2026-05-05T10:00:00+08:00", occurred_on="2026-04-01").case
    old = make_case(received_at="2026-04-10T10:00:00+08:00", occurred_on="2026-04-01").case
    now = datetime(2026, 6, 1, 2, tzinfo=UTC)
    assert start_clock(new, "reporter_notice", now) is None  # Order 121 art. 36
    assert start_clock(old, "reporter_notice", now).length == 5  # Order 20 art. 31
    assert start_clock(new, "violation_verification", now).length == 15  # art. 27
    db.session.commit()


# --- no case without a rulebook ------------------------------------------------------------------------

def test_a_receipt_before_order_20_is_refused_by_the_api(client, make_user, token_for):
    headers = token_for(make_user("operator"))
    body = complaint_payload(received_at="2019-12-31T10:00:00+08:00", occurred_on="2019-12-01")
    response = client.post("/api/v1/cases", json=body, headers=headers)
    assert response.status_code == 422
    message = response.get_json()["error"]["fields"]["received_at"]
    assert "2020-01-01" in message and "时限" in message
    assert db.session.query(Case).count() == 0
    body = complaint_payload(received_at="2020-01-01T00:30:00+08:00", occurred_on="2019-12-01")
    created = client.post("/api/v1/cases", json=body, headers=headers)
    assert created.status_code == 201
    clock = db.session.scalar(select(CaseClock).where(CaseClock.clock == "complaint_decision"))
    assert clock.rule_version == "order-20"


def test_a_receipt_before_order_20_is_refused_on_the_console(client, make_user, login):
    csrf = login(client, make_user("operator"))
    response = client.post("/console", data={**FORM, "received_at": "2019-06-01T10:00", "occurred_on": "2019-05-01",
                                             "csrf_token": csrf})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'data-field="received_at"' in html and "2020-01-01" in html
    assert db.session.query(Case).count() == 0


# --- versions an administrator deletes or moves ------------------------------------------------------------

def test_a_version_with_open_cases_cannot_be_deleted_or_moved(client, make_user, login, make_case, restore_rulebook):
    csrf = login(client, make_user("admin"))
    make_case(received_at="2026-05-05T10:00:00+08:00", occurred_on="2026-04-01")
    page = client.post("/admin/deadlines", data={"version": "order-121", "version_action": "delete",
                                                 "csrf_token": csrf}, follow_redirects=True).get_data(as_text=True)
    assert "1件未办结案件适用order-121" in page
    assert rule("order-121", "mediation") is not None
    page = client.post("/admin/deadlines", data={"version": "order-121", "version_action": "move",
                                                 "effective_from": "2026-06-01", "csrf_token": csrf},
                       follow_redirects=True).get_data(as_text=True)
    assert "不能修改" in page and rule("order-121", "mediation").effective_from == date(2026, 4, 15)
    # a move that no case straddles is fine
    client.post("/admin/deadlines", data={"version": "order-121", "version_action": "move",
                                          "effective_from": "2026-04-20", "csrf_token": csrf})
    assert rule("order-121", "mediation").effective_from == date(2026, 4, 20)


def test_an_unused_version_can_be_deleted(client, make_user, login, restore_rulebook):
    csrf = login(client, make_user("admin"))
    client.post("/admin/deadlines", data={"new_version": "local-2030", "effective_from": "2030-01-01",
                                          "csrf_token": csrf})
    assert rule("local-2030", "mediation").unit == "natural"  # copied from Order 121 with its unit
    client.post("/admin/deadlines", data={"version": "local-2030", "version_action": "delete", "csrf_token": csrf})
    assert rule("local-2030", "mediation") is None


# --- the admin page ---------------------------------------------------------------------------------------

def test_the_rulebook_page_shows_both_versions_with_articles_and_units(client, make_user, login, restore_rulebook):
    csrf = login(client, make_user("supervisor"))
    page = client.get("/admin/deadlines").get_data(as_text=True)
    assert 'data-version="order-121"' in page and 'data-version="order-20"' in page
    assert "总局令第121号第27条" in page and "总局令第20号第30条" in page and "总局令第121号第33条" in page
    assert '<option value="natural" selected>日（自然日）</option>' in page
    assert '<option value="working" selected>工作日</option>' in page
    assert "2020-01-01" in page and "2026-04-15" in page and "2019-01-01" not in page
    consult = rule("order-121", "consultation_reply")
    client.post("/admin/deadlines", data={"id": consult.id, "length": "5", "extension": "0", "unit": "natural",
                                          "basis": consult.basis, "verified": "on", "csrf_token": csrf})
    assert (rule("order-121", "consultation_reply").length, rule("order-121", "consultation_reply").unit) == (
        5, "natural")
    client.post("/admin/deadlines", data={"id": consult.id, "length": "5", "unit": "weeks", "csrf_token": csrf})
    assert rule("order-121", "consultation_reply").unit == "natural"


# --- the 0005 data migration ------------------------------------------------------------------------------

def _fill(table: sa.Table, **values) -> dict:
    """A row with every required column given something plausible (the 0004 schema, not the models')."""
    row = dict(values)
    for column in table.columns:
        if column.name in row or column.nullable or column.primary_key or column.server_default is not None:
            continue
        kind = column.type.python_type if not isinstance(column.type, sa.JSON) else dict
        row[column.name] = {str: f"{column.name}-{values.get('id', 0)}", int: 0, bool: False, dict: {},
                            datetime: datetime(2026, 5, 5, 2), date: date(2026, 5, 1)}.get(kind, 0)
    return row


def test_the_migration_moves_open_order_121_cases_to_order_121_clocks(app):
    from flask_migrate import downgrade, upgrade

    from hotline import create_app
    path = os.path.join(tempfile.mkdtemp(prefix="hotline-migration-"), "m.db")
    other = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "TESTING": True, "SECRET_KEY": "x",
                        "BROKER_URL": None})
    with other.app_context():
        directory = other.extensions["migrate"].directory
        upgrade(directory=directory, revision="0004")
        engine = db.engine
        meta = sa.MetaData()
        meta.reflect(engine)
        rules, cases, clocks, events = (meta.tables[n] for n in ("deadline_rule", "case", "case_clock", "case_event"))
        with engine.begin() as conn:
            for version, effective, verified in (("order-20", date(2019, 1, 1), True),
                                                 ("order-121", date(2026, 4, 15), False)):
                for clock, length, starts in (("complaint_decision", 7, "receipt"), ("mediation", 45, "acceptance"),
                                              ("reporter_notice", 5, "decision")):
                    conn.execute(rules.insert().values(version=version, title=version, effective_from=effective,
                                                       verified=verified, clock=clock, starts=starts, length=length,
                                                       extension=0, basis="x"))
            # 1: received 2026-05-05 under Order 121 but with Order 20's 45 working days; accepted 05-06,
            #    suspended for testing 05-20..05-30. 2: an Order 20 case. 3: an Order 121 report, reporter notice.
            for case_id, received, status, kind in ((1, datetime(2026, 5, 5, 2), "accepted", "complaint"),
                                                    (2, datetime(2026, 4, 10, 2), "accepted", "complaint"),
                                                    (3, datetime(2026, 5, 5, 2), "verifying", "report")):
                conn.execute(cases.insert().values(**_fill(cases, id=case_id, number=f"2026050500{case_id:03d}",
                                                           kind=kind, status=status, received_at=received,
                                                           registered_at=received, overdue=False)))
            accepted = datetime(2026, 5, 6, 2)
            for case_id in (1, 2):
                conn.execute(clocks.insert().values(case_id=case_id, clock="mediation", rule_version="order-20",
                                                    started_at=accepted, length=45, due_at=datetime(2026, 7, 8, 16),
                                                    paused_days=7, extended_days=0, fallback_calendar=False))
                for action, at in (("suspend", datetime(2026, 5, 20, 2)), ("resume", datetime(2026, 5, 30, 2))):
                    conn.execute(events.insert().values(**_fill(events, case_id=case_id, action=action, at=at,
                                                                actor_label="x")))
            conn.execute(clocks.insert().values(case_id=3, clock="reporter_notice", rule_version="order-121",
                                                started_at=accepted, length=5, due_at=datetime(2026, 5, 13, 16),
                                                paused_days=0, extended_days=0, fallback_calendar=False))
        upgrade(directory=directory, revision="0005")
        with engine.connect() as conn:
            effective = {v: d for v, d in conn.execute(sa.text("SELECT DISTINCT version, effective_from FROM "
                                                               "deadline_rule"))}
            mediation = {row.case_id: row for row in conn.execute(sa.text(
                "SELECT case_id, rule_version, length, unit, paused_days, due_at FROM case_clock "
                "WHERE clock = 'mediation'"))}
            notices = conn.execute(sa.text("SELECT count(*) FROM case_clock WHERE clock = 'reporter_notice'")).scalar()
            versions = dict(conn.execute(sa.text('SELECT id, rulebook_version FROM "case"')).all())
        assert str(effective["order-20"]) == "2020-01-01" and str(effective["order-121"]) == "2026-04-15"
        new, old = mediation[1], mediation[2]
        # 60 natural days + 10 natural days paused from 05-06: Wednesday 07-15, ending at 24:00 Shanghai.
        assert (new.rule_version, new.length, new.unit, new.paused_days) == ("order-121", 60, "natural", 10)
        assert str(new.due_at).startswith("2026-07-15 16:00")
        assert (old.rule_version, old.length, old.unit, old.paused_days) == ("order-20", 45, "working", 7)
        assert str(old.due_at).startswith("2026-07-08 16:00")  # untouched
        assert notices == 0  # none under Order 121 (art. 36)
        assert versions == {1: "order-121", 2: "order-20", 3: "order-121"}
        downgrade(directory=directory, revision="0004")
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM case_clock")).scalar() == 2
        db.session.remove()
        engine.dispose()


def test_the_migration_fixture_left_the_session_database_alone(app):
    assert db.session.scalar(select(DeadlineRule.id).limit(1)) is not None
    assert db.session.query(CaseClock).count() == 0
