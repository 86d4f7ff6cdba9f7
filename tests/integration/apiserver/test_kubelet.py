"""The simulated kubelet: pods scheduled, run and restarted as a real kubelet reports them."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconcile.client import Client
from reconcile.envtest.kubelet import ContainerFailure, SimulatedKubelet
from tests.conftest import Kubectl
from tests.waiting import wait_for

POD = """
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
  - {name: main, image: nginx:1.27}
  - {name: side, image: busybox:1.36}
"""


@pytest.fixture
def kubelet(client: Client) -> Iterator[SimulatedKubelet]:
    simulated = SimulatedKubelet(client, nodes=["node-a", "node-b"], resync=0.1)
    stop = threading.Event()
    thread = threading.Thread(target=simulated.start, args=(stop,), daemon=True)
    thread.start()
    yield simulated
    stop.set()
    thread.join(5)


def _pod(kubectl: Kubectl) -> dict[str, Any]:
    pod: dict[str, Any] = json.loads(kubectl("get", "pod", "web", "-o", "json"))
    return pod


def test_pods_are_scheduled_and_run(kubectl: Kubectl, kubelet: SimulatedKubelet) -> None:
    wait_for(
        lambda: kubectl("get", "nodes", "-o", "name").split() == ["node/node-a", "node/node-b"]
    )
    kubectl("apply", "-f", "-", input=POD)
    wait_for(lambda: _pod(kubectl).get("status", {}).get("phase") == "Running", timeout=15)
    pod = _pod(kubectl)
    assert pod["spec"]["nodeName"] in ("node-a", "node-b")
    statuses = pod["status"]["containerStatuses"]
    assert [s["name"] for s in statuses] == ["main", "side"]
    assert all(s["containerID"].startswith("containerd://") and s["ready"] for s in statuses)
    assert kubectl("get", "pod", "web", "--no-headers").split()[1:3] == ["2/2", "Running"]


def test_restart_is_reported_like_a_real_kubelet(
    kubectl: Kubectl, kubelet: SimulatedKubelet, kubeconfig: Path
) -> None:
    kubectl("apply", "-f", "-", input=POD)
    wait_for(lambda: _pod(kubectl).get("status", {}).get("phase") == "Running", timeout=15)
    before = next(s for s in _pod(kubectl)["status"]["containerStatuses"] if s["name"] == "main")
    result = subprocess.run(
        [sys.executable, "-m", "controllers.cli", "kubelet", "--kubeconfig", str(kubeconfig), "restart",
         "default/web", "main", "--reason", "OOMKilled", "--exit-code", "137"],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert "restartCount=1" in result.stdout
    after = next(s for s in _pod(kubectl)["status"]["containerStatuses"] if s["name"] == "main")
    terminated = after["lastState"]["terminated"]
    assert after["restartCount"] == 1
    assert (terminated["reason"], terminated["exitCode"]) == ("OOMKilled", 137)
    assert terminated["containerID"] == before["containerID"] != after["containerID"]
    assert terminated["startedAt"] == before["state"]["running"]["startedAt"]
    assert terminated["finishedAt"] == after["state"]["running"]["startedAt"]
    assert kubectl("get", "pod", "web", "--no-headers").split()[3] == "1", "RESTARTS column"
    kubelet.restart("default", "web", "main", ContainerFailure("Error", 1, "exit status 1"))
    again = next(s for s in _pod(kubectl)["status"]["containerStatuses"] if s["name"] == "main")
    assert (
        again["restartCount"] == 2
        and again["lastState"]["terminated"]["message"] == "exit status 1"
    )


def test_chaos_mode_restarts_running_containers(kubectl: Kubectl, client: Client) -> None:
    simulated = SimulatedKubelet(client, nodes=["node-c"], chaos_rate=10.0, rng=random.Random(7))
    simulated.register_nodes()
    kubectl("apply", "-f", "-", input=POD)

    def running() -> bool:
        simulated.sync()
        return bool(_pod(kubectl).get("status", {}).get("phase") == "Running")

    wait_for(running, timeout=15)
    for _ in range(5):
        simulated.chaos_step(1.0)
    statuses = _pod(kubectl)["status"]["containerStatuses"]
    assert sum(s["restartCount"] for s in statuses) == 5
    reasons = {s["lastState"]["terminated"]["reason"] for s in statuses if s["restartCount"]}
    assert reasons <= {"OOMKilled", "Error", "Completed", "ContainerCannotRun"}
