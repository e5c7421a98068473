"""hotline/direct_insert.py: an object INSERTed by one Core statement behaves as if the unit of work had
written it (defaults, relationship keys, mapper events, a later change as a versioned UPDATE), and
several objects of one class go in one statement, in order."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import event, func, inspect, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm.exc import StaleDataError

from hotline.cases.business_keys import business_key
from hotline.cases.models import Case, CaseEvent
from hotline.direct_insert import insert_now
from hotline.extensions import db
from hotline.outbox.models import OutboxJob
from hotline.stats.models import StatDirty
from hotline.types import utcnow


@pytest.fixture
def statements():
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        seen.append(re.sub(r"\s+", " ", statement))
    event.listen(Engine, "before_cursor_execute", note)
    yield seen
    event.remove(Engine, "before_cursor_execute", note)


def new_case(actor=None, **over) -> Case:
    now = utcnow()
    fields = dict(number="20261126000017", kind="complaint", channel="phone", status="registered",
                  received_at=now, consumer_name="张三", consumer_phone="13900001111",
                  business_name="鞍山 测试商店", business_address="鞍山市铁东区胜利路12号", subject="质量问题",
                  description="商品有质量问题。", query_code_hash="x", created_by=actor)
    fields.update(over)
    return Case(**fields)


def test_a_case_is_written_at_once_with_its_defaults_keys_and_events(app, make_user, statements):
    operator = make_user("operator")
    case = new_case(operator)
    insert_now(case)
    inserts = [s for s in statements if s.startswith('INSERT INTO "case"')]
    assert len(inserts) == 1
    state = inspect(case)
    assert state.persistent and not db.session.new and not db.session.dirty
    assert case.id is not None
    assert case.version == 1  # the mapper's version counter starts where a flush starts it
    assert case.consumer_anonymous is False and case.return_count == 0 and case.overdue is False
    assert case.registered_at is not None  # a callable default, kept on the object too
    assert case.created_by_id == operator.id  # a many-to-one given as an object fills its key
    assert case.business_key == business_key(None, "鞍山 测试商店")  # the mapper's before_insert ran
    statements.clear()
    assert case.created_by is operator  # loaded as given: no query
    assert statements == []
    db.session.commit()
    stored = db.session.get(Case, case.id)
    assert (stored.number, stored.created_by_id, stored.version) == ("20261126000017", operator.id, 1)


def test_a_later_change_is_an_update_with_the_version_checked(app):
    case = insert_now(new_case())
    case.status = "pending"
    db.session.flush()
    assert case.version == 2
    db.session.commit()
    # another writer moved the row on: the stale version is refused, as for any loaded case
    db.session.execute(Case.__table__.update().where(Case.id == case.id).values(version=7))
    case.status = "accepted"
    with pytest.raises(StaleDataError):
        db.session.flush()
    db.session.rollback()


def test_collections_of_a_directly_written_case_load_what_was_written(app):
    case = insert_now(new_case())
    insert_now(CaseEvent(case_id=case.id, action="register", actor_label="system", to_status="registered"))
    assert [e.action for e in case.events] == ["register"]
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0


def test_several_objects_go_in_one_statement_in_the_order_given(app, statements):
    later = utcnow() + timedelta(hours=1)
    jobs = [OutboxJob(task="t", payload={"n": n}, dedupe_key=f"k{n}", available_at=later if n == 1 else None)
            for n in range(3)]
    insert_now(*jobs)
    # SQLite cannot promise RETURNING's order for a batch, so SQLAlchemy sends those one by one
    assert len([s for s in statements if s.startswith("INSERT INTO outbox_job")]) == (
        1 if db.engine.dialect.name == "postgresql" else 3)
    assert [j.id for j in jobs] == sorted(j.id for j in jobs)
    stored = {j.id: (j.dedupe_key, j.attempts) for j in db.session.scalars(select(OutboxJob))}
    assert stored == {j.id: (f"k{n}", 0) for n, j in enumerate(jobs)}
    assert jobs[1].available_at == later and jobs[0].available_at is not None  # None is the default, as in a flush


def test_misuse_is_refused(app, make_case):
    registered = make_case()
    with pytest.raises(ValueError, match="new object"):
        insert_now(registered.case)  # persistent already
    with pytest.raises(TypeError, match="one class"):
        insert_now(OutboxJob(task="t", payload={}, dedupe_key="a"), StatDirty(case_id=registered.case.id))
    with pytest.raises(ValueError, match="comes from the database"):
        insert_now(OutboxJob(id=10**6, task="t", payload={}, dedupe_key="b"))


def test_intake_jobs_are_seen_by_a_query_before_the_commit(app, make_user):
    """Intake's outbox jobs wait in the session for one statement before the commit; an ORM query in the
    same transaction writes them first, so it sees them as it would see flushed ones."""
    from hotline.cases.operations import register_case
    from hotline.cases.schemas import parse_case
    from tests.conftest import complaint_payload
    registered = register_case(parse_case(complaint_payload()), make_user("operator"))
    jobs = db.session.execute(select(OutboxJob.task, OutboxJob.dedupe_key)).all()
    assert sorted(jobs) == [("route_case", f"route_case:{registered.case.id}"),
                            ("send_sms", f"send_sms:receipt:{registered.case.number}")]
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(OutboxJob)) == 2  # written once


def test_the_demo_settles_its_history_jobs(app):
    """The demo's past cases were routed and their receipts sent at the time: no job of theirs is left
    for the relay (hotline/demo.py reads the jobs back before its commit)."""
    from hotline.demo import load_demo
    load_demo(12)
    jobs = db.session.scalars(select(OutboxJob).where(OutboxJob.task.in_(("route_case", "send_sms")))).all()
    assert jobs and all(job.done_at is not None for job in jobs if job.task == "send_sms")
    assert all(job.done_at is not None for job in jobs if job.task == "route_case"
               and db.session.get(Case, job.payload["case_id"]).status != "registered")
