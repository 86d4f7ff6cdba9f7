"""Label and field selectors, parsed once per request and matched per object.

Label syntax is apimachinery's: ``a=b``, ``a==b``, ``a!=b``, ``a in (x,y)``, ``a notin (x)``,
``a`` (exists), ``!a`` (does not exist), joined by commas. Field selectors support ``=``,
``==`` and ``!=`` on the fields each kind declares (kube-apiserver rejects others with
``field label not supported``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from reconcile.apiserver.resources import ResourceInfo
from reconcile.apiserver.status import StatusError, bad_request

__all__ = ["FieldSelector", "LabelSelector", "field_value"]

_SET_RE = re.compile(r"^\s*(!?)\s*([A-Za-z0-9_./-]+)\s*(?:(notin|in)\s*\(([^)]*)\))?\s*$")
_EQ_RE = re.compile(r"^\s*([A-Za-z0-9_./-]+)\s*(==|=|!=)\s*([A-Za-z0-9_.-]*)\s*$")


def _split_top_level(text: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p for p in (p.strip() for p in parts) if p]


@dataclass(frozen=True, slots=True)
class _Requirement:
    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!"
    values: frozenset[str]

    def matches(self, labels: dict[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.op == "=":
            return present and value in self.values
        if self.op == "!=":
            return not present or value not in self.values
        if self.op == "in":
            return present and value in self.values
        if self.op == "notin":
            return not present or value not in self.values
        if self.op == "exists":
            return present
        return not present


class LabelSelector:
    """A parsed label selector; the empty selector matches everything."""

    def __init__(self, text: str | None) -> None:
        self.text = text or ""
        self._requirements = [self._parse(part) for part in _split_top_level(self.text)]

    @staticmethod
    def _parse(part: str) -> _Requirement:
        eq = _EQ_RE.match(part)
        if eq:
            key, op, value = eq.groups()
            return _Requirement(key, "!=" if op == "!=" else "=", frozenset([value]))
        match = _SET_RE.match(part)
        if not match:
            raise bad_request(f"unable to parse requirement: found '{part}', expected: selector")
        negate, key, op, values = match.groups()
        if op:
            if negate:
                raise bad_request(f"unable to parse requirement: found '{part}'")
            items = frozenset(v.strip() for v in values.split(",") if v.strip())
            return _Requirement(key, op, items)
        return _Requirement(key, "!" if negate else "exists", frozenset())

    def __bool__(self) -> bool:
        return bool(self._requirements)

    def matches(self, obj: dict[str, Any]) -> bool:
        if not self._requirements:
            return True
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return all(r.matches(labels) for r in self._requirements)


def _path(*keys: str) -> Callable[[dict[str, Any]], str]:
    def get(obj: dict[str, Any]) -> str:
        value: Any = obj
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    return get


_COMMON = {
    "metadata.name": _path("metadata", "name"),
    "metadata.namespace": _path("metadata", "namespace"),
}
_EXTRA: dict[tuple[str, str], dict[str, Callable[[dict[str, Any]], str]]] = {
    ("", "pods"): {
        "spec.nodeName": _path("spec", "nodeName"),
        "spec.restartPolicy": _path("spec", "restartPolicy"),
        "spec.schedulerName": _path("spec", "schedulerName"),
        "spec.serviceAccountName": _path("spec", "serviceAccountName"),
        "status.phase": _path("status", "phase"),
        "status.podIP": _path("status", "podIP"),
    },
    ("", "events"): {
        **{
            f"involvedObject.{f}": _path("involvedObject", f)
            for f in ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion")
        },
        "reason": _path("reason"),
        "source": _path("source", "component"),
        "type": _path("type"),
    },
    ("", "namespaces"): {"status.phase": _path("status", "phase")},
    ("", "secrets"): {"type": _path("type")},
    ("", "nodes"): {"spec.unschedulable": _path("spec", "unschedulable")},
}


def field_value(info: ResourceInfo, obj: dict[str, Any], field: str) -> str | None:
    getter = _COMMON.get(field) or _EXTRA.get((info.group, info.resource), {}).get(field)
    return getter(obj) if getter else None


class FieldSelector:
    """A parsed field selector for one resource."""

    def __init__(self, text: str | None, info: ResourceInfo) -> None:
        self.text = text or ""
        self._terms: list[tuple[Callable[[dict[str, Any]], str], bool, str]] = []
        allowed = {**_COMMON, **_EXTRA.get((info.group, info.resource), {})}
        for part in _split_top_level(self.text):
            match = _EQ_RE.match(part)
            if not match:
                raise bad_request(f"invalid selector: '{self.text}'; can't understand '{part}'")
            field, op, value = match.groups()
            getter = allowed.get(field)
            if getter is None:
                raise StatusError(
                    400,
                    "BadRequest",
                    f"field label not supported: {field}",
                )
            self._terms.append((getter, op == "!=", value))

    def __bool__(self) -> bool:
        return bool(self._terms)

    def matches(self, obj: dict[str, Any]) -> bool:
        return all((getter(obj) == value) != negate for getter, negate, value in self._terms)

    def single_name(self) -> str | None:
        """The name pinned by ``metadata.name=x`` (kubectl get NAME -w uses it)."""
        for part in _split_top_level(self.text):
            match = _EQ_RE.match(part)
            if match and match.group(1) == "metadata.name" and match.group(2) != "!=":
                return match.group(3)
        return None
