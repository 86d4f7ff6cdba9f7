"""Clocks that time-based code takes as a parameter, so tests step time instead of sleeping.

Code that waits does so through ``Clock.wait(condition, timeout)`` while holding the
condition's lock. The real clock is ``condition.wait(timeout)``. ``FakeClock`` never lets real
time matter: a waiter sleeps until it is notified or until ``step()`` moves fake time, which
wakes every registered waiter so it can re-check its own deadline.
"""

from __future__ import annotations

import threading
import time
import weakref
from typing import Protocol

__all__ = ["REAL_CLOCK", "Clock", "FakeClock", "RealClock"]


class Clock(Protocol):
    """Monotonic time in seconds, and a way to wait on a condition for a while of it."""

    def now(self) -> float:
        """Seconds on a monotonic scale; only differences mean anything."""
        ...

    def wait(self, condition: threading.Condition, timeout: float | None) -> None:
        """Wait on ``condition`` (lock held) until notified or ``timeout`` clock seconds pass.

        Spurious wake-ups are allowed: callers re-check their state in a loop.
        """
        ...


class RealClock:
    """The process's monotonic clock."""

    def now(self) -> float:
        return time.monotonic()

    def wait(self, condition: threading.Condition, timeout: float | None) -> None:
        condition.wait(timeout)


REAL_CLOCK = RealClock()


class FakeClock:
    """A clock that moves only when a test calls ``step`` or ``set``."""

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self._lock = threading.Lock()
        self._waiters: weakref.WeakSet[threading.Condition] = weakref.WeakSet()

    def now(self) -> float:
        with self._lock:
            return self._now

    def wait(self, condition: threading.Condition, timeout: float | None) -> None:
        with self._lock:
            self._waiters.add(condition)
        condition.wait()

    def step(self, seconds: float) -> None:
        """Advance by ``seconds`` and wake every waiter to re-check its deadline."""
        if seconds < 0:
            raise ValueError(f"a clock cannot go backwards, got step({seconds})")
        with self._lock:
            self._now += seconds
            waiters = list(self._waiters)
        for condition in waiters:
            with condition:
                condition.notify_all()

    def set(self, moment: float) -> None:
        """Jump to ``moment`` (not earlier than now)."""
        self.step(moment - self.now())

    def has_waiters(self) -> bool:
        """Whether anything has waited on this clock (so a step will be observed)."""
        with self._lock:
            return len(self._waiters) > 0
