from __future__ import annotations

from reconcile.clock import FakeClock
from reconcile.workqueue import ItemExponentialFailureRateLimiter, RateLimitingQueue
from tests.waiting import wait_for


def test_add_rate_limited_waits_the_limiter_delay_and_counts_requeues() -> None:
    clock = FakeClock()
    queue: RateLimitingQueue[str] = RateLimitingQueue(
        rate_limiter=ItemExponentialFailureRateLimiter(base_delay=1.0, max_delay=10.0),
        clock=clock,
    )
    queue.add_rate_limited("a")
    queue.add_rate_limited("a")
    assert queue.num_requeues("a") == 2
    wait_for(clock.has_waiters)
    clock.step(0.5)
    assert len(queue) == 0
    clock.step(0.5)
    wait_for(lambda: len(queue) == 1, what="first retry (1 s) to fire")
    queue.shut_down()


def test_forget_resets_backoff() -> None:
    queue: RateLimitingQueue[str] = RateLimitingQueue(clock=FakeClock())
    queue.add_rate_limited("a")
    queue.forget("a")
    assert queue.num_requeues("a") == 0
    queue.shut_down()


def test_default_limiter_is_the_controller_default() -> None:
    queue: RateLimitingQueue[str] = RateLimitingQueue()
    limiters = getattr(queue.rate_limiter, "limiters", ())
    assert [type(limiter).__name__ for limiter in limiters] == [
        "ItemExponentialFailureRateLimiter",
        "BucketRateLimiter",
    ]
    queue.shut_down()
