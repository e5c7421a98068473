"""The relay runs in the workers and sleeps until woken (issue #13): a job another process commits without
publishing it (its publish failed, say) is published by a worker's relay at once, woken by NOTIFY,
not at its next safety pass."""
import time

import pytest

from hotline.outbox import operations, relay
from tests.workers.test_worker_faults import create_cases, undone_jobs, wait_for_routed

pytestmark = pytest.mark.worker


def test_a_job_left_to_the_relay_is_published_by_the_workers_relay_when_notified(broker, start_worker, monkeypatch):
    worker = start_worker(broker.url, "relay")
    create_cases(1)  # published by its commit: proves the worker consumes
    wait_for_routed(1, timeout=60, workers=[worker])
    assert relay.SAFETY_PASS >= 10  # what this test must not wait for
    time.sleep(1)  # past the worker relay's pass after its start

    monkeypatch.setitem(operations._breaker, "until", time.monotonic() + 60)  # as after a failed publish
    started = time.monotonic()
    create_cases(1)  # left to the relay: not published, NOTIFY on commit
    elapsed = wait_for_routed(2, timeout=30, workers=[worker])
    print(f"  routed {elapsed:.1f} s after the commit\n{undone_jobs()}")
    assert time.monotonic() - started < relay.SAFETY_PASS - 2, "the relay waited for its safety pass"
