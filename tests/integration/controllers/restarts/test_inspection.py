"""Namespace inspection end to end: anomaly, silence across an operator restart, recovery,
and a malformed config edit that leaves the last good one in force."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any

import pytest
from prometheus_client import generate_latest

from controllers.restarts.inspector import INSPECTION_RECORD
from reconcile.manager import Manager
from tests.integration.controllers.restarts.conftest import Cluster, Operators, scrape
from tests.waiting import wait_for


def _inspection(cluster: Cluster, ns: str) -> dict[str, Any]:
    record = cluster.record(ns, INSPECTION_RECORD) or {}
    inspection: dict[str, Any] = (record.get("status") or {}).get("inspection") or {}
    return inspection


def _warnings(cluster: Cluster, ns: str) -> list[dict[str, Any]]:
    return [e for e in cluster.events("AbnormalRestarts") if e["involvedObject"]["name"] == ns]


def test_oom_anomaly_fires_once_per_silence_across_a_restart_and_recovers(
    cluster: Cluster, operators: Operators
) -> None:
    ns = cluster.namespace("inspect")
    for i in range(4):
        limits = {"resources": {"limits": {"memory": "64Mi"}}} if i else {}
        cluster.client.create(
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"w{i}", "namespace": ns},
             "spec": {"containers": [{"name": "app", "image": "busybox:1.36", **limits}]}}
        )  # fmt: skip
    for i in range(4):
        wait_for(partial(cluster._running, ns, f"w{i}"), timeout=20)
    wait_for(lambda: _inspection(cluster, ns).get("podsTotal") == 4, what="a first inspection")
    assert _inspection(cluster, ns)["state"] == "Normal"
    for i in (1, 2, 3):
        cluster.restart(ns, f"w{i}", "app", "OOMKilled", 137)

    current = wait_for(
        lambda: _inspection(cluster, ns).get("current"), timeout=15, what="the anomaly"
    )
    assert current is not None
    assert current["podsRestarted"] == 3 and current["podsTotal"] == 4
    assert current["topReasons"] == [{"reason": "OOMKilled", "count": 3}]
    assert current["exitCodes"] == [{"exitCode": 137, "count": 3}]
    assert current["oomKilled"] == [
        {"workload": f"Pod/w{i}", "container": "app", "count": 1, "memoryLimit": "64Mi"}
        for i in (1, 2, 3)
    ]
    assert "OOMKilled 3" in current["summary"] and "memory limit 64Mi" in current["summary"]
    (event,) = wait_for(lambda: _warnings(cluster, ns), what="the Warning Event")
    assert event["type"] == "Warning" and event["involvedObject"]["kind"] == "Namespace"
    assert event["message"] == current["summary"] and event["count"] == 1
    ratio = ("pod_monitor_namespace_restart_ratio", (("cluster", "test"), ("namespace", ns)))
    wait_for(lambda: scrape(operators.main).get(ratio) == 0.75, what="the ratio metric")

    # A new operator: the silence is read from status, not memory. More OOM kills keep the
    # namespace abnormal (or make it abnormal again) while the new operator inspects it.
    operators.stop(operators.main)
    restarted = operators.start()
    before = _inspection(cluster, ns)["lastInspectedAt"]
    for i in (1, 2, 3):
        cluster.restart(ns, f"w{i}", "app", "OOMKilled", 137)
    wait_for(
        lambda: _inspected_after(cluster, ns, before, "Abnormal"),
        what="the new operator to inspect the abnormal namespace",
    )

    # the restarts age out of the 4 s window: recovery is recorded
    final = wait_for(
        lambda: _inspected_after(cluster, ns, before, "Normal"), timeout=20, what="recovery"
    )
    assert final is not None and "current" not in final
    assert current["startedAt"] in [h["startedAt"] for h in final["history"]]
    assert all(h["recoveredAt"] and h["durationSeconds"] >= 0 for h in final["history"])
    wait_for(
        lambda: [
            e for e in cluster.events("RestartsRecovered") if e["involvedObject"]["name"] == ns
        ],
        what="the recovery Event",
    )
    # events are written in order: a second warning would be there before the recovery
    assert len(_warnings(cluster, ns)) == 1 and _warnings(cluster, ns)[0]["count"] == 1
    wait_for(lambda: scrape(restarted).get(ratio) == 0.0, what="the ratio back to 0")


def _inspected_after(cluster: Cluster, ns: str, moment: str, state: str) -> dict[str, Any] | None:
    """The inspection status, once inspected after ``moment`` and in ``state``."""
    inspection = _inspection(cluster, ns)
    late = inspection.get("lastInspectedAt", "") > moment and inspection.get("state") == state
    return inspection if late else None


def _reloads(manager: Manager, result: str) -> float:
    for family in manager.registry.collect():
        for sample in family.samples:
            if sample.name == "kreconcile_config_reloads_total" and sample.labels == {
                "name": "operators",
                "result": result,
            }:
                return sample.value
    return 0.0


@pytest.fixture
def restore_config(operators: Operators) -> Iterator[str]:
    original = operators.config_path.read_text()
    yield original
    operators.config_path.write_text(original)
    wait_for(
        lambda: (
            b'kreconcile_config_last_reload_successful{name="operators"} 1.0'
            in generate_latest(operators.main.registry)
        ),
        what="the good config back",
    )


def test_a_malformed_config_edit_keeps_the_last_good_one(
    cluster: Cluster, operators: Operators, restore_config: str
) -> None:
    manager = operators.main
    failures = _reloads(manager, "failure")
    operators.config_path.write_text(restore_config.replace("window: 4s", "window: soon"))
    wait_for(lambda: _reloads(manager, "failure") > failures, what="the edit refused")
    assert b'kreconcile_config_last_reload_successful{name="operators"} 0.0' in generate_latest(
        manager.registry
    )
    # the inspection still runs with the last good targets and window
    ns = cluster.namespace("inspect")
    cluster.run_pod(ns, "p")
    inspection = wait_for(lambda: _inspection(cluster, ns), what="inspected under the old config")
    assert inspection["windowSeconds"] == 4

    # a valid edit applies at once: a new target is inspected under its cluster name
    other = cluster.namespace("other")
    operators.config_path.write_text(
        restore_config.replace(
            '    - {cluster_name: test, namespace: "inspect-*"}\n',
            '    - {cluster_name: test, namespace: "inspect-*"}\n'
            '    - {cluster_name: second, namespace: ["other-*"]}\n',
        )
    )
    record = cluster.record_where(
        other,
        INSPECTION_RECORD,
        lambda r: bool((r.get("status") or {}).get("inspection")),
        "the new target inspected",
    )
    assert record["spec"]["inspection"] == {"clusterName": "second"}
    ratio = ("pod_monitor_namespace_restart_ratio", (("cluster", "second"), ("namespace", other)))
    wait_for(lambda: ratio in scrape(manager), what="the ratio of the new target exported")

    # the target moves to another cluster name: the namespace's record follows it
    operators.config_path.write_text(
        restore_config.replace(
            '    - {cluster_name: test, namespace: "inspect-*"}\n',
            '    - {cluster_name: test, namespace: "inspect-*"}\n'
            '    - {cluster_name: third, namespace: ["other-*"]}\n',
        )
    )
    cluster.record_where(
        other,
        INSPECTION_RECORD,
        lambda r: r["spec"]["inspection"] == {"clusterName": "third"},
        "the record renamed to the new cluster",
    )
    ratio = ("pod_monitor_namespace_restart_ratio", (("cluster", "third"), ("namespace", other)))
    wait_for(lambda: ratio in scrape(manager), what="the ratio under the new cluster name")

    # dropped from the config: its record stays (history) but is marked and not exported
    operators.config_path.write_text(restore_config)
    cluster.record_where(
        other,
        INSPECTION_RECORD,
        lambda r: (
            {c["type"]: c["status"] for c in r["status"]["conditions"]}["Inspecting"] == "False"
        ),
        "the record marked as no longer inspected",
    )
    wait_for(lambda: ratio not in scrape(manager), what="the ratio gone from the metrics")
