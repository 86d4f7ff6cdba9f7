"""OpenAPI schemas of the built-in kinds, from the published Kubernetes 1.32 JSON schemas.

The ``kubernetes-validate`` package ships the JSON schemas generated from each Kubernetes
release's OpenAPI document; this module reads the 1.32 definitions file and turns each
kind's definition into the structural form this server uses: references inlined (a
recursive type such as JSONSchemaProps stops at its first repetition, as an open object),
``["integer", "null"]`` types reduced to their type, IntOrString marked
``x-kubernetes-int-or-string``, Quantity marked ``x-kreconcile-quantity`` (a string or a
number), and any object without declared properties marked
``x-kubernetes-preserve-unknown-fields`` so free-form fields are never pruned. List types
and merge keys stay, so server-side apply and strategic merge see them.

These schemas serve ``kubectl explain``, the ``fieldValidation`` unknown-field check and the
type check of every write (``typecheck.py``). The definitions file is read once per
process (~0.3 s) and each kind is converted once, on first use.
"""

from __future__ import annotations

import functools
import importlib.util
import json
from pathlib import Path
from typing import Any

__all__ = ["SCHEMA_VERSION", "definitions", "schema_for"]

SCHEMA_VERSION = "v1.32.0"
"""The Kubernetes release whose published schemas the built-in kinds follow."""
_PREFIX = "#/$defs/"
_INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
_QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
_DROP = frozenset({"x-kubernetes-group-version-kind", "oneOf"})


def _definitions_path() -> Path:
    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "the kubernetes-validate package is missing: it ships the published schemas of "
            "the built-in kinds; install kreconcile with its dependencies (pip install -e .)"
        )
    base = Path(next(iter(spec.submodule_search_locations)))
    path = base / "kubernetes-json-schema" / f"{SCHEMA_VERSION}-local" / "_definitions.json"
    if not path.is_file():
        raise RuntimeError(
            f"kubernetes-validate has no {SCHEMA_VERSION} schemas at {path}; install a "
            "version that ships them (>= 1.32.0)"
        )
    return path


@functools.cache
def definitions() -> dict[str, Any]:
    """Definition name -> JSON schema, as published."""
    document = json.loads(_definitions_path().read_text())
    defs: dict[str, Any] = document["$defs"]
    return defs


@functools.cache
def _by_gvk() -> dict[tuple[str, str, str], str]:
    index: dict[tuple[str, str, str], str] = {}
    for name, node in definitions().items():
        for gvk in node.get("x-kubernetes-group-version-kind") or []:
            key = (gvk.get("group", ""), gvk.get("version", ""), gvk.get("kind", ""))
            if not name.endswith("List"):
                index[key] = name
    return index


def _go_type(name: str) -> str:
    parts = name.split(".")
    return f"{parts[-2]}.{parts[-1]}" if len(parts) >= 2 else name


def _scalar_type(node: dict[str, Any]) -> str | None:
    kind = node.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        return kinds[0] if len(kinds) == 1 else None
    return kind if isinstance(kind, str) else None


def _convert(node: Any, seen: tuple[str, ...]) -> Any:
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith(_PREFIX):
        name = ref[len(_PREFIX) :]
        extra = {k: v for k, v in node.items() if k != "$ref"}
        if name == _INT_OR_STRING:
            return {**extra, "x-kubernetes-int-or-string": True}
        if name == _QUANTITY:
            return {**extra, "x-kreconcile-quantity": True}
        if name in seen:
            return {**extra, "type": "object", "x-kubernetes-preserve-unknown-fields": True}
        resolved = _convert({**definitions()[name], **extra}, (*seen, name))
        resolved["x-kreconcile-go-type"] = _go_type(name)
        return resolved
    converted: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROP:
            continue
        if key == "properties" and isinstance(value, dict):
            converted[key] = {prop: _convert(sub, seen) for prop, sub in value.items()}
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            converted[key] = _convert(value, seen)
        else:
            converted[key] = value
    kind = _scalar_type(node)
    if kind is None:
        converted.pop("type", None)
    else:
        converted["type"] = kind
    if converted.get("type") == "object" or "properties" in converted:
        converted["type"] = "object"
        if "properties" not in converted and not isinstance(
            converted.get("additionalProperties"), dict
        ):
            converted["x-kubernetes-preserve-unknown-fields"] = True
    elif "type" not in converted and "items" not in converted:
        converted["x-kubernetes-preserve-unknown-fields"] = True
    if converted.get("additionalProperties") is False:
        del converted["additionalProperties"]
    return converted


@functools.lru_cache(maxsize=128)
def schema_for(group: str, version: str, kind: str) -> dict[str, Any] | None:
    """The structural schema of a built-in kind, or None when 1.32 has no such kind."""
    name = _by_gvk().get((group, version, kind))
    if name is None:
        return None
    schema: dict[str, Any] = _convert({"$ref": _PREFIX + name}, ())
    schema["type"] = "object"
    return schema
