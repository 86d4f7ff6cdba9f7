"""What kube-controller-manager does after a delete: garbage collection and namespaces.

- Background propagation: once an owner is gone, dependents whose owners are all gone are
  deleted; dependents that still have a live owner just lose the dangling reference.
- Foreground: the owner waits (``foregroundDeletion`` finalizer) until its dependents are
  deleted, then disappears.
- Orphan: the owner's references are removed from its dependents (``orphan`` finalizer),
  then the owner disappears and the dependents stay.
- A Terminating namespace has its contents deleted; once empty, the ``kubernetes``
  finalizer is removed and the namespace goes.

Work is scheduled on the event loop after the write that caused it, never inside it, so a
store listener never re-enters the store while it emits.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections import defaultdict
from typing import Any

from reconcile.apiserver.api import API, WriteOptions
from reconcile.apiserver.resources import ResourceInfo
from reconcile.apiserver.status import StatusError
from reconcile.apiserver.storage import Event, GroupResource

__all__ = ["Lifecycle"]

log = logging.getLogger(__name__)

_NAMESPACES: GroupResource = ("", "namespaces")
ObjectKey = tuple[GroupResource, str, str]


class Lifecycle:
    """Garbage collector and namespace controller, driven by store events."""

    def __init__(
        self, api: API, loop: asyncio.AbstractEventLoop, *, namespace_delay: float = 0.0
    ) -> None:
        """``namespace_delay``: seconds before a Terminating namespace's contents go."""
        self._api = api
        self._loop = loop
        self._namespace_delay = namespace_delay
        self._waiting: set[str] = set()
        self._terminating: set[str] = set()
        self._dependents: dict[str, set[ObjectKey]] = defaultdict(set)
        self._uids: dict[ObjectKey, str] = {}
        for gr, stored in api.store.all_objects():
            self._index(gr, stored.obj)
        api.store.listeners.append(self._on_event)
        for stored in api.store.list_objects(_NAMESPACES):
            if stored.obj["metadata"].get("deletionTimestamp"):
                self._schedule_termination(stored.obj["metadata"]["name"])

    def _key(self, gr: GroupResource, obj: dict[str, Any]) -> ObjectKey:
        meta = obj["metadata"]
        return (gr, meta.get("namespace", ""), meta["name"])

    def _index(self, gr: GroupResource, obj: dict[str, Any]) -> None:
        key = self._key(gr, obj)
        self._uids[key] = obj["metadata"].get("uid", "")
        for ref in obj["metadata"].get("ownerReferences") or []:
            self._dependents[ref.get("uid", "")].add(key)

    def _unindex(self, gr: GroupResource, obj: dict[str, Any]) -> None:
        key = self._key(gr, obj)
        self._uids.pop(key, None)
        for ref in obj["metadata"].get("ownerReferences") or []:
            self._dependents.get(ref.get("uid", ""), set()).discard(key)

    def _schedule(self, fn: Any, *args: Any) -> None:
        self._loop.call_soon(self._guarded, fn, *args)

    def _schedule_termination(self, namespace: str) -> None:
        """The first pass over a Terminating namespace waits ``namespace_delay`` seconds."""
        if namespace in self._terminating:
            self._schedule(self._terminate_namespace, namespace)
        elif namespace not in self._waiting:
            self._waiting.add(namespace)
            self._loop.call_later(self._namespace_delay, self._begin_termination, namespace)

    def _begin_termination(self, namespace: str) -> None:
        self._waiting.discard(namespace)
        self._terminating.add(namespace)
        self._guarded(self._terminate_namespace, namespace)

    def _guarded(self, fn: Any, *args: Any) -> None:
        try:
            fn(*args)
        except StatusError as error:
            log.debug("lifecycle step skipped", extra={"reason": error.message})
        except Exception:
            log.exception("lifecycle step failed")

    def _on_event(self, event: Event) -> None:
        obj = event.stored.obj
        if event.old is not None:
            self._unindex(event.group_resource, event.old.obj)
        if event.type == "DELETED":
            self._unindex(event.group_resource, obj)
            uid = obj["metadata"].get("uid", "")
            if self._dependents.get(uid):
                self._schedule(self._collect, uid)
            for ref in obj["metadata"].get("ownerReferences") or []:
                self._schedule(self._finish_foreground, ref.get("uid", ""))
            if event.namespace in self._terminating:
                self._schedule(self._terminate_namespace, event.namespace)
            return
        self._index(event.group_resource, obj)
        meta = obj["metadata"]
        if not meta.get("deletionTimestamp"):
            return
        finalizers = meta.get("finalizers") or []
        if event.group_resource == _NAMESPACES:
            self._schedule_termination(meta["name"])
        if "orphan" in finalizers:
            self._schedule(self._orphan, event.group_resource, event.namespace, event.name)
        if "foregroundDeletion" in finalizers:
            self._schedule(self._foreground, event.group_resource, event.namespace, event.name)

    def _info(self, gr: GroupResource) -> ResourceInfo | None:
        return self._api.registry.storage_info(*gr)

    def _get(self, key: ObjectKey) -> dict[str, Any] | None:
        stored = self._api.store.get(*key)
        return stored.obj if stored else None

    def _write(self, key: ObjectKey, new: dict[str, Any]) -> None:
        info = self._info(key[0])
        current = self._api.store.get(*key)
        if info is None or current is None:
            return
        self._api._write_update(
            info,
            current,
            new,
            WriteOptions(field_validation="Ignore", field_manager="kube-controller-manager"),
        )

    def _delete(self, key: ObjectKey, propagation: str | None = None) -> None:
        info = self._info(key[0])
        if info is not None and self._api.store.get(*key) is not None:
            self._api.delete(info, key[1], key[2], propagation=propagation)

    def _alive(self, uid: str) -> bool:
        return uid in self._uids.values()

    def _drop_refs(self, key: ObjectKey, uid: str) -> None:
        obj = self._get(key)
        if obj is None:
            return
        new = copy.deepcopy(obj)
        refs = [r for r in new["metadata"].get("ownerReferences") or [] if r.get("uid") != uid]
        if refs:
            new["metadata"]["ownerReferences"] = refs
        else:
            new["metadata"].pop("ownerReferences", None)
        self._write(key, new)

    def _collect(self, owner_uid: str) -> None:
        """Background propagation after ``owner_uid`` was deleted."""
        for key in list(self._dependents.get(owner_uid, ())):
            obj = self._get(key)
            if obj is None:
                continue
            owners = [r.get("uid", "") for r in obj["metadata"].get("ownerReferences") or []]
            if any(self._alive(uid) for uid in owners if uid != owner_uid):
                self._drop_refs(key, owner_uid)
            else:
                self._delete(key)

    def _orphan(self, gr: GroupResource, namespace: str, name: str) -> None:
        owner = self._get((gr, namespace, name))
        if owner is None:
            return
        uid = owner["metadata"]["uid"]
        for key in list(self._dependents.get(uid, ())):
            self._drop_refs(key, uid)
        self._remove_finalizer((gr, namespace, name), "orphan")

    def _foreground(self, gr: GroupResource, namespace: str, name: str) -> None:
        owner = self._get((gr, namespace, name))
        if owner is None:
            return
        for key in list(self._dependents.get(owner["metadata"]["uid"], ())):
            dependent = self._get(key)
            if dependent is not None and not dependent["metadata"].get("deletionTimestamp"):
                self._delete(key, "Foreground")
        self._finish_foreground(owner["metadata"]["uid"])

    def _finish_foreground(self, owner_uid: str) -> None:
        owner_key = next((k for k, u in self._uids.items() if u == owner_uid), None)
        if owner_key is None or self._dependents.get(owner_uid):
            return
        owner = self._get(owner_key)
        if owner and "foregroundDeletion" in (owner["metadata"].get("finalizers") or []):
            self._remove_finalizer(owner_key, "foregroundDeletion")

    def _remove_finalizer(self, key: ObjectKey, finalizer: str) -> None:
        obj = self._get(key)
        if obj is None:
            return
        new = copy.deepcopy(obj)
        new["metadata"]["finalizers"] = [
            f for f in new["metadata"].get("finalizers") or [] if f != finalizer
        ]
        if not new["metadata"]["finalizers"]:
            del new["metadata"]["finalizers"]
        self._write(key, new)

    def _terminate_namespace(self, namespace: str) -> None:
        ns = self._get((_NAMESPACES, "", namespace))
        if ns is None or not ns["metadata"].get("deletionTimestamp"):
            return
        remaining = 0
        for info in list(self._api.registry):
            if not info.namespaced or not info.storage_version:
                continue
            for stored in self._api.store.list_objects(self._api.key(info), namespace):
                remaining += 1
                if not stored.obj["metadata"].get("deletionTimestamp"):
                    self._delete((self._api.key(info), namespace, stored.obj["metadata"]["name"]))
        if remaining:
            return
        new = copy.deepcopy(ns)
        new.setdefault("spec", {})["finalizers"] = []
        if new["metadata"].get("finalizers"):
            self._write((_NAMESPACES, "", namespace), new)
            return
        self._terminating.discard(namespace)
        self._api.store.remove(_NAMESPACES, "", namespace)
