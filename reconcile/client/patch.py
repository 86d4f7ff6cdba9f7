"""Patch types and helpers to build patches from two versions of an object."""

from __future__ import annotations

from typing import Any

__all__ = [
    "APPLY_PATCH",
    "JSON_PATCH",
    "MERGE_PATCH",
    "STRATEGIC_MERGE_PATCH",
    "merge_from",
]

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"


def _diff(original: Any, modified: Any) -> Any:
    if not isinstance(original, dict) or not isinstance(modified, dict):
        return modified
    patch: dict[str, Any] = {}
    for key in original.keys() - modified.keys():
        patch[key] = None
    for key, value in modified.items():
        if key not in original:
            patch[key] = value
        elif original[key] != value:
            if isinstance(value, dict) and isinstance(original[key], dict):
                patch[key] = _diff(original[key], value)
            else:
                patch[key] = value
    return patch


def merge_from(
    original: dict[str, Any], modified: dict[str, Any], *, optimistic_lock: bool = False
) -> dict[str, Any]:
    """The JSON merge patch that turns ``original`` into ``modified`` (controller-runtime's
    ``client.MergeFrom``). With ``optimistic_lock`` it carries ``original``'s resourceVersion,
    so the server rejects it with 409 if the object changed meanwhile."""
    patch: dict[str, Any] = _diff(original, modified)
    if optimistic_lock:
        rv = (original.get("metadata") or {}).get("resourceVersion")
        patch.setdefault("metadata", {})["resourceVersion"] = rv
    return patch
