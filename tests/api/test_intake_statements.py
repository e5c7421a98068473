"""What one POST /api/v1/cases costs the database, counted (issue #13: a count is deterministic, a time is
not). Before: 16 statements, 3 transactions on 2 connections plus a pre-ping on each checkout. Now one
transaction on one connection: the token look-up (one statement with its user) and the inserts of the
case, its event, its first clock, its routing and receipt jobs, its receipt SMS and its statistics
mark. Reference data (rulebook, calendar, categories, stations) comes from the process's cache, the
answer is built from what is in hand, and the case number from the counter's own small pool in blocks
(PostgreSQL) or in the same transaction (SQLite). The figures for a real server: bench/intake.py."""
import re
import threading

import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from hotline import database
from hotline.cases import number_counter
from hotline.cases.models import Case
from hotline.cases.numbers import is_valid_case_number
from hotline.extensions import db
from hotline.reference import cache
from tests.conftest import complaint_payload
from tests.workers.conftest import pg_app  # noqa: F401  (fixtures of the PostgreSQL restart tests)
from tests.workers.test_pg_restart import cluster, post_case, restart_app  # noqa: F401

# The request's own statements: SELECT the token (with its user), INSERT case, stat_dirty, case_event,
# case_clock, sms_message, outbox_job (route_case and send_sms in one statement, just before the commit;
# hotline/direct_insert.py). SQLite adds the bump of the day's counter (in the request's transaction
# there) and inserts the two outbox jobs one by one.
STATEMENT_BUDGET = {"postgresql": 7, "sqlite": 9}


class Counter:
    """Statements, transactions and checkouts made by this thread, split by engine."""

    def __init__(self):
        self.statements: list[tuple[str, bool]] = []  # (SQL, on the number counter's own pool)
        self.begins = self.checkouts = 0
        self.thread = threading.get_ident()
        self.on = False

    def _mine(self) -> bool:
        return self.on and threading.get_ident() == self.thread

    def before_execute(self, conn, _cursor, statement, *_args):
        if self._mine():
            self.statements.append((re.sub(r"\s+", " ", statement), bool(conn.info.get(number_counter._OWN))))

    def begin(self, conn):
        if self._mine() and not conn.info.get(number_counter._OWN):
            self.begins += 1

    def checkout(self, _dbapi, record, _proxy):
        if self._mine() and not record.info.get(number_counter._OWN):
            self.checkouts += 1

    def request(self) -> list[str]:
        return [s for s, side in self.statements if not side]

    def side(self) -> list[str]:
        return [s for s, side in self.statements if side]


@pytest.fixture
def counter(app):
    from sqlalchemy.pool import Pool
    counting = Counter()
    event.listen(Engine, "before_cursor_execute", counting.before_execute)
    event.listen(Engine, "begin", counting.begin)
    event.listen(Pool, "checkout", counting.checkout)
    yield counting
    event.remove(Engine, "before_cursor_execute", counting.before_execute)
    event.remove(Engine, "begin", counting.begin)
    event.remove(Pool, "checkout", counting.checkout)


@pytest.fixture
def operator(make_user, token_for):
    return token_for(make_user("operator"))


@pytest.fixture
def goods():
    from hotline.reference.models import Category
    return db.session.scalar(select(Category.code).where(Category.axis == "goods").order_by(Category.code).limit(1))


def _post(client, headers, i: int, goods: str | None = None):
    body = complaint_payload(consumer={"name": "张三", "phone": f"1390000{i:04d}"},
                             category={"goods": goods} if goods else {})
    response = client.post("/api/v1/cases", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _kind(statement: str) -> str:
    words = statement.split()
    table = {"SELECT": lambda: re.search(r"\bFROM \"?(\w+)", statement).group(1),
             "INSERT": lambda: words[2].strip('"'), "UPDATE": lambda: words[1].strip('"')}
    return f"{words[0]} {table.get(words[0], lambda: '')()}"


def test_one_intake_is_one_transaction_of_a_handful_of_statements(client, operator, counter, goods, monkeypatch):
    for i in range(3):  # warm: the token's last use written, the reference data cached, the answer checked
        _post(client, operator, i, goods)
    db.session.remove()
    # The shared-generation look (at most once a second, tested below) must not fall into the count.
    monkeypatch.setattr(cache, "CHECK_SECONDS", 3600.0)
    counter.on = True
    body = _post(client, operator, 3, goods)
    counter.on = False
    request = counter.request()
    budget = STATEMENT_BUDGET[db.engine.dialect.name]
    assert len(request) <= budget, "\n".join(request)
    kinds = sorted(_kind(s) for s in request)
    # The only read is the token look-up (its user joined): no lazy load, no reference data, no re-read of
    # what was written.
    reads = [s for s in request if s.startswith("SELECT")]
    assert len(reads) == 1 and "JOIN api_token" in reads[0], kinds
    assert "UPDATE api_token" not in kinds  # last use is written at most once a minute
    assert counter.begins == 1 and counter.checkouts <= 1, (counter.begins, counter.checkouts)
    assert [d["clock"] for d in body["deadlines"]] == ["complaint_decision"]
    case = db.session.scalar(select(Case).where(Case.number == body["number"]))
    assert body["deadlines"][0]["due"] == case_clock_due(case)


def case_clock_due(case) -> str:
    from hotline.deadlines.models import CaseClock
    return db.session.scalar(select(CaseClock.due_at).where(CaseClock.case_id == case.id)).isoformat()


def test_no_pre_ping_on_a_busy_pool(app):
    assert not db.engine.pool._pre_ping
    assert database.IDLE_PING_SECONDS >= 1


def test_numbers_in_a_burst_come_in_blocks_and_stay_distinct(app, client, operator, counter):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("blocks of numbers are for PostgreSQL; SQLite bumps the counter in the transaction")
    counter.on = True
    numbers = [_post(client, operator, i)["number"] for i in range(20)]
    counter.on = False
    assert len(set(numbers)) == 20 and all(is_valid_case_number(n) for n in numbers)
    # Twenty quick intakes: blocks of 1, 2, 4, 8, 16 (at most 6 bumps if the machine stalls a second).
    assert 1 <= len(counter.side()) <= 6, counter.side()
    assert [int(n[8:13]) for n in numbers] == sorted(int(n[8:13]) for n in numbers)  # one process: in order


def test_a_quiet_intake_takes_the_next_number_exactly(app, client, operator):
    """One number at a time when intake is quiet: the counter row holds the last number issued."""
    from hotline.cases.models import CaseNumberCounter
    first = _post(client, operator, 1)["number"]
    if db.engine.dialect.name == "postgresql":
        number_counter._counter().block.taken_at -= number_counter.BLOCK_SECONDS  # as if a while had passed
    second = _post(client, operator, 2)["number"]
    assert int(second[8:13]) == int(first[8:13]) + 1
    db.session.expire_all()
    assert db.session.scalar(select(CaseNumberCounter.last).where(CaseNumberCounter.day == second[:8])) == int(
        second[8:13])


# --- no pre-ping: a dead connection costs one request, or none after a quiet spell -------------------------


@pytest.mark.postgres
def test_a_restart_between_requests_costs_at_most_one_answer(restart_app, cluster, monkeypatch):  # noqa: F811
    """Without a ping on every checkout, a connection that died with the server is found when used: that
    request answers 503 and the pool is recycled, so the next one is served. A connection idle for a
    while is pinged first, so after a quiet spell no request fails at all."""
    token = restart_app.config["TEST_TOKEN"]
    client = restart_app.test_client()
    assert post_case(client, token, "之前").status_code == 201
    monkeypatch.setattr(database, "IDLE_PING_SECONDS", 3600.0)  # busy: no connection is pinged
    cluster.stop()
    cluster.start()
    assert post_case(client, token, "重启后第一个").status_code == 503
    assert post_case(client, token, "重启后第二个").status_code == 201
    monkeypatch.setattr(database, "IDLE_PING_SECONDS", 0.0)  # quiet: every connection has been idle
    cluster.stop()
    cluster.start()
    assert post_case(client, token, "空闲后").status_code == 201
