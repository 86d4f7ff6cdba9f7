"""``AsyncClient``: the client for ``async def`` reconcilers, never blocking their loop.

Each call runs the wrapped (thread-safe) client in this client's own thread pool and is
awaited, so retries, typed errors, metrics, warnings and cache reads behave exactly as in
sync code, and the framework needs no second HTTP stack. A pool of its own (rather than
the loop's default executor) keeps a burst of slow API calls from starving whatever else
the program runs with ``asyncio.to_thread``. ``close()`` ends the pool's threads.

Usage::

    class Reconciler:
        def __init__(self, mgr: Manager) -> None:
            self.client = mgr.async_client

        async def reconcile(self, request: Request) -> Result:
            widget = await self.client.get(WIDGET, request.name, request.namespace)
            await self.client.status().patch(widget, {"status": {"seen": True}})
            return Result()
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from reconcile.client.interfaces import ObjectClient
from reconcile.gvk import KindLike

__all__ = ["DEFAULT_MAX_WORKERS", "AsyncClient"]

T = TypeVar("T")

DEFAULT_MAX_WORKERS = 8
"""Concurrent API calls of one AsyncClient: enough for a controller's workers, few enough
that a stuck API server does not pile up threads."""


class AsyncClient:
    """Awaitable get/list/create/update/patch/apply/delete over a thread-safe client."""

    def __init__(self, client: ObjectClient, *, max_workers: int = DEFAULT_MAX_WORKERS) -> None:
        if max_workers < 1:
            raise ValueError(f"max_workers must be >= 1, got {max_workers}")
        self.client = client
        self._max_workers = max_workers
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=self._max_workers, thread_name_prefix="async-client"
                )
            return self._pool

    async def _run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor(), functools.partial(fn, *args, **kwargs))

    async def get(self, kind: KindLike, name: str, namespace: str | None = None) -> dict[str, Any]:
        return await self._run(self.client.get, kind, name, namespace)

    async def list(self, kind: KindLike, **options: Any) -> dict[str, Any]:
        return await self._run(self.client.list, kind, **options)

    async def create(self, obj: dict[str, Any], **options: Any) -> dict[str, Any]:
        return await self._run(self.client.create, obj, **options)

    async def update(self, obj: dict[str, Any], **options: Any) -> dict[str, Any]:
        return await self._run(self.client.update, obj, **options)

    async def patch(self, obj: dict[str, Any], patch: Any, **options: Any) -> dict[str, Any]:
        return await self._run(self.client.patch, obj, patch, **options)

    async def apply(self, obj: dict[str, Any], **options: Any) -> dict[str, Any]:
        apply: Callable[..., dict[str, Any]] = getattr(self.client, "apply")  # noqa: B009
        return await self._run(apply, obj, **options)

    async def delete(self, obj: dict[str, Any], **options: Any) -> None:
        await self._run(self.client.delete, obj, **options)

    def status(self) -> _AsyncStatus:
        """Awaitable writes to the ``/status`` subresource."""
        return _AsyncStatus(self)

    def close(self) -> None:
        """End the pool's threads (after the calls in flight)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)


class _AsyncStatus:
    def __init__(self, owner: AsyncClient) -> None:
        self._owner = owner

    async def update(self, obj: dict[str, Any], **options: Any) -> dict[str, Any]:
        return await self._owner._run(self._owner.client.status().update, obj, **options)

    async def patch(self, obj: dict[str, Any], patch: Any, **options: Any) -> dict[str, Any]:
        return await self._owner._run(self._owner.client.status().patch, obj, patch, **options)
