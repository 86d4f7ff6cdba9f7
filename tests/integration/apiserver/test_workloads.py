"""kubectl-driven flows against the server's controllers and the simulated kubelet, as a
user of a real cluster runs them: rollouts, rollbacks, scaling, Jobs, draining, and
deleting a kustomize tree whose namespace goes first."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client as k8s

from reconcile.apiserver import APIServer, ServerOptions
from reconcile.client import Client, RestConfig
from reconcile.envtest.kubelet import SimulatedKubelet
from tests.conftest import Kubectl
from tests.raw_http import python_client
from tests.waiting import wait_for


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[APIServer, Kubectl]]:
    server = APIServer(ServerOptions(controllers=True, namespace_deletion_delay=2.0))
    server.start()
    workdir = tmp_path_factory.mktemp("workloads")
    kubeconfig = server.write_kubeconfig(workdir / "kubeconfig")
    kubelet = SimulatedKubelet(
        Client(RestConfig.from_kubeconfig(kubeconfig)), nodes=("node-1", "node-2"), resync=0.2
    )
    stop = threading.Event()
    thread = threading.Thread(target=kubelet.start, args=(stop,), daemon=True)
    thread.start()
    try:
        yield server, Kubectl(kubeconfig, workdir / "cache")
    finally:
        stop.set()
        thread.join(5)
        server.stop()


def test_deployment_rollout_flow(cluster: tuple[APIServer, Kubectl]) -> None:
    _, kubectl = cluster
    kubectl("create", "deployment", "web", "--image=nginx:1.25", "--replicas=3")
    assert "successfully rolled out" in kubectl("rollout", "status", "deploy/web", "--timeout=60s")
    kubectl("set", "image", "deploy/web", "nginx=nginx:1.26")
    kubectl("rollout", "status", "deploy/web", "--timeout=60s")
    history = kubectl("rollout", "history", "deploy/web")
    assert "1 " in history and "2 " in history
    kubectl("rollout", "undo", "deploy/web")
    kubectl("rollout", "status", "deploy/web", "--timeout=60s")
    image = "jsonpath={.spec.template.spec.containers[0].image}"
    assert kubectl("get", "deploy", "web", "-o", image) == "nginx:1.25"
    deployment = json.loads(kubectl("get", "deploy", "web", "-o", "json"))
    assert deployment["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
    status = deployment["status"]
    assert status["observedGeneration"] == deployment["metadata"]["generation"]
    assert (status["replicas"], status["updatedReplicas"], status["availableReplicas"]) == (3, 3, 3)
    conditions = {c["type"]: c["reason"] for c in status["conditions"]}
    assert conditions == {
        "Available": "MinimumReplicasAvailable",
        "Progressing": "NewReplicaSetAvailable",
    }
    kubectl("scale", "deploy/web", "--replicas=1")
    scale = json.loads(
        kubectl("get", "--raw", "/apis/apps/v1/namespaces/default/deployments/web/scale")
    )
    assert scale["spec"]["replicas"] == 1 and scale["status"]["selector"] == "app=web"
    kubectl("rollout", "restart", "deploy/web")
    kubectl("rollout", "status", "deploy/web", "--timeout=60s")
    pods = json.loads(kubectl("get", "pods", "-l", "app=web", "-o", "json"))["items"]
    wait_for(
        lambda: (
            len(json.loads(kubectl("get", "pods", "-l", "app=web", "-o", "json"))["items"]) == 1
        ),
        timeout=30,
        what="old pods gone after the restart",
    )
    assert pods


IMPERATIVE = [
    (("create", "deployment", "target", "--image=nginx"),
     ("deploy", "target", "{.spec.replicas}", "1")),
    (("run", "solo", "--image=nginx", "--port=80", "--env=A=B"),
     ("pod", "solo", "{.spec.containers[0].env[0].value}", "B")),
    (("expose", "pod", "solo", "--port=8080", "--target-port=80"),
     ("service", "solo", "{.spec.ports[0].targetPort}", "80")),
    (("create", "service", "nodeport", "np", "--tcp=80:8080"),
     ("service", "np", "{.spec.type}", "NodePort")),
    (("autoscale", "deployment", "target", "--min=1", "--max=3", "--cpu-percent=50"),
     ("hpa.v2.autoscaling", "target", "{.spec.metrics[0].resource.target.averageUtilization}",
      "50")),
    (("create", "pdb", "budget", "--selector=app=target", "--min-available=1"),
     ("pdb", "budget", "{.spec.minAvailable}", "1")),
    (("create", "secret", "docker-registry", "reg", "--docker-server=r.io",
      "--docker-username=u", "--docker-password=p"),
     ("secret", "reg", "{.type}", "kubernetes.io/dockerconfigjson")),
]  # fmt: skip
"""kubectl commands that send protobuf, each with a field of what it created."""


def test_imperative_commands_sent_as_protobuf(cluster: tuple[APIServer, Kubectl]) -> None:
    _, kubectl = cluster
    for command, (kind, name, path, expected) in IMPERATIVE:
        kubectl(*command)
        assert kubectl("get", kind, name, "-o", f"jsonpath={path}") == expected, command
    kubectl("delete", "pod", "solo")


def test_job_runs_to_completion(cluster: tuple[APIServer, Kubectl]) -> None:
    _, kubectl = cluster
    kubectl("create", "job", "once", "--image=busybox")
    kubectl("wait", "--for=condition=complete", "job/once", "--timeout=60s")
    job = json.loads(kubectl("get", "job", "once", "-o", "json"))
    assert job["status"]["succeeded"] == 1 and job["status"]["completionTime"]


def test_daemon_set_runs_one_pod_per_node(cluster: tuple[APIServer, Kubectl]) -> None:
    _, kubectl = cluster
    manifest = (
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent}\nspec:\n"
        "  selector: {matchLabels: {app: agent}}\n  template:\n"
        "    metadata: {labels: {app: agent}}\n"
        "    spec: {containers: [{name: agent, image: busybox}]}\n"
    )
    kubectl("apply", "-f", "-", input=manifest)
    kubectl("rollout", "status", "ds/agent", "--timeout=60s")
    pods = json.loads(kubectl("get", "pods", "-l", "app=agent", "-o", "json"))["items"]
    assert sorted(p["spec"]["nodeName"] for p in pods) == ["node-1", "node-2"]
    kubectl("delete", "ds", "agent")


def test_default_service_account_and_root_ca_in_new_namespaces(
    cluster: tuple[APIServer, Kubectl],
) -> None:
    _, kubectl = cluster
    kubectl("create", "namespace", "fresh")
    wait_for(
        lambda: (
            kubectl.run("get", "sa", "default", "-n", "fresh", check=False).returncode == 0
            and kubectl.run("get", "cm", "kube-root-ca.crt", "-n", "fresh", check=False).returncode
            == 0
        ),
        timeout=30,
        what="default ServiceAccount and kube-root-ca.crt",
    )


def test_nodes_read_through_the_python_client_and_drain(
    cluster: tuple[APIServer, Kubectl],
) -> None:
    server, kubectl = cluster
    nodes = k8s.CoreV1Api(python_client(server)).list_node()
    status = nodes.items[0].status
    assert status is not None and status.node_info is not None
    info = status.node_info
    assert info.kubelet_version == "v1.32.0" and info.machine_id and info.boot_id
    assert status.capacity and status.allocatable and len(status.conditions or []) == 4
    kubectl("create", "deployment", "spread", "--image=nginx", "--replicas=4")
    kubectl("rollout", "status", "deploy/spread", "--timeout=60s")
    kubectl("drain", "node-1", "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=60s")
    kubectl("rollout", "status", "deploy/spread", "--timeout=60s")
    wide = json.loads(kubectl("get", "pods", "-l", "app=spread", "-o", "json"))["items"]
    assert {p["spec"]["nodeName"] for p in wide} == {"node-2"}
    kubectl("uncordon", "node-1")


def test_delete_kustomize_tree_with_its_namespace_exits_zero(
    cluster: tuple[APIServer, Kubectl], tmp_path: Path
) -> None:
    _, kubectl = cluster
    (tmp_path / "ns.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: tree\n")
    (tmp_path / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: tree\n"
        "data:\n  a: b\n"
    )
    (tmp_path / "deploy.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\n  namespace: tree\n"
        "spec:\n  selector:\n    matchLabels: {app: app}\n  template:\n    metadata:\n"
        "      labels: {app: app}\n    spec:\n      containers: [{name: app, image: nginx}]\n"
    )
    (tmp_path / "kustomization.yaml").write_text("resources: [ns.yaml, cm.yaml, deploy.yaml]\n")
    kubectl("apply", "-k", str(tmp_path))
    phase = kubectl("get", "ns", "tree", "-o", "jsonpath={.status.phase}")
    assert phase == "Active"
    result = kubectl.run("delete", "-k", str(tmp_path), timeout=120)
    assert result.returncode == 0, result.stderr
    assert kubectl.run("get", "ns", "tree", check=False).returncode == 1


def test_apiserver_command_runs_the_controllers_when_asked(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kc"
    command = [sys.executable, "-m", "controllers.cli", "apiserver", "--controllers"]
    process = subprocess.Popen(
        [*command, "--kubeconfig", str(kubeconfig)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(kubeconfig.exists, timeout=30, what="the kubeconfig to appear")
        kubectl = Kubectl(kubeconfig, tmp_path / "cache")
        kubectl("create", "namespace", "served")
        wait_for(
            lambda: (
                kubectl.run("get", "cm", "kube-root-ca.crt", "-n", "served", check=False).returncode
                == 0
            ),
            timeout=30,
            what="the root CA ConfigMap from the controllers",
        )
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
