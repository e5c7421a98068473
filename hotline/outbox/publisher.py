"""Publishing an outbox job to Celery by task name: the web process needs no worker code for this;
and asking the broker whether it answers, and which running instance it is."""
from datetime import timedelta

from celery import Celery
from flask import current_app

from hotline.outbox.models import OutboxJob
from hotline.outbox.relay import QUEUES, BrokerInstance
from hotline.types import utcnow

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


def broker_instance() -> BrokerInstance:
    """Which broker process answers: Redis's `run_id`, new at every start, and its uptime, so the relay
    sees a restart that emptied the queues even when no publish failed (hotline/outbox/relay.py).
    Raises when the broker does not answer. Other transports: only that it answers."""
    last: Exception | None = None
    for _attempt in range(2):  # a pooled connection from before a restart fails once, then reconnects
        try:
            with _client().pool.acquire(block=True, timeout=2) as connection:
                client = getattr(connection.default_channel, "client", None)
                if client is None or not hasattr(client, "info"):
                    return BrokerInstance()
                server = client.info("server")
            # a second's margin: uptime is whole seconds
            up_since = utcnow() - timedelta(seconds=int(server.get("uptime_in_seconds", 0)) + 1)
            return BrokerInstance(id=str(server.get("run_id")), up_since=up_since)
        except Exception as exc:
            last = exc
    raise last or RuntimeError("the broker did not answer")
