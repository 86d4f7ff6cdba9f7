"""client-go's basic work queue: FIFO, deduplicating, never handing one key to two workers.

Three structures under one lock carry the invariants:

- ``_queue``: keys waiting to be handed out, each at most once (in arrival order here; the
  priority queue hands out higher priorities first, see ``ready.py``);
- ``_dirty``: keys that need processing (everything in ``_queue``, plus keys re-added while
  being processed);
- ``_processing``: keys handed out by ``get`` and not yet ``done``.

Adding a key that is already dirty does nothing (duplicates collapse). Adding a key that is
being processed only marks it dirty; ``done`` puts it back in the queue, so it runs exactly
once more, after the current run, and never concurrently with it. That is what makes
controllers level-triggered: a burst of events for one object becomes at most one extra run.

Shutdown: ``shut_down`` makes every blocked ``get`` return; ``get`` keeps handing out queued
keys and reports shutdown only once none is left. ``shut_down_with_drain`` additionally blocks
until every key in flight is ``done``. Adds after shutdown are ignored, as in client-go (a
controller stopping must not be kept alive by late events).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Hashable
from typing import Generic, TypeVar

from reconcile.clock import REAL_CLOCK, Clock
from reconcile.workqueue.metrics import QueueStats, WorkqueueMetrics
from reconcile.workqueue.ready import FifoKeys, ReadyKeys

__all__ = ["Queue"]

log = logging.getLogger(__name__)

T = TypeVar("T", bound=Hashable)


def _require_hashable(item: object) -> None:
    try:
        hash(item)
    except TypeError:
        raise TypeError(
            f"work queue keys must be hashable, got {type(item).__name__}: use an immutable key "
            "such as reconcile.Request(namespace, name) or a tuple, never a dict or list"
        ) from None


class Queue(Generic[T]):
    """A thread-safe work queue with client-go's semantics.

    Usage::

        queue: Queue[Request] = Queue(name="agentpool")
        queue.add(request)
        item, shutdown = queue.get()     # blocks
        if not shutdown:
            try: handle(item)
            finally: queue.done(item)    # always, or the key is stuck "processing"

    Every method may be called from any thread.
    """

    def __init__(
        self,
        *,
        name: str = "",
        controller: str | None = None,
        metrics: WorkqueueMetrics | None = None,
        clock: Clock = REAL_CLOCK,
    ) -> None:
        """``name`` labels the metrics (``controller`` defaults to it); no ``metrics``, no cost."""
        self.name = name
        self._clock = clock
        self._cond = threading.Condition(threading.Lock())
        self._queue: ReadyKeys[T] = self._new_ready_keys()
        self._dirty: set[T] = set()
        self._processing: set[T] = set()
        self._shutting_down = False
        self._drain = False
        self._stats: QueueStats | None = (
            metrics.for_queue(
                name, controller if controller is not None else name, self._cond, clock.now
            )
            if metrics is not None
            else None
        )

    def _new_ready_keys(self) -> ReadyKeys[T]:
        """The structure ready keys wait in; FIFO here, by priority in ``PriorityQueue``."""
        return FifoKeys()

    def add(self, item: T) -> None:
        """Mark ``item`` as needing processing; a no-op if it already is, or after shutdown."""
        self._add(item, 0)

    def _add(self, item: T, priority: int) -> None:
        with self._cond:
            if self._shutting_down:
                log.debug("add after shutdown ignored", extra={"queue": self.name})
                return
            try:
                if item in self._dirty:
                    self._queue.note(item, priority)
                    return
            except TypeError:
                _require_hashable(item)
                raise
            stats = self._stats
            if stats is not None:
                stats.adds += 1
                if item not in stats.add_times:
                    stats.add_times[item] = self._clock.now()
            self._dirty.add(item)
            self._queue.note(item, priority)
            if item in self._processing:
                return
            self._queue.push(item)
            if stats is not None:
                stats.depth += 1
            self._cond.notify()

    def __len__(self) -> int:
        """Keys waiting to be handed out (not counting keys being processed)."""
        with self._cond:
            return len(self._queue)

    def get(self, timeout: float | None = None) -> tuple[T | None, bool]:
        """Block until a key is available; return ``(key, False)``, or ``(None, True)`` on shutdown.

        Shutdown is reported only once no key is left to hand out. With ``timeout`` (seconds),
        ``(None, False)`` means nothing arrived in time. The caller must call ``done(key)``.
        """
        item, _, shutdown = self._get(timeout)
        return item, shutdown

    def _get(self, timeout: float | None) -> tuple[T | None, int, bool]:
        with self._cond:
            if timeout is None:
                while not self._queue and not self._shutting_down:
                    self._cond.wait()
            elif not self._queue and not self._shutting_down:
                self._cond.wait_for(lambda: self._queue or self._shutting_down, timeout)
            if not self._queue:
                return None, 0, self._shutting_down
            item, priority = self._queue.take()
            self._processing.add(item)
            self._dirty.discard(item)
            stats = self._stats
            if stats is not None:
                now = self._clock.now()
                stats.depth -= 1
                added = stats.add_times.pop(item, None)
                if added is not None:
                    stats.queue_duration.observe(now - added)
                stats.start_times[item] = now
            return item, priority, False

    def done(self, item: T) -> None:
        """Finish processing ``item``; if it was re-added meanwhile, queue it again now."""
        with self._cond:
            stats = self._stats
            if stats is not None:
                started = stats.start_times.pop(item, None)
                if started is not None:
                    stats.work_duration.observe(self._clock.now() - started)
            self._processing.discard(item)
            if item in self._dirty:
                self._queue.push(item)
                if stats is not None:
                    stats.depth += 1
                self._cond.notify()
            elif not self._processing:
                self._cond.notify_all()

    def shut_down(self) -> None:
        """Stop accepting keys and wake every blocked ``get``; keys in flight are abandoned."""
        with self._cond:
            self._drain = False
            self._shutting_down = True
            self._cond.notify_all()
        self._after_shutdown()

    def shut_down_with_drain(self, timeout: float | None = None) -> bool:
        """Like ``shut_down``, then block until every key in flight is ``done``.

        Returns False if ``timeout`` seconds passed first (the keys are still in flight).
        """
        with self._cond:
            self._drain = True
            self._shutting_down = True
            self._cond.notify_all()
        self._after_shutdown()
        with self._cond:
            return self._cond.wait_for(lambda: not self._processing or not self._drain, timeout)

    def shutting_down(self) -> bool:
        """Whether shutdown has begun."""
        with self._cond:
            return self._shutting_down

    def _after_shutdown(self) -> None:
        """Hook for layers that own more state (the delay heap) to wake their own waiters."""

    def _note_retry(self) -> None:
        """Count a rate-limited re-add in ``workqueue_retries_total``."""
        if self._stats is not None:
            with self._cond:
                self._stats.retries += 1
