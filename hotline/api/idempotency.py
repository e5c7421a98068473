"""Idempotency keys: a repeated request (a client's retry, a double click, a refresh) answers what the
first one did instead of doing it again (issue #12 item 7).

A key is claimed by inserting its row in a short transaction of its own (unique per scope and key),
so of two concurrent requests with one key exactly one goes on; the other waits for the first's answer.
The first request writes its answer on the row in the same transaction as its work, so a case and the
answer that names it are committed together or not at all. A request that fails releases its key (its
work was rolled back, so trying again is safe).

Keys are kept 24 hours; `purge_expired` deletes older ones, run by beat (workers/__init__.py) or, in the
embedded mode, by the relay thread's schedule (hotline/outbox/relay.py), not by the requests: a request
only clears its own key when that one has expired. The answer kept for replay is encrypted under the data
keys (hotline/api/models.py SealedJSON): it names the new case's query code. Keep a data key in
HOTLINE_DATA_KEYS for a day after putting a newer one first, or the replays of that day are lost."""
import hashlib
import json
import re
import time
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps

from flask import current_app, g, jsonify, request
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from hotline.api.models import IdempotencyKey
from hotline.extensions import db
from hotline.types import utcnow

KEEP = timedelta(hours=24)
# A claim still unanswered after this long belongs to a request that died (a worker killed mid-request:
# its transaction, and so its case, was rolled back): a repeat may take the key over. Well above the
# web worker's timeout (gunicorn.conf.py: 30 s), so a request that is merely slow is never run twice.
ABANDONED = timedelta(minutes=2)
WAIT_SECONDS = 10.0  # how long a concurrent repeat waits for the first request's answer
POLL_SECONDS = 0.05
PURGE_BATCH = 500


class KeyReused(Exception):
    """The key was used before for another request (another body or address): HTTP 422."""


class InProgress(Exception):
    """The first request with this key is still running: HTTP 409, try again shortly."""


@dataclass
class Claim:
    """A claimed key: without a status code this request goes on and must record its answer; with one,
    it is the first request's answer, to be given again."""
    row_id: int
    status_code: int | None = None
    response: dict | None = None

    @property
    def answered(self) -> bool:
        return self.status_code is not None


def body_hash(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def claim(scope: str, key: str, request: str, request_hash: str, keep: timedelta = KEEP,
          wait: float | None = None) -> Claim:
    """Claim (scope, key) for this request, or find the answer a first request with it gave.
    Commits the session: call it before the request changes anything."""
    wait = current_app.config.get("IDEMPOTENCY_WAIT_SECONDS", WAIT_SECONDS) if wait is None else wait
    deadline = time.monotonic() + wait
    while True:
        now = utcnow()
        db.session.execute(delete(IdempotencyKey).where(
            IdempotencyKey.scope == scope, IdempotencyKey.key == key, IdempotencyKey.created_at < now - keep))
        row = IdempotencyKey(scope=scope, key=key, request=request[:255], request_hash=request_hash, created_at=now)
        db.session.add(row)
        try:
            db.session.commit()
            return Claim(row.id)
        except IntegrityError:
            db.session.rollback()
        found = db.session.scalar(select(IdempotencyKey).where(IdempotencyKey.scope == scope,
                                                               IdempotencyKey.key == key))
        if found is None:
            continue  # released or purged meanwhile: claim it again
        if (found.request, found.request_hash) != (request[:255], request_hash):
            db.session.rollback()
            raise KeyReused(found.response)
        if found.status_code is not None:
            answer = Claim(found.id, found.status_code, found.response)
            db.session.rollback()
            return answer
        if found.created_at < now - ABANDONED and _take_over(found.id, now):
            return Claim(found.id)
        db.session.rollback()  # ends the read transaction, so the next look sees the first request's commit
        if time.monotonic() >= deadline:
            raise InProgress()
        time.sleep(POLL_SECONDS)


def _take_over(row_id: int, now) -> bool:
    taken = db.session.execute(
        update(IdempotencyKey).where(IdempotencyKey.id == row_id, IdempotencyKey.status_code.is_(None),
                                     IdempotencyKey.created_at < now - ABANDONED).values(created_at=now),
        execution_options={"synchronize_session": False}).rowcount
    db.session.commit()
    return taken == 1


def record(claimed: Claim, status_code: int, response: dict) -> None:
    """Write the answer on the claimed key, in the caller's transaction (commit it with the work). The
    response is stored as the client received it (Flask's JSON: Decimal and dates as strings)."""
    stored = json.loads(current_app.json.dumps(response))
    db.session.execute(update(IdempotencyKey).where(IdempotencyKey.id == claimed.row_id)
                       .values(status_code=status_code, response=stored),
                       execution_options={"synchronize_session": False})
    claimed.status_code, claimed.response = status_code, stored


def release(claimed: Claim) -> None:
    """Give the key back after a request that failed (rolled back): a repeat then runs it afresh.
    Never raises, so it cannot hide the failure that led here."""
    try:
        db.session.rollback()
        db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == claimed.row_id,
                                                        IdempotencyKey.status_code.is_(None)))
        db.session.commit()
    except Exception:  # the database is down: the claim is taken over once ABANDONED has passed
        db.session.rollback()
        current_app.logger.warning("idempotency key %s not released", claimed.row_id, exc_info=True)


def purge(before, batch: int = PURGE_BATCH) -> int:
    """Delete a batch of keys older than `before`: a bounded statement (a short transaction, however large
    the backlog), and on PostgreSQL concurrent purges skip each other's rows. Does not commit."""
    oldest = select(IdempotencyKey.id).where(IdempotencyKey.created_at < before).limit(batch)
    if db.engine.dialect.name == "postgresql":
        oldest = oldest.with_for_update(skip_locked=True)
    return db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.id.in_(oldest.scalar_subquery())),
                              execution_options={"synchronize_session": False}).rowcount


def purge_expired(batch: int = PURGE_BATCH) -> int:
    """The periodic purge: every key older than 24 hours, a batch a transaction. Returns how many went."""
    before, total = utcnow() - KEEP, 0
    while True:
        removed = purge(before, batch)
        db.session.commit()
        total += removed
        if removed < batch:
            return total


# ---- the API's `Idempotency-Key` header (POST /cases, POST /cases/{number}/actions) ----------------------

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"  # on a repeat's answer: "true"
_API_KEY = re.compile(r"[\x21-\x7e]{1,120}")  # visible ASCII, as the IETF draft's examples (a UUID fits)


def idempotent(view):
    """Inside `require_role` (it needs `g.user`): with the header, a repeat within 24 hours gets the first
    answer again; the same key with another body 422; while the first still runs, the repeat waits for
    its answer (409 if it takes too long). The view calls `record_answer` before it commits."""
    from hotline.api.errors import ApiError

    @wraps(view)
    def wrapped(*args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        if not _API_KEY.fullmatch(key):
            raise ApiError(400, "invalid Idempotency-Key header",
                           {HEADER: "1 to 120 visible ASCII characters, such as a UUID"})
        try:
            claimed = claim(f"user:{g.user.id}", f"api:{key}", f"{request.method} {request.path}",
                            body_hash(request.get_data(cache=True)))
        except KeyReused:
            raise ApiError(422, "this Idempotency-Key was used with another request",
                           {HEADER: "used before with another body or address: send a new key"}) from None
        except InProgress:
            raise ApiError(409, "the first request with this Idempotency-Key is still running; try again "
                                "shortly") from None
        if claimed.answered:
            response = jsonify(claimed.response)
            response.status_code = claimed.status_code
            response.headers[REPLAYED] = "true"
            return response
        g.idempotency_claim = claimed
        try:
            response = view(*args, **kwargs)
        except BaseException:
            release(claimed)
            raise
        if not claimed.answered:  # the view answered without recording (an error it returned): not kept
            release(claimed)
        return response
    return wrapped


def record_answer(status_code: int, body: dict) -> None:
    """Keep this request's answer on its idempotency key, if it came with one (before the commit)."""
    claimed = g.get("idempotency_claim")
    if claimed is not None:
        record(claimed, status_code, body)
