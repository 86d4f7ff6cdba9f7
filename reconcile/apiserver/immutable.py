"""Update rules of built-in kinds: the fields kube-apiserver refuses to change.

A Pod's spec is fixed once created except for images, ``activeDeadlineSeconds``, added
tolerations and ``terminationGracePeriodSeconds``; workload selectors, a Job's template,
a Service's cluster IP and the contents of ConfigMaps/Secrets marked ``immutable`` never
change. Each refusal is a cause with kube-apiserver's wording. ``carry_allocations`` first
copies what the server allocated (a Service's cluster IPs and node ports) into an update
that left them out, as kube-apiserver does, so a PUT of a hand-written manifest works.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["carry_allocations", "check_update"]

Cause = dict[str, str]
_IMMUTABLE = "field is immutable"
_POD_UPDATE = (
    "pod updates may not change fields other than `spec.containers[*].image`,"
    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only "
    "additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be "
    "set to 1 if it was previously negative)"
)


def _cause(field: str, value: Any, detail: str) -> Cause:
    shown = json.dumps(value, separators=(",", ":")) if not isinstance(value, str) else value
    if isinstance(value, str):
        shown = f'"{value}"'
    return {
        "reason": "FieldValueInvalid",
        "message": f"Invalid value: {shown}: {detail}",
        "field": field,
    }


def _get(obj: dict[str, Any], *path: str) -> Any:
    node: Any = obj
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def _fixed(old: dict[str, Any], new: dict[str, Any], *path: str) -> Iterator[Cause]:
    before, after = _get(old, *path), _get(new, *path)
    if before != after:
        yield _cause(".".join(path), after, _IMMUTABLE)


def _same_as(view: dict[str, Any], old: dict[str, Any], key: str) -> None:
    if key in old:
        view[key] = old[key]
    else:
        view.pop(key, None)


def _mutable_pod_view(spec: dict[str, Any], old_spec: dict[str, Any]) -> dict[str, Any]:
    """``spec`` with every field a pod update may change reset to ``old_spec``'s value."""
    view = copy.deepcopy(spec)
    for key in ("containers", "initContainers"):
        olds = old_spec.get(key) or []
        for index, container in enumerate(view.get(key) or []):
            if isinstance(container, dict) and index < len(olds):
                _same_as(container, olds[index], "image")
    _same_as(view, old_spec, "activeDeadlineSeconds")
    _same_as(view, old_spec, "terminationGracePeriodSeconds")
    old_tolerations = old_spec.get("tolerations") or []
    if (view.get("tolerations") or [])[: len(old_tolerations)] == old_tolerations:
        _same_as(view, old_spec, "tolerations")
    if not old_spec.get("nodeName"):
        _same_as(view, old_spec, "nodeName")  # binding a pod sets it once
    return view


def _pod(old: dict[str, Any], new: dict[str, Any]) -> Iterator[Cause]:
    old_spec, spec = old.get("spec") or {}, new.get("spec") or {}
    if _mutable_pod_view(spec, old_spec) != old_spec:
        yield {"reason": "FieldValueForbidden", "message": f"Forbidden: {_POD_UPDATE}",
               "field": "spec"}  # fmt: skip


def _selector(old: dict[str, Any], new: dict[str, Any]) -> Iterator[Cause]:
    yield from _fixed(old, new, "spec", "selector")


def _job(old: dict[str, Any], new: dict[str, Any]) -> Iterator[Cause]:
    yield from _fixed(old, new, "spec", "selector")
    yield from _fixed(old, new, "spec", "completions")
    yield from _fixed(old, new, "spec", "completionMode")
    old_template = copy.deepcopy(_get(old, "spec", "template") or {})
    new_template = copy.deepcopy(_get(new, "spec", "template") or {})
    for template in (old_template, new_template):
        template.get("spec", {}).pop("schedulingGates", None)
    if old_template != new_template:
        yield _cause("spec.template", new_template, _IMMUTABLE)


def _data(old: dict[str, Any], new: dict[str, Any]) -> Iterator[Cause]:
    if old.get("immutable") is not True:
        return
    if new.get("immutable") is not True:
        yield {
            "reason": "FieldValueForbidden",
            "message": "Forbidden: field is immutable when `immutable` is set",
            "field": "immutable",
        }
    for field in ("data", "binaryData"):
        if (old.get(field) or {}) != (new.get(field) or {}):
            yield {
                "reason": "FieldValueForbidden",
                "message": "Forbidden: field is immutable when `immutable` is set",
                "field": field,
            }


def _secret(old: dict[str, Any], new: dict[str, Any]) -> Iterator[Cause]:
    yield from _fixed(old, new, "type")
    yield from _data(old, new)


def _service(old: dict[str, Any], new: dict[str, Any]) -> Iterator[Cause]:
    old_type, new_type = _get(old, "spec", "type"), _get(new, "spec", "type")
    if "ExternalName" not in (old_type, new_type):
        yield from _fixed(old, new, "spec", "clusterIP")


_RULES: dict[tuple[str, str], Callable[[dict[str, Any], dict[str, Any]], Iterator[Cause]]] = {
    ("", "pods"): _pod,
    ("", "configmaps"): _data,
    ("", "secrets"): _secret,
    ("", "services"): _service,
    ("apps", "deployments"): _selector,
    ("apps", "replicasets"): _selector,
    ("apps", "daemonsets"): _selector,
    ("apps", "statefulsets"): _selector,
    ("batch", "jobs"): _job,
}


def check_update(
    group: str, resource: str, old: dict[str, Any], new: dict[str, Any]
) -> list[Cause]:
    """Causes for every field ``new`` changes that kube-apiserver keeps fixed."""
    rule = _RULES.get((group, resource))
    return list(rule(old, new)) if rule is not None else []


def carry_allocations(group: str, resource: str, old: dict[str, Any], new: dict[str, Any]) -> None:
    """Copy a Service's allocated cluster IPs and node ports into an update that omits them."""
    if (group, resource) != ("", "services"):
        return
    old_spec, spec = old.get("spec") or {}, new.get("spec")
    if not isinstance(spec, dict) or spec.get("type", "ClusterIP") == "ExternalName":
        return
    for key in ("clusterIP", "clusterIPs"):
        if not spec.get(key) and old_spec.get(key):
            spec[key] = copy.deepcopy(old_spec[key])
    old_ports = {
        (p.get("port"), p.get("protocol", "TCP")): p.get("nodePort")
        for p in old_spec.get("ports") or []
        if isinstance(p, dict)
    }
    for port in spec.get("ports") or []:
        if isinstance(port, dict) and not port.get("nodePort"):
            node_port = old_ports.get((port.get("port"), port.get("protocol", "TCP")))
            if node_port:
                port["nodePort"] = node_port
