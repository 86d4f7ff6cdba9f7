"""controller-runtime's priority queue: a rate-limiting queue that hands out urgent keys first.

After a restart, or on a periodic resync, every object is enqueued at once; in a FIFO queue
a change made a second later waits behind all of them. Here every add carries a priority
(higher first, default 0): event handlers enqueue the initial list and unchanged resyncs at
``LOW_PRIORITY``, so a real change jumps ahead of the backlog.

Everything else is client-go's contract, unchanged: duplicates collapse (a key keeps the
highest priority it was asked for, and the earliest ready time), a key is never handed to
two workers, a key re-added while processing runs once more after ``done``, and shutdown
drains as in ``Queue``. Among keys of equal priority the order is first ready, first out.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TypeVar

from reconcile.workqueue.rate_limiting import RateLimitingQueue
from reconcile.workqueue.ready import PriorityKeys, ReadyKeys

__all__ = ["LOW_PRIORITY", "PriorityQueue", "supports_priority"]

T = TypeVar("T", bound=Hashable)

LOW_PRIORITY = -100
"""Priority of keys enqueued by the initial list or by a resync that changed nothing
(controller-runtime's ``handler.LowPriority``)."""


class PriorityQueue(RateLimitingQueue[T]):
    """A RateLimitingQueue whose adds take ``priority=`` (higher is handed out first).

    Usage::

        queue: PriorityQueue[Request] = PriorityQueue(name="agentpool")
        queue.add(request, priority=LOW_PRIORITY)    # backlog
        queue.add(other)                             # priority 0: handed out first
        item, priority, shutdown = queue.get_with_priority()
    """

    def _new_ready_keys(self) -> ReadyKeys[T]:
        return PriorityKeys()

    def add(self, item: T, *, priority: int = 0) -> None:
        """Mark ``item`` as needing processing at ``priority`` (raises a waiting key's)."""
        self._add(item, priority)

    def add_after(self, item: T, delay: float, *, priority: int = 0) -> None:
        """Add ``item`` at ``priority`` once ``delay`` seconds have passed."""
        self._add_after(item, delay, priority)

    def add_rate_limited(self, item: T, *, priority: int = 0) -> None:
        """Add ``item`` at ``priority`` after the rate limiter's delay (counted as a retry)."""
        self._note_retry()
        self._add_after(item, self.rate_limiter.when(item), priority)

    def get_with_priority(self, timeout: float | None = None) -> tuple[T | None, int, bool]:
        """Like ``get``, also returning the priority the key was handed out at, so a
        requeue can keep it."""
        return self._get(timeout)


def supports_priority(queue: object) -> bool:
    """Whether ``queue`` takes ``priority=`` on its adds."""
    return isinstance(queue, PriorityQueue)
