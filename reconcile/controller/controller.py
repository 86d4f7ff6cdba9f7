"""The controller: sources feed a rate-limited queue; workers call the reconciler.

Per key, client-go's queue guarantees one worker at a time and one more run if events
arrived meanwhile, which is what makes reconciles level-triggered. The outcome of each
reconcile decides the key's fate (see ``reconcile.reconciler``); every reconcile runs with a
fresh ``reconcileID`` bound into the log context, and is counted in controller-runtime's
metrics. Stopping drains: in-flight reconciles finish, queued keys are dropped.

A worker that dies (a reconciler bug with ``recover_panic=False``) is fatal, like an
unrecovered panic in Go: the other workers drain, and ``start`` raises, which fails the
manager. Time (queue delays, deadlines, durations) comes from ``options.clock``.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
import uuid
from collections.abc import Sequence

from prometheus_client import CollectorRegistry

from reconcile import log as logctx
from reconcile.controller.metrics import ControllerMetrics
from reconcile.controller.options import ControllerOptions
from reconcile.errors import CacheSyncTimeout, KreconcileError, TerminalError
from reconcile.reconciler import Reconciler, Request, Result
from reconcile.source import Source
from reconcile.workqueue import RateLimitingQueue, WorkqueueMetrics

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


class Controller:
    """Runs one reconciler over the keys its sources produce."""

    def __init__(
        self,
        name: str,
        reconciler: Reconciler,
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
        self.queue: RateLimitingQueue[Request] = RateLimitingQueue(
            name=name,
            controller=name,
            rate_limiter=self.options.rate_limiter,
            metrics=WorkqueueMetrics.for_registry(registry) if registry is not None else None,
            clock=self._clock,
        )
        self.metrics = ControllerMetrics.for_registry(registry) if registry is not None else None
        if self.metrics is not None:
            self.metrics.initialize(name, self.options.max_concurrent_reconciles)
        self._started = threading.Event()
        self._died: list[BaseException] = []
        self._wake = threading.Event()

    def need_leader_election(self) -> bool:
        return self.options.need_leader_election

    def watch(self, source: Source) -> None:
        """Add a source; once started, it begins delivering at once."""
        self.sources.append(source)
        if self._started.is_set():
            source.start(self.queue)

    def start(self, stop: threading.Event) -> None:
        """Start sources, wait for their caches, run workers until ``stop``; then drain."""
        for source in self.sources:
            source.start(self.queue)
        if not self._wait_for_sources(stop):
            self.queue.shut_down()
            return
        self._started.set()
        workers = [
            threading.Thread(target=self._work, name=f"{self.name}-worker-{i}", daemon=True)
            for i in range(self.options.max_concurrent_reconciles)
        ]
        log.info("starting workers", extra={"controller": self.name, "workers": len(workers)})
        for worker in workers:
            worker.start()
        # A dying worker wakes this thread at once; a stop is seen within _STOP_POLL.
        while not stop.is_set() and not self._wake.wait(_STOP_POLL):
            pass
        log.info("stopping, waiting for in-flight reconciles", extra={"controller": self.name})
        self.queue.shut_down_with_drain()
        for worker in workers:
            worker.join()
        if self._died:
            error = self._died[0]
            raise WorkerDied(
                f"controller {self.name!r}: a worker died on {type(error).__name__}: {error} "
                "(recover_panic=False); fix the reconciler, or set recover_panic=True to count "
                "such bugs as panics and retry"
            ) from error

    def _wait_for_sources(self, stop: threading.Event) -> bool:
        """Wait for every source to sync; False if ``stop`` came first (a stop during the
        initial sync ends the controller at once, as a cancelled context does)."""
        deadline = time.monotonic() + self.options.cache_sync_timeout
        for source in self.sources:
            while not source.wait_for_sync(min(_STOP_POLL, max(0.0, deadline - time.monotonic()))):
                if stop.is_set():
                    return False
                if time.monotonic() >= deadline:
                    self.queue.shut_down()
                    raise CacheSyncTimeout(
                        f"controller {self.name!r}: source {source!r} did not sync within "
                        f"{self.options.cache_sync_timeout:g}s; check that its kind is installed "
                        "and that RBAC allows list/watch on it"
                    )
        return True

    def _work(self) -> None:
        while True:
            request, shutdown = self.queue.get()
            if shutdown or request is None:
                return
            try:
                self._process(request)
            except BaseException as error:
                log.error(
                    "worker died on an unrecovered reconciler error, stopping the controller",
                    exc_info=error,
                    extra={"controller": self.name, "request": str(request)},
                )
                self._died.append(error)
                self._wake.set()
                return
            finally:
                self.queue.done(request)

    def _process(self, request: Request) -> None:
        metrics = self.metrics
        if metrics is not None:
            metrics.active_workers.labels(self.name).inc()
        started = self._clock.now()
        timeout = self.options.reconcile_timeout
        token = _DEADLINE.set(started + timeout if timeout else None)
        outcome = "error"
        try:
            with logctx.bind(
                controller=self.name,
                controllerKind=self.kind,
                namespace=request.namespace,
                name=request.name,
                reconcileID=str(uuid.uuid4()),
            ):
                outcome = self._reconcile(request)
        finally:
            _DEADLINE.reset(token)
            if metrics is not None:
                metrics.time.labels(self.name).observe(self._clock.now() - started)
                metrics.total.labels(self.name, outcome).inc()
                metrics.active_workers.labels(self.name).dec()

    def _reconcile(self, request: Request) -> str:
        try:
            result: object = self.reconciler.reconcile(request)
        except TerminalError as error:
            self.queue.forget(request)
            self._count_error(terminal=True)
            log.error("terminal reconciler error, not requeued", exc_info=error)
            return "error"
        except Exception as error:
            panic = isinstance(error, PANIC_TYPES)
            if panic and not self.options.recover_panic:
                raise
            self.queue.add_rate_limited(request)
            self._count_error(panic=panic)
            log.error("reconciler error", exc_info=error)
            return "error"
        if not isinstance(result, Result):
            self.queue.add_rate_limited(request)
            self._count_error(panic=True)
            log.error(
                "reconciler returned a non-Result; treating as an error",
                extra={"returned": repr(result)},
            )
            return "error"
        if result.requeue_after > 0:
            self.queue.forget(request)
            self.queue.add_after(request, result.requeue_after)
            return "requeue_after"
        if result.requeue:
            self.queue.add_rate_limited(request)
            return "requeue"
        self.queue.forget(request)
        return "success"

    def _count_error(self, *, terminal: bool = False, panic: bool = False) -> None:
        if self.metrics is None:
            return
        self.metrics.errors.labels(self.name).inc()
        if terminal:
            self.metrics.terminal_errors.labels(self.name).inc()
        if panic:
            self.metrics.panics.labels(self.name).inc()
