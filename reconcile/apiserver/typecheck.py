"""Type checking of built-in objects against their published schema, as Go decoding does.

kube-apiserver decodes a built-in object into its Go struct before anything else, so a
string where an ``int32`` belongs never gets stored: the write fails with the decoder's
message (``json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas
of type int32``). This module finds those mismatches in a dict, and the fields the schema
marks required (outside ``status``, which only controllers write), so the caller can
answer as kube-apiserver does: 400 for a body, 422 on ``patch`` for a patch result.

Integral floats (``2.0``, as YAML or JavaScript clients send them) are turned into ints in
place, like Go's decoder accepts them, and timestamps are normalised as Go re-encodes them:
``metav1.Time`` at second precision, ``metav1.MicroTime`` with six fractional digits, UTC.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

__all__ = ["Mismatch", "check"]

_GO_NAMES = {"string": "string", "boolean": "bool", "number": "float64", "array": "slice"}


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One field whose JSON type the Go type cannot take, or a required field left out."""

    path: str
    message: str
    required: bool = False
    value: Any = None


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, str):
        return "string"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list):
        return "array"
    return "object"


def _go_name(schema: dict[str, Any]) -> str:
    go_type = schema.get("x-kreconcile-go-type")
    if go_type:
        return str(go_type)
    kind = schema.get("type", "")
    if kind == "integer":
        return str(schema.get("format") or "int64")
    if kind == "object":
        return "map[string]interface {}"
    return _GO_NAMES.get(kind, str(kind))


def _fits(value: Any, schema: dict[str, Any]) -> bool:
    if schema.get("x-kubernetes-int-or-string"):
        return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))
    if schema.get("x-kreconcile-quantity"):
        return isinstance(value, str | int | float) and not isinstance(value, bool)
    kind = schema.get("type")
    if kind is None:
        return True
    if kind == "object":
        return isinstance(value, dict)
    if kind == "array":
        return isinstance(value, list)
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return True


_TIME_TYPES = {"v1.Time": "%Y-%m-%dT%H:%M:%SZ", "v1.MicroTime": "%Y-%m-%dT%H:%M:%S.%fZ"}


def _timestamp(value: str, layout: str) -> str | None:
    """``value`` re-encoded the way Go encodes the type, or None if it does not parse."""
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC).strftime(layout)


class _Walker:
    def __init__(self, struct: str) -> None:
        self.mismatches: list[Mismatch] = []
        self.struct = struct

    def mismatch(self, value: Any, schema: dict[str, Any], path: str) -> None:
        self.mismatches.append(
            Mismatch(
                path,
                f"json: cannot unmarshal {_json_type(value)} into Go struct field "
                f"{self.struct}.{path} of type {_go_name(schema)}",
                value=value,
            )
        )

    def walk(self, value: Any, schema: dict[str, Any], path: str, required: bool) -> Any:
        """``value`` checked (an integral float comes back as an int)."""
        if value is None:
            return None
        if schema.get("type") == "integer" and isinstance(value, float) and value.is_integer():
            value = int(value)
        if not _fits(value, schema):
            self.mismatch(value, schema, path)
            return value
        layout = _TIME_TYPES.get(schema.get("x-kreconcile-go-type", ""))
        if layout is not None and isinstance(value, str):
            normalised = _timestamp(value, layout)
            if normalised is None:
                self.mismatches.append(
                    Mismatch(
                        path,
                        f'parsing time "{value}" as "2006-01-02T15:04:05Z07:00": cannot parse',
                        value=value,
                    )
                )
                return value
            return normalised
        if isinstance(value, dict):
            self._object(value, schema, path, required)
        elif isinstance(value, list):
            items = schema.get("items")
            if isinstance(items, dict):
                for index, item in enumerate(value):
                    value[index] = self.walk(item, items, f"{path}[{index}]", required)
        return value

    def _object(
        self, value: dict[str, Any], schema: dict[str, Any], path: str, required: bool
    ) -> None:
        properties = schema.get("properties")
        additional = schema.get("additionalProperties")
        prefix = f"{path}." if path else ""
        for key, child in value.items():
            sub = properties.get(key) if properties else None
            if sub is None and isinstance(additional, dict):
                sub = additional
            if sub is not None:
                inner = required and not (not path and key in ("status", "metadata"))
                checked = self.walk(child, sub, prefix + key, inner)
                if checked is not child:
                    value[key] = checked
        if required:
            for key in schema.get("required") or ():
                if value.get(key) is None:
                    self.mismatches.append(Mismatch(prefix + key, "Required value", True))


def check(obj: dict[str, Any], schema: dict[str, Any]) -> list[Mismatch]:
    """Type mismatches (and missing required fields) of ``obj``; integral floats fixed."""
    walker = _Walker(str(schema.get("x-kreconcile-go-type", "object")).split(".")[-1])
    walker.walk(obj, schema, "", True)
    return walker.mismatches
