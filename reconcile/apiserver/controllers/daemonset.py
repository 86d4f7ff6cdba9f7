"""The DaemonSet controller: one pod per schedulable node.

Every node runs one pod of the set, bound to it directly as the DaemonSet controller's
scheduling does; cordoned nodes keep theirs (DaemonSet pods tolerate
``node.kubernetes.io/unschedulable``, which is why ``kubectl drain --ignore-daemonsets``
exists). Pods on nodes that went away or from an older template are replaced, and the
status reports the scheduled, ready and updated counts ``kubectl rollout status ds/...``
reads.
"""

from __future__ import annotations

import contextlib
from typing import Any

from reconcile.apiserver.controllers.deployment import template_hash
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
from reconcile.handler import EnqueueRequestsFromMapFunc
from reconcile.reconciler import Request, Result

__all__ = ["DAEMONSET", "DaemonSetReconciler", "setup"]

DAEMONSET = GroupVersionKind("apps", "v1", "DaemonSet")
NODE = GroupVersionKind("", "v1", "Node")
HASH_LABEL = "controller-revision-hash"


class DaemonSetReconciler:
    def __init__(self, manager: Any) -> None:
        self.reader = manager.api_reader

    def reconcile(self, request: Request) -> Result:
        daemon_set = live(self.reader, DAEMONSET, request)
        if daemon_set is None:
            return Result()
        nodes = [n["metadata"]["name"] for n in self.reader.list(NODE).get("items") or []]
        template = daemon_set["spec"]["template"]
        revision = template_hash(template)
        pods = [p for p in owned_pods(self.reader, daemon_set) if is_active(p)]
        by_node: dict[str, dict[str, Any]] = {}
        for pod in pods:
            node = (pod.get("spec") or {}).get("nodeName", "")
            current = (pod["metadata"].get("labels") or {}).get(HASH_LABEL) == revision
            if node not in nodes or node in by_node or not current:
                self._delete(pod)
            else:
                by_node[node] = pod
        for node in nodes:
            if node not in by_node:
                pod = new_pod(daemon_set, template, node_name=node)
                pod["metadata"]["labels"] = {**pod["metadata"]["labels"], HASH_LABEL: revision}
                self.reader.create(pod)
        ready = sum(1 for p in by_node.values() if is_ready(p))
        self._status(daemon_set, len(nodes), len(by_node), ready)
        return Result()

    def _delete(self, pod: dict[str, Any]) -> None:
        with contextlib.suppress(NotFound):
            self.reader.delete(pod)

    def _status(self, daemon_set: dict[str, Any], desired: int, current: int, ready: int) -> None:
        status = {
            "currentNumberScheduled": current,
            "desiredNumberScheduled": desired,
            "numberMisscheduled": 0,
            "numberReady": ready,
            "numberAvailable": ready,
            "numberUnavailable": max(0, desired - ready),
            "updatedNumberScheduled": current,
            "observedGeneration": daemon_set["metadata"].get("generation", 1),
        }
        status = {k: v for k, v in status.items() if v or k in ("desiredNumberScheduled",
                  "currentNumberScheduled", "numberMisscheduled", "numberReady")}  # fmt: skip
        write_status(self.reader, daemon_set, status)


def setup(manager: Any) -> None:
    """Register the DaemonSet controller (node changes revisit every DaemonSet)."""
    reconciler = DaemonSetReconciler(manager)

    def every_daemon_set(_: dict[str, Any]) -> list[Request]:
        listed = reconciler.reader.list(DAEMONSET).get("items") or []
        return [Request(d["metadata"]["namespace"], d["metadata"]["name"]) for d in listed]

    ControllerBuilder(manager).named("daemonset").for_(DAEMONSET).owns(POD).watches(
        NODE, EnqueueRequestsFromMapFunc(every_daemon_set)
    ).complete(reconciler)
