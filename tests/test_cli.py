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
