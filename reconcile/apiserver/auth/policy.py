"""The default RBAC policy every kube-apiserver starts with, and its reconciliation.

``cluster-admin`` (bound to ``system:masters``), the user-facing ``admin``, ``edit`` and
``view`` (aggregated from ``system:aggregate-to-*``, so CRDs can extend them by label),
``system:basic-user`` (self reviews), ``system:discovery`` and ``system:public-info-viewer``
(discovery and health for everyone), ``system:auth-delegator`` (TokenReview and
SubjectAccessReview) and ``system:monitoring``. Rules are kube's for the resources a
cluster serves, so manifests checked here hold on a real cluster.

At start, missing defaults are created; existing ones annotated
``rbac.authorization.kubernetes.io/autoupdate: "true"`` get back any rule or subject they
lost (kube's reconciliation adds, never removes).
"""

from __future__ import annotations

from typing import Any

from reconcile.apiserver.api import API, WriteOptions
from reconcile.apiserver.auth.aggregation import gather
from reconcile.apiserver.auth.rbac import RBAC_GROUP, Rule
from reconcile.apiserver.auth.user import AUTHENTICATED, SYSTEM_MASTERS, UNAUTHENTICATED

__all__ = ["AGGREGATE_TO", "bootstrap", "default_cluster_role_bindings", "default_cluster_roles"]

READ = ("get", "list", "watch")
WRITE = ("create", "delete", "deletecollection", "patch", "update")
AGGREGATE_TO = "rbac.authorization.k8s.io/aggregate-to-"
"""Label prefix: ``aggregate-to-view: "true"`` adds a ClusterRole's rules to ``view``."""
_AUTOUPDATE = "rbac.authorization.kubernetes.io/autoupdate"
_MANAGER = "kube-apiserver"


def _rule(verbs: tuple[str, ...], groups: tuple[str, ...], *resources: str) -> Rule:
    return {"apiGroups": list(groups), "resources": list(resources), "verbs": list(verbs)}


def _urls(*urls: str) -> Rule:
    return {"nonResourceURLs": list(urls), "verbs": ["get"]}


_VIEW = [
    _rule(READ, ("",), "configmaps", "endpoints", "persistentvolumeclaims",
          "persistentvolumeclaims/status", "pods", "replicationcontrollers",
          "replicationcontrollers/scale", "serviceaccounts", "services", "services/status"),
    _rule(READ, ("",), "bindings", "events", "limitranges", "namespaces/status", "pods/log",
          "pods/status", "replicationcontrollers/status", "resourcequotas",
          "resourcequotas/status"),
    _rule(READ, ("",), "namespaces"),
    _rule(READ, ("discovery.k8s.io",), "endpointslices"),
    _rule(READ, ("apps",), "controllerrevisions", "daemonsets", "daemonsets/status",
          "deployments", "deployments/scale", "deployments/status", "replicasets",
          "replicasets/scale", "replicasets/status", "statefulsets", "statefulsets/scale",
          "statefulsets/status"),
    _rule(READ, ("autoscaling",), "horizontalpodautoscalers", "horizontalpodautoscalers/status"),
    _rule(READ, ("batch",), "cronjobs", "cronjobs/status", "jobs", "jobs/status"),
    _rule(READ, ("policy",), "poddisruptionbudgets", "poddisruptionbudgets/status"),
    _rule(READ, ("networking.k8s.io",), "ingresses", "ingresses/status", "networkpolicies"),
]  # fmt: skip
_EDIT = [
    _rule(READ, ("",), "pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets",
          "services/proxy"),
    _rule(("impersonate",), ("",), "serviceaccounts"),
    _rule(WRITE, ("",), "pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"),
    _rule(("create",), ("",), "pods/eviction"),
    _rule(WRITE, ("",), "configmaps", "events", "persistentvolumeclaims",
          "replicationcontrollers", "replicationcontrollers/scale", "secrets", "serviceaccounts",
          "services", "services/proxy"),
    _rule(("create",), ("",), "serviceaccounts/token"),
    _rule(WRITE, ("apps",), "daemonsets", "deployments", "deployments/rollback",
          "deployments/scale", "replicasets", "replicasets/scale", "statefulsets",
          "statefulsets/scale"),
    _rule(WRITE, ("autoscaling",), "horizontalpodautoscalers"),
    _rule(WRITE, ("batch",), "cronjobs", "jobs"),
    _rule(WRITE, ("policy",), "poddisruptionbudgets"),
    _rule(WRITE, ("networking.k8s.io",), "ingresses", "networkpolicies"),
    _rule((*READ, *WRITE), ("coordination.k8s.io",), "leases"),
]  # fmt: skip
_DISCOVERY_URLS = (
    "/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*",
    "/readyz", "/version", "/version/",
)  # fmt: skip
_MONITORING_URLS = (
    "/healthz", "/healthz/*", "/livez", "/livez/*", "/metrics", "/metrics/slis", "/readyz",
    "/readyz/*",
)  # fmt: skip
_ADMIN = [
    _rule(("create",), ("authorization.k8s.io",), "localsubjectaccessreviews"),
    _rule((*READ, *WRITE), (RBAC_GROUP,), "rolebindings", "roles"),
]


def _cluster_role(
    name: str,
    rules: list[Rule] | None = None,
    *,
    aggregates: str = "",
    aggregate_to: str = "",
) -> dict[str, Any]:
    labels = {"kubernetes.io/bootstrapping": "rbac-defaults"}
    if aggregate_to:
        labels[f"{AGGREGATE_TO}{aggregate_to}"] = "true"
    role: dict[str, Any] = {
        "apiVersion": f"{RBAC_GROUP}/v1",
        "kind": "ClusterRole",
        "metadata": {"name": name, "labels": labels, "annotations": {_AUTOUPDATE: "true"}},
    }
    if aggregates:
        selector = {"matchLabels": {f"{AGGREGATE_TO}{aggregates}": "true"}}
        role["aggregationRule"] = {"clusterRoleSelectors": [selector]}
        role["rules"] = []
    else:
        role["rules"] = rules or []
    return role


def _settle(roles: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Fill the aggregated defaults' rules up front, so a fresh server writes each once."""
    ordered = sorted(roles, key=lambda r: str(r["metadata"]["name"]))
    for _ in range(len(roles)):
        changed = False
        for role in ordered:
            if "aggregationRule" in role:
                rules = gather(role["metadata"]["name"], role["aggregationRule"], ordered)
                changed = changed or rules != role["rules"]
                role["rules"] = rules
        if not changed:
            break
    return roles


def default_cluster_roles() -> list[dict[str, Any]]:
    everything = [_rule(("*",), ("*",), "*"), {"nonResourceURLs": ["*"], "verbs": ["*"]}]
    reviews = "selfsubjectaccessreviews", "selfsubjectrulesreviews"
    return _settle(
        [
            _cluster_role("cluster-admin", everything),
            _cluster_role("admin", aggregates="admin"),
            _cluster_role("edit", aggregates="edit", aggregate_to="admin"),
            _cluster_role("view", aggregates="view", aggregate_to="edit"),
            _cluster_role("system:aggregate-to-admin", _ADMIN, aggregate_to="admin"),
            _cluster_role("system:aggregate-to-edit", _EDIT, aggregate_to="edit"),
            _cluster_role("system:aggregate-to-view", _VIEW, aggregate_to="view"),
            _cluster_role(
                "system:basic-user",
                [
                    _rule(("create",), ("authorization.k8s.io",), *reviews),
                    _rule(("create",), ("authentication.k8s.io",), "selfsubjectreviews"),
                ],
            ),
            _cluster_role("system:discovery", [_urls(*_DISCOVERY_URLS)]),
            _cluster_role(
                "system:public-info-viewer",
                [_urls("/healthz", "/livez", "/readyz", "/version", "/version/")],
            ),
            _cluster_role(
                "system:auth-delegator",
                [
                    _rule(("create",), ("authentication.k8s.io",), "tokenreviews"),
                    _rule(("create",), ("authorization.k8s.io",), "subjectaccessreviews"),
                ],
            ),
            _cluster_role("system:monitoring", [_urls(*_MONITORING_URLS)]),
        ]
    )


def _binding(role: str, *groups: str) -> dict[str, Any]:
    return {
        "apiVersion": f"{RBAC_GROUP}/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {
            "name": role,
            "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
            "annotations": {_AUTOUPDATE: "true"},
        },
        "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": role},
        "subjects": [{"apiGroup": RBAC_GROUP, "kind": "Group", "name": g} for g in groups],
    }


def default_cluster_role_bindings() -> list[dict[str, Any]]:
    return [
        _binding("cluster-admin", SYSTEM_MASTERS),
        _binding("system:basic-user", AUTHENTICATED),
        _binding("system:discovery", AUTHENTICATED),
        _binding("system:public-info-viewer", AUTHENTICATED, UNAUTHENTICATED),
        _binding("system:monitoring", "system:monitoring"),
    ]


def bootstrap(api: API) -> None:
    """Create the default roles and bindings, or give auto-updated ones back what they lost."""
    for resource, objects, field in (
        ("clusterroles", default_cluster_roles(), "rules"),
        ("clusterrolebindings", default_cluster_role_bindings(), "subjects"),
    ):
        info = api.registry.lookup(RBAC_GROUP, "v1", resource)
        assert info is not None
        for obj in objects:
            name = obj["metadata"]["name"]
            stored = api.store.get((RBAC_GROUP, resource), "", name)
            options = WriteOptions(field_manager=_MANAGER)
            if stored is None:
                api.create(info, "", obj, options)
                continue
            current = stored.obj
            annotations = current["metadata"].get("annotations") or {}
            if annotations.get(_AUTOUPDATE) != "true" or "aggregationRule" in obj:
                continue
            have = list(current.get(field) or [])
            missing = [item for item in obj[field] if item not in have]
            if missing:
                updated = {**current, field: have + missing}
                api.update(info, "", name, updated, options, require_rv=False)
