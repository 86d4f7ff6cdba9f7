"""Rate limiters: how long a key waits before its next retry (client-go's set).

A limiter answers ``when(item)`` (seconds to wait, and it counts as an attempt), ``forget``
(the item succeeded: reset its history) and ``num_requeues``. The controller default,
``default_controller_rate_limiter()``, is the slower of a per-item exponential backoff
(5 ms doubling to 1000 s: a failing object backs off on its own) and an overall token bucket
(10 qps, burst 100: many failing objects together cannot hammer the API server).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Hashable
from typing import Protocol

from reconcile.clock import REAL_CLOCK, Clock

__all__ = [
    "BucketRateLimiter",
    "ItemExponentialFailureRateLimiter",
    "ItemFastSlowRateLimiter",
    "MaxOfRateLimiter",
    "RateLimiter",
    "default_controller_rate_limiter",
]

DEFAULT_BASE_DELAY = 0.005
DEFAULT_MAX_DELAY = 1000.0
DEFAULT_QPS = 10.0
DEFAULT_BURST = 100


class RateLimiter(Protocol):
    """Decides retry delays per item."""

    def when(self, item: Hashable) -> float:
        """Seconds ``item`` should wait now; records one more attempt."""
        ...

    def forget(self, item: Hashable) -> None:
        """Drop ``item``'s history (it succeeded or is no longer tracked)."""
        ...

    def num_requeues(self, item: Hashable) -> int:
        """Attempts recorded for ``item`` since it was last forgotten."""
        ...


class ItemExponentialFailureRateLimiter:
    """``base_delay * 2**failures``, capped at ``max_delay`` (seconds), per item."""

    def __init__(
        self, *, base_delay: float = DEFAULT_BASE_DELAY, max_delay: float = DEFAULT_MAX_DELAY
    ) -> None:
        if not 0 < base_delay <= max_delay:
            raise ValueError(
                f"need 0 < base_delay <= max_delay, got {base_delay}/{max_delay} seconds"
            )
        self.base_delay = base_delay
        self.max_delay = max_delay
        self._failures: dict[Hashable, int] = {}
        self._lock = threading.Lock()

    def when(self, item: Hashable) -> float:
        with self._lock:
            exponent = self._failures.get(item, 0)
            self._failures[item] = exponent + 1
        # 2**1100 overflows a float; anything past the cap is the cap anyway.
        if exponent >= 1023:
            return self.max_delay
        return min(self.base_delay * math.ldexp(1.0, exponent), self.max_delay)

    def forget(self, item: Hashable) -> None:
        with self._lock:
            self._failures.pop(item, None)

    def num_requeues(self, item: Hashable) -> int:
        with self._lock:
            return self._failures.get(item, 0)


class ItemFastSlowRateLimiter:
    """``fast_delay`` for the first ``max_fast_attempts`` tries of an item, then ``slow_delay``."""

    def __init__(self, *, fast_delay: float, slow_delay: float, max_fast_attempts: int) -> None:
        if fast_delay < 0 or slow_delay < 0 or max_fast_attempts < 0:
            raise ValueError(
                "fast_delay, slow_delay (seconds) and max_fast_attempts must be >= 0, got "
                f"{fast_delay}/{slow_delay}/{max_fast_attempts}"
            )
        self.fast_delay = fast_delay
        self.slow_delay = slow_delay
        self.max_fast_attempts = max_fast_attempts
        self._attempts: dict[Hashable, int] = {}
        self._lock = threading.Lock()

    def when(self, item: Hashable) -> float:
        with self._lock:
            attempts = self._attempts.get(item, 0) + 1
            self._attempts[item] = attempts
        return self.fast_delay if attempts <= self.max_fast_attempts else self.slow_delay

    def forget(self, item: Hashable) -> None:
        with self._lock:
            self._attempts.pop(item, None)

    def num_requeues(self, item: Hashable) -> int:
        with self._lock:
            return self._attempts.get(item, 0)


class BucketRateLimiter:
    """A token bucket shared by all items: ``qps`` tokens per second, at most ``burst`` saved.

    Each ``when`` reserves one token and returns how long until it is available, like
    ``rate.Limiter.Reserve().Delay()``: the first ``burst`` calls get 0, then calls are
    spaced ``1/qps`` seconds apart. It tracks no per-item history.
    """

    def __init__(
        self, *, qps: float = DEFAULT_QPS, burst: int = DEFAULT_BURST, clock: Clock = REAL_CLOCK
    ) -> None:
        if not qps > 0 or burst < 1:
            raise ValueError(f"need qps > 0 and burst >= 1, got qps={qps} burst={burst}")
        self.qps = qps
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._last = clock.now()
        self._lock = threading.Lock()

    def when(self, item: Hashable) -> float:
        with self._lock:
            now = self._clock.now()
            if now > self._last:
                self._tokens = min(float(self.burst), self._tokens + (now - self._last) * self.qps)
                self._last = now
            self._tokens -= 1.0
            return 0.0 if self._tokens >= 0 else -self._tokens / self.qps

    def forget(self, item: Hashable) -> None:
        """Nothing to forget: the bucket has no per-item state."""

    def num_requeues(self, item: Hashable) -> int:
        return 0


class MaxOfRateLimiter:
    """The longest delay any of ``limiters`` asks for; every limiter records each attempt."""

    def __init__(self, *limiters: RateLimiter) -> None:
        if not limiters:
            raise ValueError("MaxOfRateLimiter needs at least one limiter")
        self.limiters = limiters

    def when(self, item: Hashable) -> float:
        return max(limiter.when(item) for limiter in self.limiters)

    def forget(self, item: Hashable) -> None:
        for limiter in self.limiters:
            limiter.forget(item)

    def num_requeues(self, item: Hashable) -> int:
        return max(limiter.num_requeues(item) for limiter in self.limiters)


def default_controller_rate_limiter(clock: Clock = REAL_CLOCK) -> MaxOfRateLimiter:
    """Max of exponential (5 ms .. 1000 s per item) and bucket (10 qps, burst 100) limiters."""
    return MaxOfRateLimiter(
        ItemExponentialFailureRateLimiter(
            base_delay=DEFAULT_BASE_DELAY, max_delay=DEFAULT_MAX_DELAY
        ),
        BucketRateLimiter(qps=DEFAULT_QPS, burst=DEFAULT_BURST, clock=clock),
    )
