"""Structural-schema pruning, defaulting and validation for custom resources.

The order is kube-apiserver's: unknown fields are pruned (and reported, for
``fieldValidation``), nulls in non-nullable fields are dropped, defaults are applied, then
the object is validated. Every failure becomes one Status cause whose ``field`` and
``message`` read like kube-apiserver's (``spec.slots: Invalid value: 0: spec.slots in body
should be greater than or equal to 1``), so users can grep for what they know.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from typing import Any

__all__ = ["apply_defaults", "prune", "validate", "validate_structural"]

_ROOT_FIELDS = ("apiVersion", "kind", "metadata")
_TYPE_NAMES = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
}


def _go_value(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return '"null"'
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _cause(reason: str, field: str, message: str) -> dict[str, str]:
    return {"reason": reason, "message": message, "field": field}


def prune(obj: dict[str, Any], schema: dict[str, Any], *, root: bool = True) -> list[str]:
    """Remove fields the schema does not declare; return their paths (``spec.foo``)."""
    unknown: list[str] = []
    _prune(obj, schema, "", unknown, root=root)
    return unknown


def _prune(
    value: Any, schema: dict[str, Any], path: str, unknown: list[str], *, root: bool
) -> None:
    if isinstance(value, dict):
        properties = schema.get("properties")
        additional = schema.get("additionalProperties")
        preserve = schema.get("x-kubernetes-preserve-unknown-fields") is True
        embedded = schema.get("x-kubernetes-embedded-resource") is True
        for key in list(value):
            child = value[key]
            if (root or embedded) and key in _ROOT_FIELDS:
                if key == "metadata" and isinstance(child, dict) and embedded:
                    _prune_embedded_metadata(child)
                continue
            if properties is not None and key in properties:
                sub = properties[key]
                if child is None and not sub.get("nullable"):
                    del value[key]
                else:
                    _prune(child, sub, _join(path, key), unknown, root=False)
            elif isinstance(additional, dict):
                _prune(child, additional, _join(path, key), unknown, root=False)
            elif not (additional is True or preserve):
                unknown.append(_join(path, key))
                del value[key]
    elif isinstance(value, list):
        items = schema.get("items")
        if isinstance(items, dict):
            for index, item in enumerate(value):
                _prune(item, items, f"{path}[{index}]", unknown, root=False)


def _prune_embedded_metadata(metadata: dict[str, Any]) -> None:
    allowed = {"name", "namespace", "labels", "annotations", "generateName", "finalizers"}
    for key in list(metadata):
        if key not in allowed:
            del metadata[key]


def apply_defaults(value: Any, schema: dict[str, Any]) -> None:
    """Fill ``default`` values for absent properties, recursively (mutates ``value``)."""
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        for key, sub in properties.items():
            if key not in value and "default" in sub:
                value[key] = copy.deepcopy(sub["default"])
            if key in value:
                apply_defaults(value[key], sub)
        additional = schema.get("additionalProperties")
        if isinstance(additional, dict):
            for key in value:
                if key not in properties:
                    apply_defaults(value[key], additional)
    elif isinstance(value, list):
        items = schema.get("items")
        if isinstance(items, dict):
            for item in value:
                apply_defaults(item, items)


def validate(obj: dict[str, Any], schema: dict[str, Any]) -> list[dict[str, str]]:
    """Causes for every violation of ``schema`` by a custom resource (root level)."""
    causes: list[dict[str, str]] = []
    properties = schema.get("properties") or {}
    for key, sub in properties.items():
        if key in _ROOT_FIELDS:
            continue
        if key in obj:
            _validate(obj[key], sub, key, causes)
    for key in schema.get("required") or []:
        if key not in obj and key not in _ROOT_FIELDS:
            causes.append(_cause("FieldValueRequired", key, "Required value"))
    return causes


def _type_ok(value: Any, schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    if schema.get("x-kubernetes-int-or-string"):
        return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))
    if kind is None:
        return True
    if kind == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer()
        )
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    expected = _TYPE_NAMES.get(kind)
    return expected is None or isinstance(value, expected)


def _validate(value: Any, schema: dict[str, Any], path: str, causes: list[dict[str, str]]) -> None:
    if value is None:
        if not schema.get("nullable"):
            kind = schema.get("type", "object")
            causes.append(
                _cause(
                    "FieldValueTypeInvalid",
                    path,
                    f'Invalid value: "null": {path} in body must be of type {kind}: "null"',
                )
            )
        return
    if not _type_ok(value, schema):
        kind = "integer,string" if schema.get("x-kubernetes-int-or-string") else schema.get("type")
        causes.append(
            _cause(
                "FieldValueTypeInvalid",
                path,
                f"Invalid value: {_go_value(value)}: {path} in body must be of type {kind}: "
                f"{_go_value(value)}",
            )
        )
        return
    _check_enum(value, schema, path, causes)
    if isinstance(value, str):
        _check_string(value, schema, path, causes)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        _check_number(value, schema, path, causes)
    elif isinstance(value, list):
        _check_array(value, schema, path, causes)
    elif isinstance(value, dict):
        _check_object(value, schema, path, causes)


def _check_enum(
    value: Any, schema: dict[str, Any], path: str, causes: list[dict[str, str]]
) -> None:
    enum = schema.get("enum")
    if enum is not None and value not in enum:
        supported = ", ".join(_go_value(v) for v in enum)
        causes.append(
            _cause(
                "FieldValueNotSupported",
                path,
                f"Unsupported value: {_go_value(value)}: supported values: {supported}",
            )
        )


def _invalid(path: str, value: Any, what: str) -> dict[str, str]:
    return _cause(
        "FieldValueInvalid", path, f"Invalid value: {_go_value(value)}: {path} in body {what}"
    )


def _check_string(
    value: str, schema: dict[str, Any], path: str, causes: list[dict[str, str]]
) -> None:
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        causes.append(
            _cause(
                "FieldValueTooLong",
                path,
                f"Too long: may not be more than {schema['maxLength']} bytes",
            )
        )
    if "minLength" in schema and len(value) < schema["minLength"]:
        causes.append(_invalid(path, value, f"should be at least {schema['minLength']} chars long"))
    pattern = schema.get("pattern")
    if pattern is not None and re.search(pattern, value) is None:
        causes.append(_invalid(path, value, f"should match '{pattern}'"))
    fmt = schema.get("format")
    if fmt == "date-time" and not _is_datetime(value):
        causes.append(_invalid(path, value, f"must be of type date-time: {_go_value(value)}"))


def _is_datetime(value: str) -> bool:
    try:
        dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _check_number(
    value: float, schema: dict[str, Any], path: str, causes: list[dict[str, str]]
) -> None:
    if "minimum" in schema:
        limit = schema["minimum"]
        if schema.get("exclusiveMinimum") and value <= limit:
            causes.append(_invalid(path, value, f"should be greater than {limit}"))
        elif value < limit:
            causes.append(_invalid(path, value, f"should be greater than or equal to {limit}"))
    if "maximum" in schema:
        limit = schema["maximum"]
        if schema.get("exclusiveMaximum") and value >= limit:
            causes.append(_invalid(path, value, f"should be less than {limit}"))
        elif value > limit:
            causes.append(_invalid(path, value, f"should be less than or equal to {limit}"))
    if "multipleOf" in schema and schema["multipleOf"] and value % schema["multipleOf"] != 0:
        causes.append(_invalid(path, value, f"should be a multiple of {schema['multipleOf']}"))


def _check_array(
    value: list[Any], schema: dict[str, Any], path: str, causes: list[dict[str, str]]
) -> None:
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        causes.append(
            _cause(
                "FieldValueTooMany",
                path,
                f"Too many: {len(value)}: must have at most {schema['maxItems']} items",
            )
        )
    if "minItems" in schema and len(value) < schema["minItems"]:
        causes.append(
            _invalid(path, len(value), f"should have at least {schema['minItems']} items")
        )
    items = schema.get("items")
    if isinstance(items, dict):
        for index, item in enumerate(value):
            _validate(item, items, f"{path}[{index}]", causes)
    list_type = schema.get("x-kubernetes-list-type")
    if list_type == "set" or schema.get("uniqueItems"):
        seen: list[Any] = []
        for index, item in enumerate(value):
            if item in seen:
                causes.append(
                    _cause(
                        "FieldValueDuplicate",
                        f"{path}[{index}]",
                        f"Duplicate value: {_go_value(item)}",
                    )
                )
            seen.append(item)
    elif list_type == "map":
        keys = schema.get("x-kubernetes-list-map-keys") or []
        seen_keys: set[str] = set()
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                continue
            identity = json.dumps({k: item.get(k) for k in keys}, sort_keys=True)
            if identity in seen_keys:
                causes.append(
                    _cause(
                        "FieldValueDuplicate", f"{path}[{index}]", f"Duplicate value: {identity}"
                    )
                )
            seen_keys.add(identity)


def _check_object(
    value: dict[str, Any], schema: dict[str, Any], path: str, causes: list[dict[str, str]]
) -> None:
    properties = schema.get("properties") or {}
    for key in schema.get("required") or []:
        if key not in value:
            causes.append(_cause("FieldValueRequired", _join(path, key), "Required value"))
    for key, child in value.items():
        sub = properties.get(key)
        if sub is None:
            additional = schema.get("additionalProperties")
            sub = additional if isinstance(additional, dict) else None
        if sub is not None:
            _validate(child, sub, _join(path, key), causes)
    if "maxProperties" in schema and len(value) > schema["maxProperties"]:
        causes.append(
            _cause(
                "FieldValueTooMany",
                path,
                f"Too many: {len(value)}: must have at most {schema['maxProperties']} items",
            )
        )
    if "minProperties" in schema and len(value) < schema["minProperties"]:
        causes.append(
            _invalid(path, len(value), f"should have at least {schema['minProperties']} properties")
        )


def validate_structural(schema: Any, path: str) -> list[dict[str, str]]:
    """Causes for a CRD schema that is not structural (every node needs a type, ...)."""
    causes: list[dict[str, str]] = []
    _structural(schema, path, causes, root=True)
    return causes


def _structural(node: Any, path: str, causes: list[dict[str, str]], *, root: bool = False) -> None:
    if not isinstance(node, dict):
        causes.append(_cause("FieldValueInvalid", path, "Invalid value: must be an object"))
        return
    if root and node.get("type") != "object":
        causes.append(
            _cause(
                "FieldValueInvalid", f"{path}.type", "Unsupported value: must be object at the root"
            )
        )
    has_type = (
        "type" in node
        or node.get("x-kubernetes-int-or-string")
        or node.get("x-kubernetes-preserve-unknown-fields")
    )
    if not has_type:
        causes.append(
            _cause(
                "FieldValueRequired",
                f"{path}.type",
                "Required value: must not be empty for specified object fields",
            )
        )
    if "properties" in node and isinstance(node.get("additionalProperties"), dict):
        causes.append(
            _cause(
                "FieldValueForbidden",
                f"{path}.additionalProperties",
                "Forbidden: additionalProperties and properties are mutual exclusive",
            )
        )
    for key, sub in (node.get("properties") or {}).items():
        _structural(sub, f"{path}.properties[{key}]", causes)
    if isinstance(node.get("items"), dict):
        _structural(node["items"], f"{path}.items", causes)
    if isinstance(node.get("additionalProperties"), dict):
        _structural(node["additionalProperties"], f"{path}.additionalProperties", causes)
