"""Shared informers: one store per kind, fed by one reflector per scope, any number of handlers.

A kind watched cluster-wide has one scope; a kind watched in several namespaces has one
reflector per namespace (``ListScope``) writing into the same store, so readers, indexes
and handlers see one informer. It has synced once every scope has listed.

Handlers run on the reflector threads, in event order, under the informer's dispatch lock
and outside the store lock; they must be quick (controllers only enqueue a key). A handler
added after the informer has synced first receives every stored object as an add, so late
controllers start complete. ``resync`` re-delivers every stored object as an update whose
old and new are the same object (the cache calls it every ``sync_period``). Objects handed
to handlers and readers are shared: never mutate them.

Each informer owns its stop event: ``stop`` ends its reflectors (``remove_informer`` and
the cache's shutdown use it) and ``join`` waits for their threads.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from reconcile.cache.reflector import Reflector, ReflectorOptions, ReflectorStats
from reconcile.cache.scope import ListScope
from reconcile.cache.store import Store
from reconcile.client.client import Client
from reconcile.gvk import KindLike, gvk_of

__all__ = ["Informer", "ResourceEventHandler", "SharedInformer", "strip_managed_fields"]

log = logging.getLogger(__name__)

_BULK_LIST = 5000
"""With ``ReflectorOptions.tune_gc``, after an initial list this large the parsed objects are
moved to the permanent GC generation (``gc.freeze``) so later collections stop rescanning
tens of thousands of long-lived dicts."""


def strip_managed_fields(obj: dict[str, Any]) -> dict[str, Any]:
    """Default cache transform: managedFields are large and controllers never read them."""
    metadata = obj.get("metadata")
    if isinstance(metadata, dict):
        metadata.pop("managedFields", None)
    return obj


class ResourceEventHandler(Protocol):
    """Callbacks for one informer's changes."""

    def on_add(self, obj: dict[str, Any], is_in_initial_list: bool) -> None: ...

    def on_update(self, old: dict[str, Any], new: dict[str, Any]) -> None: ...

    def on_delete(self, obj: dict[str, Any]) -> None: ...


class Informer(Protocol):
    """What sources need from an informer."""

    def add_event_handler(self, handler: ResourceEventHandler) -> None: ...

    def has_synced(self) -> bool: ...


class SharedInformer:
    """Reflectors (one per scope) feeding one store and a list of handlers, for one kind."""

    def __init__(
        self,
        client: Client,
        kind: KindLike,
        *,
        scopes: Sequence[ListScope] | None = None,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        transform: Callable[[dict[str, Any]], dict[str, Any]] | None = strip_managed_fields,
        options: ReflectorOptions | None = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        """Without ``scopes``, one scope from ``namespace``/``label_selector``/
        ``field_selector``/``transform``; ``on_error`` sees every list/watch failure."""
        self.kind = kind
        self.gvk = gvk_of(kind)
        self.store = Store()
        self.scopes = (
            tuple(scopes)
            if scopes
            else (ListScope(namespace, label_selector, field_selector, transform),)
        )
        self._handlers: list[ResourceEventHandler] = []
        self._dispatch = threading.RLock()
        self._synced = threading.Event()
        self._listed: set[int] = set()
        self._on_error = on_error
        self.last_error: BaseException | None = None
        self._stop = threading.Event()
        self._reflectors = [
            Reflector(
                client,
                kind,
                _ScopeTarget(self, index, scope),
                namespace=scope.namespace,
                label_selector=scope.label_selector,
                field_selector=scope.field_selector,
                transform=scope.transform,
                options=options,
            )
            for index, scope in enumerate(self.scopes)
        ]
        self._tune_gc = self._reflectors[0].options.tune_gc
        self._threads: list[threading.Thread] = []

    @property
    def stats(self) -> ReflectorStats:
        """Counters of the first scope's reflector (the only one, unless namespaced)."""
        return self._reflectors[0].stats

    def start(self) -> None:
        """Run each scope's reflector in a thread until ``stop`` (returns at once)."""
        if self._threads:
            return
        self._threads = [
            threading.Thread(
                target=reflector.run,
                args=(self._stop,),
                name=f"informer-{self.gvk.kind}-{index}",
                daemon=True,
            )
            for index, reflector in enumerate(self._reflectors)
        ]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Stop every reflector; open watches are closed at once."""
        self._stop.set()
        for reflector in self._reflectors:
            reflector.interrupt()

    def join(self, timeout: float | None = None) -> bool:
        """After ``stop``: wait for the reflector threads; True if they all ended."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for reflector in self._reflectors:
            reflector.interrupt()
        for thread in self._threads:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return not any(thread.is_alive() for thread in self._threads)

    def has_synced(self) -> bool:
        return self._synced.is_set()

    def wait_for_sync(self, timeout: float | None) -> bool:
        return self._synced.wait(timeout)

    def add_event_handler(self, handler: ResourceEventHandler) -> None:
        with self._dispatch:
            for obj in self.store.items():
                handler.on_add(obj, True)
            self._handlers.append(handler)

    def resync(self) -> int:
        """Deliver every stored object to the handlers as an unchanged update; return how
        many (client-go's resync: controllers re-check what no event touched)."""
        with self._dispatch:
            objects = self.store.items()
            for obj in objects:
                self._emit_update(obj, obj)
        return len(objects)

    # what the reflectors deliver

    def record_error(self, error: BaseException | None) -> None:
        self.last_error = error
        if error is None or self._on_error is None:
            return
        try:
            self._on_error(error)
        except Exception:
            log.exception("watch error handler failed", extra={"kind": str(self.gvk)})

    def replace_scope(self, index: int, objects: list[dict[str, Any]]) -> None:
        """A scope's (re)list: its objects replace those the scope held before."""
        scope = self.scopes[index]
        with self._dispatch:
            initial = index not in self._listed
            within = scope.holds if len(self.scopes) > 1 else None
            added, updated, deleted = self.store.replace(objects, within=within)
            if self._tune_gc and initial and len(objects) > _BULK_LIST:
                gc.collect()
                gc.freeze()
            for obj in added:
                self._emit_add(obj, initial)
            for old, new in updated:
                self._emit_update(old, new)
            for obj in deleted:
                self._emit_delete(obj)
            self._listed.add(index)
            if len(self._listed) == len(self.scopes):
                self._synced.set()

    def apply_event(self, kind: str, obj: dict[str, Any]) -> None:
        with self._dispatch:
            if kind == "DELETED":
                old = self.store.delete(obj)
                self._emit_delete(old if old is not None else obj)
                return
            old = self.store.upsert(obj)
            if old is None:
                self._emit_add(obj, False)
            else:
                self._emit_update(old, obj)

    def _emit_add(self, obj: dict[str, Any], initial: bool) -> None:
        for handler in self._handlers:
            self._call(handler.on_add, obj, initial)

    def _emit_update(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        for handler in self._handlers:
            self._call(handler.on_update, old, new)

    def _emit_delete(self, obj: dict[str, Any]) -> None:
        for handler in self._handlers:
            self._call(handler.on_delete, obj)

    def _call(self, fn: Callable[..., None], *args: Any) -> None:
        try:
            fn(*args)
        except Exception:
            log.exception("event handler failed", extra={"kind": str(self.gvk)})


class _ScopeTarget:
    """The ReflectorTarget of one scope: lists replace that scope's objects only."""

    def __init__(self, informer: SharedInformer, index: int, scope: ListScope) -> None:
        self._informer = informer
        self._index = index
        self.scope = scope

    def replace(self, objects: list[dict[str, Any]], resource_version: str) -> None:
        self._informer.replace_scope(self._index, objects)

    def apply_event(self, kind: str, obj: dict[str, Any]) -> None:
        self._informer.apply_event(kind, obj)

    def record_error(self, error: BaseException | None) -> None:
        self._informer.record_error(error)
