"""kreconcile's framework: a Python port of Kubernetes controller-runtime.

The names most programs need are re-exported here; each concept lives in its own module
(``reconcile.workqueue``, ``reconcile.client``, ``reconcile.cache``, ``reconcile.controller``,
``reconcile.manager``, ``reconcile.leaderelection``, ``reconcile.reload``, ``reconcile.envtest``,
``reconcile.apiserver``).
"""

from reconcile.builder import ControllerBuilder
from reconcile.cache import CacheOptions, InformerCache
from reconcile.client import Client, RestConfig, merge_from, retry_on_conflict
from reconcile.controller import Controller, ControllerOptions
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
    NotFound,
    TerminalError,
    TooManyRequests,
)
from reconcile.gvk import GroupVersionKind, GroupVersionResource
from reconcile.manager import Manager, ManagerOptions
from reconcile.reconciler import Reconciler, ReconcilerFunc, Request, Result

__version__ = "0.1.0"

__all__ = [
    "AlreadyExists",
    "ApiError",
    "BadRequest",
    "CacheOptions",
    "CacheSyncTimeout",
    "Client",
    "ConfigError",
    "Conflict",
    "Controller",
    "ControllerBuilder",
    "ControllerOptions",
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
    "NotFound",
    "Reconciler",
    "ReconcilerFunc",
    "Request",
    "RestConfig",
    "Result",
    "TerminalError",
    "TooManyRequests",
    "__version__",
    "merge_from",
    "retry_on_conflict",
]
