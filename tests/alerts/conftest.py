"""Helpers for the alert tests: subscribers made directly, and the fan-out run job by job."""
import pytest
from sqlalchemy import select

from hotline.alerts.models import Subscription
from hotline.extensions import db
from hotline.outbox import relay
from hotline.outbox.models import OutboxJob
from hotline.types import utcnow

TIEXI, TIEDONG = "210303", "210302"


@pytest.fixture
def subscribe():
    counter = iter(range(1, 1_000_000))

    def make(district=None, status="confirmed", phone=None, channel="web"):
        subscription = Subscription(phone=phone or f"139{next(counter):08d}", district=district, status=status,
                                    channel=channel, consent_at=utcnow() if status == "confirmed" else None)
        db.session.add(subscription)
        db.session.commit()
        return subscription
    return make


def pending_fanout_jobs() -> list[OutboxJob]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxJob).where(OutboxJob.task == "alert_fanout",
                                                           OutboxJob.done_at.is_(None)).order_by(OutboxJob.id)))


def run_fanout() -> int:
    """Run the alert's fan-out jobs as the relay would, one job (one batch) at a time; the send jobs are
    left alone. Returns how many fan-out jobs ran."""
    ran = 0
    while jobs := pending_fanout_jobs():
        relay.execute_job(jobs[0].id)
        ran += 1
        assert ran < 1000
    return ran
