"""Leader election timing, with controller-runtime's defaults and client-go's validation."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "DEFAULT_LEASE_DURATION",
    "DEFAULT_RENEW_DEADLINE",
    "DEFAULT_RETRY_PERIOD",
    "JITTER_FACTOR",
    "LeaderElectionOptions",
]

DEFAULT_LEASE_DURATION = 15.0
DEFAULT_RENEW_DEADLINE = 10.0
DEFAULT_RETRY_PERIOD = 2.0
JITTER_FACTOR = 1.2
"""client-go's JitterFactor: retries wait retry_period * [1, 1 + 1.2); also why the deadline
must exceed 1.2 x retry_period (a renewal always gets at least one jittered attempt)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class LeaderElectionOptions:
    """How this replica competes for the Lease ``namespace/name``.

    Usage::

        LeaderElectionOptions(name="kreconcile-manager", namespace="kreconcile-system")
    """

    name: str
    """Name of the Lease object all replicas compete for."""
    namespace: str
    """Namespace of the Lease; usually the operator's own namespace."""
    identity: str = ""
    """This replica's holder identity; empty means hostname + "_" + a fresh UUID."""
    lease_duration: float = DEFAULT_LEASE_DURATION
    """Seconds a standby waits after the last observed renewal before taking over. Longer
    survives slow API servers; shorter fails over faster."""
    renew_deadline: float = DEFAULT_RENEW_DEADLINE
    """Seconds the leader keeps retrying a renewal before it steps down. Must be below
    lease_duration so the leader stops acting before anyone else may start."""
    retry_period: float = DEFAULT_RETRY_PERIOD
    """Seconds between acquire or renew attempts (jittered by up to 1.2x when acquiring)."""
    release_on_cancel: bool = True
    """On graceful shutdown, clear the holder so a standby takes over at once instead of
    waiting out lease_duration. Only safe when the process stops all work first (the manager
    releases after its runnables have stopped)."""

    def __post_init__(self) -> None:
        if not self.name or not self.namespace:
            raise ValueError(
                "leader election needs the Lease name and namespace, e.g. "
                'LeaderElectionOptions(name="kreconcile-manager", namespace="kreconcile-system")'
            )
        if not self.lease_duration > self.renew_deadline > JITTER_FACTOR * self.retry_period > 0:
            raise ValueError(
                "need lease_duration > renew_deadline > 1.2*retry_period > 0, got "
                f"{self.lease_duration}/{self.renew_deadline}/{self.retry_period}; "
                "keep the 15/10/2 defaults unless the API server is slow"
            )
