"""gunicorn settings: `gunicorn wsgi:app` picks this file up from the working directory."""
import multiprocessing

bind = "127.0.0.1:8000"
workers = min(4, multiprocessing.cpu_count() * 2)
threads = 4
timeout = 30


def post_worker_init(worker):
    # Each web worker relays the outbox jobs its requests commit (published right after commit).
    from hotline.outbox.relay import start_relay
    start_relay(worker.wsgi)
