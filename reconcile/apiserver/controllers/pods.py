"""What the workload controllers share: owned pods, readiness and pod creation.

The controllers list their pods from the API server (``Manager.api_reader``), never from
the cache: a pod a controller created a moment ago is then always counted, so a burst of
events never makes it create a replica twice (kube-controller-manager keeps
"expectations" for the same reason).
"""

from __future__ import annotations

import contextlib
import copy
from typing import Any

from reconcile.apiserver.scale import selector_string
from reconcile.errors import Conflict, NotFound
from reconcile.gvk import GroupVersionKind
from reconcile.reconciler import Request

__all__ = [
    "POD",
    "controlled_by",
    "is_active",
    "is_ready",
    "live",
    "new_pod",
    "owned_pods",
    "selector_of",
    "write_status",
]

POD = GroupVersionKind("", "v1", "Pod")


def selector_of(obj: dict[str, Any]) -> str:
    """``spec.selector`` as a label-selector string (a LabelSelector or, for RCs, a map)."""
    selector = (obj.get("spec") or {}).get("selector") or {}
    if not {"matchLabels", "matchExpressions"} & set(selector):
        selector = {"matchLabels": selector}
    return selector_string(selector)


def controlled_by(obj: dict[str, Any], owner: dict[str, Any]) -> bool:
    uid = owner["metadata"].get("uid")
    return any(
        ref.get("controller") and ref.get("uid") == uid
        for ref in obj["metadata"].get("ownerReferences") or []
    )


def owned_pods(reader: Any, owner: dict[str, Any]) -> list[dict[str, Any]]:
    """Pods ``owner`` controls, live from the API server."""
    pods = reader.list(
        POD, namespace=owner["metadata"]["namespace"], label_selector=selector_of(owner)
    )
    return [p for p in pods.get("items") or [] if controlled_by(p, owner)]


def is_active(pod: dict[str, Any]) -> bool:
    """Not finished and not being deleted: kube's "active" pod."""
    phase = (pod.get("status") or {}).get("phase")
    return phase not in ("Succeeded", "Failed") and not pod["metadata"].get("deletionTimestamp")


def is_ready(pod: dict[str, Any]) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _reference(owner: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def new_pod(
    owner: dict[str, Any], template: dict[str, Any], *, node_name: str | None = None
) -> dict[str, Any]:
    """A pod from ``template``, named after and controlled by ``owner``."""
    meta = copy.deepcopy(template.get("metadata") or {})
    pod: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "generateName": f"{owner['metadata']['name']}-",
            "namespace": owner["metadata"]["namespace"],
            "labels": meta.get("labels") or {},
            "ownerReferences": [_reference(owner)],
        },
        "spec": copy.deepcopy(template.get("spec") or {}),
    }
    if meta.get("annotations"):
        pod["metadata"]["annotations"] = meta["annotations"]
    if node_name:
        pod["spec"]["nodeName"] = node_name
    return pod


def live(reader: Any, kind: GroupVersionKind, request: Request) -> dict[str, Any] | None:
    """The object ``request`` names, or None when it is gone or being deleted (garbage
    collection then takes its dependents; a controller has nothing left to do)."""
    try:
        obj: dict[str, Any] = reader.get(kind, request.name, request.namespace)
    except NotFound:
        return None
    return None if obj["metadata"].get("deletionTimestamp") else obj


def write_status(reader: Any, obj: dict[str, Any], status: dict[str, Any]) -> None:
    """Write ``status`` unless it is already there; a conflict is left to the next event."""
    if obj.get("status") == status:
        return
    obj["status"] = status
    with contextlib.suppress(Conflict, NotFound):
        reader.status().update(obj)
