"""The restarts operator killed with SIGKILL: nothing counted is lost, nothing is counted
twice, restarts made while it was down are counted as missed, and its metrics match what
kube-state-metrics would export and never go down."""

from __future__ import annotations

import random
import signal
import subprocess
import threading
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from controllers.inprocess import install_crds
from crds import RestartRecord
from reconcile.client import Client
from reconcile.envtest.kubelet import ContainerFailure, SimulatedKubelet, restart_container
from reconcile.gvk import GroupVersionKind
from tests.integration.controllers.processes import free_address, get, start, stop
from tests.waiting import wait_for

POD = GroupVersionKind("", "v1", "Pod")
FAILURES = [
    ContainerFailure("OOMKilled", 137),
    ContainerFailure("Error", 1, "exit status 1"),
    ContainerFailure("Completed", 0),
    ContainerFailure("Error", 143, "terminated by SIGTERM"),
]
TOTAL = "pod_monitor_container_restart_total"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
def kubelet(client: Client) -> Iterator[SimulatedKubelet]:
    install_crds(client)
    simulated = SimulatedKubelet(client, nodes=["node-a"], resync=0.1)
    stop_event = threading.Event()
    thread = threading.Thread(target=simulated.start, args=(stop_event,), daemon=True)
    thread.start()
    yield simulated
    stop_event.set()
    thread.join(10)


class Operator:
    """``kreconcile run`` as a process, its /metrics read over HTTP."""

    def __init__(self, kubeconfig: Path, config: Path) -> None:
        self.kubeconfig = kubeconfig
        self.config = config
        self.metrics = free_address()
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        self.process = start(
            "run",
            f"--kubeconfig={self.kubeconfig}",
            "--leader-elect=false",
            f"--metrics-bind-address={self.metrics}",
            "--health-probe-bind-address=0",
            f"--config={self.config}",
        )
        wait_for(lambda: get(self.metrics, "/metrics")[0] == 200, timeout=60, what="/metrics")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            code, output = stop(self.process)
            assert code == 0, output

    def scrape(self) -> Samples:
        status, body = get(self.metrics, "/metrics")
        assert status == 200, body
        return {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(body)
            for s in family.samples
            if s.name.startswith("pod_monitor_container")
        }


def _recorded(client: Client, namespace: str) -> int:
    items = client.list(RestartRecord, namespace=namespace)["items"]
    return sum((r.get("status") or {}).get("restarts", 0) for r in items)


def _container(client: Client, pod: str, container: str) -> dict[str, Any]:
    record = client.get(RestartRecord, pod, "default")
    return next(c for c in record["status"]["containers"] if c["name"] == container)


def _per_container(samples: Samples, name: str) -> dict[tuple[str, str, str], float]:
    """Sum (restart_total) or max (timestamps) of a family per namespace/pod/container."""
    values: dict[tuple[str, str, str], float] = defaultdict(float)
    for (sample, labels), value in samples.items():
        if sample != name:
            continue
        found = dict(labels)
        key = (found["namespace"], found["pod"], found["container"])
        values[key] = values[key] + value if name.endswith("_total") else max(values[key], value)
    return dict(values)


def kube_state_metrics(client: Client) -> dict[tuple[str, str, str], float]:
    """What kube-state-metrics exports as kube_pod_container_status_restarts_total (and
    kube_pod_init_container_status_restarts_total) for the live pods: each container
    status's restartCount, by namespace, pod and container."""
    exported = {}
    for pod in client.list(POD)["items"]:
        meta = pod["metadata"]
        for key in ("containerStatuses", "initContainerStatuses"):
            for status in (pod.get("status") or {}).get(key) or []:
                exported[(meta["namespace"], meta["name"], status["name"])] = float(
                    status["restartCount"]
                )
    return exported


def test_sigkill_loses_and_doubles_nothing_and_metrics_match_kube_state_metrics(
    client: Client, kubeconfig: Path, kubelet: SimulatedKubelet, tmp_path: Path
) -> None:
    config = tmp_path / "operators.yaml"
    config.write_text("restarts: {historyLimit: 10}\n")
    pods = {"web": ["app", "side"], "db": ["db"], "cache": ["app"]}
    for name, containers in pods.items():
        client.create(
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
             "spec": {"containers": [{"name": c, "image": "busybox:1.36"} for c in containers]}}
        )  # fmt: skip
    wait_for(
        lambda: all(
            p.get("status", {}).get("phase") == "Running" for p in client.list(POD)["items"]
        ),
        timeout=20,
        what="pods running",
    )
    rng = random.Random(14)
    targets = [(pod, c) for pod, containers in pods.items() for c in containers]
    operator = Operator(kubeconfig, config)
    operator.start()
    try:
        restart_container(client, "default", "cache", "app", FAILURES[1])
        for _ in range(11):
            pod, container = rng.choice(targets)
            restart_container(client, "default", pod, container, rng.choice(FAILURES))
        wait_for(lambda: _recorded(client, "default") == 12, timeout=30, what="12 restarts")
        before = operator.scrape()
        web_app = _container(client, "web", "app")
        db = _container(client, "db", "db")
        operator.kill()

        for _ in range(5):  # while nobody watches
            restart_container(client, "default", "web", "app", FAILURES[0])
        restart_container(client, "default", "db", "db", ContainerFailure("Error", 3, "once"))
        operator.start()
        wait_for(lambda: _recorded(client, "default") == 18, timeout=30, what="18 restarts")

        after_app = _container(client, "web", "app")
        assert after_app["restarts"] == web_app["restarts"] + 5
        assert after_app["missed"] == web_app["missed"] + 4, "a jump of 5: four without details"
        assert after_app["history"][0]["restartCount"] == after_app["restartCount"]
        assert after_app["history"][0]["reason"] == "OOMKilled", "the newest from lastState"
        after_db = _container(client, "db", "db")
        assert after_db["missed"] == db["missed"], "a single restart is recovered from lastState"
        assert (after_db["history"][0]["exitCode"], after_db["history"][0]["message"]) == (
            3,
            "once",
        )

        ksm = kube_state_metrics(client)
        expected = {k: v for k, v in ksm.items() if v}
        # the operator's cache may trail the API server by a moment
        wait_for(
            lambda: _per_container(operator.scrape(), TOTAL) == expected,
            what="parity with kube-state-metrics",
        )
        after = operator.scrape()
        for key, value in before.items():
            if key[0] == "pod_monitor_container_restart_total":
                assert after[key] >= value, key
        for family in ("pod_monitor_container_restart_total",
                       "pod_monitor_container_last_restart_timestamp_seconds"):  # fmt: skip
            old, new = _per_container(before, family), _per_container(after, family)
            assert all(new[key] >= value for key, value in old.items()), family

        ours = _per_container(after, TOTAL)
        assert ours == expected, "parity with kube-state-metrics"

        client.delete(client.get(POD, "cache", "default"))
        wait_for(
            lambda: client.get(RestartRecord, "cache", "default")["status"].get("podDeletedAt"),
            what="the record to see its pod gone",
        )
        gone = _per_container(operator.scrape(), "pod_monitor_container_restart_total")
        assert gone[("default", "cache", "app")] == ours[("default", "cache", "app")] >= 1
        assert ("default", "cache", "app") not in kube_state_metrics(client)
    finally:
        operator.stop()
