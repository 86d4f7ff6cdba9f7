"""One metrics object per Prometheus registry: the one registration pattern of kreconcile.

prometheus_client refuses to register a metric name twice in one registry, yet every
controller, work queue, client, elector and config watcher wants "the" metrics of the
manager's registry, and a program may build a second Client on it. Each metrics class
subclasses ``PerRegistryMetrics`` and is obtained with ``Class.for_registry(registry)``,
which creates the families on first use and hands the same object back afterwards. Its
registries are held weakly, so a test's throwaway registry does not leak.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from prometheus_client import CollectorRegistry

__all__ = ["PerRegistry", "PerRegistryMetrics"]

T = TypeVar("T")
M = TypeVar("M", bound="PerRegistryMetrics")


class PerRegistry(Generic[T]):
    """``get(registry)`` returns ``factory(registry)``, created once per registry."""

    def __init__(self, factory: Callable[[CollectorRegistry], T]) -> None:
        self._factory = factory
        self._instances: weakref.WeakKeyDictionary[CollectorRegistry, T] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()

    def get(self, registry: CollectorRegistry) -> T:
        with self._lock:
            instance = self._instances.get(registry)
            if instance is None:
                instance = self._instances[registry] = self._factory(registry)
            return instance


class PerRegistryMetrics:
    """Base of every metrics group: build it with ``for_registry``, never twice by hand."""

    def __init__(self, registry: CollectorRegistry) -> None:
        """Registers the families; called once per registry by ``for_registry``."""

    @classmethod
    def for_registry(cls: type[M], registry: CollectorRegistry) -> M:
        """The one instance of this class for ``registry`` (families register once)."""
        with _HOLDERS_LOCK:
            holder = _HOLDERS.get(cls)
            if holder is None:
                holder = _HOLDERS[cls] = PerRegistry(cls)
        instance: M = holder.get(registry)
        return instance


_HOLDERS: dict[type, PerRegistry[Any]] = {}
_HOLDERS_LOCK = threading.Lock()
