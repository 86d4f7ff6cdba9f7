"""A simulated kubelet (and scheduler) for development and tests.

It registers Nodes, binds Pending pods to them round-robin, and writes pod status the way
a kubelet does: phase, conditions, IPs and one ``containerStatuses`` entry per container
with a ``containerd://`` ID. ``restart(...)`` makes a container die and come back exactly
as the kubelet reports it: ``lastState.terminated`` (startedAt, finishedAt, exitCode,
reason, message, the old containerID), ``restartCount`` + 1 and a new containerID. A chaos
mode restarts random containers at a given rate with realistic reasons and exit codes.

Everything goes through the API server (status subresource), so operators see the same
objects they would see on a cluster.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import logging
import random
import secrets
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from reconcile.client import Client, retry_on_conflict
from reconcile.errors import AlreadyExists, ApiError, NotFound
from reconcile.gvk import GroupVersionKind
from reconcile.timestamps import rfc3339

__all__ = [
    "CHAOS_FAILURES",
    "EXIT_CODE_ANNOTATION",
    "ContainerFailure",
    "SimulatedKubelet",
    "node_status",
    "restart_container",
]

log = logging.getLogger(__name__)

POD = GroupVersionKind("", "v1", "Pod")
_STATUS_LISTS = ("containerStatuses", "initContainerStatuses", "ephemeralContainerStatuses")
"""Where ``restart`` looks for the container: regular, init (sidecars) and ephemeral."""
NODE = GroupVersionKind("", "v1", "Node")
KUBELET_VERSION = "v1.32.0"
EXIT_CODE_ANNOTATION = "kubelet.kreconcile.io/exit-code"
"""On a pod with restartPolicy Never/OnFailure: the exit code its containers finish with
(default 0, so Jobs complete); non-zero makes the pod Failed."""


@dataclass(frozen=True, slots=True)
class ContainerFailure:
    reason: str
    exit_code: int
    message: str = ""


CHAOS_FAILURES: tuple[ContainerFailure, ...] = (
    ContainerFailure("OOMKilled", 137),
    ContainerFailure("Error", 1, "exit status 1"),
    ContainerFailure("Error", 143, "terminated by SIGTERM"),
    ContainerFailure("Completed", 0),
    ContainerFailure("ContainerCannotRun", 128, "failed to create containerd task"),
)


def _container_id() -> str:
    return "containerd://" + secrets.token_hex(32)


def _running_status(container: dict[str, Any], started: str) -> dict[str, Any]:
    image = container.get("image", "")
    return {
        "name": container["name"],
        "image": image,
        "imageID": f"{image.split(':')[0]}@sha256:{secrets.token_hex(32)}",
        "containerID": _container_id(),
        "ready": True,
        "started": True,
        "restartCount": 0,
        "state": {"running": {"startedAt": started}},
        "lastState": {},
    }


def _init_status(container: dict[str, Any], started: str) -> dict[str, Any]:
    """A sidecar (restartPolicy Always) runs on; any other init container has completed."""
    status = _running_status(container, started)
    if container.get("restartPolicy") != "Always":
        status["started"] = False
        status["state"] = {
            "terminated": {
                "exitCode": 0,
                "reason": "Completed",
                "startedAt": started,
                "finishedAt": started,
                "containerID": status["containerID"],
            }
        }
    return status


def _conditions(now: str) -> list[dict[str, Any]]:
    return [
        {"type": kind, "status": "True", "lastProbeTime": None, "lastTransitionTime": now}
        for kind in (
            "PodReadyToStartContainers",
            "Initialized",
            "Ready",
            "ContainersReady",
            "PodScheduled",
        )
    ]


def node_status(name: str, index: int, now: str) -> dict[str, Any]:
    """A Ready node's status as a kubelet posts it: every ``nodeInfo`` field the Python
    client's models require, addresses, capacity/allocatable and the four conditions."""
    digest = hashlib.sha256(name.encode()).hexdigest()
    resources = {"cpu": "4", "memory": "8Gi", "pods": "110", "ephemeral-storage": "50Gi"}
    conditions = [
        {"type": kind, "status": "False", "reason": reason, "message": message,
         "lastHeartbeatTime": now, "lastTransitionTime": now}
        for kind, reason, message in (
            ("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory"),
            ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        )
    ]  # fmt: skip
    conditions.append(
        {
            "type": "Ready",
            "status": "True",
            "reason": "KubeletReady",
            "message": "kubelet is posting ready status",
            "lastHeartbeatTime": now,
            "lastTransitionTime": now,
        }
    )
    return {
        "conditions": conditions,
        "nodeInfo": {
            "machineID": digest[:32],
            "systemUUID": str(uuid.UUID(digest[32:64])),
            "bootID": str(uuid.uuid4()),
            "kernelVersion": "6.1.0-kreconcile",
            "osImage": "Debian GNU/Linux 12 (bookworm)",
            "containerRuntimeVersion": "containerd://1.7.22",
            "kubeletVersion": KUBELET_VERSION,
            "kubeProxyVersion": KUBELET_VERSION,
            "operatingSystem": "linux",
            "architecture": "amd64",
        },
        "addresses": [
            {"type": "InternalIP", "address": f"192.168.0.{10 + index}"},
            {"type": "Hostname", "address": name},
        ],
        "capacity": dict(resources),
        "allocatable": dict(resources),
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
    }


def restart_container(
    client: Client, namespace: str, name: str, container: str, failure: ContainerFailure
) -> dict[str, Any]:
    """Make ``container`` of a running pod terminate with ``failure`` and start again."""

    def attempt() -> dict[str, Any]:
        pod = client.get(POD, name, namespace)
        status = next(
            (
                s
                for key in _STATUS_LISTS
                for s in (pod.get("status") or {}).get(key) or []
                if s.get("name") == container
            ),
            None,
        )
        if status is None:
            raise NotFound(
                f'pod {namespace}/{name} has no running container "{container}"; is the pod '
                "scheduled on a simulated node?"
            )
        now = rfc3339()
        started = (status.get("state") or {}).get("running", {}).get("startedAt", now)
        terminated: dict[str, Any] = {
            "exitCode": failure.exit_code,
            "reason": failure.reason,
            "startedAt": started,
            "finishedAt": now,
            "containerID": status.get("containerID", ""),
        }
        if failure.message:
            terminated["message"] = failure.message
        status["lastState"] = {"terminated": terminated}
        status["state"] = {"running": {"startedAt": now}}
        status["restartCount"] = int(status.get("restartCount") or 0) + 1
        status["containerID"] = _container_id()
        return client.status().update(pod)

    return retry_on_conflict(attempt)


class SimulatedKubelet:
    """Owns ``nodes``; schedules and runs pods; a manager Runnable (no election)."""

    def __init__(
        self,
        client: Client,
        *,
        nodes: Sequence[str] = ("node-1",),
        chaos_rate: float = 0.0,
        resync: float = 1.0,
        rng: random.Random | None = None,
    ) -> None:
        """``chaos_rate``: random container restarts per second (0 disables chaos)."""
        if not nodes:
            raise ValueError("a simulated kubelet needs at least one node name")
        self.client = client
        self.nodes = list(nodes)
        self.chaos_rate = chaos_rate
        self.resync = resync
        self._rng = rng or random.Random()
        self._next_node = itertools.cycle(self.nodes)
        self._ips = itertools.count(2)

    def need_leader_election(self) -> bool:
        return False

    def start(self, stop: threading.Event) -> None:
        self.register_nodes()
        interval = self.resync if self.chaos_rate <= 0 else min(self.resync, 1.0 / self.chaos_rate)
        while not stop.is_set():
            try:
                self.sync()
                if self.chaos_rate > 0:
                    self.chaos_step(interval)
            except ApiError as error:
                log.warning("kubelet sync failed", extra={"error": error.message})
            stop.wait(interval)

    def register_nodes(self) -> None:
        for index, name in enumerate(self.nodes):
            node = {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {
                    "name": name,
                    "labels": {
                        "kubernetes.io/hostname": name,
                        "kubernetes.io/os": "linux",
                        "kubernetes.io/arch": "amd64",
                        "beta.kubernetes.io/os": "linux",
                        "beta.kubernetes.io/arch": "amd64",
                    },
                },
                "spec": {"podCIDR": f"10.244.{index}.0/24", "podCIDRs": [f"10.244.{index}.0/24"]},
            }
            try:
                created = self.client.create(node)
            except AlreadyExists:
                created = self.client.get(NODE, name)
            created["status"] = node_status(name, index, rfc3339())
            self.client.status().update(created)

    def _schedulable(self) -> list[str]:
        nodes = {n["metadata"]["name"]: n for n in self.client.list(NODE).get("items") or []}
        return [
            name
            for name in self.nodes
            if name in nodes and not (nodes[name].get("spec") or {}).get("unschedulable")
        ]

    def sync(self) -> None:
        """One pass: bind pending pods, start bound ones, finish run-to-completion ones."""
        schedulable: list[str] | None = None
        for pod in self.client.list(POD).get("items") or []:
            meta = pod["metadata"]
            if meta.get("deletionTimestamp"):
                continue
            spec = pod.get("spec") or {}
            node = spec.get("nodeName")
            phase = (pod.get("status") or {}).get("phase")
            if not node:
                if schedulable is None:
                    schedulable = self._schedulable()
                self._bind(pod, schedulable)
            elif node not in self.nodes or phase in ("Succeeded", "Failed"):
                continue
            elif phase != "Running":
                self._run(pod)
            elif spec.get("restartPolicy") in ("Never", "OnFailure"):
                self._complete(pod)

    def _bind(self, pod: dict[str, Any], schedulable: list[str]) -> None:
        if not schedulable:
            return
        node = next(n for n in self._next_node if n in schedulable)
        try:
            self.client.patch(pod, {"spec": {"nodeName": node}})
        except ApiError as error:
            log.info("bind skipped", extra={"pod": pod["metadata"]["name"], "error": error.message})

    def _run(self, pod: dict[str, Any]) -> None:
        now = rfc3339()
        updated = copy.deepcopy(pod)
        containers = (pod.get("spec") or {}).get("containers") or []
        index = next(self._ips)
        status = updated.setdefault("status", {})
        status.update(
            {
                "phase": "Running",
                "conditions": _conditions(now),
                "hostIP": "192.168.0.10",
                "hostIPs": [{"ip": "192.168.0.10"}],
                "podIP": f"10.244.{index // 250}.{index % 250}",
                "podIPs": [{"ip": f"10.244.{index // 250}.{index % 250}"}],
                "startTime": now,
                "containerStatuses": [_running_status(c, now) for c in containers],
            }
        )
        status.setdefault("qosClass", "BestEffort")
        init = (pod.get("spec") or {}).get("initContainers") or []
        if init:
            status["initContainerStatuses"] = [_init_status(c, now) for c in init]
        self._write_status(updated, "pod start deferred")

    def _complete(self, pod: dict[str, Any]) -> None:
        """A run-to-completion pod's containers exit (annotation ``EXIT_CODE_ANNOTATION``)."""
        annotations = pod["metadata"].get("annotations") or {}
        code = int(annotations.get(EXIT_CODE_ANNOTATION, "0") or 0)
        now = rfc3339()
        updated = copy.deepcopy(pod)
        status = updated["status"]
        status["phase"] = "Succeeded" if code == 0 else "Failed"
        for condition in status.get("conditions") or []:
            if condition.get("type") in ("Ready", "ContainersReady"):
                condition.update({"status": "False", "reason": "PodCompleted"})
        for container in status.get("containerStatuses") or []:
            started = (container.get("state") or {}).get("running", {}).get("startedAt", now)
            container["ready"] = False
            container["started"] = False
            container["state"] = {
                "terminated": {
                    "exitCode": code,
                    "reason": "Completed" if code == 0 else "Error",
                    "startedAt": started,
                    "finishedAt": now,
                    "containerID": container.get("containerID", ""),
                }
            }
        self._write_status(updated, "pod completion deferred")

    def _write_status(self, pod: dict[str, Any], failure: str) -> None:
        try:
            self.client.status().update(pod)
        except ApiError as error:
            log.info(failure, extra={"pod": pod["metadata"]["name"], "error": error.message})

    def restart(
        self, namespace: str, name: str, container: str, failure: ContainerFailure
    ) -> dict[str, Any]:
        return restart_container(self.client, namespace, name, container, failure)

    def chaos_step(self, interval: float) -> None:
        """With probability rate x interval, restart one random running container."""
        if self._rng.random() >= self.chaos_rate * interval:
            return
        running = [
            pod
            for pod in self.client.list(POD).get("items") or []
            if (pod.get("status") or {}).get("phase") == "Running"
            and pod["spec"].get("nodeName") in self.nodes
        ]
        if not running:
            return
        pod = self._rng.choice(running)
        container = self._rng.choice(pod["spec"]["containers"])["name"]
        failure = self._rng.choice(CHAOS_FAILURES)
        self.restart(pod["metadata"]["namespace"], pod["metadata"]["name"], container, failure)
