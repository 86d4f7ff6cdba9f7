"""Manager options with controller-runtime's defaults."""

from __future__ import annotations

from dataclasses import dataclass, field

from reconcile.cache import CacheOptions
from reconcile.leaderelection import (
    DEFAULT_LEASE_DURATION,
    DEFAULT_RENEW_DEADLINE,
    DEFAULT_RETRY_PERIOD,
    LeaderElectionOptions,
)

__all__ = ["ManagerOptions"]


@dataclass(frozen=True, kw_only=True)
class ManagerOptions:
    """How a manager serves, caches and elects. Usage::

    ManagerOptions(leader_election=True, leader_election_id="kreconcile-manager",
                   leader_election_namespace="kreconcile-system")
    """

    metrics_bind_address: str = ":8080"
    """Where /metrics is served; "0" disables it, "127.0.0.1:0" picks a free port."""
    metrics_cert_file: str | None = None
    """Serve /metrics over HTTPS with this certificate (PEM); reloaded when the file changes."""
    metrics_key_file: str | None = None
    """Private key (PEM) for ``metrics_cert_file``."""
    health_probe_bind_address: str = ":8081"
    """Where /healthz and /readyz are served; "0" disables them."""
    graceful_shutdown_timeout: float = 30.0
    """Seconds runnables get to stop after SIGTERM before the manager gives up on them."""
    cache: CacheOptions = field(default_factory=CacheOptions)
    leader_election: bool = False
    """Run leader-only runnables (controllers) on one replica at a time."""
    leader_election_id: str = ""
    """Name of the Lease; required with leader_election."""
    leader_election_namespace: str = ""
    """Namespace of the Lease; required with leader_election."""
    lease_duration: float = DEFAULT_LEASE_DURATION
    renew_deadline: float = DEFAULT_RENEW_DEADLINE
    retry_period: float = DEFAULT_RETRY_PERIOD
    release_on_cancel: bool = True
    """Release the Lease after a graceful stop so a standby takes over at once."""
    identity: str = ""
    """Leader election identity; empty means hostname + UUID."""

    def election(self) -> LeaderElectionOptions | None:
        if not self.leader_election:
            return None
        return LeaderElectionOptions(
            name=self.leader_election_id,
            namespace=self.leader_election_namespace,
            identity=self.identity,
            lease_duration=self.lease_duration,
            renew_deadline=self.renew_deadline,
            retry_period=self.retry_period,
            release_on_cancel=self.release_on_cancel,
        )

    def __post_init__(self) -> None:
        if self.graceful_shutdown_timeout <= 0:
            raise ValueError("graceful_shutdown_timeout must be > 0 seconds")
        self.election()  # validates the timings and names now, not at start
        if (self.metrics_cert_file is None) != (self.metrics_key_file is None):
            raise ValueError("set both metrics_cert_file and metrics_key_file, or neither")
