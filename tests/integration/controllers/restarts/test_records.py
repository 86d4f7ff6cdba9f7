"""The pod controller end to end: the simulated kubelet restarts containers, records follow."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from reconcile.gvk import GroupVersionKind
from reconcile.manager import Manager
from tests.integration.controllers.rbac import MANAGER_USER, requested
from tests.integration.controllers.restarts.conftest import (
    POD,
    Cluster,
    Operators,
    restarts_of,
    scrape,
    total,
)
from tests.waiting import wait_for

DEPLOYMENT = GroupVersionKind("apps", "v1", "Deployment")

# (reason the kubelet reports, exit code, recorded reason, signal)
REASONS: list[tuple[str, int, str, int | None]] = [
    ("OOMKilled", 137, "OOMKilled", 9),
    ("Error", 1, "Error", None),
    ("Completed", 0, "Completed", None),
    ("LivenessProbe", 137, "LivenessProbe", 9),
    ("StartupProbe", 143, "StartupProbe", 15),
    ("Evicted", 137, "Evicted", 9),
    ("ContainerCannotRun", 128, "ContainerCannotRun", None),
    ("DeadlineExceeded", 137, "DeadlineExceeded", 9),
    ("ContainerStatusUnknown", 137, "Unknown", 9),
    ("Preempting", 2, "Other", None),
]


def test_each_reason_is_recorded_with_exit_code_and_signal(
    cluster: Cluster, operators: Operators
) -> None:
    ns = cluster.namespace()
    names = [f"c{i}" for i in range(len(REASONS))]
    cluster.run_pod(ns, "web", names)
    first, *rest = zip(names, REASONS, strict=True)
    name, (reason, code, _, _) = first
    # the way a person does it: the kubelet's command line
    subprocess.run(
        [sys.executable, "-m", "controllers.cli", "kubelet", "--kubeconfig", str(cluster.kubeconfig),
         "restart", f"{ns}/web", name, "--reason", reason, "--exit-code", str(code), "--message", f"{reason}!"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    for name, (reason, code, _, _) in rest:
        cluster.restart(ns, "web", name, reason, code)
    record = cluster.record_where(ns, "web", total(len(REASONS)), "all restarts recorded")
    for name, (reason, code, recorded, signal) in zip(names, REASONS, strict=True):
        container = restarts_of(record, name)
        assert (container["restarts"], container["reasons"], container["missed"]) == (
            1,
            {recorded: 1},
            0,
        ), name
        (entry,) = container["history"]
        assert (entry["reason"], entry["exitCode"], entry.get("signal")) == (recorded, code, signal)
        assert entry["message"] == f"{reason}!" and entry["containerID"].startswith("containerd://")
        assert entry["finishedAt"] and entry["startedAt"] and entry["restartCount"] == 1
    assert record["status"]["missed"] == 0
    assert "ownerReferences" not in record["metadata"], "the record outlives its pod"
    assert record["spec"] == {"podName": "web"}


def test_history_is_bounded_and_a_recreated_pod_continues_the_record(
    cluster: Cluster, operators: Operators
) -> None:
    ns = cluster.namespace()
    first = cluster.run_pod(ns, "db")
    for count in range(1, 7):  # one at a time: restarts seen together leave no details
        cluster.restart(ns, "db", "app", "OOMKilled", 137)
        record = cluster.record_where(ns, "db", total(count), f"restart {count}")
    app = restarts_of(record, "app")
    assert [h["restartCount"] for h in app["history"]] == [6, 5, 4, 3], "historyLimit: 4"
    assert app["reasons"] == {"OOMKilled": 6}

    cluster.client.delete(first)
    cluster.record_where(
        ns, "db", lambda r: bool(r["status"].get("podDeletedAt")), "the pod seen gone"
    )
    wait_for(lambda: not cluster.client.list(POD, namespace=ns)["items"], what="pod deleted")
    second = cluster.run_pod(ns, "db")
    cluster.restart(ns, "db", "app", "Error", 1)
    record = cluster.record_where(ns, "db", total(7), "the new pod's restart added")
    status = record["status"]
    assert "podDeletedAt" not in status
    assert status["podUID"] == second["metadata"]["uid"]
    assert status["previousPodUIDs"] == [first["metadata"]["uid"]]
    history = restarts_of(record, "app")["history"]
    assert [(h["podUID"], h["restartCount"]) for h in history[:2]] == [
        (second["metadata"]["uid"], 1),
        (first["metadata"]["uid"], 6),
    ]
    assert restarts_of(record, "app")["reasons"] == {"OOMKilled": 6, "Error": 1}


def test_init_and_ephemeral_containers_are_covered(cluster: Cluster, operators: Operators) -> None:
    ns = cluster.namespace()
    pod = cluster.run_pod(
        ns,
        "job",
        initContainers=[
            {"name": "setup", "image": "busybox:1.36"},
            {"name": "proxy", "image": "envoy:1.30", "restartPolicy": "Always"},
        ],
    )
    # a debug container, as the kubelet reports one started by `kubectl debug`
    pod["status"]["ephemeralContainerStatuses"] = [
        {
            "name": "debug",
            "image": "busybox:1.36",
            "imageID": "",
            "containerID": "containerd://debug-0",
            "ready": False,
            "restartCount": 0,
            "state": {"running": {"startedAt": pod["status"]["startTime"]}},
            "lastState": {},
        }
    ]
    cluster.client.status().update(pod)
    cluster.restart(ns, "job", "proxy", "OOMKilled", 137)
    cluster.restart(ns, "job", "proxy", "Error", 1)
    cluster.restart(ns, "job", "debug", "Error", 2)
    record = cluster.record_where(ns, "job", total(3), "init and ephemeral restarts")
    kinds = {c["name"]: (c["type"], c["restarts"]) for c in record["status"]["containers"]}
    assert kinds == {"proxy": ("Init", 2), "debug": ("Ephemeral", 1)}


def test_record_is_labelled_with_the_deployment_behind_the_replicaset(
    cluster: Cluster, operators: Operators
) -> None:
    ns = cluster.namespace()
    labels = {"app": "web"}
    template = {
        "metadata": {"labels": labels},
        "spec": {"containers": [{"name": "app", "image": "busybox:1.36"}]},
    }
    deployment = cluster.client.create(
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": ns},
         "spec": {"replicas": 1, "selector": {"matchLabels": labels}, "template": template}}
    )  # fmt: skip
    rs_labels = {**labels, "pod-template-hash": "7d9f8b6c5"}
    replicaset = cluster.client.create(
        {"apiVersion": "apps/v1", "kind": "ReplicaSet",
         "metadata": {"name": "web-7d9f8b6c5", "namespace": ns, "labels": rs_labels,
                      "ownerReferences": [_owner(deployment)]},
         "spec": {"replicas": 1, "selector": {"matchLabels": rs_labels},
                  "template": {**template, "metadata": {"labels": rs_labels}}}}
    )  # fmt: skip
    existing = [
        p
        for p in cluster.client.list(POD, namespace=ns)["items"]
        if any(
            r.get("uid") == replicaset["metadata"]["uid"]
            for r in p["metadata"].get("ownerReferences", [])
        )
    ]
    name = existing[0]["metadata"]["name"] if existing else "web-7d9f8b6c5-x2x4q"
    if not existing:  # no ReplicaSet controller here: create the pod it would have created
        cluster.run_pod(
            ns, name, metadata={"labels": rs_labels, "ownerReferences": [_owner(replicaset)]}
        )
    else:
        wait_for(lambda: cluster._running(ns, name), timeout=20)
    cluster.restart(ns, name, "app")
    record = cluster.record_where(ns, name, total(1), "the record")
    assert record["spec"]["workload"] == {"kind": "Deployment", "name": "web"}
    assert record["metadata"]["labels"] == {
        "kreconcile.io/workload-kind": "Deployment",
        "kreconcile.io/workload-name": "web",
    }
    listed = cluster.kubectl(
        "get", "rr", "-n", ns, "-l", "kreconcile.io/workload-name=web", "-o", "name"
    )
    assert listed.split() == [f"restartrecord.kreconcile.io/{name}"]


def test_record_of_a_job_pod_names_the_cronjob_behind_the_job(
    cluster: Cluster, operators: Operators
) -> None:
    ns = cluster.namespace()
    template = {
        "spec": {"restartPolicy": "OnFailure",
                 "containers": [{"name": "app", "image": "busybox:1.36"}]},
    }  # fmt: skip
    cronjob = cluster.client.create(
        {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "nightly", "namespace": ns},
         "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": template}}}}
    )  # fmt: skip
    job = cluster.client.create(
        {"apiVersion": "batch/v1", "kind": "Job",
         "metadata": {"name": "backup", "namespace": ns,
                      "ownerReferences": [_owner(cronjob)]},
         "spec": {"template": template}}
    )  # fmt: skip
    # not named as a CronJob names its Jobs, so only reading the Job tells the CronJob
    name = "backup-k8x2p"  # no Job controller here: the pod it would have created
    cluster.run_pod(
        ns, name, metadata={"ownerReferences": [_owner(job)]}, restartPolicy="OnFailure"
    )
    cluster.restart(ns, name, "app")
    record = cluster.record_where(ns, name, total(1), "the record")
    assert record["spec"]["workload"] == {"kind": "CronJob", "name": "nightly"}
    assert record["metadata"]["labels"]["kreconcile.io/workload-name"] == "nightly"


def test_a_conflict_on_the_status_write_is_retried_from_a_fresh_read(
    cluster: Cluster, operators: Operators
) -> None:
    ns = cluster.namespace()
    cluster.run_pod(ns, "contested")
    faults = cluster.server.faults
    writes = faults.count("update", "restartrecords")
    faults.fail(code=409, verb="update", resource="restartrecords", user=MANAGER_USER,
                name="contested")  # fmt: skip
    cluster.restart(ns, "contested", "app", "Error", 3)
    record = cluster.record_where(ns, "contested", total(1), "the restart after a 409")
    assert restarts_of(record, "app")["reasons"] == {"Error": 1}
    assert faults.count("update", "restartrecords") >= writes + 2, "refused, then written"
    assert requested(cluster.server, MANAGER_USER, "get", "restartrecords", "contested")


def _owner(obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": obj["apiVersion"],
        "kind": obj["kind"],
        "name": obj["metadata"]["name"],
        "uid": obj["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def _idle(manager: Manager) -> bool:
    """The pod controller has nothing queued or in flight."""
    samples = {
        (s.name, s.labels.get("controller")): s.value
        for family in manager.registry.collect()
        for s in family.samples
    }
    return (
        samples.get(("workqueue_depth", "restartrecord")) == 0
        and samples.get(("controller_runtime_active_workers", "restartrecord")) == 0
    )


def test_two_replicas_racing_never_double_count(cluster: Cluster, operators: Operators) -> None:
    second = operators.start()  # both run controllers: no leader election in this test
    try:
        ns = cluster.namespace()
        cluster.run_pod(ns, "api", ["a", "b"])
        for i in range(10):
            cluster.restart(ns, "api", "a" if i % 2 else "b", "Error", 1)
        record = cluster.record_where(ns, "api", total(10), "ten restarts")
        wait_for(
            lambda: _idle(operators.main) and _idle(second), timeout=20, what="both replicas idle"
        )
        record = cluster.record(ns, "api") or {}
        assert record["status"]["restarts"] == 10
        for name in ("a", "b"):
            container = restarts_of(record, name)
            assert container["restarts"] == 5 == sum(container["reasons"].values())
            keys = [(h["podUID"], h["restartCount"]) for h in container["history"]]
            assert len(keys) == len(set(keys))
        wait_for(
            lambda: scrape(operators.main) == scrape(second),
            what="both replicas to export the same series",
        )
    finally:
        operators.stop(second)


@pytest.fixture
def short_retention(cluster: Cluster, operators: Operators) -> Any:
    original = operators.config_path.read_text()
    operators.config_path.write_text(original.replace("retention: 1h", "retention: 1s"))
    yield
    operators.config_path.write_text(original)


def test_records_are_deleted_a_retention_period_after_the_pod(
    cluster: Cluster, operators: Operators, short_retention: Any
) -> None:
    ns = cluster.namespace()
    pod = cluster.run_pod(ns, "batch")
    cluster.restart(ns, "batch", "app")
    cluster.record_where(ns, "batch", total(1), "the record")
    cluster.client.delete(pod)
    wait_for(lambda: cluster.record(ns, "batch") is None, timeout=20, what="record deleted")
