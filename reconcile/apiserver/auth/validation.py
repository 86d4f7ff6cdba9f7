"""The shape checks kube-apiserver applies to RBAC objects before storing them.

A rule needs verbs and either API groups and resources or, in ClusterRoles only,
non-resource URLs (never both); a binding refers to a Role or ClusterRole by name in
``rbac.authorization.k8s.io`` (a ClusterRoleBinding to a ClusterRole only) and names
subjects of a known kind, a ServiceAccount with its namespace where the binding has none.
Each problem is a cause of one 422, worded as kube words it.
"""

from __future__ import annotations

import json
from typing import Any

from reconcile.apiserver.auth.rbac import RBAC_GROUP
from reconcile.apiserver.resources import ResourceInfo
from reconcile.apiserver.status import invalid

__all__ = ["validate_binding", "validate_role"]

Cause = dict[str, str]
_SUBJECT_KINDS = ("ServiceAccount", "User", "Group")


def _required(field: str, why: str) -> Cause:
    return {"reason": "FieldValueRequired", "message": f"Required value: {why}", "field": field}


def _invalid(field: str, value: Any, why: str) -> Cause:
    shown = (
        "[]string{" + ", ".join(json.dumps(v) for v in value) + "}"
        if isinstance(value, list)
        else json.dumps(value)
    )
    return {"reason": "FieldValueInvalid", "message": f"Invalid value: {shown}: {why}",
            "field": field}  # fmt: skip


def _unsupported(field: str, value: Any, supported: tuple[str, ...]) -> Cause:
    choices = ", ".join(json.dumps(s) for s in supported)
    message = f"Unsupported value: {json.dumps(value)}: supported values: {choices}"
    return {"reason": "FieldValueNotSupported", "message": message, "field": field}


def _rule_causes(rule: dict[str, Any], path: str, namespaced: bool) -> list[Cause]:
    causes = []
    if not rule.get("verbs"):
        causes.append(_required(f"{path}.verbs", "verbs must contain at least one value"))
    urls = rule.get("nonResourceURLs")
    if urls:
        if namespaced:
            why = "namespaced rules cannot apply to non-resource URLs"
            causes.append(_invalid(f"{path}.nonResourceURLs", urls, why))
        if rule.get("apiGroups") or rule.get("resources") or rule.get("resourceNames"):
            why = "rules cannot apply to both regular resources and non-resource URLs"
            causes.append(_invalid(f"{path}.nonResourceURLs", urls, why))
        return causes
    if not rule.get("apiGroups"):
        why = "resource rules must supply at least one api group"
        causes.append(_required(f"{path}.apiGroups", why))
    if not rule.get("resources"):
        why = "resource rules must supply at least one resource"
        causes.append(_required(f"{path}.resources", why))
    return causes


def validate_role(info: ResourceInfo, obj: dict[str, Any]) -> None:
    """422 for a Role or ClusterRole whose rules kube-apiserver would refuse."""
    causes = [
        cause
        for index, rule in enumerate(obj.get("rules") or [])
        for cause in _rule_causes(rule or {}, f"rules[{index}]", info.namespaced)
    ]
    if causes:
        raise invalid(info, obj["metadata"]["name"], causes)


def _needs_namespace(subject: dict[str, Any], info: ResourceInfo) -> bool:
    """A ServiceAccount subject names its namespace, unless a RoleBinding lends its own."""
    return (
        subject["kind"] == "ServiceAccount"
        and not subject.get("namespace")
        and not (info.namespaced)
    )


def validate_binding(info: ResourceInfo, obj: dict[str, Any]) -> None:
    """422 for a RoleBinding or ClusterRoleBinding kube-apiserver would refuse."""
    ref = obj.get("roleRef") or {}
    kinds = ("Role", "ClusterRole") if info.namespaced else ("ClusterRole",)
    causes = []
    if ref.get("apiGroup") != RBAC_GROUP:
        causes.append(_unsupported("roleRef.apiGroup", ref.get("apiGroup", ""), (RBAC_GROUP,)))
    if ref.get("kind") not in kinds:
        causes.append(_unsupported("roleRef.kind", ref.get("kind", ""), kinds))
    if not ref.get("name"):
        causes.append(_required("roleRef.name", ""))
    for index, subject in enumerate(obj.get("subjects") or []):
        path = f"subjects[{index}]"
        if not subject.get("name"):
            causes.append(_required(f"{path}.name", ""))
        if subject.get("kind") not in _SUBJECT_KINDS:
            causes.append(_unsupported(f"{path}.kind", subject.get("kind", ""), _SUBJECT_KINDS))
        elif _needs_namespace(subject, info):
            causes.append(_required(f"{path}.namespace", ""))
    if causes:
        raise invalid(info, obj["metadata"]["name"], causes)
