"""One stored object, seen through each served version of its resource.

Most resources have one version and their stored JSON is served byte for byte. Where
kube-apiserver serves one store through two APIs (core/v1 Events and ``events.k8s.io/v1``
Events), objects are kept with the storage version's field names and converted on the way
in and out, with kube's field mapping (``involvedObject`` is ``regarding``, ``message`` is
``note``, ...), so an Event posted through either API shows up in both.
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


def to_storage(info: ResourceInfo, obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` (in ``info``'s version) in the storage version of its resource."""
    if _is_events_v1(info):
        # Field names become core/v1's; apiVersion stays, so the URL's version checks hold.
        return _renamed(obj, _EVENTS_V1_TO_CORE, obj.get("apiVersion"))
    return obj


def from_storage(info: ResourceInfo, obj: dict[str, Any]) -> dict[str, Any]:
    """A stored object as ``info``'s version serves it."""
    if _is_events_v1(info):
        return _renamed(obj, _CORE_TO_EVENTS_V1, info.api_version)
    if obj.get("apiVersion") == info.api_version:
        return obj
    return {**obj, "apiVersion": info.api_version}


def raw_for(info: ResourceInfo, stored: Stored) -> bytes:
    """The JSON bytes of ``stored`` in ``info``'s version (the stored bytes when they match)."""
    if not _is_events_v1(info) and stored.obj.get("apiVersion") == info.api_version:
        return stored.raw
    return encode(from_storage(info, stored.obj))
