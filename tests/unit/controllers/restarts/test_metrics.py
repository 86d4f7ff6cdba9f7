"""The metrics collector: series computed from RestartRecord status at scrape time."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from controllers.restarts.metrics import RestartMetrics
from reconcile.cache.store import Store
from reconcile.timestamps import parse_time


class Records:
    def __init__(self, *records: dict[str, Any], synced: bool = True) -> None:
        self.store = Store()
        for record in records:
            self.store.upsert(record)
        self.synced = synced

    def has_synced(self) -> bool:
        return self.synced


def pod_record(name: str, containers: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": "ns"},
        "spec": {"podName": name},
        "status": {"containers": containers},
    }


def entry(uid: str, count: int, reason: str, code: int | None, at: str) -> dict[str, Any]:
    item = {"podUID": uid, "restartCount": count, "reason": reason, "finishedAt": at}
    if code is not None:
        item["exitCode"] = code
    return item


APP = {
    "name": "app",
    "restarts": 4,
    "reasons": {"OOMKilled": 2, "Unknown": 2, "Error": 0},
    "lastRestartTime": "2026-11-24T02:30:00Z",
    "history": [
        entry("u2", 1, "OOMKilled", 137, "2026-11-24T02:30:00Z"),
        entry("u1", 3, "OOMKilled", 137, "2026-11-24T02:00:00Z"),
        entry("u0", 1, "Error", 1, "2026-11-24T01:00:00Z"),  # older pod, same count as u2's
    ],
}
INSPECTION: dict[str, Any] = {
    "metadata": {"name": "namespace-inspection", "namespace": "ns"},
    "spec": {"inspection": {"clusterName": "prod"}},
    "status": {
        "inspection": {"ratio": 0.25},
        "conditions": [{"type": "Inspecting", "status": "True"}],
    },
}


def scrape(records: Records, *, events: bool = False) -> dict[tuple[str, tuple[Any, ...]], float]:
    registry = CollectorRegistry()
    registry.register(RestartMetrics(records, event_metric=lambda: events))
    samples = {}
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_counts_per_reason_last_restart_and_ratio() -> None:
    samples = scrape(Records(pod_record("web", [APP]), INSPECTION))
    base = (("container", "app"), ("namespace", "ns"), ("pod", "web"))
    total = "pod_monitor_container_restart_total"
    assert samples[(total, (*base, ("reason", "OOMKilled")))] == 2
    assert samples[(total, (*base, ("reason", "Unknown")))] == 2
    assert (total, (*base, ("reason", "Error"))) not in samples, "zero counts are not exported"
    last = (
        "pod_monitor_container_last_restart_timestamp_seconds",
        tuple(sorted((*base, ("exit_code", "137"), ("reason", "OOMKilled")))),
    )
    assert samples[last] == parse_time("2026-11-24T02:30:00Z")
    ratio = ("pod_monitor_namespace_restart_ratio", (("cluster", "prod"), ("namespace", "ns")))
    assert samples[ratio] == 0.25
    assert not any(name == "pod_monitor_container_restart_event" for name, _ in samples)


def test_restart_event_series_are_opt_in_and_one_per_restart_count() -> None:
    samples = scrape(Records(pod_record("web", [APP])), events=True)
    events = {
        dict(labels)["restart_count"]: (dict(labels)["reason"], value)
        for (name, labels), value in samples.items()
        if name == "pod_monitor_container_restart_event"
    }
    assert events == {
        "1": ("OOMKilled", parse_time("2026-11-24T02:30:00Z")),  # the newest pod's, not u0's
        "3": ("OOMKilled", parse_time("2026-11-24T02:00:00Z")),
    }


def test_an_unsynced_cache_exports_no_series_and_never_blocks() -> None:
    samples = scrape(Records(pod_record("web", [APP]), synced=False))
    assert not any(name.startswith("pod_monitor") for name, _ in samples)


def test_a_namespace_no_longer_inspected_exports_no_ratio() -> None:
    dropped = {
        **INSPECTION,
        "status": {
            **INSPECTION["status"],
            "conditions": [{"type": "Inspecting", "status": "False"}],
        },
    }
    samples = scrape(Records(dropped))
    assert not any(name == "pod_monitor_namespace_restart_ratio" for name, _ in samples)


def test_a_missed_restart_without_history_reports_its_observation_time() -> None:
    missed = {"name": "app", "reasons": {"Unknown": 3}, "lastRestartTime": "2026-11-24T02:00:00Z"}
    samples = scrape(Records(pod_record("web", [missed])))
    last = [
        (dict(labels), value)
        for (name, labels), value in samples.items()
        if name == "pod_monitor_container_last_restart_timestamp_seconds"
    ]
    assert last == [
        (
            {
                "namespace": "ns",
                "pod": "web",
                "container": "app",
                "reason": "Unknown",
                "exit_code": "",
            },
            parse_time("2026-11-24T02:00:00Z"),
        )
    ]
