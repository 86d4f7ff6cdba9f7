"""Prometheus metrics: the manager's registry and the HTTP endpoint that serves it."""

from reconcile.metrics.registry import metrics_route, new_registry
from reconcile.metrics.server import HTTPEndpoint, parse_bind_address

__all__ = ["HTTPEndpoint", "metrics_route", "new_registry", "parse_bind_address"]
