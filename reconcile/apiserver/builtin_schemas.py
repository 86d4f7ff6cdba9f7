"""OpenAPI schemas of the built-in kinds, derived from the ``kubernetes`` package's models.

The package's models carry every field of every built-in kind, with JSON names and the
upstream descriptions. Their JSON Schema is turned into the structural form this server
uses: optional fields unwrapped, references inlined (a recursive type such as
JSONSchemaProps stops at its first repetition, as an open object), and any object without
declared properties marked ``x-kubernetes-preserve-unknown-fields`` so free-form fields
(RawExtension, arbitrary JSON) are never pruned.

These schemas serve ``kubectl explain`` for built-ins and the ``fieldValidation``
unknown-field check (kube-apiserver drops unknown fields of built-in kinds; Strict rejects
them). They are built lazily, once per process, per kind: the Pod schema takes ~0.5 s.
"""

from __future__ import annotations

import functools
import importlib
from typing import Any

__all__ = ["schema_for"]

_MODELS = importlib.import_module("kubernetes.client.models")
_SPECIAL_NAMES = {
    ("", "v1", "Event"): "CoreV1Event",
    ("events.k8s.io", "v1", "Event"): "EventsV1Event",
}
_DROP = ("title", "default")


def _model_name(group: str, version: str, kind: str) -> str:
    return _SPECIAL_NAMES.get((group, version, kind)) or f"{version.capitalize()}{kind}"


def _description(node: dict[str, Any]) -> None:
    text = node.get("description")
    if isinstance(text, str):
        node["description"] = (
            text.split("\n\n    Attributes:")[0].split("\n\nAttributes:")[0].strip()
        )


def _convert(node: Any, definitions: dict[str, Any], seen: tuple[str, ...]) -> Any:
    if isinstance(node, list):
        return [_convert(item, definitions, seen) for item in node]
    if not isinstance(node, dict):
        return node
    if isinstance(node.get("$ref"), str):
        name = node["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
        resolved = dict(definitions[name])
        extra = {k: v for k, v in node.items() if k != "$ref"}
        return _convert({**resolved, **extra}, definitions, (*seen, name))
    any_of = node.get("anyOf")
    if isinstance(any_of, list):
        options = [o for o in any_of if o != {"type": "null"}]
        if len(options) == 1:
            merged = {k: v for k, v in node.items() if k != "anyOf"}
            return _convert({**options[0], **merged}, definitions, seen)
    converted = {
        k: _convert(v, definitions, seen)
        for k, v in node.items()
        if k not in _DROP and k != "properties"
    }
    if isinstance(node.get("properties"), dict):
        # A property map is names -> schemas, never a schema itself: a property may be
        # called "$ref" (JSONSchemaProps has one).
        converted["properties"] = {
            name: _convert(sub, definitions, seen) for name, sub in node["properties"].items()
        }
    _description(converted)
    is_object = converted.get("type") == "object" or "properties" in converted
    if (
        is_object
        and "properties" not in converted
        and not isinstance(converted.get("additionalProperties"), dict)
    ):
        converted["x-kubernetes-preserve-unknown-fields"] = True
    if not converted.get("type") and not any(
        k in converted for k in ("properties", "items", "x-kubernetes-preserve-unknown-fields")
    ):
        converted["x-kubernetes-preserve-unknown-fields"] = True
    if converted.get("additionalProperties") is False:
        del converted["additionalProperties"]  # closed by its properties already
    return converted


@functools.lru_cache(maxsize=64)
def schema_for(group: str, version: str, kind: str) -> dict[str, Any] | None:
    """The structural schema of a built-in kind, or None if the models do not know it."""
    model = getattr(_MODELS, _model_name(group, version, kind), None)
    if model is None or not hasattr(model, "model_json_schema"):
        return None
    raw = model.model_json_schema(by_alias=True)
    definitions = raw.pop("$defs", {})
    schema: dict[str, Any] = _convert(raw, definitions, ())
    schema["type"] = "object"
    return schema
