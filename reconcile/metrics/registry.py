"""The manager's Prometheus registry, with the process and Python runtime collectors."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

from reconcile.metrics.server import Route

__all__ = ["metrics_route", "new_registry"]


def new_registry() -> CollectorRegistry:
    """A fresh registry with process_*, python_gc_* and python_info metrics."""
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


def metrics_route(registry: CollectorRegistry) -> Route:
    def serve(path: str, query: dict[str, list[str]]) -> tuple[int, str, bytes]:
        return 200, "text/plain; version=0.0.4; charset=utf-8", generate_latest(registry)

    return serve
