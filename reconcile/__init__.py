"""kreconcile's framework: a Python port of Kubernetes controller-runtime.

The names most programs need are re-exported here, lazily (PEP 562): ``import reconcile``
loads nothing else, and each name loads its own module on first use, so a program pays only
for what it touches. Each concept lives in its own module (``reconcile.workqueue``,
``reconcile.client``, ``reconcile.cache``, ``reconcile.controller``, ``reconcile.manager``,
``reconcile.leaderelection``, ``reconcile.reload``, ``reconcile.envtest``,
``reconcile.apiserver``); the framework never imports ``reconcile.apiserver``.
"""

from typing import TYPE_CHECKING

from reconcile._lazy import lazy_exports

if TYPE_CHECKING:
    from reconcile.builder import ControllerBuilder
    from reconcile.cache import CacheOptions, InformerCache, NamespaceConfig
    from reconcile.client import (
        Client,
        ObjectClient,
        Reader,
        RestConfig,
        Writer,
        merge_from,
        retry_on_conflict,
    )
    from reconcile.controller import Controller, ControllerDefaults, ControllerOptions
    from reconcile.errors import (
        AlreadyExists,
        ApiError,
        BadRequest,
        CacheSyncTimeout,
        ConfigError,
        Conflict,
        Forbidden,
        Gone,
        Invalid,
        KreconcileError,
        LeaderElectionLost,
        NotCached,
        NotFound,
        TerminalError,
        TooManyRequests,
    )
    from reconcile.finalizer import FinalizerResult, Finalizers
    from reconcile.gvk import GroupVersionKind, GroupVersionResource, PartialObjectMetadata
    from reconcile.manager import Manager, ManagerOptions
    from reconcile.reconciler import (
        AsyncReconciler,
        Reconciler,
        ReconcilerFunc,
        Request,
        Result,
    )

__version__ = "0.1.0"

_EXPORTS = {
    "AlreadyExists": "reconcile.errors",
    "ApiError": "reconcile.errors",
    "AsyncReconciler": "reconcile.reconciler",
    "BadRequest": "reconcile.errors",
    "CacheOptions": "reconcile.cache.options",
    "CacheSyncTimeout": "reconcile.errors",
    "Client": "reconcile.client.client",
    "ConfigError": "reconcile.errors",
    "Conflict": "reconcile.errors",
    "Controller": "reconcile.controller.controller",
    "ControllerBuilder": "reconcile.builder",
    "ControllerDefaults": "reconcile.controller.options",
    "ControllerOptions": "reconcile.controller.options",
    "FinalizerResult": "reconcile.finalizer",
    "Finalizers": "reconcile.finalizer",
    "Forbidden": "reconcile.errors",
    "Gone": "reconcile.errors",
    "GroupVersionKind": "reconcile.gvk",
    "GroupVersionResource": "reconcile.gvk",
    "InformerCache": "reconcile.cache.cache",
    "Invalid": "reconcile.errors",
    "KreconcileError": "reconcile.errors",
    "LeaderElectionLost": "reconcile.errors",
    "Manager": "reconcile.manager.manager",
    "ManagerOptions": "reconcile.manager.options",
    "NamespaceConfig": "reconcile.cache.options",
    "NotCached": "reconcile.errors",
    "NotFound": "reconcile.errors",
    "ObjectClient": "reconcile.client.interfaces",
    "PartialObjectMetadata": "reconcile.gvk",
    "Reader": "reconcile.client.interfaces",
    "Reconciler": "reconcile.reconciler",
    "ReconcilerFunc": "reconcile.reconciler",
    "Request": "reconcile.reconciler",
    "RestConfig": "reconcile.client.config",
    "Result": "reconcile.reconciler",
    "TerminalError": "reconcile.errors",
    "TooManyRequests": "reconcile.errors",
    "Writer": "reconcile.client.interfaces",
    "merge_from": "reconcile.client.patch",
    "retry_on_conflict": "reconcile.client.retry",
}

__all__ = [
    "AlreadyExists",
    "ApiError",
    "AsyncReconciler",
    "BadRequest",
    "CacheOptions",
    "CacheSyncTimeout",
    "Client",
    "ConfigError",
    "Conflict",
    "Controller",
    "ControllerBuilder",
    "ControllerDefaults",
    "ControllerOptions",
    "FinalizerResult",
    "Finalizers",
    "Forbidden",
    "Gone",
    "GroupVersionKind",
    "GroupVersionResource",
    "InformerCache",
    "Invalid",
    "KreconcileError",
    "LeaderElectionLost",
    "Manager",
    "ManagerOptions",
    "NamespaceConfig",
    "NotCached",
    "NotFound",
    "ObjectClient",
    "PartialObjectMetadata",
    "Reader",
    "Reconciler",
    "ReconcilerFunc",
    "Request",
    "RestConfig",
    "Result",
    "TerminalError",
    "TooManyRequests",
    "Writer",
    "__version__",
    "merge_from",
    "retry_on_conflict",
]
__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
