"""Event handlers: which Requests an event on some object enqueues.

- ``EnqueueRequestForObject``: the object itself (``for_(K)`` uses it);
- ``EnqueueRequestForOwner``: the owner named in ``ownerReferences`` (``owns(K)`` uses it,
  controller owner only by default), so a change to a Pod wakes its AgentPool;
- ``EnqueueRequestsFromMapFunc``: whatever a function maps the object to;
- ``Funcs``: one function per event type, each given the queue (controller-runtime's
  ``handler.Funcs``), for handlers the three above cannot express.

On updates, both the old and the new object are mapped: an owner reference removed by the
update still wakes the former owner.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from reconcile.gvk import KindLike, gvk_of
from reconcile.reconciler import Request

__all__ = [
    "EnqueueRequestForObject",
    "EnqueueRequestForOwner",
    "EnqueueRequestsFromMapFunc",
    "EventHandler",
    "Funcs",
    "RequestQueue",
    "request_for",
]

Obj = dict[str, Any]


class RequestQueue(Protocol):
    def add(self, item: Request) -> None: ...


class EventHandler(Protocol):
    def create(self, obj: Obj, queue: RequestQueue) -> None: ...

    def update(self, old: Obj, new: Obj, queue: RequestQueue) -> None: ...

    def delete(self, obj: Obj, queue: RequestQueue) -> None: ...

    def generic(self, obj: Obj, queue: RequestQueue) -> None: ...


def request_for(obj: Obj) -> Request:
    meta = obj.get("metadata") or {}
    return Request(str(meta.get("namespace") or ""), str(meta.get("name") or ""))


class _Mapping:
    """Handlers defined by one function from an object to requests."""

    def _requests(self, obj: Obj) -> Iterable[Request]:
        raise NotImplementedError

    def create(self, obj: Obj, queue: RequestQueue) -> None:
        for request in self._requests(obj):
            queue.add(request)

    def update(self, old: Obj, new: Obj, queue: RequestQueue) -> None:
        for request in {*self._requests(old), *self._requests(new)}:
            queue.add(request)

    def delete(self, obj: Obj, queue: RequestQueue) -> None:
        self.create(obj, queue)

    def generic(self, obj: Obj, queue: RequestQueue) -> None:
        self.create(obj, queue)


class EnqueueRequestForObject(_Mapping):
    """Enqueue the object's own namespace/name."""

    def _requests(self, obj: Obj) -> Iterable[Request]:
        return (request_for(obj),)


class EnqueueRequestForOwner(_Mapping):
    """Enqueue owners of kind ``owner`` found in ``metadata.ownerReferences``.

    ``only_controller`` (default) follows only the reference with ``controller: true``, as
    ``builder.owns`` does in controller-runtime. ``owner_namespaced=False`` for
    cluster-scoped owners (the request then has no namespace).
    """

    def __init__(
        self, owner: KindLike, *, only_controller: bool = True, owner_namespaced: bool = True
    ) -> None:
        gvk = gvk_of(owner)
        self._group, self._kind = gvk.group, gvk.kind
        self._only_controller = only_controller
        self._owner_namespaced = owner_namespaced

    def _requests(self, obj: Obj) -> Iterable[Request]:
        meta = obj.get("metadata") or {}
        namespace = str(meta.get("namespace") or "") if self._owner_namespaced else ""
        requests = []
        for ref in meta.get("ownerReferences") or []:
            group = str(ref.get("apiVersion", "")).rpartition("/")[0]
            if ref.get("kind") != self._kind or group != self._group:
                continue
            if self._only_controller and not ref.get("controller"):
                continue
            requests.append(Request(namespace, str(ref.get("name", ""))))
        return requests


class EnqueueRequestsFromMapFunc(_Mapping):
    """Enqueue whatever ``map_fn(obj)`` returns (e.g. every pool that selects a node)."""

    def __init__(self, map_fn: Callable[[Obj], Iterable[Request]]) -> None:
        self._map = map_fn

    def _requests(self, obj: Obj) -> Iterable[Request]:
        return list(self._map(obj))


@dataclass(frozen=True, kw_only=True)
class Funcs:
    """An EventHandler from functions; a missing function ignores that event type.

    Usage::

        Funcs(update_fn=lambda old, new, queue: queue.add(request_for(new))
              if old["spec"] != new["spec"] else None)
    """

    create_fn: Callable[[Obj, RequestQueue], None] | None = None
    update_fn: Callable[[Obj, Obj, RequestQueue], None] | None = None
    delete_fn: Callable[[Obj, RequestQueue], None] | None = None
    generic_fn: Callable[[Obj, RequestQueue], None] | None = None

    def create(self, obj: Obj, queue: RequestQueue) -> None:
        if self.create_fn is not None:
            self.create_fn(obj, queue)

    def update(self, old: Obj, new: Obj, queue: RequestQueue) -> None:
        if self.update_fn is not None:
            self.update_fn(old, new, queue)

    def delete(self, obj: Obj, queue: RequestQueue) -> None:
        if self.delete_fn is not None:
            self.delete_fn(obj, queue)

    def generic(self, obj: Obj, queue: RequestQueue) -> None:
        if self.generic_fn is not None:
            self.generic_fn(obj, queue)
