"""Work queue metrics with client-go's names, collected at scrape time.

client-go updates prometheus metric objects on every add/get/done. In Python each of those
calls takes its own lock, which costs more than the queue operation itself. Here a queue keeps
plain counters and bucket arrays in a ``QueueStats``, updated under the lock the queue already
holds, and ``WorkqueueMetrics`` (a prometheus Collector) turns every live queue's stats into
metric families when ``/metrics`` is scraped. The two "unfinished work" gauges are computed at
that moment too, so no updater thread is needed.

Names and labels are controller-runtime's: ``workqueue_depth{name,controller}`` etc., with
``name`` and ``controller`` both set to the controller name by controllers.
"""

from __future__ import annotations

import bisect
import threading
import weakref
from collections.abc import Callable, Hashable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from reconcile.metrics.per_registry import PerRegistryMetrics

__all__ = ["DURATION_BUCKETS", "QueueStats", "WorkqueueMetrics"]

DURATION_BUCKETS: tuple[float, ...] = tuple(1e-8 * 10**i for i in range(12))
"""Seconds, 10 ns to 1000 s, x10 per bucket (upstream: ExponentialBuckets(10e-9, 10, 12))."""

_LABELS = ("name", "controller")


class _Histogram:
    """Cumulative-on-read histogram: per-bucket counts plus sum, cheap to observe."""

    __slots__ = ("counts", "total", "upper")

    def __init__(self, upper: tuple[float, ...]) -> None:
        self.upper = upper
        self.counts = [0] * (len(upper) + 1)
        self.total = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.upper, value)] += 1
        self.total += value

    def buckets(self) -> list[tuple[str, float]]:
        cumulative = 0
        out: list[tuple[str, float]] = []
        for bound, count in zip(self.upper, self.counts, strict=False):
            cumulative += count
            out.append((_float_label(bound), cumulative))
        out.append(("+Inf", cumulative + self.counts[-1]))
        return out


def _float_label(value: float) -> str:
    return repr(float(f"{value:.12g}"))


class QueueStats:
    """One queue's counters; mutated only while the owning queue holds its lock."""

    __slots__ = (
        "__weakref__",
        "add_times",
        "adds",
        "controller",
        "depth",
        "lock",
        "name",
        "now",
        "queue_duration",
        "retries",
        "start_times",
        "work_duration",
    )

    def __init__(
        self, name: str, controller: str, lock: threading.Condition, now: Callable[[], float]
    ) -> None:
        self.name = name
        self.now = now
        self.controller = controller
        self.lock = lock
        self.depth = 0
        self.adds = 0
        self.retries = 0
        self.queue_duration = _Histogram(DURATION_BUCKETS)
        self.work_duration = _Histogram(DURATION_BUCKETS)
        self.add_times: dict[Hashable, float] = {}
        self.start_times: dict[Hashable, float] = {}


class WorkqueueMetrics(PerRegistryMetrics, Collector):
    """The workqueue metric families for every queue created with this provider.

    Register one per registry (``WorkqueueMetrics(registry)``); each queue gets its stats
    from ``for_queue``. A queue that is garbage collected disappears from the output.
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self._queues: weakref.WeakSet[QueueStats] = weakref.WeakSet()
        self._guard = threading.Lock()
        if registry is not None:
            registry.register(self)

    def for_queue(
        self, name: str, controller: str, lock: threading.Condition, now: Callable[[], float]
    ) -> QueueStats:
        """Stats for a queue labelled ``name``/``controller``; ``lock`` guards them, ``now``
        is the queue's clock (durations are differences of its readings)."""
        stats = QueueStats(name, controller, lock, now)
        with self._guard:
            self._queues.add(stats)
        return stats

    def describe(self) -> list[Metric]:
        return list(self._families({}))

    def collect(self) -> Iterator[Metric]:
        with self._guard:
            queues = list(self._queues)
        snapshots = {stats: self._snapshot(stats) for stats in queues}
        yield from self._families(snapshots)

    def _snapshot(self, stats: QueueStats) -> dict[str, Any]:
        with stats.lock:
            now = stats.now()
            running = [now - start for start in stats.start_times.values()]
            return {
                "depth": stats.depth,
                "adds": stats.adds,
                "retries": stats.retries,
                "queue": (stats.queue_duration.buckets(), stats.queue_duration.total),
                "work": (stats.work_duration.buckets(), stats.work_duration.total),
                "unfinished": sum(running),
                "longest": max(running, default=0.0),
            }

    def _families(self, snapshots: dict[QueueStats, dict[str, Any]]) -> Iterator[Metric]:
        depth = GaugeMetricFamily("workqueue_depth", "Current depth of workqueue", labels=_LABELS)
        adds = CounterMetricFamily(
            "workqueue_adds", "Total number of adds handled by workqueue", labels=_LABELS
        )
        retries = CounterMetricFamily(
            "workqueue_retries", "Total number of retries handled by workqueue", labels=_LABELS
        )
        queue_duration = HistogramMetricFamily(
            "workqueue_queue_duration_seconds",
            "How long in seconds an item stays in workqueue before being requested",
            labels=_LABELS,
        )
        work_duration = HistogramMetricFamily(
            "workqueue_work_duration_seconds",
            "How long in seconds processing an item from workqueue takes.",
            labels=_LABELS,
        )
        unfinished = GaugeMetricFamily(
            "workqueue_unfinished_work_seconds",
            "How many seconds of work has been done that is in progress and hasn't been "
            "observed by work_duration. Large values indicate stuck threads. One can deduce "
            "the number of stuck threads by observing the rate at which this increases.",
            labels=_LABELS,
        )
        longest = GaugeMetricFamily(
            "workqueue_longest_running_processor_seconds",
            "How many seconds has the longest running processor for workqueue been running.",
            labels=_LABELS,
        )
        for stats, snap in snapshots.items():
            labels = [stats.name, stats.controller]
            depth.add_metric(labels, snap["depth"])
            adds.add_metric(labels, snap["adds"])
            retries.add_metric(labels, snap["retries"])
            queue_duration.add_metric(labels, snap["queue"][0], snap["queue"][1])
            work_duration.add_metric(labels, snap["work"][0], snap["work"][1])
            unfinished.add_metric(labels, snap["unfinished"])
            longest.add_metric(labels, snap["longest"])
        yield from (depth, adds, retries, queue_duration, work_duration, unfinished, longest)
