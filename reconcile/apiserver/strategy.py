"""The write strategy of built-in kinds: decode, default, validate, as kube-apiserver does.

For every create and update of a built-in object, in kube-apiserver's order:

1. decoding: unknown fields are pruned (``fieldValidation`` decides whether that is a
   warning or a 400), values whose JSON type the Go type cannot take are refused (400 for
   a body; 422 on ``patch`` for a patch result, since the patch itself decoded fine), and
   ``Secret.data`` must be base64;
2. defaulting (``defaults.py``) and, for Secrets, ``stringData`` folded into ``data``;
3. validation: required fields, semantic rules (``semantic.py``) and, on update, the
   fields that may not change (``immutable.py``), all reported together as one 422.

Objects already stored are never re-validated on read, so a rule added later never hides
an object from a list.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable
from typing import Any

from reconcile.apiserver import builtin_schemas, defaults, immutable, semantic, typecheck
from reconcile.apiserver import schema as structural
from reconcile.apiserver.resources import ResourceInfo
from reconcile.apiserver.status import invalid
from reconcile.apiserver.validation import decode_error

__all__ = ["builtin_schema", "create_status", "prepare", "unknown_fields", "validate"]

_SKIP_TYPES = frozenset({("apiextensions.k8s.io", "customresourcedefinitions")})
"""CRDs carry free-form JSON schemas; ``crds.py`` validates them in full."""


_STORED_AS = {
    ("events.k8s.io", "events"): ("", "v1", "Event"),
    ("autoscaling", "horizontalpodautoscalers"): ("autoscaling", "v2", "HorizontalPodAutoscaler"),
}
"""Resources served in several versions, checked in the version they are stored in."""


def builtin_schema(info: ResourceInfo) -> dict[str, Any] | None:
    """The published schema of the version a built-in object is stored in."""
    stored = _STORED_AS.get((info.group, info.resource))
    if stored is not None:
        return builtin_schemas.schema_for(*stored)
    return builtin_schemas.schema_for(info.group, info.version, info.kind)


def _base64_error(value: str) -> int | None:
    """The input byte at which Go's base64 decoder fails, or None when it decodes."""
    try:
        base64.b64decode(value, validate=True)
        return None
    except (binascii.Error, ValueError):
        pass
    for index, char in enumerate(value):
        if not (char.isascii() and (char.isalnum() or char in "+/=")):
            return index
        if char == "=" and value[index:].strip("=") != "":
            return index
    return max(len(value) - len(value) % 4, 0)


def _check_secret_data(info: ResourceInfo, obj: dict[str, Any]) -> None:
    for value in (obj.get("data") or {}).values():
        if isinstance(value, str):
            position = _base64_error(value)
            if position is not None:
                raise decode_error(info, f"illegal base64 data at input byte {position}")


def unknown_fields(info: ResourceInfo, unknown: list[str], mode: str, warnings: list[str]) -> None:
    if not unknown:
        return
    messages = [f'unknown field "{path}"' for path in unknown]
    if mode == "Strict":
        raise decode_error(info, "strict decoding error: " + ", ".join(messages))
    if mode == "Warn":
        warnings.extend(messages)


def _zero_status(schema: dict[str, Any], obj: dict[str, Any], *, create: bool) -> None:
    """Required integer/boolean status fields Go always serializes (``replicas: 0``)."""
    status_schema = (schema.get("properties") or {}).get("status") or {}
    required = status_schema.get("required")
    if not required or not (create or isinstance(obj.get("status"), dict)):
        return
    status = obj.setdefault("status", {})
    if not isinstance(status, dict):
        return
    for key in required:
        kind = ((status_schema.get("properties") or {}).get(key) or {}).get("type")
        if key not in status and kind in ("integer", "boolean"):
            status[key] = 0 if kind == "integer" else False


def create_status(info: ResourceInfo, obj: dict[str, Any]) -> None:
    """The status kube's create strategies leave on a new built-in object."""
    defaults.create_status(info.group, info.resource, obj)
    schema = builtin_schema(info)
    if schema is not None:
        _zero_status(schema, obj, create=True)


def prepare(
    info: ResourceInfo,
    obj: dict[str, Any],
    *,
    field_validation: str,
    warnings: list[str],
    patching: bool,
    services: Callable[[], Iterable[dict[str, Any]]],
) -> list[dict[str, str]]:
    """Decode checks and defaults for a built-in object; returns missing-field causes."""
    schema = builtin_schema(info)
    if schema is None:
        return []
    unknown_fields(info, structural.prune(obj, schema), field_validation, warnings)
    if (info.group, info.resource) in _SKIP_TYPES:
        return []
    mismatches = typecheck.check(obj, schema)
    wrong = [m for m in mismatches if not m.required]
    if wrong:
        if patching:
            raise invalid(
                info,
                obj.get("metadata", {}).get("name", ""),
                [{"reason": "FieldValueInvalid", "field": "patch",
                  "message": f"Invalid value: {json.dumps(m.value)}: {m.message}"}
                 for m in wrong],
            )  # fmt: skip
        raise decode_error(info, wrong[0].message)
    if (info.group, info.resource) == ("", "secrets"):
        _check_secret_data(info, obj)
        defaults.secret_data(obj)
    defaults.apply_defaults(info.group, info.resource, obj, services)
    _zero_status(schema, obj, create=False)
    if info.group == "events.k8s.io":
        return []  # checked against the core/v1 schema, whose required fields differ
    return [semantic.required(m.path) for m in mismatches if m.required]


def validate(
    info: ResourceInfo,
    obj: dict[str, Any],
    old: dict[str, Any] | None,
    missing: list[dict[str, str]],
) -> None:
    """422 with every semantic cause (and ``missing`` fields) of a built-in object."""
    causes = list(missing)
    causes.extend(semantic.validate(info.group, info.resource, obj))
    if old is not None:
        causes.extend(immutable.check_update(info.group, info.resource, old, obj))
    if causes:
        raise invalid(info, obj.get("metadata", {}).get("name", ""), causes)
