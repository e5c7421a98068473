"""Connection pools without a ping on every checkout (issue #13: 13 % of a web worker's time went to
`pool_pre_ping`, a round trip per request).

A dead connection is found when it is used instead (SQLAlchemy's optimistic disconnect handling): the
statement fails, SQLAlchemy sees a disconnect, invalidates that connection and every other one the pool
held at that moment, and the request answers 503 (hotline/errors.py); later checkouts connect afresh,
so the app recovers by itself after a PostgreSQL restart. A connection that sat unused in the pool for
longer than IDLE_PING_SECONDS is still pinged before use, so the first request after a quiet spell
(the database restarted overnight, a proxy that closes idle connections) does not fail: a busy app
never pays for it, since its connections go back and forth within milliseconds."""
import time

from sqlalchemy import event, exc
from sqlalchemy.pool import Pool

IDLE_PING_SECONDS = 10.0
_IDLE_SINCE = "hotline_idle_since"


def _is_sqlite(dbapi_connection) -> bool:
    return type(dbapi_connection).__module__.startswith("sqlite3")


@event.listens_for(Pool, "checkin")
def _note_idle(dbapi_connection, record):
    if dbapi_connection is not None:
        record.info[_IDLE_SINCE] = time.monotonic()


@event.listens_for(Pool, "checkout")
def _ping_if_idle(dbapi_connection, record, _proxy):
    idle_since = record.info.pop(_IDLE_SINCE, None)
    if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS or _is_sqlite(dbapi_connection):
        return
    try:  # what the dialect's own pre-ping does (SELECT 1 on a cursor of the DBAPI connection)
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SELECT 1")
        finally:
            cursor.close()
    except Exception as error:
        # As the dialect's pre-ping does: this connection is replaced by a fresh one, and every other one
        # the pool holds now is recycled on its next checkout (they died with the same server).
        raise exc.InvalidatePoolError(f"idle connection is dead: {error!r}") from error
