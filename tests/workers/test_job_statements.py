"""Statement budgets of the worker's two jobs per case (issue #13: the routing worker's cost per case):
`route_case` and the receipt SMS. Counts are deterministic, unlike timings; a change that adds a round
trip to the hot path fails here. bench/routing.py prints the same counts beside its timings."""
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
from sqlalchemy import event, select

from hotline.extensions import db
from hotline.outbox import relay
from hotline.outbox.models import OutboxJob
from hotline.reference import cache as reference_cache
from hotline.routing import operations as routing

# claim the job (marked done in the job's own transaction), read the case with its registration, its new
# state, its `route` event, the statistics' mark: one transaction
ROUTE_STATEMENTS, ROUTE_COMMITS = 5, 1
# triage: the triage clock too (its flush makes the statistics' mark)
TRIAGE_STATEMENTS = 6
# claim the job; read and claim the receipt in one statement (committed before the gateway is called, with the
# job's done mark); record it sent, on its own in autocommit (no BEGIN and COMMIT round trips)
SMS_STATEMENTS, SMS_COMMITS = 3, 1


@dataclass
class Count:
    statements: list[str] = field(default_factory=list)
    commits: int = 0

    def __str__(self) -> str:
        return "\n".join(" ".join(s.split())[:140] for s in self.statements)


@contextmanager
def counting():
    count = Count()

    def statement(_conn, _cursor, sql, *_args):
        count.statements.append(sql)

    def commit(_conn):
        count.commits += 1
    event.listen(db.engine, "before_cursor_execute", statement)
    event.listen(db.engine, "commit", commit)
    try:
        yield count
    finally:
        event.remove(db.engine, "before_cursor_execute", statement)
        event.remove(db.engine, "commit", commit)


def job_id(dedupe_key: str) -> int:
    found = db.session.scalar(select(OutboxJob.id).where(OutboxJob.dedupe_key == dedupe_key))
    db.session.rollback()
    return found


@pytest.fixture
def warm(make_case, make_user, monkeypatch):
    """Handlers at the Tiexi bureau, and caches warm: a first case routed and its receipt sent. The caches'
    own refreshes (reference data, handlers' open-case counts) are held off during the count."""
    make_user("bureau", bureau="tiexi")
    make_user("bureau", bureau="tiexi")
    make_case()
    relay.run_pending()
    monkeypatch.setattr(reference_cache, "CHECK_SECONDS", 3600.0)
    monkeypatch.setattr(routing, "HANDLER_COUNTS_SECONDS", 3600.0)
    db.session.remove()


def run_counted(dedupe_key: str) -> tuple[str, Count]:
    job = job_id(dedupe_key)
    with counting() as count:
        result = relay.execute_job(job)
    db.session.remove()
    return result, count


def test_route_case_stays_within_its_statement_budget(warm, make_case):
    case = make_case().case
    result, count = run_counted(f"route_case:{case.id}")
    assert result == "pending"
    assert len(count.statements) <= ROUTE_STATEMENTS, f"{len(count.statements)} statements:\n{count}"
    assert count.commits == ROUTE_COMMITS


def test_routing_to_triage_adds_only_the_triage_clock(warm, make_case):
    case = make_case(business={"name": "沈阳某店", "address": "沈阳市和平区中山路1号"}).case
    result, count = run_counted(f"route_case:{case.id}")
    assert result == "triage"
    assert len(count.statements) <= TRIAGE_STATEMENTS, f"{len(count.statements)} statements:\n{count}"
    assert count.commits == ROUTE_COMMITS


def test_the_receipt_sms_stays_within_its_statement_budget(warm, make_case):
    case = make_case().case
    result, count = run_counted(f"send_sms:receipt:{case.number}")
    assert result == "done"
    assert len(count.statements) <= SMS_STATEMENTS, f"{len(count.statements)} statements:\n{count}"
    assert count.commits == SMS_COMMITS


def test_a_job_run_again_costs_one_statement(warm, make_case):
    """A duplicate delivery (redelivered message, two workers) finds the job done in its claim and stops."""
    case = make_case().case
    relay.execute_job(job_id(f"route_case:{case.id}"))
    result, count = run_counted(f"route_case:{case.id}")
    assert result == "skipped"
    assert len(count.statements) == 1 and count.commits == 0
