"""Label and field selectors as the API server applies them, per request and per object.

Parsing is the framework's (``reconcile.labels``, ``reconcile.fields``); what is the
server's own is which fields each kind may be selected by (kube-apiserver rejects others
with ``field label not supported``) and how they are read from a stored object. A selector
that does not parse is a 400 naming the bad requirement.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reconcile.apiserver.resources import ResourceInfo
from reconcile.apiserver.status import StatusError, bad_request
from reconcile.errors import InvalidSelector
from reconcile.fields import parse_field_selector
from reconcile.labels import parse_selector

__all__ = ["FieldSelector", "LabelSelector", "field_value"]


class LabelSelector:
    """A parsed label selector; the empty selector matches everything."""

    def __init__(self, text: str | None) -> None:
        self.text = text or ""
        try:
            self._selector = parse_selector(self.text)
        except InvalidSelector as error:
            raise bad_request(str(error)) from error

    def __bool__(self) -> bool:
        return bool(self._selector)

    def matches(self, obj: dict[str, Any]) -> bool:
        return self._selector.matches_object(obj)


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
        try:
            self._selector = parse_field_selector(self.text)
        except InvalidSelector as error:
            raise bad_request(str(error)) from error
        allowed = {**_COMMON, **_EXTRA.get((info.group, info.resource), {})}
        self._terms: list[tuple[Callable[[dict[str, Any]], str], bool, str]] = []
        for requirement in self._selector.requirements:
            getter = allowed.get(requirement.field)
            if getter is None:
                raise StatusError(
                    400, "BadRequest", f"field label not supported: {requirement.field}"
                )
            self._terms.append((getter, requirement.negate, requirement.value))

    def __bool__(self) -> bool:
        return bool(self._terms)

    def matches(self, obj: dict[str, Any]) -> bool:
        return all((getter(obj) == value) != negate for getter, negate, value in self._terms)

    def single_name(self) -> str | None:
        """The name pinned by ``metadata.name=x`` (kubectl get NAME -w uses it)."""
        return self._selector.exact("metadata.name")
