"""The RBAC authorizer: kube-apiserver's rule semantics over the stored RBAC objects.

A request is allowed when the user is in ``system:masters`` (kube's privileged group, checked
first) or when some rule reaches it: the rules of every ClusterRoleBinding whose subjects
include the user, then, for a namespaced request, of every RoleBinding in that namespace.
A rule matches on verb (``*`` for all), API group, resource (``pods``, ``pods/status``,
``*/status``, ``*``), resourceNames (empty: any name) or, for non-resource requests, a URL
(``/healthz``, ``/apis/*``). A binding whose role is missing grants nothing and is named in
the reason, as kube does.

Bindings are indexed once per change of any RBAC object, and each (user, groups, namespace)
resolves to its rules once per change, so checking a request is a scan of that user's
rules, not of every binding in the cluster.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconcile.apiserver.auth.user import SYSTEM_MASTERS, UserInfo
from reconcile.apiserver.storage import Event, Store

__all__ = [
    "RBAC_GROUP",
    "Attributes",
    "Decision",
    "RBACAuthorizer",
    "Rule",
    "rule_allows",
]

RBAC_GROUP = "rbac.authorization.k8s.io"
Rule = dict[str, Any]
"""A PolicyRule as stored: verbs, apiGroups, resources, resourceNames, nonResourceURLs."""
_MEMO_SIZE = 4096


@dataclass(frozen=True, slots=True)
class Attributes:
    """What a request asks to do, as kube's ``authorizer.Attributes``."""

    user: UserInfo
    verb: str
    resource_request: bool = True
    api_group: str = ""
    api_version: str = ""
    resource: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""
    path: str = ""
    """The URL path of a non-resource request."""


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: str = ""
    """Which binding allowed it, or what went wrong while looking (kube's wording)."""


def _url_matches(rule_url: str, path: str) -> bool:
    if rule_url in ("*", path):
        return True
    return rule_url.endswith("*") and path.startswith(rule_url.rstrip("*"))


def _resource_matches(resources: Sequence[str], combined: str, subresource: str) -> bool:
    for resource in resources:
        if resource in ("*", combined):
            return True
        if subresource and resource == f"*/{subresource}":
            return True
    return False


def rule_allows(attributes: Attributes, rule: Rule) -> bool:
    """Whether one PolicyRule grants ``attributes`` (kube's ``RuleAllows``)."""
    verbs = rule.get("verbs") or ()
    if "*" not in verbs and attributes.verb not in verbs:
        return False
    if not attributes.resource_request:
        return any(_url_matches(url, attributes.path) for url in rule.get("nonResourceURLs") or ())
    groups = rule.get("apiGroups") or ()
    if "*" not in groups and attributes.api_group not in groups:
        return False
    combined = attributes.resource
    if attributes.subresource:
        combined = f"{combined}/{attributes.subresource}"
    if not _resource_matches(rule.get("resources") or (), combined, attributes.subresource):
        return False
    names = rule.get("resourceNames")
    return not names or attributes.name in names


def _subject_applies(subject: dict[str, Any], user: UserInfo, namespace: str) -> bool:
    kind = subject.get("kind")
    name = subject.get("name", "")
    if kind == "User":
        return bool(user.name == name)
    if kind == "Group":
        return name in user.groups
    if kind == "ServiceAccount":
        account_namespace = subject.get("namespace") or namespace
        return bool(account_namespace) and (
            user.name == f"system:serviceaccount:{account_namespace}:{name}"
        )
    return False


def _describe_subject(subject: dict[str, Any], namespace: str) -> str:
    kind, name = subject.get("kind", ""), subject.get("name", "")
    if kind == "ServiceAccount":
        return f'{kind} "{name}/{subject.get("namespace") or namespace}"'
    return f'{kind} "{name}"'


@dataclass(slots=True)
class _Resolved:
    """A user's grants in one namespace: (binding description, rules) plus lookup errors."""

    grants: list[tuple[str, Sequence[Rule]]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class RBACAuthorizer:
    """Answers ``authorize(attributes)`` from the store's RBAC objects; always current."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._cluster_bindings: list[dict[str, Any]] | None = None
        self._bindings: dict[str, list[dict[str, Any]]] = {}
        self._memo: dict[tuple[str, tuple[str, ...], str], _Resolved] = {}
        self.on_change: list[Callable[[], None]] = []
        """Called after any RBAC object changed (the authorizer already sees the change)."""
        store.listeners.append(self._on_event)

    def _on_event(self, event: Event) -> None:
        if event.group_resource[0] != RBAC_GROUP:
            return
        self._cluster_bindings = None
        self._memo.clear()
        for callback in list(self.on_change):
            callback()

    def authorize(self, attributes: Attributes) -> Decision:
        if SYSTEM_MASTERS in attributes.user.groups:
            return Decision(True)
        resolved = self._resolve(attributes.user, attributes.namespace)
        for source, rules in resolved.grants:
            for rule in rules:
                if rule_allows(attributes, rule):
                    return Decision(True, f"RBAC: allowed by {source}")
        return Decision(False, _aggregate(resolved.errors))

    def rules_for(self, user: UserInfo, namespace: str) -> tuple[list[Rule], list[str]]:
        """Every rule ``user`` holds in ``namespace`` ("" for cluster-wide ones only)."""
        resolved = self._resolve(user, namespace)
        return [rule for _, rules in resolved.grants for rule in rules], list(resolved.errors)

    def role_rules(self, ref: dict[str, Any], namespace: str) -> list[Rule]:
        """The rules a roleRef points at; LookupError naming the missing role."""
        rules, error = self._role_rules(ref, namespace)
        if error:
            raise LookupError(error)
        return list(rules)

    # resolution

    def _resolve(self, user: UserInfo, namespace: str) -> _Resolved:
        key = (user.name, user.groups, namespace)
        resolved = self._memo.get(key)
        if resolved is not None:
            return resolved
        if self._cluster_bindings is None:
            self._index()
        assert self._cluster_bindings is not None
        resolved = _Resolved()
        self._visit(resolved, "ClusterRoleBinding", self._cluster_bindings, user, "")
        if namespace:
            self._visit(resolved, "RoleBinding", self._bindings.get(namespace, ()), user, namespace)
        if len(self._memo) >= _MEMO_SIZE:
            self._memo.clear()
        self._memo[key] = resolved
        return resolved

    def _visit(
        self,
        resolved: _Resolved,
        kind: str,
        bindings: Iterable[dict[str, Any]],
        user: UserInfo,
        namespace: str,
    ) -> None:
        for binding in bindings:
            subject = next(
                (s for s in binding.get("subjects") or () if _subject_applies(s, user, namespace)),
                None,
            )
            if subject is None:
                continue
            ref = binding.get("roleRef") or {}
            rules, error = self._role_rules(ref, namespace)
            if error:
                resolved.errors.append(error)
                continue
            name = binding["metadata"]["name"]
            if namespace:
                name = f"{name}/{namespace}"
            source = (
                f'{kind} "{name}" of {ref.get("kind")} "{ref.get("name")}" to '
                f"{_describe_subject(subject, namespace)}"
            )
            resolved.grants.append((source, rules))

    def _role_rules(self, ref: dict[str, Any], namespace: str) -> tuple[Sequence[Rule], str]:
        kind, name = ref.get("kind"), ref.get("name", "")
        if kind == "ClusterRole":
            stored = self._store.get((RBAC_GROUP, "clusterroles"), "", name)
        elif kind == "Role":
            stored = self._store.get((RBAC_GROUP, "roles"), namespace, name)
        else:
            return (), f'unsupported role reference kind: "{kind}"'
        if stored is None:
            return (), f'{str(kind).lower()}.{RBAC_GROUP} "{name}" not found'
        return stored.obj.get("rules") or (), ""

    def _index(self) -> None:
        self._cluster_bindings = [
            s.obj for s in self._store.list_objects((RBAC_GROUP, "clusterrolebindings"))
        ]
        self._bindings = {}
        for stored in self._store.list_objects((RBAC_GROUP, "rolebindings")):
            namespace = stored.obj["metadata"].get("namespace", "")
            self._bindings.setdefault(namespace, []).append(stored.obj)


def _aggregate(errors: Sequence[str]) -> str:
    """kube's ``utilerrors.NewAggregate`` text, prefixed with ``RBAC: ``; "" for none."""
    if not errors:
        return ""
    if len(errors) == 1:
        return f"RBAC: {errors[0]}"
    return "RBAC: [" + ", ".join(errors) + "]"
