"""Runnables and the groups the manager starts them in.

A Runnable blocks in ``start(stop)`` until ``stop`` is set. ``need_leader_election()``
returning False (servers, watchers, node agents) means it runs on every replica;
anything else (controllers) runs only while this replica leads. Each group has its own
stop event so leader-only work can be stopped at once when the lease is lost.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

__all__ = ["Runnable", "RunnableGroup", "needs_election"]

log = logging.getLogger(__name__)


class Runnable(Protocol):
    def start(self, stop: threading.Event) -> None: ...


def needs_election(runnable: Runnable) -> bool:
    check = getattr(runnable, "need_leader_election", None)
    return bool(check()) if callable(check) else True


class RunnableGroup:
    """Runnables started together, each in a thread, stopped together."""

    def __init__(self, name: str, on_error: Callable[[str, BaseException], None]) -> None:
        self.name = name
        self.stop = threading.Event()
        self._on_error = on_error
        self._pending: list[Runnable] = []
        self._threads: list[tuple[Runnable, threading.Thread]] = []
        self._started = False
        self._lock = threading.Lock()

    def add(self, runnable: Runnable) -> None:
        with self._lock:
            if self._started:
                self._launch(runnable)
            else:
                self._pending.append(runnable)

    def warmup_all(self) -> None:
        """Call ``warmup()`` on the runnables not started yet that have one (controllers
        with ``enable_warmup`` start their sources), before the group starts."""
        with self._lock:
            pending = list(self._pending)
        for runnable in pending:
            warmup = getattr(runnable, "warmup", None)
            if callable(warmup):
                warmup()

    def start_all(self) -> None:
        with self._lock:
            self._started = True
            pending, self._pending = self._pending, []
            for runnable in pending:
                self._launch(runnable)

    def _launch(self, runnable: Runnable) -> None:
        def run() -> None:
            try:
                runnable.start(self.stop)
            except BaseException as error:
                self._on_error(f"{self.name}: {runnable!r}", error)

        thread = threading.Thread(
            target=run, name=f"{self.name}-{type(runnable).__name__}", daemon=True
        )
        self._threads.append((runnable, thread))
        thread.start()

    def stop_all(self, deadline: float) -> list[str]:
        """Signal stop and wait until ``deadline`` (monotonic); return what did not stop."""
        self.stop.set()
        stuck = []
        for runnable, thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                stuck.append(repr(runnable))
        return stuck
