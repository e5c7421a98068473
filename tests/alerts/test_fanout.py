"""Publishing fans an alert out to the confirmed subscribers, in batches written in bulk, resumable and
idempotent; withdrawing stops what has not gone."""
import pytest
from sqlalchemy import func, select

from hotline.alerts import operations
from hotline.alerts.models import ConsumerAlert
from hotline.alerts.operations import AlertInput
from hotline.extensions import db
from hotline.outbox import relay
from hotline.outbox.models import OutboxJob
from hotline.sms.models import SmsMessage, SmsOptOut
from tests.alerts.conftest import TIEDONG, TIEXI, pending_fanout_jobs, run_fanout


def published(author, district=None) -> ConsumerAlert:
    alert = operations.create_alert(AlertInput("预付卡闭店风险提示", "近期有健身房闭店。", "谨慎办理预付卡。",
                                               district), author)
    operations.publish_alert(alert.id, author)
    db.session.commit()
    return alert


def messages(alert_id: int) -> list[SmsMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(SmsMessage).where(SmsMessage.alert_id == alert_id)
                                   .order_by(SmsMessage.id)))


def test_a_district_alert_reaches_that_district_and_whole_city_subscribers_only(make_user, subscribe):
    chief = make_user("supervisor")
    tiexi, city = subscribe(TIEXI), subscribe(None)
    subscribe(TIEDONG)
    subscribe(TIEXI, status="pending")
    subscribe(TIEXI, status="unsubscribed")
    opted_out = subscribe(TIEXI)
    db.session.add(SmsOptOut(phone=opted_out.phone, scope="marketing", source="reply"))
    db.session.commit()
    alert = published(chief, TIEXI)
    run_fanout()
    sent_to = {m.to_phone for m in messages(alert.id)}
    assert sent_to == {tiexi.phone, city.phone}
    message = messages(alert.id)[0]
    assert message.kind == "alert" and message.status == "queued" and message.template_code == "CONSUMER_ALERT"
    assert message.dedupe_key == f"alert:{alert.id}:{message.to_phone}"
    assert operations.sms_message_text(message.params["text"]).endswith("回复TD退订")
    # Each message has its send job, as queue_message would have written it.
    jobs = db.session.scalars(select(OutboxJob).where(OutboxJob.task == "send_sms")).all()
    assert {j.payload["dedupe_key"] for j in jobs} == {m.dedupe_key for m in messages(alert.id)}
    assert all(j.dedupe_key == "send_sms:" + j.payload["dedupe_key"] for j in jobs)


def test_a_city_wide_alert_reaches_every_confirmed_subscriber(make_user, subscribe):
    chief = make_user("supervisor")
    wanted = {subscribe(TIEXI).phone, subscribe(TIEDONG).phone, subscribe(None).phone}
    subscribe(None, status="pending")
    alert = published(chief)
    run_fanout()
    assert {m.to_phone for m in messages(alert.id)} == wanted
    assert db.session.get(ConsumerAlert, alert.id).recipients == 3


def test_fan_out_goes_in_batches_and_resumes_where_it_stopped(app, make_user, subscribe):
    chief = make_user("supervisor")
    subscribers = [subscribe(None) for _ in range(7)]
    app.config["ALERT_FANOUT_BATCH"] = 3
    try:
        alert = published(chief)
        job = pending_fanout_jobs()[0]
        # A worker dies mid-batch: nothing of the batch is kept and the job is still due.
        operations.fan_out_batch(alert.id)
        db.session.rollback()
        assert messages(alert.id) == [] and pending_fanout_jobs()[0].id == job.id
        assert relay.execute_job(job.id) == "queued 3"
        assert db.session.get(ConsumerAlert, alert.id).queued_through == subscribers[2].id
        assert relay.execute_job(job.id) == "skipped"  # the same job delivered twice: no second batch
        assert len(messages(alert.id)) == 3
        assert run_fanout() == 3  # two more batches, then one that finds nobody left
    finally:
        app.config.pop("ALERT_FANOUT_BATCH")
    assert sorted(m.to_phone for m in messages(alert.id)) == sorted(s.phone for s in subscribers)
    assert db.session.scalar(select(func.count()).select_from(OutboxJob).where(OutboxJob.task == "send_sms")) == 7


def test_withdrawing_cancels_what_is_still_queued_and_stops_the_fan_out(app, make_user, subscribe):
    chief = make_user("supervisor")
    for _ in range(5):
        subscribe(None)
    app.config["ALERT_FANOUT_BATCH"] = 2
    try:
        alert = published(chief)
        relay.execute_job(pending_fanout_jobs()[0].id)  # the first batch only
        first = messages(alert.id)
        db.session.execute(SmsMessage.__table__.update().where(SmsMessage.id == first[0].id).values(status="sent"))
        db.session.commit()
        operations.withdraw_alert(alert.id, chief)
        db.session.commit()
        assert run_fanout() == 1  # the pending batch job finds the alert withdrawn
    finally:
        app.config.pop("ALERT_FANOUT_BATCH")
    statuses = [m.status for m in messages(alert.id)]
    assert statuses == ["sent", "cancelled"]  # what went, went; nothing more was queued
    relay.run_pending()  # the send jobs: the cancelled message's job is already closed
    assert [m.status for m in messages(alert.id)] == ["sent", "cancelled"]
    assert operations.progress(alert.id) == {"queued": 0, "sent": 1, "delivered": 0, "failed": 0, "cancelled": 1}


def test_an_unsubscribed_number_gets_no_alert_already_queued(make_user, subscribe):
    from hotline.alerts.subscriptions import unsubscribe
    chief = make_user("supervisor")
    leaving, staying = subscribe(None), subscribe(None)
    alert = published(chief)
    run_fanout()
    unsubscribe(leaving, "page")
    db.session.commit()
    assert {m.to_phone: m.status for m in messages(alert.id)} == {leaving.phone: "cancelled",
                                                                  staying.phone: "queued"}


def _local(hour: int, minute: int, second: int = 0):
    from datetime import datetime
    from zoneinfo import ZoneInfo
    return datetime(2026, 11, 26, hour, minute, second, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_an_alert_published_at_2059_sends_what_fits_and_the_rest_after_0800(make_user, subscribe):
    from hotline.outbox.relay import Deferred
    from hotline.sms.sending import send_queued
    chief = make_user("supervisor")
    for _ in range(3):
        subscribe(None)
    alert = published(chief)
    operations.fan_out_batch(alert.id, now=_local(20, 59))
    db.session.commit()
    first, *rest = messages(alert.id)
    assert first.not_before is None  # queued in the window: nothing to wait for yet
    assert send_queued(first.dedupe_key, now=_local(20, 59, 30)) == "sent"
    for message in rest:
        with pytest.raises(Deferred) as deferred:
            send_queued(message.dedupe_key, now=_local(21, 0, 5))
        assert deferred.value.until == _local(8, 0).replace(day=27)
    assert [m.status for m in messages(alert.id)] == ["sent", "queued", "queued"]
    assert send_queued(rest[0].dedupe_key, now=_local(8, 0, 1).replace(day=27)) == "sent"


def test_an_alert_queued_at_night_waits_for_the_morning_in_its_jobs(make_user, subscribe):
    chief = make_user("supervisor")
    subscribe(None)
    alert = published(chief)
    operations.fan_out_batch(alert.id, now=_local(2, 30))
    db.session.commit()
    message = messages(alert.id)[0]
    job = db.session.scalars(select(OutboxJob).where(OutboxJob.task == "send_sms")).one()
    assert message.not_before == job.available_at == _local(8, 0)  # no job run before the window opens
