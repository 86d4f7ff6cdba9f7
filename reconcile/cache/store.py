"""A thread-safe object store keyed ``namespace/name``, with indexes.

Objects in the store are shared with every reader: nobody mutates them (the reflector
replaces whole objects). Indexes map an index value to the keys of the objects that
produce it; ``namespace`` is always indexed so per-namespace lists do not scan everything.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["NAMESPACE_INDEX", "Indexer", "Store", "object_key"]

Indexer = Callable[[dict[str, Any]], list[str]]
NAMESPACE_INDEX = "namespace"


def object_key(obj: dict[str, Any]) -> str:
    meta = obj["metadata"]
    namespace = meta.get("namespace")
    return f"{namespace}/{meta['name']}" if namespace else str(meta["name"])


def _namespace(obj: dict[str, Any]) -> list[str]:
    return [obj["metadata"].get("namespace", "")]


class Store:
    """Objects by key plus secondary indexes; every method is thread-safe."""

    def __init__(self) -> None:
        self._items: dict[str, dict[str, Any]] = {}
        self._indexers: dict[str, Indexer] = {NAMESPACE_INDEX: _namespace}
        self._indices: dict[str, dict[str, set[str]]] = {NAMESPACE_INDEX: defaultdict(set)}
        self._lock = threading.RLock()

    def add_indexer(self, name: str, indexer: Indexer) -> None:
        """Add an index (existing objects are indexed now); names must be unique."""
        with self._lock:
            if name in self._indexers:
                raise ValueError(f"index {name!r} already exists; each field can be indexed once")
            self._indexers[name] = indexer
            index: dict[str, set[str]] = defaultdict(set)
            for key, obj in self._items.items():
                for value in indexer(obj):
                    index[value].add(key)
            self._indices[name] = index

    def has_index(self, name: str) -> bool:
        with self._lock:
            return name in self._indexers

    def _unindex(self, key: str, obj: dict[str, Any]) -> None:
        for name, indexer in self._indexers.items():
            index = self._indices[name]
            for value in indexer(obj):
                keys = index.get(value)
                if keys is not None:
                    keys.discard(key)
                    if not keys:
                        del index[value]

    def _index(self, key: str, obj: dict[str, Any]) -> None:
        for name, indexer in self._indexers.items():
            index = self._indices[name]
            for value in indexer(obj):
                index[value].add(key)

    def upsert(self, obj: dict[str, Any]) -> dict[str, Any] | None:
        """Store ``obj``; return the object it replaced, if any."""
        key = object_key(obj)
        with self._lock:
            old = self._items.get(key)
            if old is not None:
                self._unindex(key, old)
            self._items[key] = obj
            self._index(key, obj)
            return old

    def delete(self, obj: dict[str, Any]) -> dict[str, Any] | None:
        """Remove the object with ``obj``'s key; return what was stored."""
        key = object_key(obj)
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._unindex(key, old)
            return old

    def replace(
        self,
        objects: Iterable[dict[str, Any]],
        *,
        within: Callable[[dict[str, Any]], bool] | None = None,
    ) -> tuple[
        list[dict[str, Any]], list[tuple[dict[str, Any], dict[str, Any]]], list[dict[str, Any]]
    ]:
        """Make the store hold exactly ``objects``; return (added, updated (old, new), deleted).

        With ``within``, only stored objects it accepts may be deleted (one namespace's
        relist leaves the other namespaces' objects alone)."""
        incoming = {object_key(obj): obj for obj in objects}
        added: list[dict[str, Any]] = []
        updated: list[tuple[dict[str, Any], dict[str, Any]]] = []
        with self._lock:
            deleted = [
                obj
                for key, obj in self._items.items()
                if key not in incoming and (within is None or within(obj))
            ]
            for obj in deleted:
                self.delete(obj)
            for obj in incoming.values():
                old = self.upsert(obj)
                if old is None:
                    added.append(obj)
                elif old["metadata"].get("resourceVersion") != obj["metadata"].get(
                    "resourceVersion"
                ):
                    updated.append((old, obj))
        return added, updated, deleted

    def get(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            return self._items.get(key)

    def items(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._items.values())

    def by_index(self, name: str, value: str) -> list[dict[str, Any]]:
        with self._lock:
            if name not in self._indexers:
                raise KeyError(name)
            return [self._items[key] for key in sorted(self._indices[name].get(value, ()))]

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
