"""A bounded queue drained by one background thread: how recorders write without blocking.

``submit`` never blocks the caller (a reconcile): when ``queue_size`` items are pending the
item is dropped and counted. The thread hands each item to ``write`` (errors are logged,
never raised); with ``tick_interval`` it also calls ``tick`` that often (periodic work such
as refreshing event series). ``flush`` waits until everything submitted was written;
``close`` writes what is queued, then ends the thread.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["BackgroundSender"]

T = TypeVar("T")

log = logging.getLogger(__name__)

_STOP = object()


class BackgroundSender(Generic[T]):
    """One daemon thread writing submitted items in order."""

    def __init__(
        self,
        name: str,
        write: Callable[[T], None],
        *,
        queue_size: int = 1000,
        tick: Callable[[], None] | None = None,
        tick_interval: float | None = None,
    ) -> None:
        self._write = write
        self._tick = tick
        self._tick_interval = tick_interval
        self._queue: queue.Queue[object] = queue.Queue(queue_size)
        self._idle = threading.Event()
        self._idle.set()
        self._lock = threading.Lock()
        self.dropped = 0
        """Items refused because the queue was full."""
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def submit(self, item: T) -> bool:
        """Queue ``item``; False (and counted in ``dropped``) if the queue is full."""
        try:
            self._idle.clear()
            self._queue.put_nowait(item)
        except queue.Full:
            with self._lock:
                self.dropped += 1
            return False
        return True

    def count_drop(self) -> None:
        """Count an item the owner refused itself (spam filter)."""
        with self._lock:
            self.dropped += 1

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every submitted item was written."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._queue.unfinished_tasks == 0:
                return True
            self._idle.wait(0.05)
        return False

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def close(self, timeout: float = 10.0) -> bool:
        """Write what is queued, then stop the thread; True if it ended in time."""
        if self._thread.is_alive():
            try:
                self._queue.put(_STOP, timeout=timeout)
            except queue.Full:
                return False
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def _loop(self) -> None:
        next_tick = (
            time.monotonic() + self._tick_interval if self._tick_interval is not None else None
        )
        while True:
            wait = None if next_tick is None else max(0.0, next_tick - time.monotonic())
            try:
                item = self._queue.get(timeout=wait)
            except queue.Empty:
                self._run_tick()
                assert self._tick_interval is not None
                next_tick = time.monotonic() + self._tick_interval
                continue
            try:
                if item is _STOP:
                    self._run_tick()
                    return
                self._write(item)  # type: ignore[arg-type]
            except Exception:
                log.exception("background write failed")
            finally:
                self._queue.task_done()
                if self._queue.unfinished_tasks == 0:
                    self._idle.set()

    def _run_tick(self) -> None:
        if self._tick is None:
            return
        try:
            self._tick()
        except Exception:
            log.exception("background periodic work failed")
