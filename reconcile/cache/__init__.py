"""Informer caches: the local, watch-fed copy of cluster state that controllers read.

``InformerCache`` serves ``get``/``list`` from per-kind ``SharedInformer``s; each is a
``Reflector`` (list, then watch) feeding a ``Store`` and its event handlers.
"""

from reconcile.cache.cache import InformerCache
from reconcile.cache.informer import (
    Informer,
    ResourceEventHandler,
    SharedInformer,
    strip_managed_fields,
)
from reconcile.cache.options import (
    ALL_NAMESPACES,
    DEFAULT_SYNC_PERIOD,
    CacheOptions,
    KindOptions,
    NamespaceConfig,
    WatchErrorHandler,
)
from reconcile.cache.reflector import Reflector, ReflectorOptions, ReflectorStats
from reconcile.cache.scope import ListScope
from reconcile.cache.store import Store, object_key

__all__ = [
    "ALL_NAMESPACES",
    "DEFAULT_SYNC_PERIOD",
    "CacheOptions",
    "Informer",
    "InformerCache",
    "KindOptions",
    "ListScope",
    "NamespaceConfig",
    "Reflector",
    "ReflectorOptions",
    "ReflectorStats",
    "ResourceEventHandler",
    "SharedInformer",
    "Store",
    "WatchErrorHandler",
    "object_key",
    "strip_managed_fields",
]
