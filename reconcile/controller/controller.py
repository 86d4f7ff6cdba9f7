"""The controller: sources feed a rate-limited queue; workers call the reconciler.

Per key, client-go's queue guarantees one worker at a time and one more run if events
arrived meanwhile, which is what makes reconciles level-triggered. The outcome of each
reconcile decides the key's fate (see ``reconcile.reconciler``); every reconcile runs with a
fresh ``reconcileID`` bound into the log context, and is counted in controller-runtime's
metrics. Stopping drains: in-flight reconciles finish, queued keys are dropped.

A worker that dies (a reconciler bug with ``recover_panic=False``) is fatal, like an
unrecovered panic in Go: the other workers drain, and ``start`` raises, which fails the
manager. Time (queue delays, deadlines, durations) comes from ``options.clock``.

Workers are threads (``workers.py``, with the watchdog that enforces ``reconcile_timeout``
on sync reconcilers) or, for an ``async def reconcile``, coroutines on the controller's own
event loop (``aio.py``). The queue is a ``PriorityQueue`` unless ``use_priority_queue`` is
off; a requeue keeps the priority the key was handed out at unless the Result names one.
With ``enable_warmup`` the manager calls ``warmup`` before the election: sources start
(informers list and watch, the queue fills) while workers wait for ``start``.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from prometheus_client import CollectorRegistry

from reconcile import log as logctx
from reconcile.controller.aio import AsyncWorkers
from reconcile.controller.metrics import ControllerMetrics
from reconcile.controller.options import ControllerOptions
from reconcile.controller.workers import ThreadWorkers
from reconcile.errors import CacheSyncTimeout, KreconcileError, TerminalError
from reconcile.reconciler import AsyncReconciler, Reconciler, Request, Result, is_async_reconciler
from reconcile.source import Source
from reconcile.workqueue import PriorityQueue, RateLimitingQueue, WorkqueueMetrics

__all__ = ["PANIC_TYPES", "Controller", "WorkerDied", "reconcile_deadline"]

log = logging.getLogger(__name__)

PANIC_TYPES: tuple[type[BaseException], ...] = (
    AssertionError,
    AttributeError,
    IndexError,
    KeyError,
    NameError,
    RecursionError,
    TypeError,
    ZeroDivisionError,
)
"""Exceptions that signal a bug in the reconciler rather than a failure in the world: the
Python counterpart of a Go panic, counted in ``controller_runtime_reconcile_panics_total``."""

_STOP_POLL = 0.1
"""Seconds between checks of the stop event while workers run (a dead worker is immediate)."""

_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar("deadline", default=None)


def reconcile_deadline() -> float | None:
    """Clock time (``ControllerOptions.clock.now()``, by default ``time.monotonic()``) by
    which the current reconcile should return, or None without a ``reconcile_timeout``."""
    return _DEADLINE.get()


class WorkerDied(KreconcileError):
    """A controller worker ended on an exception the controller was told not to recover."""


class _Attempt:
    """The outcome label of one reconcile, filled in as it settles."""

    __slots__ = ("outcome",)

    def __init__(self) -> None:
        self.outcome = "error"


class Controller:
    """Runs one reconciler (sync or ``async def``) over the keys its sources produce."""

    def __init__(
        self,
        name: str,
        reconciler: Reconciler | AsyncReconciler,
        *,
        sources: Sequence[Source] = (),
        options: ControllerOptions | None = None,
        registry: CollectorRegistry | None = None,
        kind: str = "",
    ) -> None:
        self.name = name
        self.kind = kind
        self.reconciler = reconciler
        self.options = options or ControllerOptions()
        self._clock = self.options.clock
        self.sources = list(sources)
        queue_class = PriorityQueue if self.options.use_priority_queue else RateLimitingQueue
        self.queue: RateLimitingQueue[Request] = queue_class(
            name=name,
            controller=name,
            rate_limiter=self.options.rate_limiter,
            metrics=WorkqueueMetrics.for_registry(registry) if registry is not None else None,
            clock=self._clock,
        )
        self.metrics = ControllerMetrics.for_registry(registry) if registry is not None else None
        if self.metrics is not None:
            self.metrics.initialize(name, self.options.max_concurrent_reconciles)
        self.is_async = is_async_reconciler(reconciler)
        self._log = self.options.log_constructor(None) if self.options.log_constructor else log
        self._started = threading.Event()
        self._sources_started = False
        self._sources_lock = threading.Lock()
        self._died: list[BaseException] = []
        self._wake = threading.Event()

    def need_leader_election(self) -> bool:
        return self.options.need_leader_election

    def watch(self, source: Source) -> None:
        """Add a source; once started, it begins delivering at once."""
        with self._sources_lock:
            self.sources.append(source)
            started = self._sources_started
        if started:
            source.start(self.queue)

    def warmup(self) -> None:
        """With ``enable_warmup``: start the sources now (before the election is won), so
        the cache and the queue are ready when ``start`` runs the workers. A no-op without
        it, and when already warmed up."""
        if self.options.enable_warmup:
            self._start_sources()

    def _start_sources(self) -> None:
        with self._sources_lock:
            if self._sources_started:
                return
            self._sources_started = True
            sources = list(self.sources)
        for source in sources:
            source.start(self.queue)

    def start(self, stop: threading.Event) -> None:
        """Start sources, wait for their caches, run workers until ``stop``; then drain."""
        self._start_sources()
        if not self._wait_for_sources(stop):
            self.queue.shut_down()
            return
        self._started.set()
        workers = self._workers()
        self._log.info(
            "starting workers",
            extra={"controller": self.name, "workers": self.options.max_concurrent_reconciles},
        )
        workers.start()
        # A dying worker wakes this thread at once; a stop and an overrun are seen within
        # _STOP_POLL.
        while not stop.is_set() and not self._wake.wait(_STOP_POLL):
            workers.check()
        self._log.info(
            "stopping, waiting for in-flight reconciles", extra={"controller": self.name}
        )
        self.queue.shut_down_with_drain()
        workers.join()
        if self._died:
            error = self._died[0]
            raise WorkerDied(
                f"controller {self.name!r}: a worker died on {type(error).__name__}: {error} "
                "(recover_panic=False); fix the reconciler, or set recover_panic=True to count "
                "such bugs as panics and retry"
            ) from error

    def _wait_for_sources(self, stop: threading.Event) -> bool:
        """Wait for every source's cache; False if ``stop`` was set first (as a cancelled
        context ends controller-runtime's WaitForSync), CacheSyncTimeout past the timeout."""
        deadline = time.monotonic() + self.options.cache_sync_timeout
        for source in self.sources:
            while not source.wait_for_sync(min(_STOP_POLL, max(0.0, deadline - time.monotonic()))):
                if stop.is_set():
                    return False
                if time.monotonic() >= deadline:
                    self.queue.shut_down()
                    raise CacheSyncTimeout(
                        f"controller {self.name!r}: source {source!r} did not sync within "
                        f"{self.options.cache_sync_timeout:g}s; check that its kind is "
                        "installed and that RBAC allows list/watch on it"
                    )
        return True

    def _workers(self) -> ThreadWorkers | AsyncWorkers:
        get = self._get
        if self.is_async:
            return AsyncWorkers(
                self.name,
                self.options.max_concurrent_reconciles,
                get=get,
                process=self._process_async,
                done=self.queue.done,
                on_death=self._on_death,
            )
        return ThreadWorkers(
            self.name,
            self.options.max_concurrent_reconciles,
            get=get,
            process=self._process,
            done=self.queue.done,
            on_death=self._on_death,
            on_timeout=self._on_timeout,
            clock=self._clock,
            timeout=self.options.reconcile_timeout,
        )

    def _get(self) -> tuple[Request | None, int, bool]:
        queue = self.queue
        if isinstance(queue, PriorityQueue):
            return queue.get_with_priority()
        request, shutdown = queue.get()
        return request, 0, shutdown

    def _on_death(self, request: Request, error: BaseException) -> None:
        self._log.error(
            "worker died on an unrecovered reconciler error, stopping the controller",
            exc_info=error,
            extra={"controller": self.name, "request": str(request)},
        )
        self._died.append(error)
        self._wake.set()

    def _on_timeout(self, request: Request, elapsed: float) -> None:
        if self.metrics is not None:
            self.metrics.timeouts.labels(self.name).inc()
        self._log.error(
            "reconcile exceeded its timeout, worker replaced",
            extra={
                "controller": self.name,
                "request": str(request),
                "elapsed": round(elapsed, 3),
                "timeout": self.options.reconcile_timeout,
            },
        )

    # one reconcile

    @contextlib.contextmanager
    def _reconciling(self, request: Request) -> Iterator[_Attempt]:
        """Metrics, deadline and log context around one reconcile of ``request``."""
        metrics = self.metrics
        if metrics is not None:
            metrics.active_workers.labels(self.name).inc()
        started = self._clock.now()
        timeout = self.options.reconcile_timeout
        token = _DEADLINE.set(started + timeout if timeout else None)
        attempt = _Attempt()
        constructor = self.options.log_constructor
        try:
            with (
                logctx.bind(
                    controller=self.name,
                    controllerKind=self.kind,
                    namespace=request.namespace,
                    name=request.name,
                    reconcileID=str(uuid.uuid4()),
                ),
                logctx.bind_logger(constructor(request))
                if constructor
                else contextlib.nullcontext(),
            ):
                yield attempt
        finally:
            _DEADLINE.reset(token)
            if metrics is not None:
                metrics.time.labels(self.name).observe(self._clock.now() - started)
                metrics.total.labels(self.name, attempt.outcome).inc()
                metrics.active_workers.labels(self.name).dec()

    def _process(self, request: Request, priority: int) -> None:
        with self._reconciling(request) as attempt:
            reconciler: Any = self.reconciler
            try:
                result = reconciler.reconcile(request)
            except BaseException as error:
                attempt.outcome = self._settle(request, priority, None, error)
            else:
                attempt.outcome = self._settle(request, priority, result, None)

    async def _process_async(self, request: Request, priority: int) -> None:
        with self._reconciling(request) as attempt:
            reconciler: Any = self.reconciler
            timeout = self.options.reconcile_timeout
            scope = asyncio.timeout(timeout)
            try:
                async with scope:
                    result = await reconciler.reconcile(request)
            except TimeoutError as error:
                if not scope.expired():
                    attempt.outcome = self._settle(request, priority, None, error)
                    return
                self._on_timeout(request, float(timeout or 0))
                overrun = TimeoutError(f"reconcile cancelled after its {timeout:g}s timeout")
                attempt.outcome = self._settle(request, priority, None, overrun)
            except BaseException as error:
                attempt.outcome = self._settle(request, priority, None, error)
            else:
                attempt.outcome = self._settle(request, priority, result, None)

    def _settle(
        self, request: Request, priority: int, result: object, error: BaseException | None
    ) -> str:
        """Decide the key's fate from what the reconcile returned or raised."""
        logger = logctx.from_context() if self.options.log_constructor else log
        if error is not None:
            if isinstance(error, TerminalError):
                self.queue.forget(request)
                self._count_error(terminal=True)
                logger.error("terminal reconciler error, not requeued", exc_info=error)
                return "error"
            panic = isinstance(error, PANIC_TYPES)
            if not isinstance(error, Exception) or (panic and not self.options.recover_panic):
                raise error
            self._requeue(request, priority, rate_limited=True)
            self._count_error(panic=panic)
            logger.error("reconciler error", exc_info=error)
            return "error"
        if not isinstance(result, Result):
            self._requeue(request, priority, rate_limited=True)
            self._count_error(panic=True)
            logger.error(
                "reconciler returned a non-Result; treating as an error",
                extra={"returned": repr(result)},
            )
            return "error"
        if result.priority is not None:
            priority = result.priority
        if result.requeue_after > 0:
            self.queue.forget(request)
            self._requeue(request, priority, after=result.requeue_after)
            return "requeue_after"
        if result.requeue:
            self._requeue(request, priority, rate_limited=True)
            return "requeue"
        self.queue.forget(request)
        return "success"

    def _requeue(
        self, request: Request, priority: int, *, after: float = 0.0, rate_limited: bool = False
    ) -> None:
        queue = self.queue
        if isinstance(queue, PriorityQueue):
            if rate_limited:
                queue.add_rate_limited(request, priority=priority)
            else:
                queue.add_after(request, after, priority=priority)
        elif rate_limited:
            queue.add_rate_limited(request)
        else:
            queue.add_after(request, after)

    def _count_error(self, *, terminal: bool = False, panic: bool = False) -> None:
        if self.metrics is None:
            return
        self.metrics.errors.labels(self.name).inc()
        if terminal:
            self.metrics.terminal_errors.labels(self.name).inc()
        if panic:
            self.metrics.panics.labels(self.name).inc()
