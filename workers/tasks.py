"""Celery tasks: take ids, call into hotline/, nothing else."""
from celery import Task

from hotline.outbox import relay
from workers import celery_app, flask_app


@celery_app.task(name="hotline.run_outbox_job")
def run_outbox_job(job_id: int) -> str:
    return relay.execute_job(job_id)


@celery_app.task(name="hotline.run_outbox_jobs")
def run_outbox_jobs(job_ids: list[int]) -> int:
    """Several jobs of one queue in one message (hotline/outbox/publisher.py), each in its own transaction."""
    return relay.execute_jobs(job_ids)


@celery_app.task(name="hotline.relay_outbox")
def relay_outbox() -> int:
    return relay.relay_once(flask_app)


@celery_app.task(name="hotline.sweep_deadlines")
def sweep_deadlines() -> str:
    from hotline.deadlines.sweep import sweep
    return str(sweep())


@celery_app.task(name="hotline.reconcile_sms")
def reconcile_sms() -> str:
    from hotline.sms.sending import reconcile
    return str(reconcile())


@celery_app.task(name="hotline.purge_idempotency_keys")
def purge_idempotency_keys() -> int:
    from hotline.api.idempotency import purge_expired
    return purge_expired()


@celery_app.task(name="hotline.refresh_stats")
def refresh_stats() -> int:
    from hotline.stats.refresh import drain
    return drain()


@celery_app.task(name="hotline.noop", base=Task)
def noop() -> None:
    """Does nothing, without even an app context: bench/routing.py measures the broker and pool's own cost
    per message with it, side by side with the routing jobs."""
