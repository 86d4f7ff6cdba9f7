"""Informer caches: the local, watch-fed copy of cluster state that controllers read.

``InformerCache`` serves ``get``/``list`` from per-kind ``SharedInformer``s; each is a
``Reflector`` (list, then watch) feeding a ``Store`` and its event handlers.
"""

from reconcile.cache.cache import CacheOptions, InformerCache, KindOptions
from reconcile.cache.informer import (
    Informer,
    ResourceEventHandler,
    SharedInformer,
    strip_managed_fields,
)
from reconcile.cache.reflector import Reflector, ReflectorOptions, ReflectorStats
from reconcile.cache.store import Store, object_key

__all__ = [
    "CacheOptions",
    "Informer",
    "InformerCache",
    "KindOptions",
    "Reflector",
    "ReflectorOptions",
    "ReflectorStats",
    "ResourceEventHandler",
    "SharedInformer",
    "Store",
    "object_key",
    "strip_managed_fields",
]
