"""Which admission webhooks and policies a request concerns (kube's ``rules``,
``namespace`` and ``object`` matchers).

A rule matches on operation, API group, version, resource and scope: ``*`` is anything,
``pods`` is the pods resource itself, ``pods/status`` its status subresource, ``*/scale``
any resource's scale and ``pods/*`` pods and every subresource of it. A namespace selector
is matched against the labels of the request's namespace (for a Namespace being created
or updated, its own labels), never exempting cluster-scoped objects other than Namespaces.
An object selector is matched against the object's labels or, failing that, the old
object's, so a DELETE is matched by the object being deleted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reconcile.apiserver.auth.user import UserInfo
from reconcile.apiserver.registry import Registry
from reconcile.apiserver.resources import ResourceInfo
from reconcile.apiserver.status import StatusError
from reconcile.apiserver.storage import Store
from reconcile.errors import InvalidSelector
from reconcile.labels import selector_from_label_selector

__all__ = [
    "Attributes",
    "Equivalents",
    "namespace_matches",
    "object_matches",
    "rule_matches",
    "rules_match",
    "selector_matches",
]

_NAMESPACES = ("", "namespaces")
SCALE_KIND = ("autoscaling", "v1", "Scale")


@dataclass(kw_only=True)
class Attributes:
    """One request under admission (kube's ``admission.Attributes``)."""

    operation: str
    """CREATE, UPDATE or DELETE."""
    info: ResourceInfo
    """The resource and version the request was made in."""
    namespace: str
    name: str
    subresource: str = ""
    obj: dict[str, Any] | None = None
    """The new object, in the request's version (for ``scale``, the Scale)."""
    old: dict[str, Any] | None = None
    """The stored object, in the request's version."""
    user: UserInfo = field(default_factory=lambda: UserInfo("system:anonymous"))
    dry_run: bool = False
    options: dict[str, Any] = field(default_factory=dict)
    """CreateOptions, UpdateOptions or DeleteOptions, as sent to webhooks."""

    @property
    def kind(self) -> tuple[str, str, str]:
        """(group, version, kind) of ``obj``: the resource's, or Scale for ``/scale``."""
        if self.subresource == "scale":
            return SCALE_KIND
        return (self.info.group, self.info.version, self.info.kind)


def _contains(values: Iterable[str] | None, value: str) -> bool:
    listed = list(values or [])
    return "*" in listed or value in listed


def _resource_matches(resources: Iterable[str], resource: str, subresource: str) -> bool:
    for entry in resources:
        name, _, sub = str(entry).partition("/")
        if (name in ("*", resource)) and (sub in ("*", subresource)):
            return True
    return False


def _scope_matches(scope: str, info: ResourceInfo, namespace: str) -> bool:
    is_namespace = (info.group, info.resource) == _NAMESPACES
    if scope == "Namespaced":
        return not is_namespace and bool(namespace)
    if scope == "Cluster":
        return is_namespace or not namespace
    return True


def rule_matches(
    rule: Mapping[str, Any],
    attributes: Attributes,
    info: ResourceInfo,
    *,
    resources_key: str = "resources",
) -> bool:
    """Whether ``rule`` matches the request seen as resource version ``info``."""
    return (
        _contains(rule.get("operations"), attributes.operation)
        and _contains(rule.get("apiGroups"), info.group)
        and _contains(rule.get("apiVersions"), info.version)
        and _resource_matches(rule.get(resources_key) or [], info.resource, attributes.subresource)
        and _scope_matches(str(rule.get("scope") or "*"), info, attributes.namespace)
    )


def rules_match(
    rules: Iterable[Mapping[str, Any]], attributes: Attributes, info: ResourceInfo
) -> bool:
    return any(rule_matches(rule, attributes, info) for rule in rules)


def selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """A metav1.LabelSelector against labels; empty matches all, a bad one matches none."""
    if not selector:
        return True
    try:
        return selector_from_label_selector(selector).matches(labels)
    except InvalidSelector:
        return False


def _labels(obj: Mapping[str, Any] | None) -> dict[str, str]:
    return dict(((obj or {}).get("metadata") or {}).get("labels") or {})


def namespace_matches(
    selector: Mapping[str, Any] | None, attributes: Attributes, store: Store
) -> bool:
    """The namespace selector against the request's namespace (404 when it is missing)."""
    if not selector or not (selector.get("matchLabels") or selector.get("matchExpressions")):
        return True
    info = attributes.info
    is_namespace = (info.group, info.resource) == _NAMESPACES
    if not attributes.namespace and not is_namespace:
        return True  # cluster-scoped objects are never exempted
    if is_namespace and not attributes.subresource and attributes.operation in ("CREATE", "UPDATE"):
        return selector_matches(selector, _labels(attributes.obj))
    name = attributes.namespace or attributes.name
    stored = store.get(_NAMESPACES, "", name)
    if stored is None:
        raise StatusError(
            404, "NotFound", f'namespaces "{name}" not found', {"name": name, "kind": "namespaces"}
        )
    return selector_matches(selector, _labels(stored.obj))


def object_matches(selector: Mapping[str, Any] | None, attributes: Attributes) -> bool:
    """The object selector against the object's labels or the old object's."""
    if not selector or not (selector.get("matchLabels") or selector.get("matchExpressions")):
        return True
    return any(
        obj is not None and selector_matches(selector, _labels(obj))
        for obj in (attributes.obj, attributes.old)
    )


class Equivalents:
    """The served versions a rule may match a request through (``matchPolicy``).

    ``Exact`` matches the request's own version only; ``Equivalent`` (the default) also
    every other served version of the same resource, so a webhook registered for
    ``v1alpha1`` still sees objects written through ``v1beta1``. Cached per registry
    generation: requests ask on every write.
    """

    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        self._generation = -1
        self._cache: dict[tuple[str, str, str], list[ResourceInfo]] = {}

    def of(self, info: ResourceInfo, match_policy: str | None) -> list[ResourceInfo]:
        if match_policy == "Exact":
            return [info]
        if self._generation != self._registry.generation:
            self._cache.clear()
            self._generation = self._registry.generation
        key = (info.group, info.resource, info.version)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = [info] + [
                other
                for other in self._registry
                if (other.group, other.resource) == (info.group, info.resource)
                and other.version != info.version
            ]
        return found
