"""Write side of the outbox: a job is added to the session of the change that needs it, so both
commit or neither does. Running the jobs is the relay's business (`hotline.outbox.relay`)."""
from sqlalchemy import event
from sqlalchemy.orm import Session

from hotline.extensions import db
from hotline.outbox.models import OutboxJob

WAKE_KEY = "outbox_wake"


def enqueue(task: str, payload: dict, dedupe_key: str) -> OutboxJob:
    job = OutboxJob(task=task, payload=payload, dedupe_key=dedupe_key)
    db.session.add(job)
    db.session.info[WAKE_KEY] = True
    return job


@event.listens_for(Session, "after_commit")
def _wake_relay(session: Session) -> None:
    # Only a wake-up call: the jobs are already safe in the database.
    if session.info.pop(WAKE_KEY, False):
        from hotline.outbox import relay
        relay.wake()
