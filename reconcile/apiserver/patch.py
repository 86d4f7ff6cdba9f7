"""The three PATCH formats: JSON merge (RFC 7386), JSON patch (RFC 6902), strategic merge.

Strategic merge is Kubernetes' own: lists of named things (containers, env, volumes...)
merge by a key instead of being replaced, primitive lists such as ``finalizers`` are
unions, and the patch can carry directives (``$patch: delete|replace``,
``$setElementOrder/<list>``, ``$deleteFromPrimitiveList/<list>``, ``$retainKeys``). Custom
resources have no merge keys, so kube-apiserver refuses strategic patches for them (415).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from reconcile.client.patch import APPLY_PATCH, JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH

__all__ = [
    "APPLY_PATCH",
    "JSON_PATCH",
    "MERGE_PATCH",
    "STRATEGIC_MERGE_PATCH",
    "PatchError",
    "apply_patch",
    "json_merge_patch",
    "json_patch",
    "merge_key",
    "strategic_merge_patch",
]


class PatchError(Exception):
    """A patch that cannot be applied; ``code`` is the HTTP status to answer with."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def apply_patch(patch_type: str, original: dict[str, Any], body: bytes) -> dict[str, Any]:
    """The patched copy of ``original`` (never mutated)."""
    try:
        patch = json.loads(body or b"null")
    except ValueError as exc:
        raise PatchError(400, f"error decoding patch: {exc}") from exc
    if patch_type == MERGE_PATCH:
        if not isinstance(patch, dict):
            raise PatchError(400, "merge patch must be a JSON object")
        result = json_merge_patch(original, patch)
    elif patch_type == JSON_PATCH:
        if not isinstance(patch, list):
            raise PatchError(400, "json patch must be a JSON array of operations")
        result = json_patch(original, patch)
    elif patch_type == STRATEGIC_MERGE_PATCH:
        if not isinstance(patch, dict):
            raise PatchError(400, "strategic merge patch must be a JSON object")
        result = strategic_merge_patch(original, patch)
    else:
        raise PatchError(415, f"the server does not support the patch type {patch_type!r}")
    if not isinstance(result, dict):
        raise PatchError(422, "the patch did not produce a JSON object")
    return result


def json_merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge recursively, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = json_merge_patch(result.get(key), value)
    return result


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(422, f"invalid JSON pointer {path!r}: must start with '/'")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _walk(doc: Any, parts: list[str], path: str) -> Any:
    node = doc
    for part in parts:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise PatchError(422, f"the server rejected our request: path {path!r} does not exist")
    return node


def _parent(doc: Any, parts: list[str], path: str) -> tuple[Any, str]:
    return _walk(doc, parts[:-1], path), parts[-1]


def _get(doc: Any, path: str) -> Any:
    return _walk(doc, _pointer(path), path)


def _index(container: list[Any], key: str, path: str, *, allow_end: bool) -> int:
    if key == "-" and allow_end:
        return len(container)
    if not key.isdigit() or int(key) > len(container) - (0 if allow_end else 1):
        raise PatchError(
            422, f"the server rejected our request: index {key!r} out of range in {path!r}"
        )
    return int(key)


def _add(doc: Any, path: str, value: Any) -> Any:
    parts = _pointer(path)
    if not parts:
        return value
    container, key = _parent(doc, parts, path)
    if isinstance(container, dict):
        container[key] = value
    elif isinstance(container, list):
        container.insert(_index(container, key, path, allow_end=True), value)
    else:
        raise PatchError(422, f"the server rejected our request: cannot add at {path!r}")
    return doc


def _remove(doc: Any, path: str) -> tuple[Any, Any]:
    parts = _pointer(path)
    if not parts:
        raise PatchError(422, "the server rejected our request: cannot remove the whole document")
    container, key = _parent(doc, parts, path)
    if isinstance(container, dict) and key in container:
        return doc, container.pop(key)
    if isinstance(container, list):
        return doc, container.pop(_index(container, key, path, allow_end=False))
    raise PatchError(422, f"the server rejected our request: path {path!r} does not exist")


def json_patch(target: Any, operations: list[Any]) -> Any:
    """RFC 6902 operations applied in order to a copy of ``target``."""
    doc = copy.deepcopy(target)
    for operation in operations:
        if not isinstance(operation, dict) or "op" not in operation or "path" not in operation:
            raise PatchError(400, f"invalid json patch operation: {operation!r}")
        op, path = operation["op"], operation["path"]
        if op == "add":
            doc = _add(doc, path, copy.deepcopy(operation.get("value")))
        elif op == "remove":
            doc, _ = _remove(doc, path)
        elif op == "replace":
            doc, _ = _remove(doc, path)
            doc = _add(doc, path, copy.deepcopy(operation.get("value")))
        elif op == "move":
            doc, value = _remove(doc, operation.get("from", ""))
            doc = _add(doc, path, value)
        elif op == "copy":
            doc = _add(doc, path, copy.deepcopy(_get(doc, operation.get("from", ""))))
        elif op == "test":
            if _get(doc, path) != operation.get("value"):
                raise PatchError(
                    422, f"the server rejected our request: testing value {path} failed"
                )
        else:
            raise PatchError(400, f"unexpected json patch operation {op!r}")
    return doc


def _port_key(items: list[Any]) -> str:
    return (
        "containerPort"
        if any(isinstance(i, dict) and "containerPort" in i for i in items)
        else "port"
    )


_MERGE_KEYS: dict[str, str | Callable[[list[Any]], str]] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "imagePullSecrets": "name",
    "hostAliases": "ip",
    "ownerReferences": "uid",
    "conditions": "type",
    "taints": "key",
    "readinessGates": "conditionType",
    "resourceClaims": "name",
    "topologySpreadConstraints": "topologyKey",
    "ports": _port_key,
    "webhooks": "name",
}
_PRIMITIVE_MERGE = frozenset({"finalizers"})


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if not k.startswith("$")}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def strategic_merge_patch(original: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Apply a two-way strategic merge patch to a copy of ``original``."""
    return _merge_map(copy.deepcopy(original), patch)


def _merge_map(result: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    directive = patch.get("$patch")
    if directive == "replace":
        return _strip(patch)  # type: ignore[no-any-return]
    if directive == "delete":
        return {}
    for key, value in patch.items():
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            if isinstance(result.get(field), list):
                result[field] = [v for v in result[field] if v not in value]
        elif key.startswith("$"):
            continue
        elif value is None:
            result.pop(key, None)
        elif isinstance(value, dict) and isinstance(result.get(key), dict):
            merged = _merge_map(result[key], value)
            if merged == {} and value.get("$patch") == "delete":
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(value, list) and isinstance(result.get(key), list):
            result[key] = _merge_list(key, result[key], value)
        else:
            result[key] = _strip(value)
    for key, order in patch.items():
        if key.startswith("$setElementOrder/") and isinstance(order, list):
            field = key.split("/", 1)[1]
            if isinstance(result.get(field), list):
                result[field] = _reorder(field, result[field], order)
    retain = patch.get("$retainKeys")
    if isinstance(retain, list):
        for key in list(result):
            if key not in retain:
                del result[key]
    return result


def merge_key(field: str, items: list[Any]) -> str | None:
    """The strategic-merge key of a built-in list field, or None for atomic lists."""
    key = _MERGE_KEYS.get(field)
    if callable(key):
        return key(items)
    return key


def _merge_list(field: str, current: list[Any], patch: list[Any]) -> list[Any]:
    if any(isinstance(i, dict) and i.get("$patch") == "replace" for i in patch):
        return [_strip(i) for i in patch if not (isinstance(i, dict) and "$patch" in i)]
    if field in _PRIMITIVE_MERGE:
        merged = list(current)
        merged.extend(v for v in patch if v not in merged)
        return merged
    key = merge_key(field, current + patch)
    if key is None or not all(isinstance(i, dict) for i in patch):
        return [_strip(i) for i in patch]
    result = [copy.deepcopy(i) for i in current]
    for item in patch:
        index = next(
            (
                n
                for n, existing in enumerate(result)
                if isinstance(existing, dict) and existing.get(key) == item.get(key)
            ),
            None,
        )
        if item.get("$patch") == "delete":
            if index is not None:
                result.pop(index)
        elif index is None:
            result.append(_strip(item))
        else:
            result[index] = _merge_map(result[index], item)
    return result


def _reorder(field: str, items: list[Any], order: list[Any]) -> list[Any]:
    key = merge_key(field, items)
    if key is None:
        ranking = {json.dumps(v, sort_keys=True): n for n, v in enumerate(order)}
        return sorted(items, key=lambda v: ranking.get(json.dumps(v, sort_keys=True), len(order)))
    ranked = {json.dumps(o.get(key)): n for n, o in enumerate(order) if isinstance(o, dict)}
    return sorted(
        items,
        key=lambda v: ranked.get(json.dumps(v.get(key)) if isinstance(v, dict) else "", len(order)),
    )
