"""Shared informers: one reflector and one store per kind, any number of event handlers.

Handlers run on the reflector's thread, in event order, outside the store lock; they
must be quick (controllers only enqueue a key). A handler added after the informer has
synced first receives every stored object as an add, so late controllers start complete.
Objects handed to handlers and readers are shared: never mutate them.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

from reconcile.cache.reflector import Reflector, ReflectorOptions, ReflectorStats
from reconcile.cache.store import Store
from reconcile.client.client import Client
from reconcile.gvk import GroupVersionKind

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
    """A reflector feeding a store and a list of handlers, for one kind."""

    def __init__(
        self,
        client: Client,
        gvk: GroupVersionKind,
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        transform: Callable[[dict[str, Any]], dict[str, Any]] | None = strip_managed_fields,
        options: ReflectorOptions | None = None,
    ) -> None:
        self.gvk = gvk
        self.store = Store()
        self._handlers: list[ResourceEventHandler] = []
        self._dispatch = threading.RLock()
        self._synced = threading.Event()
        self.last_error: BaseException | None = None
        self._reflector = Reflector(
            client,
            gvk,
            self,
            namespace=namespace,
            label_selector=label_selector,
            field_selector=field_selector,
            transform=transform,
            options=options,
        )
        self._tune_gc = self._reflector.options.tune_gc
        self._thread: threading.Thread | None = None

    @property
    def stats(self) -> ReflectorStats:
        return self._reflector.stats

    def start(self, stop: threading.Event) -> None:
        """Run the reflector in a thread until ``stop`` is set (returns at once); after
        setting ``stop``, call ``join`` to end that thread."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(
            target=self._reflector.run, args=(stop,), name=f"informer-{self.gvk.kind}", daemon=True
        )
        self._thread.start()

    def join(self, timeout: float | None = None) -> bool:
        """After ``stop`` was set: close the watch and wait for the thread; True if it ended."""
        thread = self._thread
        if thread is None:
            return True
        self._reflector.interrupt()
        thread.join(timeout)
        return not thread.is_alive()

    def has_synced(self) -> bool:
        return self._synced.is_set()

    def wait_for_sync(self, timeout: float | None) -> bool:
        return self._synced.wait(timeout)

    def add_event_handler(self, handler: ResourceEventHandler) -> None:
        with self._dispatch:
            for obj in self.store.items():
                handler.on_add(obj, True)
            self._handlers.append(handler)

    # ReflectorTarget

    def record_error(self, error: BaseException | None) -> None:
        self.last_error = error

    def replace(self, objects: list[dict[str, Any]], resource_version: str) -> None:
        initial = not self._synced.is_set()
        with self._dispatch:
            added, updated, deleted = self.store.replace(objects)
            if self._tune_gc and initial and len(objects) > _BULK_LIST:
                gc.collect()
                gc.freeze()
            for obj in added:
                self._emit_add(obj, initial)
            for old, new in updated:
                self._emit_update(old, new)
            for obj in deleted:
                self._emit_delete(obj)
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
