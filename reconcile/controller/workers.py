"""Worker threads for sync reconcilers, with a watchdog that replaces a hung one.

Python cannot interrupt a thread, so a reconcile that overruns its timeout cannot be
stopped. What the controller can do is stop waiting for it: ``check`` (called by the
controller's supervising loop) finds each worker whose current reconcile started more than
``timeout`` seconds ago, reports it once (``on_timeout``), marks it abandoned and starts a
replacement, so ``count`` workers keep taking keys. The abandoned thread finishes its call
(its key stays in processing until then, so no other worker runs that key meanwhile),
settles the outcome as usual and ends instead of taking another key.

``join`` waits for every worker, abandoned ones included: stopping a controller never leaves
one of its threads behind unless a reconcile never returns.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from reconcile.clock import Clock
from reconcile.reconciler import Request

__all__ = ["ThreadWorkers"]

log = logging.getLogger(__name__)

Get = Callable[[], tuple[Request | None, int, bool]]
"""Blocks for the next key: (request, priority, shutdown)."""


@dataclass(eq=False)
class _Slot:
    thread: threading.Thread | None = None
    started: float | None = None
    """Clock time the current reconcile began; None between reconciles."""
    request: Request | None = None
    abandoned: bool = False


class ThreadWorkers:
    """``count`` threads that each get a key, ``process`` it and call ``done``."""

    def __init__(
        self,
        name: str,
        count: int,
        *,
        get: Get,
        process: Callable[[Request, int], None],
        done: Callable[[Request], None],
        on_death: Callable[[Request, BaseException], None],
        on_timeout: Callable[[Request, float], None],
        clock: Clock,
        timeout: float | None,
    ) -> None:
        self._name = name
        self._count = count
        self._get = get
        self._process = process
        self._done = done
        self._on_death = on_death
        self._on_timeout = on_timeout
        self._clock = clock
        self._timeout = timeout
        self._slots: list[_Slot] = []
        self._lock = threading.Lock()
        self._spawned = 0

    def start(self) -> None:
        for _ in range(self._count):
            self._spawn()

    def _spawn(self) -> None:
        slot = _Slot()
        with self._lock:
            index = self._spawned
            self._spawned += 1
            self._slots.append(slot)
        slot.thread = threading.Thread(
            target=self._work, args=(slot,), name=f"{self._name}-worker-{index}", daemon=True
        )
        slot.thread.start()

    def _work(self, slot: _Slot) -> None:
        while not slot.abandoned:
            request, priority, shutdown = self._get()
            if shutdown or request is None:
                return
            with self._lock:
                slot.started, slot.request = self._clock.now(), request
            try:
                self._process(request, priority)
            except BaseException as error:
                self._on_death(request, error)
                return
            finally:
                with self._lock:
                    slot.started, slot.request = None, None
                self._done(request)

    def check(self) -> int:
        """Replace every worker whose reconcile overran the timeout; return how many."""
        timeout = self._timeout
        if timeout is None:
            return 0
        now = self._clock.now()
        overran: list[tuple[Request, float]] = []
        with self._lock:
            for slot in self._slots:
                if slot.abandoned or slot.started is None or slot.request is None:
                    continue
                if now - slot.started > timeout:
                    slot.abandoned = True
                    overran.append((slot.request, now - slot.started))
        for request, elapsed in overran:
            self._on_timeout(request, elapsed)
            self._spawn()
        return len(overran)

    def hung(self) -> int:
        """Abandoned workers whose reconcile has not returned yet."""
        with self._lock:
            return sum(1 for slot in self._slots if slot.abandoned and slot.started is not None)

    def join(self) -> None:
        """Wait for every worker thread (call after the queue was shut down)."""
        with self._lock:
            slots = list(self._slots)
        for slot in slots:
            if slot.thread is not None:
                slot.thread.join()
