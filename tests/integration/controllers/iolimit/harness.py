"""Running the IOLimitPolicy controller and node agents against a test API server.

Managers are built exactly as ``kreconcile run`` / ``kreconcile agent`` build them, from a
kubeconfig the test fixtures hand out (the ServiceAccounts' credentials, in conftest.py). Pods are created the way the kubelet
reports them (spec.nodeName, then a status with running containers), with their cgroup
directories made where the container runtime would make them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from controllers.agent import AgentRunOptions, build_agent
from controllers.inprocess import install_crds
from controllers.iolimit.agent.cgroups import layout_paths
from controllers.operators import load_operators
from controllers.run import RunOptions, build_manager
from crds import IOLimitPolicy
from reconcile.client import Client, RestConfig
from reconcile.client.patch import APPLY_PATCH
from reconcile.errors import NotFound
from reconcile.gvk import GroupVersionKind
from reconcile.manager import ManagerOptions
from reconcile.metrics.filters import with_authentication_and_authorization
from reconcile.timestamps import rfc3339
from tests.integration.controller.conftest import RunningManager
from tests.waiting import wait_for

POD = GroupVersionKind("", "v1", "Pod")
CRD = GroupVersionKind("apiextensions.k8s.io", "v1", "CustomResourceDefinition")
EVENT = GroupVersionKind("", "v1", "Event")
OPERATORS = (("iolimit", "controllers.iolimit"),)


def install(client: Client) -> None:
    install_crds(client)

    def served() -> bool:
        try:
            client.list(IOLimitPolicy)
        except Exception:
            return False
        return True

    wait_for(served, timeout=30, what="the IOLimitPolicy CRD to be served")


def create_policy(
    client: Client,
    name: str,
    namespace: str,
    limits: dict[str, int],
    *,
    labels: Mapping[str, str] | None = None,
    metric: str = "WriteIOPS",
    above: int = 100,
    **spec: Any,
) -> dict[str, Any]:
    """A policy with one 15m rule "heavy" over the pods of ``namespace`` (with ``labels``)."""
    rule = {
        "name": "heavy",
        "window": "15m",
        "thresholds": [{"metric": metric, "above": above}],
        "limits": limits,
    }
    return client.create(
        {
            "apiVersion": IOLimitPolicy.GVK.api_version,
            "kind": IOLimitPolicy.GVK.kind,
            "metadata": {"name": name},
            "spec": {
                "namespaces": [namespace],
                "selector": {"matchLabels": dict(labels)} if labels else {},
                "rules": [rule],
                **spec,
            },
        }
    )


def create_namespace(client: Client, name: str) -> None:
    client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})


def write_config(path: Path, **settings: Any) -> Path:
    path.write_text(yaml.safe_dump({"iolimit": settings}))
    return path


def start_manager(
    kubeconfig: Path, config: Path, *, secure_metrics: bool = False
) -> RunningManager:
    """The controller; with ``secure_metrics`` its /metrics is served (HTTPS, any free port)
    as ``kreconcile run --metrics-secure`` serves it."""
    manager = build_manager(
        RestConfig.from_kubeconfig(kubeconfig),
        RunOptions(
            manager=ManagerOptions(
                metrics_bind_address="127.0.0.1:0" if secure_metrics else "0",
                metrics_secure_serving=secure_metrics,
                metrics_filter=with_authentication_and_authorization if secure_metrics else None,
                health_probe_bind_address="0",
                graceful_shutdown_timeout=10.0,
            ),
            config_path=config,
        ),
        load_operators(OPERATORS),
    )
    return RunningManager(manager).start()


def start_agent(
    kubeconfig: Path, node: str, cgroup_root: Path, config: Path, *, secure_metrics: bool = False
) -> RunningManager:
    """A node agent; ``secure_metrics`` as for ``start_manager``."""
    manager = build_agent(
        RestConfig.from_kubeconfig(kubeconfig),
        AgentRunOptions(
            node_name=node,
            cgroup_root=cgroup_root,
            metrics_bind_address="127.0.0.1:0" if secure_metrics else "0",
            metrics_secure=secure_metrics,
            health_probe_bind_address="0",
            config_path=config,
        ),
        load_operators(OPERATORS),
    )
    return RunningManager(manager).start()


def mimic_root(path: Path) -> Path:
    """An empty cgroup v2 look-alike: the agent finds the io controller there."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    return path


def container_dir(base: Path, pod: Mapping[str, Any], container_id: str) -> Path:
    """Where a cgroupfs-driver runtime puts the container's cgroup under ``base``."""
    qos = pod.get("status", {}).get("qosClass", "BestEffort")
    return layout_paths(base, pod["metadata"]["uid"], qos, container_id)[0]


def make_cgroup(base: Path, pod: Mapping[str, Any], container_id: str, io_stat: str = "") -> Path:
    path = container_dir(base, pod, container_id)
    path.mkdir(parents=True, exist_ok=True)
    (path / "io.stat").write_text(io_stat)
    (path / "io.max").touch()
    return path


def container_id(seed: str) -> str:
    return "containerd://" + (seed * 64)[:64]


def running_pod(
    client: Client,
    name: str,
    *,
    namespace: str,
    node: str,
    containers: Mapping[str, str],
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
    started: float | None = None,
) -> dict[str, Any]:
    """Create a pod bound to ``node`` and report its containers running, as a kubelet does."""
    created = client.create(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "labels": dict(labels or {}),
                "annotations": dict(annotations or {}),
            },
            "spec": {
                "nodeName": node,
                "containers": [{"name": c, "image": "busybox"} for c in containers],
            },
        }
    )
    return set_containers(client, created, containers, started=started)


def set_containers(
    client: Client,
    pod: dict[str, Any],
    containers: Mapping[str, str],
    *,
    started: float | None = None,
) -> dict[str, Any]:
    """Report ``containers`` (name -> container ID) running since ``started`` (default now)."""
    stamp = rfc3339(started if started is not None else time.time())
    current = client.get(POD, pod["metadata"]["name"], pod["metadata"]["namespace"])
    current["status"] = {
        "phase": "Running",
        "qosClass": "BestEffort",
        "containerStatuses": [
            {
                "name": c,
                "containerID": i,
                "image": "busybox",
                "imageID": "",
                "ready": True,
                "restartCount": 0,
                "state": {"running": {"startedAt": stamp}},
            }
            for c, i in containers.items()
        ],
    }
    return client.status().update(current)


def policy_status(client: Client, name: str) -> dict[str, Any]:
    try:
        return dict(client.get(IOLimitPolicy, name).get("status") or {})
    except NotFound:
        return {}


def apply_status(client: Client, name: str, status: dict[str, Any], manager: str) -> None:
    body = {
        "apiVersion": IOLimitPolicy.GVK.api_version,
        "kind": IOLimitPolicy.GVK.kind,
        "metadata": {"name": name},
        "status": status,
    }
    client.status().patch(body, body, patch_type=APPLY_PATCH, field_manager=manager, force=True)


def node_report(client: Client, policy: str, node: str) -> dict[str, Any]:
    for entry in policy_status(client, policy).get("nodes") or []:
        if entry.get("node") == node:
            return dict(entry)
    return {}


def events_for(client: Client, namespace: str, name: str) -> list[tuple[str, str]]:
    items = client.list(EVENT, namespace=namespace)["items"]
    return [(e["reason"], e["message"]) for e in items if e["involvedObject"].get("name") == name]


def dump(obj: Any) -> str:
    return json.dumps(obj, indent=1, sort_keys=True)
