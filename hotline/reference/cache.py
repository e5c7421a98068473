"""Reference data cached per process: the rulebook, the calendar overrides, categories and stations are
read by every intake (and by the workers for every clock) but change a few times a year, by an
administrator. Each process keeps a copy and drops it when the data changes:

- in this process at once: every INSERT, UPDATE, DELETE or TRUNCATE that reaches the database is looked
  at (ORM flushes, Core statements and raw SQL alike); when a transaction that wrote a watched table
  commits, every copy of this process is dropped;
- in the other processes (web workers, Celery workers, the CLI) within CHECK_SECONDS: a transaction of
  the session that writes a watched table also bumps a shared generation, a row of `case_number_counter`
  under the key `GENERATION_KEY`, in the same transaction, so it is visible exactly when the change is.
  Each process reads that one row at most once every CHECK_SECONDS and drops its copies when it moved.
  (A raw-SQL writer outside the session bumps nothing: only its own process notices at once, the others
  when their copies reach MAX_AGE.)
- a session that has written a watched table and not committed yet reads past the cache, so an
  operation sees its own changes (an import recomputes clocks with the days it just stored).

Cached values are shared between threads: treat them as read-only."""
import re
import threading
import time
from collections.abc import Callable

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from hotline.extensions import db

CHECK_SECONDS = 1.0  # how stale another process's change may look here
MAX_AGE = 300.0  # a safety net for writers that bump nothing (raw SQL from another process)
GENERATION_KEY = "refdata"  # never a day (those are 8 digits)
WATCHED = {"deadline_rule", "calendar_day", "calendar_year", "category", "station", "bureau", "division",
           "routing_rule", "platform", "statutory_ground", "answer"}
_WRITTEN = "hotline_reference_written"  # on a connection's info: its transaction wrote a watched table
_BUMPED = "hotline_reference_bumped"  # on a session's info: the shared generation is bumped in this transaction
_CONNECTIONS = "hotline_reference_connections"  # on a session's info: the connections of its transaction
_DML = re.compile(r'\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?)\s+"?(\w+)"?',
                  re.IGNORECASE)
_local_generation = 0  # bumped when a transaction of this process that wrote a watched table commits
_lock = threading.Lock()


def watch(*tables: str) -> None:
    """Another cache's tables: a write to them drops the cached copies too."""
    WATCHED.update(tables)


def written_table(statement: str) -> str | None:
    """The table a data-changing statement writes, or None (a SELECT, DDL, or a statement not understood)."""
    if not statement or statement.lstrip()[:1].upper() not in "IUDT":
        return None
    match = _DML.match(statement)
    return match.group(1).lower() if match else None


@event.listens_for(Engine, "before_cursor_execute")
def _note_write(conn, _cursor, statement, _parameters, _context, _executemany):
    if written_table(statement) in WATCHED:
        conn.info[_WRITTEN] = True


@event.listens_for(Engine, "begin")
@event.listens_for(Engine, "rollback")
def _forget_write(conn):
    if not conn.invalidated:  # a connection lost with the server (a restart) has no info left to clear
        conn.info.pop(_WRITTEN, None)


@event.listens_for(Engine, "commit")
def _committed(conn):
    global _local_generation
    if not conn.invalidated and conn.info.pop(_WRITTEN, False):
        with _lock:
            _local_generation += 1


def _bump_statement():
    # The same upsert as the case-number counter's (PostgreSQL and SQLite both have ON CONFLICT).
    return text("INSERT INTO case_number_counter (day, last) VALUES (:key, 1) "
                "ON CONFLICT (day) DO UPDATE SET last = case_number_counter.last + 1").bindparams(key=GENERATION_KEY)


@event.listens_for(Session, "after_begin")
def _remember_connection(session: Session, _transaction, connection) -> None:
    session.info.setdefault(_CONNECTIONS, []).append(connection)


def _wrote(session: Session) -> bool:
    return any(not conn.invalidated and conn.info.get(_WRITTEN) for conn in session.info.get(_CONNECTIONS, ()))


@event.listens_for(Session, "before_commit")
def _bump_shared_generation(session: Session) -> None:
    """Bump the shared generation in the committing transaction when it wrote a watched table."""
    if session.info.get(_BUMPED) or not session.in_transaction() or session.in_nested_transaction():
        return  # bumped already, or a savepoint (the outer commit bumps)
    session.flush()  # what is still pending goes out now, so its statements are seen below
    for conn in session.info.get(_CONNECTIONS, ()):
        if not conn.invalidated and conn.info.get(_WRITTEN):
            conn.execute(_bump_statement())
            session.info[_BUMPED] = True


@event.listens_for(Session, "after_transaction_end")
def _end(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_BUMPED, None)
        session.info.pop(_CONNECTIONS, None)


def _session_wrote() -> bool:
    """The app's session has written a watched table in its open transaction."""
    session = db.session()  # the scoped session of this app context
    return session.in_transaction() and _wrote(session)


def _shared_generation() -> int | None:
    return db.session.execute(text("SELECT last FROM case_number_counter WHERE day = :key"),
                              {"key": GENERATION_KEY}).scalar()


class _Copies:
    """One process's copies for one app (so two apps in one process, as in tests, never share)."""

    def __init__(self):
        self.values: dict[str, object] = {}
        self.local = -1
        self.shared: object = _MISSING  # matches no generation: the first look reads the row
        self.checked = self.loaded = 0.0
        self.cleared = 0  # counts the drops, so a value loaded across one is not kept
        self.lock = threading.Lock()

    def clear(self, now: float) -> None:
        self.values.clear()
        self.loaded = now
        self.cleared += 1


_MISSING = object()


def _copies() -> _Copies:
    from flask import current_app
    copies = current_app.extensions.get("hotline_reference_cache")
    if copies is None:
        copies = current_app.extensions.setdefault("hotline_reference_cache", _Copies())
    return copies


def cached(name: str, load: Callable[[], object]) -> object:
    """The value `load()` returns, from this process's copy while the reference data is unchanged.
    The lock is never held across a database round trip: a thread waiting for a pooled connection
    there could hold up the threads whose connections it waits for."""
    if _session_wrote():
        return load()  # our own uncommitted change: never cache it, never serve an older copy
    copies = _copies()
    now = time.monotonic()
    with copies.lock:
        if copies.local != _local_generation or now - copies.loaded > MAX_AGE:
            copies.clear(now)
            copies.local = _local_generation
        check = now - copies.checked >= CHECK_SECONDS
        if check:
            copies.checked = now  # one thread looks; the others go on with the copies meanwhile
        value, cleared = copies.values.get(name, _MISSING), copies.cleared
    if check:
        shared = _shared_generation()
        with copies.lock:
            if shared != copies.shared:
                copies.clear(now)
                copies.shared = shared
                value, cleared = _MISSING, copies.cleared
    if value is not _MISSING:
        return value
    value = load()
    with copies.lock:
        if copies.cleared == cleared and copies.local == _local_generation:  # nothing changed meanwhile
            copies.values[name] = value
    return value


def forget() -> None:
    """Drop this process's copies (every app's); the next use loads afresh."""
    global _local_generation
    with _lock:
        _local_generation += 1
