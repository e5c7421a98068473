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
    to the queue if the worker dies; the outbox republishes what still goes missing."""
    return {
        "broker_url": config["BROKER_URL"],
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "broker_transport_options": {"visibility_timeout": 300, "socket_connect_timeout": 5},
        "broker_connection_retry_on_startup": True,
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
        },
    }


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
    # Workers relay too, so the outbox drains even where no web process runs.
    from hotline.outbox.relay import start_relay
    start_relay(flask_app, interval=5.0)


from workers import tasks  # noqa: E402,F401  (registers the tasks)
