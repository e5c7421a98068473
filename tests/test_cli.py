"""The `hotline` commands that need no server: init (idempotent), calendar due."""
from sqlalchemy import func, select

from hotline.extensions import db
from hotline.reference.models import Bureau, RoutingRule


def test_init_is_idempotent(app):
    runner = app.test_cli_runner()
    before = db.session.scalar(select(func.count(RoutingRule.id)))
    for _ in range(2):
        result = runner.invoke(args=["init"])
        assert result.exit_code == 0, result.output
    assert db.session.scalar(select(func.count(Bureau.id))) == 9
    assert db.session.scalar(select(func.count(RoutingRule.id))) == before


def test_calendar_due_worked_example(app):
    result = app.test_cli_runner().invoke(args=["calendar", "due", "--from", "2026-09-29T10:00:00+08:00",
                                                "--days", "7"])
    assert result.exit_code == 0 and result.output.startswith("2026-10-14")


def test_calendar_due_bad_input(app):
    result = app.test_cli_runner().invoke(args=["calendar", "due", "--from", "yesterday", "--days", "7"])
    assert result.exit_code != 0 and "ISO" in result.output


def test_schema_matches_the_migrations(app):
    """`flask db check`: the models and the migrations agree (no drift)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
    assert diff == []


def test_users_sms_sets_a_handlers_mobile_and_consent(app, make_user):
    from hotline.auth.models import User
    from hotline.extensions import db
    user = make_user("bureau", bureau="tiexi")
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["users", "sms", user.username])
    assert refused.exit_code != 0 and "mobile" in refused.output
    result = runner.invoke(args=["users", "sms", user.username, "--mobile", "139 0000 1111"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    stored = db.session.get(User, user.id)
    assert (stored.mobile, stored.sms_reminders) == ("13900001111", True)
    assert runner.invoke(args=["users", "sms", user.username, "--mobile", "12345"]).exit_code != 0
