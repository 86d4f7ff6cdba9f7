"""CRD validation rules (``x-kubernetes-validations``) evaluated with CEL.

Each rule runs at the schema node that declares it, with ``self`` bound to the value there.
Rules that mention ``oldSelf`` are transition rules: they run only on update and only when
the old object has a value at the same place (list items correlate by their map keys, map
values by key), exactly when kube-apiserver runs them. A failing rule becomes a 422 cause at
the node's path (or ``fieldPath``), with the rule's ``message`` or ``messageExpression``.

On update, a rule without ``oldSelf`` is not evaluated where the value equals its
correlated old value: kube-apiserver's validation ratcheting (on by default since 1.30)
ignores errors on unchanged values, so the outcome is the same, and a write that changes
one entry of a large list map costs one entry's rules, not the whole list's.

Programs are compiled once per rule text and cached; CRD admission compiles every rule so
a syntax error rejects the CRD with the rule's location instead of failing every write.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

import celpy
from celpy.adapter import json_to_cel

__all__ = ["compile_errors", "validate"]

_ENV = celpy.Environment()
_OLD_SELF = re.compile(r"\boldSelf\b")
_REASONS = {
    "FieldValueInvalid": "Invalid value",
    "FieldValueForbidden": "Forbidden",
    "FieldValueRequired": "Required value",
    "FieldValueDuplicate": "Duplicate value",
}


@functools.lru_cache(maxsize=4096)
def _program(expression: str) -> Any:
    return _ENV.program(_ENV.compile(expression))


def compile_errors(schema: Any, path: str) -> list[dict[str, str]]:
    """Causes for every rule in ``schema`` that does not compile (CRD admission)."""
    causes: list[dict[str, str]] = []
    _compile_walk(schema, path, causes)
    return causes


def _compile_walk(node: Any, path: str, causes: list[dict[str, str]]) -> None:
    if not isinstance(node, dict):
        return
    for index, rule in enumerate(node.get("x-kubernetes-validations") or []):
        for key in ("rule", "messageExpression"):
            expression = rule.get(key) if isinstance(rule, dict) else None
            if expression is None:
                continue
            try:
                _program(str(expression))
            except Exception as exc:
                causes.append(
                    {
                        "reason": "FieldValueInvalid",
                        "field": f"{path}.x-kubernetes-validations[{index}].{key}",
                        "message": f"Invalid value: {json.dumps(expression)}: "
                        f"compilation failed: {exc}",
                    }
                )
    for name, sub in (node.get("properties") or {}).items():
        _compile_walk(sub, f"{path}.properties[{name}]", causes)
    if isinstance(node.get("items"), dict):
        _compile_walk(node["items"], f"{path}.items", causes)
    if isinstance(node.get("additionalProperties"), dict):
        _compile_walk(node["additionalProperties"], f"{path}.additionalProperties", causes)


_MISSING = object()


def validate(
    obj: dict[str, Any], schema: dict[str, Any], *, old: dict[str, Any] | None = None
) -> list[dict[str, str]]:
    """Causes for every failing rule in ``schema`` (a CRD's openAPIV3Schema)."""
    causes: list[dict[str, str]] = []
    old_root: Any = _MISSING if old is None else old
    for name, sub in (schema.get("properties") or {}).items():
        if name in ("apiVersion", "kind", "metadata") or name not in obj:
            continue
        old_value = old_root.get(name, _MISSING) if isinstance(old_root, dict) else _MISSING
        _walk(obj[name], old_value, sub, name, causes)
    _rules(obj, old_root, schema, "", causes)
    return causes


def _walk(
    value: Any, old: Any, schema: dict[str, Any], path: str, causes: list[dict[str, str]]
) -> None:
    if isinstance(value, dict):
        for name, sub in (schema.get("properties") or {}).items():
            if name in value:
                old_child = old.get(name, _MISSING) if isinstance(old, dict) else _MISSING
                _walk(value[name], old_child, sub, f"{path}.{name}", causes)
        additional = schema.get("additionalProperties")
        if isinstance(additional, dict):
            for name, child in value.items():
                old_child = old.get(name, _MISSING) if isinstance(old, dict) else _MISSING
                _walk(child, old_child, additional, f"{path}[{name}]", causes)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        items = schema["items"]
        keys = schema.get("x-kubernetes-list-map-keys") or []
        correlate = schema.get("x-kubernetes-list-type") == "map" and keys and isinstance(old, list)
        for index, item in enumerate(value):
            old_item: Any = _MISSING
            if correlate and isinstance(item, dict):
                identity = [item.get(k) for k in keys]
                old_item = next(
                    (
                        o
                        for o in old
                        if isinstance(o, dict) and [o.get(k) for k in keys] == identity
                    ),
                    _MISSING,
                )
            _walk(item, old_item, items, f"{path}[{index}]", causes)
    _rules(value, old, schema, path, causes, unchanged=old is not _MISSING and value == old)


def _type_name(schema: dict[str, Any]) -> str:
    return str(schema.get("type") or "object")


def _rules(
    value: Any,
    old: Any,
    schema: dict[str, Any],
    path: str,
    causes: list[dict[str, str]],
    *,
    unchanged: bool = False,
) -> None:
    for rule in schema.get("x-kubernetes-validations") or []:
        expression = str(rule.get("rule", ""))
        transition = bool(_OLD_SELF.search(expression))
        if transition and old is _MISSING and not rule.get("optionalOldSelf"):
            continue
        if unchanged and not transition:
            continue  # ratcheting: an unchanged value keeps whatever it was admitted with
        activation = {"self": json_to_cel(value)}
        if transition and old is not _MISSING:
            activation["oldSelf"] = json_to_cel(old)
        field = path
        if rule.get("fieldPath"):
            field = f"{path}{rule['fieldPath']}" if path else str(rule["fieldPath"]).lstrip(".")
        reason = str(rule.get("reason") or "FieldValueInvalid")
        try:
            passed = bool(_program(expression).evaluate(activation))
        except Exception as exc:
            causes.append(_cause(reason, field or "<nil>", schema, f"evaluation error: {exc}"))
            continue
        if passed:
            continue
        message = str(rule.get("message") or f"failed rule: {expression}")
        if rule.get("messageExpression"):
            try:
                message = str(_program(str(rule["messageExpression"])).evaluate(activation))
            except Exception:
                message = f"failed rule: {expression}"
        causes.append(_cause(reason, field or "<nil>", schema, message))


def _cause(reason: str, field: str, schema: dict[str, Any], message: str) -> dict[str, str]:
    label = _REASONS.get(reason, "Invalid value")
    if reason in ("FieldValueInvalid", "FieldValueDuplicate"):
        text = f'{label}: "{_type_name(schema)}": {message}'
    else:
        text = f"{label}: {message}"
    return {"reason": reason, "field": field, "message": text}
