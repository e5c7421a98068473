"""The Celery app, made from the Flask app: every task runs inside an app context.

`celery -A workers worker` and `hotline worker` both start it. Tasks are thin (workers/tasks.py)."""
from celery import Celery, Task
from celery.signals import worker_ready
from kombu import Queue

from hotline import create_app
from hotline.extensions import db

QUEUE_NAMES = ("routing", "sms", "deadlines", "stats", "default")


def celery_settings(config) -> dict:
    """Chosen for no loss: a message is acknowledged only after its task finished, and given back
    to the queue if the worker dies; the outbox republishes what still goes missing. A worker outlives
    a broker outage however long (issue #12): it retries the connection forever, and its Redis transport
    (workers/broker.py) keeps a kombu race on the lost connection from stopping it."""
    return {
        "broker_url": config["BROKER_URL"],
        **_broker_transport(config["BROKER_URL"]),
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        # socket_timeout: a command on a connection the broker dropped without closing it (failover, NAT)
        # fails after 10 s instead of waiting forever, so the reconnect starts; BRPOP waits 1 s at a time.
        "broker_transport_options": {"visibility_timeout": 300, "socket_connect_timeout": 5, "socket_timeout": 10},
        "broker_connection_retry_on_startup": True,
        # The default gives up after 100 attempts (about 45 minutes at up to 30 s apart) and the worker
        # exits; the worker must be there when Redis comes back, whenever that is.
        "broker_connection_max_retries": None,
        # A thread cannot be cancelled (the threads pool has no terminate_job): a job running when the
        # connection drops finishes, its acknowledgement fails and its message is delivered again, which
        # execute_job makes harmless. Set, so that Celery 6's change of default changes nothing here.
        "worker_cancel_long_running_tasks_on_connection_loss": False,
        "task_ignore_result": True,
        "task_queues": [Queue(name) for name in QUEUE_NAMES],
        "task_default_queue": "default",
        "worker_hijack_root_logger": False,
        "timezone": config["TIMEZONE"],
        "beat_schedule": {
            "relay-outbox": {"task": "hotline.relay_outbox", "schedule": 10.0, "options": {"queue": "default"}},
            "sweep-deadlines": {"task": "hotline.sweep_deadlines", "schedule": float(config["SWEEP_INTERVAL_SECONDS"]),
                                "options": {"queue": "deadlines"}},
            # SMS left in `sending` by a crash are settled by asking the gateway (hotline/sms/sending.py)
            "reconcile-sms": {"task": "hotline.reconcile_sms", "schedule": 30.0, "options": {"queue": "sms"}},
            # cases changed since they were last counted (hotline/stats/refresh.py), in batches
            "refresh-stats": {"task": "hotline.refresh_stats", "schedule": 5.0,
                              "options": {"queue": "stats"}},
            # idempotency keys past their 24 hours (hotline/api/idempotency.py): the requests no longer purge
            "purge-idempotency-keys": {"task": "hotline.purge_idempotency_keys", "schedule": 3600.0,
                                       "options": {"queue": "default"}},
        },
    }


def _broker_transport(url: str | None) -> dict:
    from workers.broker import SCHEMES, TRANSPORT
    scheme = (url or "").partition("://")[0].lower()
    return {"broker_transport": TRANSPORT} if scheme in SCHEMES else {}


def make_celery(flask_app) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with flask_app.app_context():
                try:
                    return self.run(*args, **kwargs)
                finally:
                    db.session.remove()

    celery = Celery(flask_app.import_name, task_cls=FlaskTask)
    celery.conf.update(celery_settings(flask_app.config))
    flask_app.extensions["celery"] = celery
    return celery


flask_app = create_app()
celery_app = make_celery(flask_app)
app = celery_app


@worker_ready.connect
def _start_relay(**_):
    # The relay runs in the workers (web processes only publish their own commits' jobs): it sleeps until
    # NOTIFY or a commit here wakes it, and looks at the broker every 2 s (hotline/outbox/relay.py).
    from hotline.outbox.relay import start_relay
    start_relay(flask_app, interval=2.0, workers=True)


from workers import tasks  # noqa: E402,F401  (registers the tasks)
