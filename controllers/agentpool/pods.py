"""The pool's agent pods: how they are built from the template, named, and observed.

Pods are named ``<pool>-<ordinal>`` with the lowest ordinal no live pod or ledger entry
uses, so a create retried after a crash or a stale cache gets AlreadyExists instead of
making a second pod. Each carries the pool's label (the /scale selector), the template's
labels and annotations, and a controller owner reference to the pool (so ``owns(Pod)``
wakes the pool and the garbage collector removes the pods with it).
"""

from __future__ import annotations

import copy
from typing import Any

from reconcile.controllerutil import set_controller_reference
from reconcile.gvk import GroupVersionKind

__all__ = [
    "DELETION_COST",
    "DELETION_COST_ANNOTATION",
    "MANAGED_BY",
    "MAX_POOL_NAME",
    "POD",
    "POOL_LABEL",
    "build_pod",
    "free_names",
    "is_controlled_by",
    "observed_state",
    "ordinal",
    "selector",
]

POD = GroupVersionKind("", "v1", "Pod")
POOL_LABEL = "kreconcile.io/agentpool"
"""Label naming the pool on each of its pods; ``status.selector`` selects on it."""
MANAGED_BY = {"app.kubernetes.io/managed-by": "kreconcile"}
DELETION_COST_ANNOTATION = "controller.kubernetes.io/pod-deletion-cost"
DELETION_COST = "-1000"
"""Set on a pod chosen for scale-down just before it is deleted: anything else that picks
pods to remove (a ReplicaSet-style tool, a person reading the annotations) sees that this
idle pod is the cheapest one to lose."""
MAX_POOL_NAME = 63
"""A label value holds at most 63 characters, and the pool's name is one."""

Obj = dict[str, Any]


def selector(pool_name: str) -> str:
    """The label selector of a pool's pods (``status.selector``)."""
    return f"{POOL_LABEL}={pool_name}"


def ordinal(pool_name: str, pod_name: str) -> int:
    """The ordinal of ``<pool>-<n>``; -1 for a name of another shape."""
    prefix = f"{pool_name}-"
    if not pod_name.startswith(prefix) or not pod_name[len(prefix) :].isdigit():
        return -1
    return int(pod_name[len(prefix) :])


def free_names(pool_name: str, taken: set[str], count: int) -> list[str]:
    """``count`` names ``<pool>-<n>`` with the lowest ordinals not in ``taken``."""
    names: list[str] = []
    n = 0
    while len(names) < count:
        name = f"{pool_name}-{n}"
        if name not in taken:
            names.append(name)
        n += 1
    return names


def build_pod(pool: Obj, name: str) -> Obj:
    """The pod ``name`` of ``pool``, from its template."""
    meta = pool["metadata"]
    template = pool["spec"]["template"]
    template_meta = template.get("metadata") or {}
    labels = {**(template_meta.get("labels") or {}), **MANAGED_BY, POOL_LABEL: meta["name"]}
    pod_meta: Obj = {"name": name, "namespace": meta["namespace"], "labels": labels}
    if template_meta.get("annotations"):
        pod_meta["annotations"] = dict(template_meta["annotations"])
    pod: Obj = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": pod_meta,
        "spec": copy.deepcopy(template["spec"]),
    }
    set_controller_reference(pool, pod)
    return pod


def is_controlled_by(pod: Obj, pool: Obj) -> bool:
    uid = pool["metadata"].get("uid")
    return any(
        ref.get("controller") and ref.get("uid") == uid
        for ref in pod["metadata"].get("ownerReferences") or []
    )


def _ready_condition(status: Obj) -> str | None:
    for condition in status.get("conditions") or []:
        if condition.get("type") == "Ready":
            return str(condition.get("status"))
    return None


def observed_state(pod: Obj, previous: str | None) -> str:
    """The ledger state of a live pod, given the state the ledger recorded before.

    Removing is sticky (the autoscaler's decision stands until the pod is gone). A pod that
    has never been Ready is Starting; one that was and no longer is, NotReady. A pod whose
    node stopped reporting (phase or Ready condition Unknown) is Unknown: nobody can tell
    whether its tasks still run, so it is neither given work nor deleted.
    """
    if previous == "Removing":
        return "Removing"
    if pod["metadata"].get("deletionTimestamp"):
        return "Terminating"
    status = pod.get("status") or {}
    phase = status.get("phase")
    if phase in ("Failed", "Succeeded"):
        return "Failed"
    ready = _ready_condition(status)
    if phase == "Unknown" or ready == "Unknown":
        return "Unknown"
    if ready == "True" and phase == "Running":
        return "Ready"
    if previous in ("Ready", "NotReady", "Unknown"):
        return "NotReady"
    return "Starting"
