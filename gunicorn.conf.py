"""gunicorn settings: `gunicorn wsgi:app` picks this file up from the working directory."""
import multiprocessing

bind = "127.0.0.1:8000"
workers = min(4, multiprocessing.cpu_count() * 2)
# Two threads per worker: at a fixed 300 intakes/s on 2 cores, four threads per worker fell behind
# (p99 1.1–2.0 s, their GIL contention costing CPU per request) where two kept up (p99 0.17–0.49 s);
# both gave the same throughput at saturation (bench/intake.py, issue #13).
threads = 2
timeout = 30


def post_worker_init(worker):
    # Each web worker relays the outbox jobs its requests commit (published right after commit).
    from hotline.outbox.relay import start_relay
    start_relay(worker.wsgi)
