"""controller-runtime's controller metrics, registered once per registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from reconcile.metrics.per_registry import PerRegistryMetrics

__all__ = ["RECONCILE_TIME_BUCKETS", "RESULTS", "ControllerMetrics"]

RESULTS = ("success", "error", "requeue", "requeue_after")
RECONCILE_TIME_BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8,
    0.9, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0,
    15.0, 20.0, 25.0, 30.0, 40.0, 50.0, 60.0,
)  # fmt: skip


class ControllerMetrics(PerRegistryMetrics):
    """The metric families; ``for_registry`` returns the one instance of a registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.total = Counter(
            "controller_runtime_reconcile",
            "Total number of reconciliations per controller",
            ["controller", "result"],
            registry=registry,
        )
        self.errors = Counter(
            "controller_runtime_reconcile_errors",
            "Total number of reconciliation errors per controller",
            ["controller"],
            registry=registry,
        )
        self.terminal_errors = Counter(
            "controller_runtime_terminal_reconcile_errors",
            "Total number of terminal reconciliation errors per controller",
            ["controller"],
            registry=registry,
        )
        self.panics = Counter(
            "controller_runtime_reconcile_panics",
            "Total number of reconciliation panics per controller",
            ["controller"],
            registry=registry,
        )
        self.timeouts = Counter(
            "controller_runtime_reconcile_timeouts",
            "Total number of reconciliations that exceeded their timeout per controller",
            ["controller"],
            registry=registry,
        )
        self.time = Histogram(
            "controller_runtime_reconcile_time_seconds",
            "Length of time per reconciliation per controller",
            ["controller"],
            buckets=RECONCILE_TIME_BUCKETS,
            registry=registry,
        )
        self.max_concurrent = Gauge(
            "controller_runtime_max_concurrent_reconciles",
            "Maximum number of concurrent reconciles per controller",
            ["controller"],
            registry=registry,
        )
        self.active_workers = Gauge(
            "controller_runtime_active_workers",
            "Number of currently used workers per controller",
            ["controller"],
            registry=registry,
        )

    def initialize(self, controller: str, max_concurrent: int) -> None:
        """Create every label child at zero, as controller-runtime does, so rates start at 0."""
        for result in RESULTS:
            self.total.labels(controller, result)
        for family in (self.errors, self.terminal_errors, self.panics, self.timeouts):
            family.labels(controller)
        self.time.labels(controller)
        self.max_concurrent.labels(controller).set(max_concurrent)
        self.active_workers.labels(controller).set(0)
