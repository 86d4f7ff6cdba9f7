"""client-go's Reflector: list, then watch from the list's resourceVersion, forever.

- The initial list is paginated; its resourceVersion is where the watch starts, so no
  change between the two is missed.
- A watch that ends (server timeout, a cut connection) resumes from the last
  resourceVersion seen, events or bookmarks alike: no relist while the server still has
  that history.
- 410 Gone (history compacted) means relist; the store is then replaced wholesale and the
  differences are delivered as events, so handlers never miss a final state.
- A watch that sends nothing for ``stall_timeout`` seconds is assumed hung and restarted.
- Failures back off exponentially with jitter (0.8 s doubling to 30 s, as client-go), so an
  API server outage costs a request every 30 s, not a hot loop.
- ``run`` runs in the caller's thread and starts none of its own; ``interrupt()`` (from the
  thread that set ``stop``) closes the open watch so ``run`` returns at once.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import random
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from reconcile.client.client import Client
from reconcile.client.transport import StreamStalled, WatchStream
from reconcile.errors import ApiError, Gone
from reconcile.gvk import KindLike, gvk_of

__all__ = ["Reflector", "ReflectorOptions", "ReflectorStats", "ReflectorTarget", "gc_paused"]

log = logging.getLogger(__name__)

_gc_lock = threading.Lock()
_gc_pausers = 0
_gc_was_enabled = True


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Disable the cyclic GC for the block; nested and concurrent uses share one pause.

    The first user records whether the collector was on; the last one out restores that,
    also when its block raised, so the collector is never left off by an error.
    """
    global _gc_pausers, _gc_was_enabled
    with _gc_lock:
        if _gc_pausers == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pausers += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pausers -= 1
            if _gc_pausers == 0 and _gc_was_enabled:
                gc.enable()


@dataclass(frozen=True, kw_only=True, slots=True)
class ReflectorOptions:
    """Timing of one reflector; the defaults suit a real API server."""

    page_size: int = 500
    """Objects per page of the initial list (client-go's default)."""
    min_watch_timeout: float = 300.0
    """Watches ask the server to end after a random time in [this, 2x this) seconds."""
    stall_timeout: float = 120.0
    """Seconds of silence after which a watch is declared hung and restarted. The server
    sends bookmarks at least every minute, so a healthy stream is never this quiet."""
    initial_backoff: float = 0.8
    max_backoff: float = 30.0
    tune_gc: bool = False
    """Pause Python's cyclic garbage collector while a list is parsed, and move the objects
    of a large initial list (over 5000) to the permanent generation (``gc.freeze``).

    A bulk parse allocates hundreds of thousands of dicts that all survive; collections
    during it rescan them for nothing (building a 10k-pod cache is ~3x faster with the GC
    paused). Both effects are process-wide, so this is off by default: turn it on in a
    program that is a controller and nothing else. Concurrent lists share one pause, and
    the collector is re-enabled when the last one ends, even if it raised."""


@dataclass
class ReflectorStats:
    """Counters tests and logs use to tell a resume from a relist."""

    lists: int = 0
    watches: int = 0
    relists_after_gone: int = 0
    stalls: int = 0
    failures: int = 0


class ReflectorTarget(Protocol):
    """Where a reflector delivers what it reads (the informer)."""

    def replace(self, objects: list[dict[str, Any]], resource_version: str) -> None: ...

    def apply_event(self, kind: str, obj: dict[str, Any]) -> None: ...

    def record_error(self, error: BaseException | None) -> None: ...


class Reflector:
    """Keeps a ReflectorTarget in step with one kind on the API server."""

    def __init__(
        self,
        client: Client,
        kind: KindLike,
        target: ReflectorTarget,
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        transform: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        options: ReflectorOptions | None = None,
    ) -> None:
        self._client = client
        self._kind = kind
        """What is listed and watched: a kind, or a ``PartialObjectMetadata`` of one."""
        self._gvk = gvk_of(kind)
        self._target = target
        self._namespace = namespace
        self._label_selector = label_selector
        self._field_selector = field_selector
        self._transform = transform or (lambda obj: obj)
        self.options = options or ReflectorOptions()
        self.stats = ReflectorStats()
        self._stream: WatchStream | None = None
        self._lock = threading.Lock()

    def run(self, stop: threading.Event) -> None:
        """List and watch until ``stop`` is set (call ``interrupt`` after setting it)."""
        backoff = self.options.initial_backoff
        while not stop.is_set():
            try:
                resource_version = self._list()
                self._target.record_error(None)
                backoff = self.options.initial_backoff
                self._watch(stop, resource_version)
            except Gone as gone:
                self.stats.relists_after_gone += 1
                self._target.record_error(gone)
                log.info("watch history expired, relisting", extra={"kind": str(self._gvk)})
            except Exception as error:
                self.stats.failures += 1
                self._target.record_error(error)
                log.warning(
                    "list failed, backing off",
                    extra={"kind": str(self._gvk), "error": str(error), "backoff": backoff},
                )
                if stop.wait(backoff * (1 + random.random() * 0.2)):
                    return
                backoff = min(backoff * 2, self.options.max_backoff)

    def interrupt(self) -> None:
        """Close the open watch, if any, so a stopped ``run`` returns without waiting for it."""
        with self._lock:
            stream = self._stream
        if stream is not None:
            stream.close()

    def _list(self) -> str:
        """List every page, then hand the whole set to the target (see ``tune_gc``)."""
        self.stats.lists += 1
        if not self.options.tune_gc:
            return self._list_pages()
        with gc_paused():
            return self._list_pages()

    def _list_pages(self) -> str:
        items: list[dict[str, Any]] = []
        token: str | None = None
        resource_version = ""
        while True:
            page = self._client.list(
                self._kind,
                namespace=self._namespace,
                label_selector=self._label_selector,
                field_selector=self._field_selector,
                limit=self.options.page_size,
                continue_token=token,
            )
            items.extend(self._transform(item) for item in page.get("items") or [])
            metadata = page.get("metadata") or {}
            resource_version = resource_version or str(metadata.get("resourceVersion") or "")
            token = metadata.get("continue")
            if not token:
                break
        self._target.replace(items, resource_version)
        return resource_version

    def _watch(self, stop: threading.Event, resource_version: str) -> None:
        """Watch until stopped; returns normally only on stop. Raises Gone to relist."""
        backoff = self.options.initial_backoff
        while not stop.is_set():
            timeout = int(self.options.min_watch_timeout * (1 + random.random()))
            try:
                stream = self._client.watch(
                    self._kind,
                    namespace=self._namespace,
                    resource_version=resource_version,
                    label_selector=self._label_selector,
                    field_selector=self._field_selector,
                    timeout_seconds=timeout,
                    read_timeout=self.options.stall_timeout,
                )
                with self._lock:
                    self._stream = stream
                if stop.is_set():
                    stream.close()
                    return
                self.stats.watches += 1
                for event in stream:
                    resource_version = self._handle(event, resource_version)
                backoff = self.options.initial_backoff
            except StreamStalled as stalled:
                if stop.is_set():
                    return
                self.stats.stalls += 1
                log.info("watch restarted", extra={"kind": str(self._gvk), "reason": str(stalled)})
            except Gone:
                raise
            except ApiError as error:
                if error.code == 410:
                    raise Gone(error.message, status=error.status) from error
                self.stats.failures += 1
                self._target.record_error(error)
                if stop.wait(backoff * (1 + random.random() * 0.2)):
                    return
                backoff = min(backoff * 2, self.options.max_backoff)
            finally:
                with self._lock:
                    self._stream = None

    def _handle(self, event: dict[str, Any], resource_version: str) -> str:
        kind = event.get("type")
        obj = event.get("object") or {}
        if kind == "ERROR":
            raise ApiError.from_status(obj)
        new_version = str((obj.get("metadata") or {}).get("resourceVersion") or resource_version)
        if kind == "BOOKMARK":
            return new_version
        obj.setdefault("apiVersion", self._gvk.api_version)
        obj.setdefault("kind", self._gvk.kind)
        self._target.apply_event(str(kind), self._transform(obj))
        return new_version
