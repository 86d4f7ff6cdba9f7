"""The reconciler contract: ``reconcile(request) -> Result``.

A ``Request`` names an object and never carries its contents: the reconciler reads the
current state (usually from the cache), so it always acts on the latest level, however many
events led to the call. Outcomes:

- return ``Result()``: done; the key's backoff is reset;
- return ``Result(requeue_after=30.0)``: run again in 30 s (backoff reset);
- return ``Result(requeue=True)``: run again after the rate limiter's backoff;
- raise an exception: logged, counted as an error, retried with backoff;
- raise ``TerminalError``: logged and counted, not retried until the object changes again.

``Result(priority=...)`` sets the priority of the requeue (with the default priority queue);
without it a requeue keeps the priority the key was handed out at. A reconciler may be
``async def reconcile``: the controller then runs it on its own event loop
(``AsyncReconciler``), with the same outcomes.

Python cannot return a Result *and* raise; an exception always wins, as in
controller-runtime where a non-nil error makes the Result ignored.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

__all__ = [
    "AsyncReconciler",
    "AsyncReconcilerFunc",
    "Reconciler",
    "ReconcilerFunc",
    "Request",
    "Result",
    "is_async_reconciler",
]


@dataclass(frozen=True, slots=True, order=True)
class Request:
    """Names one object. Never carries its contents: the reconciler reads current state."""

    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name


@dataclass(frozen=True, slots=True)
class Result:
    """What to do with the key after a successful reconcile."""

    requeue: bool = False
    """Run again after the rate limiter's backoff (prefer ``requeue_after``)."""
    requeue_after: float = 0.0
    """Seconds until the next run; > 0 wins over ``requeue``."""
    priority: int | None = None
    """Priority of the requeue (higher runs first); None keeps the priority the key was
    handed out at. Only the priority queue (the controller default) honours it."""

    def __post_init__(self) -> None:
        if self.requeue_after < 0 or self.requeue_after != self.requeue_after:
            raise ValueError(f"requeue_after must be >= 0 seconds, got {self.requeue_after!r}")

    def is_zero(self) -> bool:
        return not self.requeue and self.requeue_after == 0


class Reconciler(Protocol):
    """Drives one object toward its desired state; must be idempotent."""

    def reconcile(self, request: Request) -> Result: ...


class ReconcilerFunc:
    """Adapts a plain function to the Reconciler protocol."""

    def __init__(self, fn: Callable[[Request], Result]) -> None:
        self._fn = fn

    def reconcile(self, request: Request) -> Result:
        return self._fn(request)


class AsyncReconciler(Protocol):
    """A reconciler written as a coroutine; the controller awaits it on its event loop."""

    async def reconcile(self, request: Request) -> Result: ...


class AsyncReconcilerFunc:
    """Adapts an ``async def`` function to the AsyncReconciler protocol."""

    def __init__(self, fn: Callable[[Request], Awaitable[Result]]) -> None:
        self._fn = fn

    async def reconcile(self, request: Request) -> Result:
        return await self._fn(request)


def is_async_reconciler(reconciler: object) -> bool:
    """Whether ``reconciler.reconcile`` is a coroutine function (``async def``)."""
    return inspect.iscoroutinefunction(getattr(reconciler, "reconcile", None))
