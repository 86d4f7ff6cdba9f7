"""One stored object, seen through each served version of its resource.

Most resources have one version and their stored JSON is served byte for byte. Where
kube-apiserver serves one store through two APIs, objects are kept with the storage
version's field names and converted on the way in and out with kube's mapping: core/v1
Events and ``events.k8s.io/v1`` Events (``involvedObject`` is ``regarding``, ``message``
is ``note``, ...), ``autoscaling/v2`` and ``autoscaling/v1`` HorizontalPodAutoscalers (the
v1 CPU target is a v2 Resource metric). An object written through either version shows
up in both.
"""

from __future__ import annotations

from typing import Any

from reconcile.apiserver.resources import ResourceInfo
from reconcile.apiserver.storage import Stored, encode

__all__ = ["from_storage", "raw_for", "to_storage"]

_EVENTS_V1_TO_CORE = {
    "regarding": "involvedObject",
    "note": "message",
    "deprecatedSource": "source",
    "deprecatedFirstTimestamp": "firstTimestamp",
    "deprecatedLastTimestamp": "lastTimestamp",
    "deprecatedCount": "count",
    "reportingController": "reportingComponent",
}
_CORE_TO_EVENTS_V1 = {core: v1 for v1, core in _EVENTS_V1_TO_CORE.items()}


def _renamed(obj: dict[str, Any], names: dict[str, str], api_version: Any) -> dict[str, Any]:
    out = {names.get(key, key): value for key, value in obj.items()}
    if api_version is not None:
        out["apiVersion"] = api_version
    return out


def _is_events_v1(info: ResourceInfo) -> bool:
    return (info.group, info.resource) == ("events.k8s.io", "events")


def _is_hpa_v1(info: ResourceInfo) -> bool:
    return (info.group, info.version, info.resource) == (
        "autoscaling",
        "v1",
        "horizontalpodautoscalers",
    )


_CPU_METRIC = "Resource"


def _hpa_v1_to_v2(obj: dict[str, Any]) -> dict[str, Any]:
    """autoscaling/v1's CPU target becomes a v2 Resource metric (kube's conversion)."""
    out = dict(obj)
    spec = dict(obj.get("spec") or {})
    target = spec.pop("targetCPUUtilizationPercentage", None)
    if target is not None:
        spec["metrics"] = [
            {
                "type": _CPU_METRIC,
                "resource": {
                    "name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": target},
                },
            }
        ]
    out["spec"] = spec
    status = dict(obj.get("status") or {})
    current = status.pop("currentCPUUtilizationPercentage", None)
    if current is not None:
        status["currentMetrics"] = [
            {
                "type": _CPU_METRIC,
                "resource": {"name": "cpu", "current": {"averageUtilization": current}},
            }
        ]
    if "status" in obj:
        out["status"] = status
    return out


def _cpu_utilization(metrics: Any, side: str) -> Any:
    for metric in metrics or []:
        resource = (metric or {}).get("resource") or {}
        if metric.get("type") == _CPU_METRIC and resource.get("name") == "cpu":
            return (resource.get(side) or {}).get("averageUtilization")
    return None


def _hpa_v2_to_v1(obj: dict[str, Any], api_version: str) -> dict[str, Any]:
    out = {**obj, "apiVersion": api_version}
    spec = {k: v for k, v in (obj.get("spec") or {}).items() if k not in ("metrics", "behavior")}
    target = _cpu_utilization((obj.get("spec") or {}).get("metrics"), "target")
    if target is not None:
        spec["targetCPUUtilizationPercentage"] = target
    out["spec"] = spec
    if "status" in obj:
        status = {
            k: v
            for k, v in (obj.get("status") or {}).items()
            if k not in ("currentMetrics", "conditions")
        }
        current = _cpu_utilization((obj.get("status") or {}).get("currentMetrics"), "current")
        if current is not None:
            status["currentCPUUtilizationPercentage"] = current
        out["status"] = status
    return out


def to_storage(info: ResourceInfo, obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` (in ``info``'s version) in the storage version of its resource.

    Field names become the storage version's; apiVersion stays, so the URL's version
    checks hold (``from_storage`` sets the served version on the way out).
    """
    if _is_events_v1(info):
        return _renamed(obj, _EVENTS_V1_TO_CORE, obj.get("apiVersion"))
    if _is_hpa_v1(info):
        return _hpa_v1_to_v2(obj)
    return obj


def from_storage(info: ResourceInfo, obj: dict[str, Any]) -> dict[str, Any]:
    """A stored object as ``info``'s version serves it."""
    if _is_events_v1(info):
        return _renamed(obj, _CORE_TO_EVENTS_V1, info.api_version)
    if _is_hpa_v1(info):
        return _hpa_v2_to_v1(obj, info.api_version)
    if obj.get("apiVersion") == info.api_version:
        return obj
    return {**obj, "apiVersion": info.api_version}


def raw_for(info: ResourceInfo, stored: Stored) -> bytes:
    """The JSON bytes of ``stored`` in ``info``'s version (the stored bytes when they match)."""
    converted = _is_events_v1(info) or _is_hpa_v1(info)
    if not converted and stored.obj.get("apiVersion") == info.api_version:
        return stored.raw
    return encode(from_storage(info, stored.obj))
