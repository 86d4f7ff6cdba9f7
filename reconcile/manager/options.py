"""Manager options with controller-runtime's defaults."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from reconcile.cache import CacheOptions
from reconcile.controller.options import ControllerDefaults
from reconcile.leaderelection import (
    DEFAULT_LEASE_DURATION,
    DEFAULT_RENEW_DEADLINE,
    DEFAULT_RETRY_PERIOD,
    LeaderElectionOptions,
)
from reconcile.metrics.filters import FilterProvider
from reconcile.metrics.server import Route
from reconcile.webhook.options import WebhookServerOptions

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
    metrics_secure_serving: bool = False
    """Serve /metrics over HTTPS even without ``metrics_cert_file``: a self-signed
    certificate is generated when the manager is built (controller-runtime's
    ``SecureServing``); scrapers then skip verification. Pair it with ``metrics_filter`` so
    scrapes need a bearer token."""
    metrics_filter: FilterProvider | None = None
    """Guards every metrics route, e.g. ``with_authentication_and_authorization`` (scrapers
    need a token allowed ``get`` on the path); built from the manager's API transport."""
    metrics_extra_handlers: Mapping[str, Route] = field(default_factory=dict)
    """More routes on the metrics endpoint (path -> route), behind the same filter."""
    health_probe_bind_address: str = ":8081"
    """Where the liveness and readiness probes are served; "0" disables them."""
    liveness_endpoint_name: str = "/healthz"
    """Path of the liveness probe."""
    readiness_endpoint_name: str = "/readyz"
    """Path of the readiness probe."""
    pprof_bind_address: str = "0"
    """Where the profiling endpoint (``reconcile.profiling``: thread stacks, tracemalloc
    heap snapshots) is served; "0", the default, disables it. Bind to loopback."""
    webhook_server: WebhookServerOptions | None = None
    """Serve admission and conversion webhooks (``mgr.webhook_server``) on every replica,
    with these options; None, the default, serves none (``kreconcile run`` turns it on
    with ``--webhook-cert-path``)."""
    controller: ControllerDefaults = field(default_factory=ControllerDefaults)
    """Defaults of every controller built on this manager (concurrency per kind, timeouts,
    panic recovery, priority queue, warm-up)."""
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
        for name, path in (
            ("liveness_endpoint_name", self.liveness_endpoint_name),
            ("readiness_endpoint_name", self.readiness_endpoint_name),
        ):
            if not path.startswith("/") or path == "/":
                raise ValueError(f"{name} must be a path like '/healthz', got {path!r}")
        if self.liveness_endpoint_name == self.readiness_endpoint_name:
            raise ValueError("liveness_endpoint_name and readiness_endpoint_name must differ")
