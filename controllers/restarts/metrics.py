"""Restart metrics computed at scrape time from the RestartRecords in the cache.

Nothing is counted in process memory: each scrape walks the record informer's store and
reports what the records' status says. So the values survive operator restarts and leader
changes (status only grows, hence counter semantics), restarts that happened while no
operator ran are included once a record counts them, and every replica (each runs the
record informer, leader or not) exports the same series.

- ``pod_monitor_container_restart_total{namespace,pod,container,reason}``: restarts per
  reason (missed restarts under Unknown), one series per reason seen;
- ``pod_monitor_container_last_restart_timestamp_seconds{namespace,pod,container,reason,
  exit_code}``: when the newest restart finished, labelled with its reason and exit code;
- ``pod_monitor_container_restart_event{namespace,pod,container,reason,exit_code,
  restart_count}`` (opt-in, ``restartEventMetric: true``): one series per history entry,
  value = its finish time. Cardinality: up to ``historyLimit`` (20) series per container,
  rolling off with the history; off by default;
- ``pod_monitor_namespace_restart_ratio{cluster,namespace}``: share of an inspected
  namespace's pods that restarted in the last window.

Series disappear with their record (retention after the pod is gone).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from reconcile.conditions import is_true
from reconcile.timestamps import parse_time

__all__ = ["RecordSource", "RestartMetrics"]

_CONTAINER_LABELS = ["namespace", "pod", "container"]


class RecordSource(Protocol):
    """The RestartRecord informer: its store, and whether it has listed once."""

    @property
    def store(self) -> Any: ...

    def has_synced(self) -> bool: ...


def _families(event_metric: bool) -> dict[str, Any]:
    families: dict[str, Any] = {
        "total": CounterMetricFamily(
            "pod_monitor_container_restart",
            "Container restarts recorded in RestartRecord status, by reason (never decreases "
            "while the record exists; restarts without details count as Unknown).",
            labels=[*_CONTAINER_LABELS, "reason"],
        ),
        "last": GaugeMetricFamily(
            "pod_monitor_container_last_restart_timestamp_seconds",
            "Unix time the container's newest recorded restart finished.",
            labels=[*_CONTAINER_LABELS, "reason", "exit_code"],
        ),
        "ratio": GaugeMetricFamily(
            "pod_monitor_namespace_restart_ratio",
            "Share of an inspected namespace's pods that restarted in the last inspection window.",
            labels=["cluster", "namespace"],
        ),
    }
    if event_metric:
        families["event"] = GaugeMetricFamily(
            "pod_monitor_container_restart_event",
            "One series per restart in a container's bounded history; value: Unix time it "
            "finished.",
            labels=[*_CONTAINER_LABELS, "reason", "exit_code", "restart_count"],
        )
    return families


def _exit_code(entry: dict[str, Any]) -> str:
    code = entry.get("exitCode")
    return "" if code is None else str(code)


class RestartMetrics(Collector):
    """A prometheus-client custom collector over the record informer."""

    def __init__(self, records: RecordSource, *, event_metric: Callable[[], bool]) -> None:
        """``event_metric()`` says whether the opt-in per-restart series are on (read at
        each scrape, so a config reload applies at the next one)."""
        self._records = records
        self._event_metric = event_metric

    def describe(self) -> Iterable[Metric]:
        """The families, without samples: registration must not read the cache."""
        return list(_families(event_metric=True).values())

    def collect(self) -> Iterator[Metric]:
        families = _families(self._event_metric())
        if self._records.has_synced():
            for record in self._records.store.items():
                self._add(families, record)
        yield from families.values()

    def _add(self, families: dict[str, Any], record: dict[str, Any]) -> None:
        spec = record.get("spec") or {}
        status = record.get("status") or {}
        namespace = str(record["metadata"].get("namespace") or "")
        if spec.get("inspection"):
            inspection = status.get("inspection")
            if inspection and is_true(status.get("conditions") or [], "Inspecting"):
                families["ratio"].add_metric(
                    [str(spec["inspection"].get("clusterName") or ""), namespace],
                    float(inspection.get("ratio") or 0.0),
                )
            return
        pod = str(spec.get("podName") or record["metadata"]["name"])
        events = families.get("event")
        for container in status.get("containers") or ():
            labels = [namespace, pod, str(container.get("name") or "")]
            for reason, count in sorted((container.get("reasons") or {}).items()):
                if count:
                    families["total"].add_metric([*labels, reason], float(count))
            history = container.get("history") or ()
            newest = history[0] if history else {"reason": "Unknown"}
            when = parse_time(newest.get("finishedAt")) or parse_time(
                container.get("lastRestartTime")
            )
            if when is not None:
                families["last"].add_metric(
                    [*labels, str(newest.get("reason") or "Unknown"), _exit_code(newest)], when
                )
            if events is not None:
                self._add_events(events, labels, history)

    def _add_events(
        self, family: Any, labels: list[str], history: Iterable[dict[str, Any]]
    ) -> None:
        seen: set[int] = set()
        for entry in history:  # newest first: a restart_count seen again is an older pod's
            count = int(entry.get("restartCount") or 0)
            finished = parse_time(entry.get("finishedAt"))
            if finished is None or count in seen:
                continue
            seen.add(count)
            family.add_metric(
                [*labels, str(entry.get("reason") or "Unknown"), _exit_code(entry), str(count)],
                finished,
            )
