"""Leader election on a ``coordination.k8s.io/v1`` Lease, with client-go's semantics.

``LeaderElector.run`` acquires and renews; losing the lease calls ``on_stopped_leading`` and
raises ``LeaderElectionLost``; ``release`` hands the lease over on graceful shutdown.
"""

from reconcile.leaderelection.elector import (
    LeaderCallbacks,
    LeaderElectionMetrics,
    LeaderElector,
    default_identity,
)
from reconcile.leaderelection.lease import (
    LEASE,
    LeaderElectionRecord,
    LeaseLock,
    LockClient,
    format_micro_time,
)
from reconcile.leaderelection.options import (
    DEFAULT_LEASE_DURATION,
    DEFAULT_RENEW_DEADLINE,
    DEFAULT_RETRY_PERIOD,
    LeaderElectionOptions,
)

__all__ = [
    "DEFAULT_LEASE_DURATION",
    "DEFAULT_RENEW_DEADLINE",
    "DEFAULT_RETRY_PERIOD",
    "LEASE",
    "LeaderCallbacks",
    "LeaderElectionMetrics",
    "LeaderElectionOptions",
    "LeaderElectionRecord",
    "LeaderElector",
    "LeaseLock",
    "LockClient",
    "default_identity",
    "format_micro_time",
]
