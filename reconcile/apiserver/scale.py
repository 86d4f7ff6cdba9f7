"""The ``/scale`` subresource: an autoscaling/v1 Scale view of any object that declares one.

Built-in workloads and CRDs with ``subresources.scale`` name where their replica counts and
selector live (JSON paths); reading builds a Scale from those paths, writing sets only the
spec replicas path, so ``kubectl scale`` and HPAs never touch anything else.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from reconcile.apiserver.printers import count
from reconcile.apiserver.resources import ResourceInfo
from reconcile.apiserver.status import bad_request
from reconcile.apiserver.table import jsonpath

if TYPE_CHECKING:
    from reconcile.apiserver.api import API, WriteOptions

__all__ = ["selector_string", "to_scale", "update_scale", "with_replicas"]


def selector_string(selector: dict[str, Any]) -> str:
    """A LabelSelector in the string form of ``kubectl get -l`` (Scale's status.selector)."""
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for requirement in selector.get("matchExpressions") or []:
        key, operator = requirement.get("key", ""), requirement.get("operator", "")
        values = ",".join(sorted(requirement.get("values") or []))
        if operator == "In":
            parts.append(f"{key} in ({values})")
        elif operator == "NotIn":
            parts.append(f"{key} notin ({values})")
        elif operator == "Exists":
            parts.append(key)
        elif operator == "DoesNotExist":
            parts.append(f"!{key}")
    return ",".join(parts)


_SCALE_META = ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")


def to_scale(info: ResourceInfo, obj: dict[str, Any]) -> dict[str, Any]:
    """The Scale object of ``obj``."""
    assert info.scale is not None
    spec = jsonpath(info.scale.spec_replicas_path, obj)
    status = jsonpath(info.scale.status_replicas_path, obj)
    scale: dict[str, Any] = {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {k: obj["metadata"][k] for k in _SCALE_META if k in obj["metadata"]},
        "spec": {"replicas": count(spec[0]) if spec else 0},
        "status": {"replicas": count(status[0]) if status else 0},
    }
    if info.scale.label_selector_path:
        selector = jsonpath(info.scale.label_selector_path, obj)
        if selector:
            value = selector[0]
            if isinstance(value, dict):
                plain = not {"matchLabels", "matchExpressions"} & set(value)
                value = selector_string({"matchLabels": value} if plain else value)
            scale["status"]["selector"] = value
    return scale


def with_replicas(info: ResourceInfo, obj: dict[str, Any], scale: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``obj`` with the Scale's ``spec.replicas`` written at the spec replicas path."""
    assert info.scale is not None
    replicas = (scale.get("spec") or {}).get("replicas")
    if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
        raise bad_request("spec.replicas must be a non-negative integer")
    new = copy.deepcopy(obj)
    node = new
    parts = info.scale.spec_replicas_path.lstrip(".").split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = replicas
    requested = (scale.get("metadata") or {}).get("resourceVersion")
    new["metadata"]["resourceVersion"] = requested or obj["metadata"]["resourceVersion"]
    return new


def update_scale(
    api: API,
    info: ResourceInfo,
    namespace: str,
    name: str,
    scale: dict[str, Any],
    options: WriteOptions,
) -> dict[str, Any]:
    """Write a Scale's replicas into the object; return the object's new Scale."""
    current = api.get_stored(info, namespace, name)
    new = with_replicas(info, current.obj, scale)
    stored = api.update(info, namespace, name, new, options, require_rv=False)
    return to_scale(info, stored.obj)
