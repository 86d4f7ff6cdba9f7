"""Workers for ``async def`` reconcilers: one event loop per controller, one dispatcher.

The queue is the same thread-safe queue sync controllers use, so its contract holds
unchanged (one reconcile per key at a time, a key re-added meanwhile runs once more,
requeues and backoff). A dispatcher thread takes a free slot (at most ``count`` reconciles
in flight), blocks in ``get`` for a key and schedules its coroutine on the loop; the
coroutine calls ``done`` and frees the slot when it ends. Blocking calls inside a
coroutine stall every reconcile of the controller: use ``AsyncClient`` (or
``asyncio.to_thread``) for I/O.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable

from reconcile.controller.workers import Get
from reconcile.reconciler import Request

__all__ = ["AsyncWorkers"]


class AsyncWorkers:
    """Runs ``process(request, priority)`` coroutines, at most ``count`` at once."""

    def __init__(
        self,
        name: str,
        count: int,
        *,
        get: Get,
        process: Callable[[Request, int], Awaitable[None]],
        done: Callable[[Request], None],
        on_death: Callable[[Request, BaseException], None],
    ) -> None:
        self._name = name
        self._get = get
        self._process = process
        self._done = done
        self._on_death = on_death
        self._slots = threading.Semaphore(count)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Create the event loop and start its thread and the dispatcher."""
        loop = self._loop = asyncio.new_event_loop()
        self._threads = [
            threading.Thread(target=loop.run_forever, name=f"{self._name}-loop", daemon=True),
            threading.Thread(target=self._dispatch, name=f"{self._name}-dispatcher", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def check(self) -> int:
        """Async reconciles are cancelled at their deadline; nothing to replace."""
        return 0

    def _dispatch(self) -> None:
        while True:
            self._slots.acquire()
            request, priority, shutdown = self._get()
            if shutdown or request is None:
                self._slots.release()
                return
            assert self._loop is not None, "start() creates the loop before dispatching"
            asyncio.run_coroutine_threadsafe(self._run(request, priority), self._loop)

    async def _run(self, request: Request, priority: int) -> None:
        try:
            await self._process(request, priority)
        except BaseException as error:
            self._on_death(request, error)
        finally:
            self._done(request)
            self._slots.release()

    def join(self) -> None:
        """After the queue was shut down and drained: end the dispatcher, then the loop."""
        loop = self._loop
        if loop is None:
            return
        loop_thread, dispatcher = self._threads
        dispatcher.join()
        loop.call_soon_threadsafe(loop.stop)
        loop_thread.join()
        loop.close()
