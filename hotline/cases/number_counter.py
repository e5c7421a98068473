"""The daily sequence behind case numbers (hotline/cases/numbers.py formats them): one counter row per
local day in `case_number_counter`, bumped with an atomic upsert, so numbers are unique and never reused
(a number lost to a rollback or to a process that stops is simply never issued).

On PostgreSQL the counter is bumped in a short transaction of its own on a small pool of its own: inside
the request's transaction its row lock would be held until that commit and every intake would queue
behind the one before. A process that registers cases quickly takes a block of numbers at once and
hands them out from memory: the block doubles (up to MAX_BLOCK) while blocks run out within FAST_SECONDS
of each other, and falls back to one number at a time when intake is quiet, where the counter is exact
(the row holds the last number issued). Under load, numbers from two processes interleave out of order
and a block left unused for BLOCK_SECONDS is dropped, leaving a gap; neither harms a number's use
(unique, readable, check digit). Anything else that writes the counter table (an administrator's repair,
a test setting up a busy day) makes every block of this process void. SQLite serialises writers anyway:
there the counter is bumped in the caller's transaction, one number at a time."""
import threading
import time
from dataclasses import dataclass
from datetime import date

from flask import current_app
from sqlalchemy import create_engine, event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from hotline.cases import numbers
from hotline.cases.models import CaseNumberCounter
from hotline.extensions import db
from hotline.reference.cache import written_table

MAX_BLOCK = 64
FAST_SECONDS = 1.0  # a block used up within this time of the last one: the next one is twice as big
BLOCK_SECONDS = 2.0  # numbers of a block older than this are not handed out (numbers stay roughly in time order)
_OWN = "hotline_case_number_counter"  # on the info of the counter's own connections
_epoch = 0  # bumped by every other write to the counter table: blocks taken before are void


@event.listens_for(Engine, "before_cursor_execute")
def _counter_written(conn, _cursor, statement, _parameters, _context, _executemany):
    global _epoch
    if not conn.info.get(_OWN) and written_table(statement) == "case_number_counter":
        _epoch += 1


@dataclass
class _Block:
    day: str = ""
    next: int = 1
    last: int = 0
    size: int = 1
    taken_at: float = -1e9
    epoch: int = -1


class _Counter:
    """One app's counter state in this process: its own small engine and the current block."""

    def __init__(self, url):
        # No pre-ping: a dead connection fails the bump, which is retried once on a fresh one.
        self.engine = create_engine(url, pool_size=2, max_overflow=8)
        event.listen(self.engine, "connect", lambda _dbapi, record: record.info.__setitem__(_OWN, True))
        self.block = _Block()
        self.lock = threading.Lock()


def _counter() -> _Counter:
    counter = current_app.extensions.get("hotline_case_number_counter")
    if counter is None:
        counter = current_app.extensions.setdefault("hotline_case_number_counter", _Counter(db.engine.url))
    return counter


def _bump(insert, key: str, size: int):
    return (insert(CaseNumberCounter).values(day=key, last=size)
            .on_conflict_do_update(index_elements=["day"], set_={"last": CaseNumberCounter.last + size})
            .returning(CaseNumberCounter.last))


def _take_block(counter: _Counter, key: str, size: int) -> int:
    """Reserve `size` numbers of the day; returns the last of them."""
    for attempt in (1, 2):
        try:
            with counter.engine.begin() as conn:
                return conn.execute(_bump(pg_insert, key, size)).scalar_one()
        except DBAPIError as exc:
            # A connection the server dropped (a restart) is invalidated with its pool: try once more on a
            # fresh one. Safe: if the first bump committed after all, its numbers are only skipped.
            if attempt == 2 or not exc.connection_invalidated:
                raise
    raise AssertionError("unreachable")


def next_sequence(day: date) -> int:
    """The next sequence number of the local day `day`."""
    key = f"{day:%Y%m%d}"
    if db.engine.dialect.name != "postgresql":
        return db.session.execute(_bump(sqlite_insert, key, 1)).scalar_one()
    counter = _counter()
    with counter.lock:
        block, now, epoch = counter.block, time.monotonic(), _epoch
        current = block.day == key and block.epoch == epoch
        if current and block.next <= block.last and now - block.taken_at < BLOCK_SECONDS:
            block.next += 1
            return block.next - 1
        size = min(block.size * 2, MAX_BLOCK) if current and now - block.taken_at < FAST_SECONDS else 1
        last = _take_block(counter, key, size)
        counter.block = _Block(day=key, next=last - size + 2, last=last, size=size, taken_at=now, epoch=epoch)
        return last - size + 1


def allocate_case_number(day: date) -> str:
    return numbers.format_case_number(day, next_sequence(day))
