"""The AgentPool metrics, fed from each pool's status after every reconcile.

- ``kreconcile_agentpool_slots{namespace,pool,state}``: slots Idle, Reserved, Running in the
  ledger (a gauge: the ledger is durable, so a restarted operator reports the same figures);
- ``kreconcile_agentpool_pending_claims{namespace,pool}``: claims waiting for a slot;
- ``kreconcile_agentpool_scale_events_total{namespace,pool,direction}``: times the pool was
  scaled up or down by this process.

``namespace`` is a label of its own so two pools of one name in two namespaces never share
a series; label values are bounded by the number of pools. A deleted pool's series go.
"""

from __future__ import annotations

import contextlib
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge

from reconcile.metrics.per_registry import PerRegistryMetrics

__all__ = ["SLOT_STATES", "AgentPoolMetrics"]

SLOT_STATES = ("Idle", "Reserved", "Running")


class AgentPoolMetrics(PerRegistryMetrics):
    """One set per registry: ``AgentPoolMetrics.for_registry(manager.registry)``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        super().__init__(registry)
        self.slots = Gauge(
            "kreconcile_agentpool_slots",
            "Slots of the pool's ledger by state (Idle, Reserved, Running).",
            ["namespace", "pool", "state"],
            registry=registry,
        )
        self.pending_claims = Gauge(
            "kreconcile_agentpool_pending_claims",
            "Claims waiting for a free slot.",
            ["namespace", "pool"],
            registry=registry,
        )
        self.scale_events = Counter(
            "kreconcile_agentpool_scale_events",
            "Times the pool was scaled, by direction (up, down).",
            ["namespace", "pool", "direction"],
            registry=registry,
        )

    def observe(self, namespace: str, pool: str, status: dict[str, Any]) -> None:
        """Set the gauges from a stored status."""
        counts = dict.fromkeys(SLOT_STATES, 0)
        for entry in status.get("pods") or []:
            for slot in entry.get("slots") or []:
                state = slot.get("state", "Idle")
                counts[state] = counts.get(state, 0) + 1
        for state, count in counts.items():
            self.slots.labels(namespace, pool, state).set(count)
        self.pending_claims.labels(namespace, pool).set(len(status.get("pending") or []))

    def scaled(self, namespace: str, pool: str, direction: str) -> None:
        self.scale_events.labels(namespace, pool, direction).inc()

    def forget(self, namespace: str, pool: str) -> None:
        """Drop a deleted pool's series."""
        for state in SLOT_STATES:
            _remove(self.slots, namespace, pool, state)
        _remove(self.pending_claims, namespace, pool)
        for direction in ("up", "down"):
            _remove(self.scale_events, namespace, pool, direction)


def _remove(metric: Gauge | Counter, *labels: str) -> None:
    with contextlib.suppress(KeyError):
        metric.remove(*labels)
