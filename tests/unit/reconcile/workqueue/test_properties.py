"""Concurrency properties of the rate-limiting queue under random interleavings."""

from __future__ import annotations

import hashlib
import itertools
import threading
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from reconcile.workqueue import (
    ItemExponentialFailureRateLimiter,
    PriorityQueue,
    RateLimitingQueue,
)
from tests.waiting import wait_for

KEYS = st.sampled_from(["a", "b", "c", "d", "e"])
PRIORITIES = st.sampled_from([-100, 0, 5])
OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("add"), KEYS, st.just(0.0), PRIORITIES),
        st.tuples(
            st.just("add_after"), KEYS, st.floats(min_value=0.0, max_value=0.003), PRIORITIES
        ),
        st.tuples(st.just("add_rate_limited"), KEYS, st.just(0.0), PRIORITIES),
    ),
    min_size=1,
    max_size=60,
)


class Ledger:
    """Sequence numbers of adds and processing starts, plus a concurrency check."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counter = itertools.count()
        self.last_add: dict[str, int] = {}
        self.last_start: dict[str, int] = {}
        self.active: set[str] = set()
        self.overlaps: list[str] = []
        self.errors: list[str] = []
        self.busy = 0

    def before_add(self, key: str) -> None:
        with self.lock:
            self.last_add[key] = next(self.counter)

    def start(self, key: str) -> None:
        with self.lock:
            self.busy += 1
            if key in self.active:
                self.overlaps.append(key)
            self.active.add(key)
            self.last_start[key] = next(self.counter)

    def finish(self, key: str) -> None:
        with self.lock:
            self.active.discard(key)


def _work_while_holding(key: str) -> None:
    """Hold the key while doing real work and yielding the GIL, so that a queue handing one
    key to two workers would be caught with both inside ``start``..``finish``."""
    digest = key.encode()
    for _ in range(20):
        digest = hashlib.sha256(digest).digest()
        time.sleep(0)  # yield to the other workers (not a wait for anything)


@settings(max_examples=40, deadline=None)
@given(
    operations=OPERATIONS,
    workers=st.integers(min_value=1, max_value=4),
    prioritized=st.booleans(),
)
def test_no_key_runs_twice_at_once_and_every_add_is_processed(
    operations: list[tuple[str, str, float, int]], workers: int, prioritized: bool
) -> None:
    """Holds for client-go's FIFO queue and for the priority queue alike."""
    limiter = ItemExponentialFailureRateLimiter(base_delay=0.0001, max_delay=0.002)
    queue: RateLimitingQueue[str] = (
        PriorityQueue(rate_limiter=limiter)
        if prioritized
        else RateLimitingQueue(rate_limiter=limiter)
    )
    ledger = Ledger()

    def work() -> None:
        # Failures are recorded, not asserted: an assert in this thread could not fail the test.
        while True:
            key, shutdown = queue.get()
            if shutdown:
                return
            if key is None:
                with ledger.lock:
                    ledger.errors.append("get returned no key without shutdown")
                continue
            ledger.start(key)
            _work_while_holding(key)
            ledger.finish(key)
            queue.done(key)
            with ledger.lock:
                ledger.busy -= 1

    threads = [threading.Thread(target=work, daemon=True) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for kind, key, delay, priority in operations:
        ledger.before_add(key)
        if isinstance(queue, PriorityQueue):
            if kind == "add":
                queue.add(key, priority=priority)
            elif kind == "add_after":
                queue.add_after(key, delay, priority=priority)
            else:
                queue.add_rate_limited(key, priority=priority)
        elif kind == "add":
            queue.add(key)
        elif kind == "add_after":
            queue.add_after(key, delay)
        else:
            queue.add_rate_limited(key)

    def quiet() -> bool:
        with ledger.lock:
            busy = ledger.busy
        return busy == 0 and queue.waiting() == 0 and len(queue) == 0

    # Shut down only once quiet: like client-go, a key re-added while in flight is requeued
    # at done() and would be stranded if every other worker had already seen shutdown.
    wait_for(quiet, timeout=10, what="all work and delays to settle")
    assert queue.shut_down_with_drain(timeout=10)
    for thread in threads:
        thread.join(10)
        assert not thread.is_alive()

    assert ledger.errors == []
    assert ledger.overlaps == []
    for key, added in ledger.last_add.items():
        assert ledger.last_start.get(key, -1) > added, f"{key} not processed after its last add"
