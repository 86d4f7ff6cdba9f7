"""Object storage with one global resourceVersion, a bounded event history and watchers.

Like etcd behind kube-apiserver: every write takes the next revision, which becomes the
object's ``metadata.resourceVersion``; a watch can resume from any revision still in the
history window, and older ones are "compacted" (the caller answers 410 Gone). Stored objects
are immutable: a write replaces the record, so readers and watchers can share it safely.
Each record keeps its JSON encoding, so GET, LIST and watch events are byte concatenation.

All methods run on the server's event loop thread; nothing here takes a lock.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from reconcile.apiserver.persistence import Persistence

__all__ = ["Event", "GroupResource", "Store", "Stored", "TooOld", "Watcher", "encode"]

GroupResource = tuple[str, str]


def encode(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True, slots=True)
class Stored:
    """One object version: the dict (never mutated) and its JSON bytes."""

    obj: dict[str, Any]
    raw: bytes

    @classmethod
    def of(cls, obj: dict[str, Any]) -> Stored:
        return cls(obj, encode(obj))

    @property
    def rv(self) -> int:
        return int(self.obj["metadata"]["resourceVersion"])


@dataclass(frozen=True, slots=True)
class Event:
    rv: int
    type: str
    group_resource: GroupResource
    namespace: str
    name: str
    stored: Stored
    old: Stored | None = None


class TooOld(Exception):
    """The requested revision is older than the history window."""

    def __init__(self, requested: int, oldest: int) -> None:
        super().__init__(f"too old resource version: {requested} ({oldest})")
        self.requested = requested
        self.oldest = oldest


@dataclass(eq=False)
class Watcher:
    """A watch stream's subscription; ``queue`` gets events, or None when cut."""

    group_resource: GroupResource
    namespace: str | None
    max_pending: int
    queue: asyncio.Queue[Event | None] = field(default_factory=asyncio.Queue)
    closed: bool = False

    def offer(self, event: Event | None) -> None:
        if self.closed:
            return
        if event is not None and self.queue.qsize() >= self.max_pending:
            # A client that does not read is dropped, as kube-apiserver does; it re-watches.
            self.close()
            return
        self.queue.put_nowait(event)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.queue.put_nowait(None)


class Store:
    """Objects by (group, resource) then (namespace, name)."""

    def __init__(
        self,
        *,
        history: int = 10_000,
        persistence: Persistence | None = None,
        max_pending: int = 10_000,
    ) -> None:
        self._objects: dict[GroupResource, dict[tuple[str, str], Stored]] = {}
        self._history: deque[Event] = deque(maxlen=history)
        self._watchers: set[Watcher] = set()
        self._persistence = persistence
        self._max_pending = max_pending
        self.rv = 0
        self.compacted_rv = 0
        self.listeners: list[Callable[[Event], None]] = []
        if persistence is not None:
            self._load(persistence)

    def _load(self, persistence: Persistence) -> None:
        rv, rows = persistence.load()
        for group, resource, namespace, name, raw in rows:
            obj = json.loads(raw)
            self._objects.setdefault((group, resource), {})[(namespace, name)] = Stored(obj, raw)
        self.rv = rv
        self.compacted_rv = rv

    # reads

    def get(self, gr: GroupResource, namespace: str, name: str) -> Stored | None:
        return self._objects.get(gr, {}).get((namespace, name))

    def list_objects(self, gr: GroupResource, namespace: str | None = None) -> list[Stored]:
        bucket = self._objects.get(gr, {})
        if namespace is None:
            return [bucket[k] for k in sorted(bucket)]
        return [bucket[k] for k in sorted(k for k in bucket if k[0] == namespace)]

    def list_at(self, gr: GroupResource, namespace: str | None, rv: int) -> list[Stored]:
        """The objects as they were at revision ``rv``: a consistent snapshot for later pages.

        Built from today's objects by undoing the history after ``rv``; TooOld when the
        history no longer reaches back that far.
        """
        if rv >= self.rv:
            return self.list_objects(gr, namespace)
        if rv < self.compacted_rv:
            raise TooOld(rv, self.compacted_rv + 1)
        bucket = dict(self._objects.get(gr, {}))
        for event in reversed(self._history):
            if event.rv <= rv:
                break
            if event.group_resource != gr:
                continue
            key = (event.namespace, event.name)
            if event.type == "ADDED":
                bucket.pop(key, None)
            elif event.old is not None:
                bucket[key] = event.old
        keys = sorted(k for k in bucket if namespace is None or k[0] == namespace)
        return [bucket[k] for k in keys]

    def all_objects(self) -> Iterable[tuple[GroupResource, Stored]]:
        for gr, bucket in list(self._objects.items()):
            for stored in list(bucket.values()):
                yield gr, stored

    def counts(self) -> dict[GroupResource, int]:
        """Objects stored per group/resource."""
        return {gr: len(bucket) for gr, bucket in self._objects.items()}

    def count(self, gr: GroupResource, namespace: str | None = None) -> int:
        bucket = self._objects.get(gr, {})
        if namespace is None:
            return len(bucket)
        return sum(1 for k in bucket if k[0] == namespace)

    # writes

    def next_rv(self) -> int:
        return self.rv + 1

    def put(self, gr: GroupResource, obj: dict[str, Any], *, created: bool) -> Stored:
        """Store ``obj`` at the next revision (sets metadata.resourceVersion)."""
        self.rv += 1
        obj["metadata"]["resourceVersion"] = str(self.rv)
        stored = Stored.of(obj)
        key = (obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
        bucket = self._objects.setdefault(gr, {})
        old = bucket.get(key)
        bucket[key] = stored
        if self._persistence is not None:
            self._persistence.put(gr, key, stored.raw, self.rv)
        self._emit(Event(self.rv, "ADDED" if created else "MODIFIED", gr, *key, stored, old))
        return stored

    def remove(self, gr: GroupResource, namespace: str, name: str) -> Stored | None:
        """Delete the object; the DELETED event carries it at a new revision."""
        bucket = self._objects.get(gr, {})
        old = bucket.pop((namespace, name), None)
        if old is None:
            return None
        self.rv += 1
        final = dict(old.obj)
        final["metadata"] = {**old.obj["metadata"], "resourceVersion": str(self.rv)}
        stored = Stored.of(final)
        if self._persistence is not None:
            self._persistence.delete(gr, (namespace, name), self.rv)
        self._emit(Event(self.rv, "DELETED", gr, namespace, name, stored, old))
        return stored

    def drop_group_resource(self, gr: GroupResource) -> None:
        for namespace, name in list(self._objects.get(gr, {})):
            self.remove(gr, namespace, name)
        self._objects.pop(gr, None)

    # watch

    def _emit(self, event: Event) -> None:
        if len(self._history) == self._history.maxlen:
            self.compacted_rv = self._history[0].rv
        self._history.append(event)
        for watcher in list(self._watchers):
            if watcher.group_resource == event.group_resource and (
                watcher.namespace is None or watcher.namespace == event.namespace
            ):
                watcher.offer(event)
        for listener in self.listeners:
            listener(event)

    def events_since(self, gr: GroupResource, rv: int) -> list[Event]:
        """Events for ``gr`` after revision ``rv``; TooOld if the window no longer has them."""
        if rv < self.compacted_rv:
            raise TooOld(rv, self.compacted_rv + 1)
        return [e for e in self._history if e.rv > rv and e.group_resource == gr]

    def compact(self) -> None:
        """Forget all history (tests use this to force 410 Gone)."""
        self._history.clear()
        self.compacted_rv = self.rv

    def watch(self, gr: GroupResource, namespace: str | None) -> Watcher:
        watcher = Watcher(gr, namespace, self._max_pending)
        self._watchers.add(watcher)
        return watcher

    def unwatch(self, watcher: Watcher) -> None:
        self._watchers.discard(watcher)

    def cut_watches(self) -> int:
        watchers = list(self._watchers)
        for watcher in watchers:
            watcher.close()
        self._watchers.clear()
        return len(watchers)

    def close(self) -> None:
        self.cut_watches()
        if self._persistence is not None:
            self._persistence.close()
