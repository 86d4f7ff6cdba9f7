"""client-go's delaying queue: ``add_after(key, seconds)`` on top of the basic queue.

Waiting keys sit in a heap ordered by ready time, with one entry per key: a second
``add_after`` for a waiting key can only move its ready time *earlier* (the earlier request
wins; a later one would postpone work someone already asked for). One background thread
moves keys whose time has come into the queue; it sleeps on the clock until the earliest
ready time or until a new earlier key arrives, so there is no thread or timer per key.
"""

from __future__ import annotations

import heapq
import itertools
import math
import threading
from collections.abc import Hashable
from typing import TypeVar

from reconcile.clock import REAL_CLOCK, Clock
from reconcile.workqueue.metrics import WorkqueueMetrics
from reconcile.workqueue.queue import Queue

__all__ = ["DelayingQueue"]

T = TypeVar("T", bound=Hashable)


class DelayingQueue(Queue[T]):
    """A Queue whose keys can be added after a delay (seconds, on the injected clock)."""

    def __init__(
        self,
        *,
        name: str = "",
        controller: str | None = None,
        metrics: WorkqueueMetrics | None = None,
        clock: Clock = REAL_CLOCK,
    ) -> None:
        super().__init__(name=name, controller=controller, metrics=metrics, clock=clock)
        self._heap_cond = threading.Condition(threading.Lock())
        self._heap: list[tuple[float, int, T]] = []
        self._ready_at: dict[T, float] = {}
        self._priority: dict[T, int] = {}
        self._sequence = itertools.count()
        self._waiter: threading.Thread | None = None
        self._stopped = False

    def add_after(self, item: T, delay: float) -> None:
        """Add ``item`` once ``delay`` seconds have passed; ``delay <= 0`` adds it now.

        If ``item`` is already waiting, the earlier of the two ready times is kept. NaN is a
        programming error (a delay computed from bad input) and raises ValueError.
        """
        self._add_after(item, delay, 0)

    def _add_after(self, item: T, delay: float, priority: int) -> None:
        """``add_after`` at ``priority``: a waiting key keeps the highest priority asked."""
        if math.isnan(delay):
            raise ValueError(f"add_after delay for {item!r} is NaN; pass seconds as a number")
        if delay <= 0:
            self._add(item, priority)
            return
        if self.shutting_down():
            return
        ready_at = self._clock.now() + delay
        with self._heap_cond:
            current = self._ready_at.get(item)
            if current is not None:
                self._priority[item] = max(priority, self._priority.get(item, 0))
                if current <= ready_at:
                    return
            else:
                self._priority[item] = priority
            self._ready_at[item] = ready_at
            heapq.heappush(self._heap, (ready_at, next(self._sequence), item))
            if self._waiter is None:
                self._waiter = threading.Thread(
                    target=self._wait_loop, name=f"workqueue-delay-{self.name}", daemon=True
                )
                self._waiter.start()
            self._heap_cond.notify()

    def waiting(self) -> int:
        """How many keys are waiting for their ready time."""
        with self._heap_cond:
            return len(self._ready_at)

    def _after_shutdown(self) -> None:
        with self._heap_cond:
            self._stopped = True
            self._heap_cond.notify_all()

    def _wait_loop(self) -> None:
        with self._heap_cond:
            while not self._stopped:
                now = self._clock.now()
                while self._heap and self._heap[0][0] <= now:
                    ready_at, _, item = heapq.heappop(self._heap)
                    if self._ready_at.get(item) == ready_at:
                        del self._ready_at[item]
                        self._add(item, self._priority.pop(item, 0))
                timeout = self._heap[0][0] - now if self._heap else None
                self._clock.wait(self._heap_cond, timeout)
