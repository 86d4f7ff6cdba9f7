"""Sources: where events come from before handlers turn them into Requests.

``Kind`` watches one kind through the manager's cache (its shared informer); ``Channel``
lets anything else (a timer, a webhook, another controller) inject generic events.
Predicates filter events before the handler sees them; ``add_predicates`` adds more before
the source starts (the builder adds its ``with_event_filter`` predicates that way).

With a priority queue (the controller default), whatever a handler enqueues for an object
of the informer's initial list, or for a resync that changed nothing (same
resourceVersion), goes in at ``LOW_PRIORITY``; every other event at the normal priority.
Handlers need not know: they are given a queue that adds at the right priority.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, Protocol

from reconcile.handler import EventHandler, RequestQueue
from reconcile.predicate import Predicate
from reconcile.reconciler import Request
from reconcile.workqueue.priority import LOW_PRIORITY, PriorityQueue

__all__ = ["Channel", "InformerProvider", "Kind", "Source"]

Obj = dict[str, Any]


class Source(Protocol):
    def start(self, queue: RequestQueue) -> None: ...

    def wait_for_sync(self, timeout: float) -> bool: ...


class InformerProvider(Protocol):
    def get_informer(self, kind: Any) -> Any: ...


class _LowPriority:
    """A queue view whose adds go in at LOW_PRIORITY."""

    __slots__ = ("_queue",)

    def __init__(self, queue: PriorityQueue[Request]) -> None:
        self._queue = queue

    def add(self, item: Request) -> None:
        self._queue.add(item, priority=LOW_PRIORITY)


def _resource_version(obj: Obj) -> object:
    meta = obj.get("metadata")
    return meta.get("resourceVersion") if isinstance(meta, dict) else None


class _Dispatch:
    """A ResourceEventHandler that applies predicates, then calls the EventHandler."""

    def __init__(
        self, handler: EventHandler, predicates: Sequence[Predicate], queue: RequestQueue
    ) -> None:
        self._handler = handler
        self._predicates = predicates
        self._queue = queue
        self._low: RequestQueue = _LowPriority(queue) if isinstance(queue, PriorityQueue) else queue

    def on_add(self, obj: Obj, is_in_initial_list: bool) -> None:
        if all(p.create(obj) for p in self._predicates):
            self._handler.create(obj, self._low if is_in_initial_list else self._queue)

    def on_update(self, old: Obj, new: Obj) -> None:
        if all(p.update(old, new) for p in self._predicates):
            version = _resource_version(old)
            unchanged = version is not None and version == _resource_version(new)
            self._handler.update(old, new, self._low if unchanged else self._queue)

    def on_delete(self, obj: Obj) -> None:
        if all(p.delete(obj) for p in self._predicates):
            self._handler.delete(obj, self._queue)


class Kind:
    """Events for one kind from the cache's informer."""

    def __init__(
        self,
        cache: InformerProvider,
        kind: Any,
        handler: EventHandler,
        predicates: Sequence[Predicate] = (),
    ) -> None:
        self._cache = cache
        self.kind = kind
        self._handler = handler
        self._predicates = tuple(predicates)
        self._informer: Any = None

    def add_predicates(self, *predicates: Predicate) -> None:
        """Filter events with ``predicates`` too (call before the source starts)."""
        self._predicates = (*predicates, *self._predicates)

    def start(self, queue: RequestQueue) -> None:
        self._informer = self._cache.get_informer(self.kind)
        self._informer.add_event_handler(_Dispatch(self._handler, self._predicates, queue))

    def wait_for_sync(self, timeout: float) -> bool:
        if self._informer is None:
            return False
        return bool(self._informer.wait_for_sync(timeout))

    def __repr__(self) -> str:
        return f"Kind({self.kind})"


class Channel:
    """Generic events pushed with ``send(obj)`` (objects only need metadata name/namespace)."""

    def __init__(self, handler: EventHandler, predicates: Sequence[Predicate] = ()) -> None:
        self._handler = handler
        self._predicates = tuple(predicates)
        self._queue: RequestQueue | None = None
        self._pending: list[Obj] = []
        self._lock = threading.Lock()

    def add_predicates(self, *predicates: Predicate) -> None:
        """Filter events with ``predicates`` too (call before the source starts)."""
        self._predicates = (*predicates, *self._predicates)

    def start(self, queue: RequestQueue) -> None:
        with self._lock:
            self._queue = queue
            pending, self._pending = self._pending, []
        for obj in pending:
            self.send(obj)

    def wait_for_sync(self, timeout: float) -> bool:
        return True

    def send(self, obj: Obj) -> None:
        """Deliver a generic event (buffered until the controller starts)."""
        with self._lock:
            queue = self._queue
            if queue is None:
                self._pending.append(obj)
                return
        if all(p.generic(obj) for p in self._predicates):
            self._handler.generic(obj, queue)
