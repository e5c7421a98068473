"""The outbox relay without a broker: what is published, released and taken again."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from hotline.extensions import db
from hotline.outbox import relay
from hotline.outbox.models import OutboxJob
from hotline.types import utcnow


def jobs():
    db.session.expire_all()
    return db.session.scalars(select(OutboxJob).order_by(OutboxJob.id)).all()


def test_broker_down_mid_batch_keeps_what_was_sent_and_releases_the_rest(make_case):
    for _ in range(3):
        make_case()
    sent = []

    def send(job):
        if len(sent) == 2:
            raise ConnectionError("broker down")
        sent.append(job.id)

    with pytest.raises(ConnectionError):
        relay.publish_pending(send)
    published = [j for j in jobs() if j.published_at is not None]
    assert sorted(j.id for j in published) == sorted(sent)
    assert all(utcnow() - j.published_at < timedelta(seconds=5) for j in published)
    again = []
    assert relay.publish_pending(lambda job: again.append(job.id)) == len(jobs()) - 2
    assert not set(again) & set(sent)  # nothing sent twice while it is fresh


def test_a_batch_whose_publisher_died_is_taken_again_after_the_lease(make_case):
    make_case()
    stranded = utcnow() - relay.REPUBLISH_AFTER + relay.PUBLISH_LEASE  # claimed, never sent
    for job in jobs():
        job.published_at = stranded
    db.session.commit()
    assert relay.publish_pending(lambda job: None) == 0  # the lease still runs
    for job in jobs():
        job.published_at = stranded - relay.PUBLISH_LEASE
    db.session.commit()
    assert relay.publish_pending(lambda job: None) == len(jobs())
