"""RFC 6902 JSON patches between two JSON documents: what a defaulter changed.

A mutating webhook answers with a JSON patch, not with the object; the patch is computed
from the object as received and as the defaulter left it, as controller-runtime's
``PatchResponseFromRaw`` does. Objects are diffed key by key, so a patch touches only the
fields that changed; lists are diffed index by index while their lengths match (a defaulted
field inside one container is one ``add``), and replaced whole when they do not (a shorter
patch than a run of removes, and never order-dependent).
"""

from __future__ import annotations

from typing import Any

__all__ = ["create_patch", "escape"]


def escape(token: str) -> str:
    """One JSON pointer token: ``~`` is ``~0`` and ``/`` is ``~1`` (RFC 6901)."""
    return token.replace("~", "~0").replace("/", "~1")


def create_patch(original: Any, current: Any) -> list[dict[str, Any]]:
    """Operations that turn ``original`` into ``current``; empty when they are equal."""
    operations: list[dict[str, Any]] = []
    _diff(original, current, "", operations)
    return operations


def _same(a: Any, b: Any) -> bool:
    """JSON equality: ``1 == True`` in Python, but not in JSON."""
    return type(a) is type(b) and a == b


def _diff(original: Any, current: Any, path: str, out: list[dict[str, Any]]) -> None:
    if isinstance(original, dict) and isinstance(current, dict):
        for key, value in original.items():
            child = f"{path}/{escape(key)}"
            if key not in current:
                out.append({"op": "remove", "path": child})
            elif not _same(value, current[key]):
                _diff(value, current[key], child, out)
        for key, value in current.items():
            if key not in original:
                out.append({"op": "add", "path": f"{path}/{escape(key)}", "value": value})
        return
    if isinstance(original, list) and isinstance(current, list) and len(original) == len(current):
        for index, (before, after) in enumerate(zip(original, current, strict=True)):
            if not _same(before, after):
                _diff(before, after, f"{path}/{index}", out)
        return
    if not _same(original, current):
        out.append({"op": "replace", "path": path, "value": current})
