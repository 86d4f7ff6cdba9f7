"""kreconcile's framework: a Python port of Kubernetes controller-runtime.

The names most programs need are re-exported here; each concept lives in its own
module (``reconcile.workqueue``, ``reconcile.client``, ``reconcile.cache``...).
"""

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

__version__ = "0.1.0"

__all__ = [
    "AlreadyExists",
    "ApiError",
    "BadRequest",
    "CacheSyncTimeout",
    "ConfigError",
    "Conflict",
    "Forbidden",
    "Gone",
    "Invalid",
    "KreconcileError",
    "LeaderElectionLost",
    "NotFound",
    "TerminalError",
    "TooManyRequests",
    "__version__",
]
