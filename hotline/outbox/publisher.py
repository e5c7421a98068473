"""Publishing an outbox job to Celery by task name: the web process needs no worker code for this."""
from celery import Celery
from flask import current_app

from hotline.outbox.models import OutboxJob
from hotline.outbox.relay import QUEUES

RUN_JOB = "hotline.run_outbox_job"


def _client() -> Celery:
    client = current_app.extensions.get("hotline_celery_client")
    if client is None:
        client = Celery("hotline-publisher", broker=current_app.config["BROKER_URL"])
        client.conf.broker_connection_timeout = 2
        client.conf.broker_transport_options = {"socket_connect_timeout": 2, "socket_timeout": 5}
        current_app.extensions["hotline_celery_client"] = client
    return client


def send_job(job: OutboxJob) -> None:
    # retry=False: with the broker down, fail at once; the relay's next pass publishes it again.
    _client().send_task(RUN_JOB, args=[job.id], queue=QUEUES.get(job.task, "default"), retry=False)
