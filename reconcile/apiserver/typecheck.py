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


_GO_NAMES = {"string": "string", "boolean": "bool", "number": "float64", "array": "slice"}
_TIME_TYPES = {"v1.Time": "%Y-%m-%dT%H:%M:%SZ", "v1.MicroTime": "%Y-%m-%dT%H:%M:%S.%fZ"}
_ANY, _OBJECT, _ARRAY, _STRING, _BOOL, _INT, _NUMBER, _INT_OR_STRING, _QUANTITY = range(9)
_KINDS = {"object": _OBJECT, "array": _ARRAY, "string": _STRING, "boolean": _BOOL,
          "integer": _INT, "number": _NUMBER}  # fmt: skip


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


@dataclass(slots=True)
class _Node:
    """One schema node, compiled once so a check does no dictionary lookups on the schema."""

    kind: int
    go_name: str
    time_layout: str | None = None
    properties: dict[str, _Node] | None = None
    additional: _Node | None = None
    items: _Node | None = None
    required: tuple[str, ...] = ()


_COMPILED: dict[int, tuple[dict[str, Any], _Node]] = {}


def _compile(schema: dict[str, Any]) -> _Node:
    cached = _COMPILED.get(id(schema))
    if cached is not None and cached[0] is schema:
        return cached[1]
    if schema.get("x-kubernetes-int-or-string"):
        kind = _INT_OR_STRING
    elif schema.get("x-kreconcile-quantity"):
        kind = _QUANTITY
    else:
        kind = _KINDS.get(schema.get("type", ""), _ANY)
    node = _Node(
        kind,
        _go_name(schema),
        _TIME_TYPES.get(schema.get("x-kreconcile-go-type", "")),
        required=tuple(schema.get("required") or ()),
    )
    _COMPILED[id(schema)] = (schema, node)
    properties = schema.get("properties")
    if isinstance(properties, dict):
        node.properties = {name: _compile(sub) for name, sub in properties.items()}
    if isinstance(schema.get("additionalProperties"), dict):
        node.additional = _compile(schema["additionalProperties"])
    if isinstance(schema.get("items"), dict):
        node.items = _compile(schema["items"])
    return node


def _fits(value: Any, kind: int) -> bool:
    if kind == _ANY:
        return True
    if kind == _STRING:
        return isinstance(value, str)
    if kind == _OBJECT:
        return isinstance(value, dict)
    if kind == _ARRAY:
        return isinstance(value, list)
    if isinstance(value, bool):
        return kind == _BOOL
    if kind == _BOOL:
        return False
    if kind in (_INT, _INT_OR_STRING):
        return isinstance(value, int) or (kind == _INT_OR_STRING and isinstance(value, str))
    if kind == _NUMBER:
        return isinstance(value, int | float)
    return isinstance(value, str | int | float)  # quantity


def _timestamp(value: str, layout: str) -> str | None:
    """``value`` re-encoded the way Go encodes the type, or None if it does not parse."""
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC).strftime(layout)


Path = tuple[Any, ...]
"""A field path as nested (parent, key) pairs, rendered only when something is wrong."""


def _render(path: Path | None) -> str:
    parts: list[str] = []
    while path:
        path, key = path
        parts.append(f"[{key}]" if isinstance(key, int) else f".{key}")
    return "".join(reversed(parts)).lstrip(".")


class _Walker:
    def __init__(self, struct: str) -> None:
        self.mismatches: list[Mismatch] = []
        self.struct = struct

    def mismatch(self, value: Any, node: _Node, path: Path | None) -> None:
        where = _render(path)
        self.mismatches.append(
            Mismatch(
                where,
                f"json: cannot unmarshal {_json_type(value)} into Go struct field "
                f"{self.struct}.{where} of type {node.go_name}",
                value=value,
            )
        )

    def walk(self, value: Any, node: _Node, path: Path | None, required: bool) -> Any:
        """``value`` checked (an integral float comes back as an int)."""
        if value is None:
            return None
        kind = node.kind
        if kind == _INT and type(value) is float and value.is_integer():
            value = int(value)
        if not _fits(value, kind):
            self.mismatch(value, node, path)
            return value
        if kind == _STRING:
            if node.time_layout is not None:
                return self._time(value, node.time_layout, path)
            return value
        if kind == _OBJECT:
            self._object(value, node, path, required)
        elif kind == _ARRAY and node.items is not None:
            items = node.items
            for index, item in enumerate(value):
                checked = self.walk(item, items, (path, index), required)
                if checked is not item:
                    value[index] = checked
        return value

    def _time(self, value: str, layout: str, path: Path | None) -> str:
        normalised = _timestamp(value, layout)
        if normalised is None:
            self.mismatches.append(
                Mismatch(
                    _render(path),
                    f'parsing time "{value}" as "2006-01-02T15:04:05Z07:00": cannot parse',
                    value=value,
                )
            )
            return value
        return normalised

    def _object(
        self, value: dict[str, Any], node: _Node, path: Path | None, required: bool
    ) -> None:
        properties, additional = node.properties, node.additional
        for key, child in value.items():
            sub = properties.get(key) if properties else None
            if sub is None:
                sub = additional
            if sub is not None:
                inner = required and not (path is None and key in ("status", "metadata"))
                checked = self.walk(child, sub, (path, key), inner)
                if checked is not child:
                    value[key] = checked
        if required:
            for key in node.required:
                if value.get(key) is None:
                    self.mismatches.append(Mismatch(_render((path, key)), "Required value", True))


def check(obj: dict[str, Any], schema: dict[str, Any]) -> list[Mismatch]:
    """Type mismatches (and missing required fields) of ``obj``; integral floats fixed."""
    walker = _Walker(str(schema.get("x-kreconcile-go-type", "object")).split(".")[-1])
    walker.walk(obj, _compile(schema), None, True)
    return walker.mismatches
