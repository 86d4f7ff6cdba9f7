from __future__ import annotations

import pytest

from reconcile.clock import FakeClock
from reconcile.workqueue import (
    BucketRateLimiter,
    ItemExponentialFailureRateLimiter,
    ItemFastSlowRateLimiter,
    MaxOfRateLimiter,
    default_controller_rate_limiter,
)


@pytest.mark.parametrize(
    ("prior_failures", "delay"),
    [
        pytest.param(0, 0.005, id="first-retry-uses-base"),
        pytest.param(1, 0.010, id="doubles"),
        pytest.param(3, 0.040, id="doubles-per-failure"),
        pytest.param(17, 655.36, id="just-below-cap"),
        pytest.param(18, 1000.0, id="capped-at-max"),
        pytest.param(2000, 1000.0, id="no-overflow-after-many-failures"),
    ],
)
def test_exponential_delay(prior_failures: int, delay: float) -> None:
    limiter = ItemExponentialFailureRateLimiter(base_delay=0.005, max_delay=1000.0)
    for _ in range(prior_failures):
        limiter.when("ns/a")
    assert limiter.when("ns/a") == pytest.approx(delay)


def test_exponential_is_per_item_and_forget_resets() -> None:
    limiter = ItemExponentialFailureRateLimiter()
    limiter.when("a")
    limiter.when("a")
    assert limiter.when("b") == pytest.approx(0.005)
    assert limiter.num_requeues("a") == 2
    limiter.forget("a")
    assert limiter.num_requeues("a") == 0
    assert limiter.when("a") == pytest.approx(0.005)


def test_exponential_rejects_inverted_bounds() -> None:
    with pytest.raises(ValueError, match="base_delay <= max_delay"):
        ItemExponentialFailureRateLimiter(base_delay=2.0, max_delay=1.0)


def test_fast_slow_switches_after_max_fast_attempts() -> None:
    limiter = ItemFastSlowRateLimiter(fast_delay=0.1, slow_delay=3.0, max_fast_attempts=2)
    assert [limiter.when("a") for _ in range(4)] == [0.1, 0.1, 3.0, 3.0]
    assert limiter.num_requeues("a") == 4
    limiter.forget("a")
    assert limiter.when("a") == 0.1


def test_bucket_allows_burst_then_spaces_by_qps() -> None:
    clock = FakeClock()
    limiter = BucketRateLimiter(qps=10.0, burst=3, clock=clock)
    assert [limiter.when(i) for i in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.when(3) == pytest.approx(0.1)
    assert limiter.when(4) == pytest.approx(0.2)


def test_bucket_refills_over_time_up_to_burst() -> None:
    clock = FakeClock()
    limiter = BucketRateLimiter(qps=10.0, burst=2, clock=clock)
    limiter.when("a")
    limiter.when("b")
    clock.step(60.0)
    assert [limiter.when(i) for i in range(3)] == [0.0, 0.0, pytest.approx(0.1)]


def test_bucket_has_no_item_memory() -> None:
    limiter = BucketRateLimiter(qps=1.0, burst=1, clock=FakeClock())
    limiter.when("a")
    assert limiter.num_requeues("a") == 0


def test_max_of_takes_the_longest_delay() -> None:
    clock = FakeClock()
    limiter = MaxOfRateLimiter(
        ItemExponentialFailureRateLimiter(base_delay=1.0, max_delay=100.0),
        BucketRateLimiter(qps=1.0, burst=1, clock=clock),
    )
    assert limiter.when("a") == 1.0  # exponential 1.0 beats bucket 0.0
    assert limiter.when("b") == 1.0  # bucket now owes 1 s; exponential for b is 1.0 too
    assert limiter.when("a") == 2.0
    assert limiter.num_requeues("a") == 2
    limiter.forget("a")
    assert limiter.num_requeues("a") == 0


def test_default_controller_limiter_is_exponential_under_bucket() -> None:
    clock = FakeClock()
    limiter = default_controller_rate_limiter(clock)
    delays = [limiter.when("a") for _ in range(3)]
    assert delays == pytest.approx([0.005, 0.010, 0.020])
    for i in range(200):
        limiter.when(f"burst-{i}")
    assert limiter.when("fresh") > 0.005, "past the 100 burst, the 10 qps bucket dominates"
