"""IOLimitPolicy's metrics: throttles in force (controller), container IO and cgroup writes
(node agents).

- ``kreconcile_io_throttle_active{namespace,pod,container,policy}`` (manager): 1 per
  throttle in force, read from the policies' status at scrape time, so it survives restarts
  and never lingers after a release; dry-run decisions are not in force and not counted;
- ``kreconcile_io_container_{read,write}_{bytes,ops}_total{namespace,pod,container}``
  (agent): the cgroup's cumulative counters of containers of selected pods only, so the
  label set is bounded by what the policies select;
- ``kreconcile_io_throttle_apply_total{result}`` (agent): cgroup writes by outcome:
  ``applied`` (limits written), ``verified`` (already in force), ``removed``, ``failed``;
  a failing write is visible as a growing ``failed``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from reconcile.metrics.per_registry import PerRegistryMetrics

if TYPE_CHECKING:
    from controllers.iolimit.agent.iostat import IOCounters
    from controllers.iolimit.selection import ContainerRef

__all__ = ["AgentMetrics", "ContainerIOCollector", "ThrottleCollector"]

_CONTAINER = ["namespace", "pod", "container"]


class AgentMetrics(PerRegistryMetrics):
    def __init__(self, registry: CollectorRegistry) -> None:
        super().__init__(registry)
        self.apply_total = Counter(
            "kreconcile_io_throttle_apply_total",
            "cgroup limit writes by the node agent, by result (applied, verified, removed, "
            "failed).",
            ["result"],
            registry=registry,
        )


class ThrottleCollector(Collector):
    """``kreconcile_io_throttle_active`` from the cached policies' status."""

    def __init__(self, policies: Callable[[], Sequence[dict[str, Any]]]) -> None:
        self._policies = policies

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "kreconcile_io_throttle_active",
            "1 for each container throttled by an IOLimitPolicy (dry-run decisions excluded).",
            labels=[*_CONTAINER, "policy"],
        )
        for policy in self._policies():
            name = policy["metadata"]["name"]
            for throttle in (policy.get("status") or {}).get("throttles") or []:
                if throttle.get("dryRun"):
                    continue
                labels = [throttle["namespace"], throttle["pod"], throttle["container"], name]
                family.add_metric(labels, 1.0)
        yield family


class ContainerIOCollector(Collector):
    """The IO counters of the containers the agent samples."""

    _FAMILIES = (
        ("kreconcile_io_container_read_bytes", "Bytes read by the container.", "rbytes"),
        ("kreconcile_io_container_write_bytes", "Bytes written by the container.", "wbytes"),
        ("kreconcile_io_container_read_ops", "Read operations of the container.", "rios"),
        ("kreconcile_io_container_write_ops", "Write operations of the container.", "wios"),
    )

    def __init__(self, counters: Callable[[], Sequence[tuple[ContainerRef, IOCounters]]]) -> None:
        self._counters = counters

    def collect(self) -> Iterator[CounterMetricFamily]:
        families = [
            (CounterMetricFamily(name, doc, labels=_CONTAINER), attr)
            for name, doc, attr in self._FAMILIES
        ]
        for ref, counters in self._counters():
            labels = [ref.namespace, ref.pod, ref.container]
            for family, attr in families:
                family.add_metric(labels, float(getattr(counters, attr)))
        for family, _ in families:
            yield family
