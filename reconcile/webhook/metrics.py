"""Webhook metrics with controller-runtime's names, on the manager's registry.

``webhook`` is the path a handler is served at (``/validate-...``, ``/convert``), as
controller-runtime labels them; ``code`` is the HTTP status of the answer, which is 200
for every review answered (an allowed, a denied and an errored review alike) and 4xx only
for requests that were not reviews at all.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from reconcile.metrics.per_registry import PerRegistryMetrics

__all__ = ["WebhookMetrics"]


class WebhookMetrics(PerRegistryMetrics):
    """The webhook server's families; ``WebhookMetrics.for_registry(manager.registry)``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        super().__init__(registry)
        self.requests = Counter(
            "controller_runtime_webhook_requests_total",
            "Total number of admission requests by HTTP status code.",
            ["webhook", "code"],
            registry=registry,
        )
        self.latency = Histogram(
            "controller_runtime_webhook_latency_seconds",
            "Histogram of the latency of processing admission requests",
            ["webhook"],
            registry=registry,
        )
        self.in_flight = Gauge(
            "controller_runtime_webhook_requests_in_flight",
            "Current number of admission requests being served.",
            ["webhook"],
            registry=registry,
        )
        self.panics = Counter(
            "controller_runtime_webhook_panics_total",
            "Total number of webhook panics",
            registry=registry,
        )
