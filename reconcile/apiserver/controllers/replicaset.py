"""The ReplicaSet (and ReplicationController) controller: keep ``spec.replicas`` pods.

Each reconcile counts the active pods the set controls; missing ones are created from the
template, extra ones deleted (not-yet-running first, then the newest), and the status
reports replicas, ready and available counts and the observed generation. Finished pods
(Succeeded/Failed) do not count, as in kube's controller.
"""

from __future__ import annotations

import logging
from typing import Any

from reconcile.apiserver.controllers.pods import (
    POD,
    is_active,
    is_ready,
    live,
    new_pod,
    owned_pods,
    write_status,
)
from reconcile.builder import ControllerBuilder
from reconcile.errors import NotFound
from reconcile.gvk import GroupVersionKind
from reconcile.reconciler import Request, Result

__all__ = ["REPLICASET", "REPLICATIONCONTROLLER", "ReplicaSetReconciler", "setup"]

log = logging.getLogger(__name__)

REPLICASET = GroupVersionKind("apps", "v1", "ReplicaSet")
REPLICATIONCONTROLLER = GroupVersionKind("", "v1", "ReplicationController")
_MAX_BURST = 50
"""Pods created or deleted per reconcile (kube's burstReplicas is 500); the rest follow on
the requeue, so one huge scale-up never blocks the worker for long."""


def _deletion_rank(pod: dict[str, Any]) -> tuple[int, int, int, str]:
    """Delete unscheduled, then not-running, then not-ready pods first; newest first."""
    status = pod.get("status") or {}
    return (
        1 if (pod.get("spec") or {}).get("nodeName") else 0,
        1 if status.get("phase") == "Running" else 0,
        1 if is_ready(pod) else 0,
        "".join(chr(255 - ord(c)) for c in pod["metadata"].get("creationTimestamp", "")),
    )


class ReplicaSetReconciler:
    """Reconciles one kind of replica set (``apps/v1`` ReplicaSets or ``v1`` RCs)."""

    def __init__(self, manager: Any, kind: GroupVersionKind) -> None:
        self.kind = kind
        self.reader = manager.api_reader
        self.recorder = manager.get_event_recorder(
            "replicaset-controller" if kind == REPLICASET else "replication-controller"
        )

    def reconcile(self, request: Request) -> Result:
        owner = live(self.reader, self.kind, request)
        if owner is None:
            return Result()
        pods = [p for p in owned_pods(self.reader, owner) if is_active(p)]
        wanted = int((owner.get("spec") or {}).get("replicas", 1))
        more = self._scale(owner, pods, wanted)
        self._status(owner)
        return Result(requeue_after=0.1) if more else Result()

    def _scale(self, owner: dict[str, Any], pods: list[dict[str, Any]], wanted: int) -> bool:
        diff = wanted - len(pods)
        template = (owner.get("spec") or {}).get("template") or {}
        for _ in range(max(0, min(diff, _MAX_BURST))):
            created = self.reader.create(new_pod(owner, template))
            self.recorder.event(
                owner, "Normal", "SuccessfulCreate", f"Created pod: {created['metadata']['name']}"
            )
        for pod in sorted(pods, key=_deletion_rank)[: max(0, min(-diff, _MAX_BURST))]:
            try:
                self.reader.delete(pod)
            except NotFound:
                continue
            self.recorder.event(
                owner, "Normal", "SuccessfulDelete", f"Deleted pod: {pod['metadata']['name']}"
            )
        return abs(diff) > _MAX_BURST

    def _status(self, owner: dict[str, Any]) -> None:
        pods = [p for p in owned_pods(self.reader, owner) if is_active(p)]
        labels = ((owner.get("spec") or {}).get("template") or {}).get("metadata", {}).get(
            "labels"
        ) or {}
        ready = sum(1 for p in pods if is_ready(p))
        status = {
            "replicas": len(pods),
            "fullyLabeledReplicas": sum(
                1
                for p in pods
                if all(p["metadata"].get("labels", {}).get(k) == v for k, v in labels.items())
            ),
            "readyReplicas": ready,
            "availableReplicas": ready,
            "observedGeneration": owner["metadata"].get("generation", 1),
        }
        write_status(self.reader, owner, {**(owner.get("status") or {}), **status})


def setup(manager: Any) -> None:
    """Register the ReplicaSet and ReplicationController controllers."""
    for kind, name in (
        (REPLICASET, "replicaset"),
        (REPLICATIONCONTROLLER, "replicationcontroller"),
    ):
        ControllerBuilder(manager).named(name).for_(kind).owns(POD).complete(
            ReplicaSetReconciler(manager, kind)
        )
