"""One metrics object per Prometheus registry.

prometheus_client refuses to register a metric name twice in one registry, yet every
controller (and its work queue) wants "the" controller metrics of the manager's registry.
``PerRegistry`` creates the object on first use and hands the same one back afterwards;
it holds registries weakly, so a test's throwaway registry does not leak.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Generic, TypeVar

from prometheus_client import CollectorRegistry

__all__ = ["PerRegistry"]

T = TypeVar("T")


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
