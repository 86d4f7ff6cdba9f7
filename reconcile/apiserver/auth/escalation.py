"""Escalation prevention: nobody grants, through a role or a binding, what they do not hold.

(The same admission hooks first check the objects' shape: ``validation.py``.)

kube-apiserver's RBAC storage rules, applied as admission on Role, ClusterRole, RoleBinding
and ClusterRoleBinding writes made by a request (the server's own writes are trusted):

- ``system:masters`` may write anything;
- a role write is allowed with the ``escalate`` verb on it, or when every rule it contains
  is covered by rules the user already holds in that namespace (cluster-wide for
  ClusterRoles); setting or changing an ``aggregationRule`` needs full authority (``*`` on
  everything), because it can gather any permission;
- a binding write is allowed with the ``bind`` verb on the referenced role, or when the user
  already holds every rule of the referenced role in the binding's namespace;
- writes that only touch garbage-collection fields (owner references, finalizers) pass.

A refusal is a 403 listing the missing permissions in kube's compact form, e.g.
``{APIGroups:[""], Resources:["pods"], Verbs:["get"]}``.
"""

from __future__ import annotations

import contextvars
from collections.abc import Sequence
from typing import Any

from reconcile.apiserver.api import API
from reconcile.apiserver.auth.messages import go_quote
from reconcile.apiserver.auth.rbac import RBAC_GROUP, Attributes, RBACAuthorizer, Rule
from reconcile.apiserver.auth.user import SYSTEM_MASTERS, UserInfo
from reconcile.apiserver.auth.validation import validate_binding, validate_role
from reconcile.apiserver.resources import ResourceInfo
from reconcile.apiserver.status import StatusError, invalid

__all__ = ["CURRENT_USER", "EscalationCheck", "compact_string", "covers"]

CURRENT_USER: contextvars.ContextVar[UserInfo | None] = contextvars.ContextVar(
    "kreconcile_apiserver_user", default=None
)
"""The user of the request being served; None for the server's own writes."""
_AGGREGATION_NEEDS = "must have cluster-admin privileges to use the aggregationRule"
FULL_AUTHORITY: list[Rule] = [
    {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
    {"nonResourceURLs": ["*"], "verbs": ["*"]},
]


def _breakdown(rule: Rule) -> list[Rule]:
    """One rule per (group, resource, verb[, name]) and per (URL, verb), as kube splits them."""
    atoms: list[Rule] = []
    names = rule.get("resourceNames") or ()
    for group in rule.get("apiGroups") or ():
        for resource in rule.get("resources") or ():
            for verb in rule.get("verbs") or ():
                base = {"apiGroups": [group], "resources": [resource], "verbs": [verb]}
                atoms += [{**base, "resourceNames": [n]} for n in names] if names else [base]
    for url in rule.get("nonResourceURLs") or ():
        atoms += [{"nonResourceURLs": [url], "verbs": [verb]} for verb in rule.get("verbs") or ()]
    return atoms


def _has_all(have: Sequence[str], wanted: Sequence[str]) -> bool:
    return all(item in have for item in wanted)


def _resources_cover(have: Sequence[str], wanted: Sequence[str]) -> bool:
    if "*" in have or _has_all(have, wanted):
        return True
    for resource in wanted:
        if resource in have:
            continue
        if "/" not in resource or f"*/{resource.split('/', 1)[1]}" not in have:
            return False
    return True


def _url_covers(owner: str, url: str) -> bool:
    return owner == url or (owner.endswith("*") and url.startswith(owner.rstrip("*")))


def _rule_covers(owner: Rule, sub: Rule) -> bool:
    owner_verbs, owner_groups = owner.get("verbs") or (), owner.get("apiGroups") or ()
    owner_names, sub_names = owner.get("resourceNames") or (), sub.get("resourceNames") or ()
    owner_urls = owner.get("nonResourceURLs") or ()
    return (
        ("*" in owner_verbs or _has_all(owner_verbs, sub.get("verbs") or ()))
        and ("*" in owner_groups or _has_all(owner_groups, sub.get("apiGroups") or ()))
        and _resources_cover(owner.get("resources") or (), sub.get("resources") or ())
        and all(any(_url_covers(o, u) for o in owner_urls) for u in sub.get("nonResourceURLs", ()))
        and (not owner_names or (bool(sub_names) and _has_all(owner_names, sub_names)))
    )


def covers(owner: Sequence[Rule], servant: Sequence[Rule]) -> tuple[bool, list[Rule]]:
    """Whether ``owner`` rules grant everything ``servant`` rules do, and what is missing."""
    missing = [
        atom
        for rule in servant
        for atom in _breakdown(rule)
        if not any(_rule_covers(held, atom) for held in owner)
    ]
    return not missing, missing


def _compact(rules: list[Rule]) -> list[Rule]:
    """Merge single group/resource rules that differ only in verbs (kube's CompactRules)."""
    simple: dict[tuple[str, str, str], Rule] = {}
    compacted: list[Rule] = []
    for rule in rules:
        names = rule.get("resourceNames") or []
        groups, resources = rule.get("apiGroups") or [], rule.get("resources") or []
        if len(names) > 1 or rule.get("nonResourceURLs") or len(groups) != 1 or len(resources) != 1:
            compacted.append(rule)
            continue
        key = (groups[0], resources[0], names[0] if names else "")
        if key in simple:
            verbs = simple[key]["verbs"]
            verbs += [v for v in rule.get("verbs") or () if v not in verbs]
        else:
            simple[key] = {**rule, "verbs": list(rule.get("verbs") or ())}
    return compacted + list(simple.values())


def compact_string(rule: Rule) -> str:
    """``{APIGroups:["apps"], Resources:["deployments"], Verbs:["get" "list"]}``."""
    parts = [
        f"{label}:{go_quote(rule[key])}"
        for label, key in (
            ("APIGroups", "apiGroups"),
            ("Resources", "resources"),
            ("NonResourceURLs", "nonResourceURLs"),
            ("ResourceNames", "resourceNames"),
            ("Verbs", "verbs"),
        )
        if rule.get(key)
    ]
    return "{" + ", ".join(parts) + "}"


def _forbidden(resource: str, name: str, why: str) -> StatusError:
    return StatusError(
        403,
        "Forbidden",
        f'{resource}.{RBAC_GROUP} "{name}" is forbidden: {why}',
        {"name": name, "group": RBAC_GROUP, "kind": resource},
    )


def _rbac_attributes(
    user: UserInfo, verb: str, resource: str, namespace: str, name: str
) -> Attributes:
    """The special RBAC verbs (``escalate``, ``bind``) on one role, in any API version."""
    return Attributes(
        user=user,
        verb=verb,
        api_group=RBAC_GROUP,
        api_version="*",
        resource=resource,
        namespace=namespace,
        name=name,
    )


def _same(obj: dict[str, Any], old: dict[str, Any], fields: Sequence[str]) -> bool:
    """Only garbage-collection fields changed: everything that grants is as it was."""
    meta, old_meta = obj.get("metadata") or {}, old.get("metadata") or {}
    return all(obj.get(f) == old.get(f) for f in fields) and all(
        (meta.get(k) or {}) == (old_meta.get(k) or {}) for k in ("labels", "annotations")
    )


def _requester(
    obj: dict[str, Any], old: dict[str, Any] | None, fields: Sequence[str]
) -> UserInfo | None:
    """The user whose write needs checking: None for the server's own writes, for
    ``system:masters``, and for updates that leave every granting field as it was."""
    user = CURRENT_USER.get()
    if user is None or SYSTEM_MASTERS in user.groups:
        return None
    if old is not None and _same(obj, old, fields):
        return None
    return user


class EscalationCheck:
    """Admission hooks for the four RBAC kinds; install with ``install(api)``."""

    def __init__(self, authorizer: RBACAuthorizer) -> None:
        self._authorizer = authorizer

    def install(self, api: API) -> None:
        for resource in ("roles", "clusterroles", "rolebindings", "clusterrolebindings"):
            info = api.registry.lookup(RBAC_GROUP, "v1", resource)
            assert info is not None
            hook = self._binding_hook if resource.endswith("bindings") else self._role_hook
            api.admission[(RBAC_GROUP, resource)] = hook(resource, info)

    def _role_hook(self, resource: str, info: ResourceInfo) -> Any:
        def admit(obj: dict[str, Any], old: dict[str, Any] | None) -> None:
            validate_role(info, obj)
            user = _requester(obj, old, ("rules", "aggregationRule"))
            if user is None:
                return
            namespace = obj["metadata"].get("namespace", "")
            name = obj["metadata"]["name"]
            escalate = _rbac_attributes(user, "escalate", resource, namespace, name)
            if self._authorizer.authorize(escalate).allowed:
                return
            self._confirm(user, namespace, obj.get("rules") or [], resource, name)
            aggregation = obj.get("aggregationRule")
            if aggregation and (old is None or old.get("aggregationRule") != aggregation):
                held, _ = self._authorizer.rules_for(user, namespace)
                if not covers(held, FULL_AUTHORITY)[0]:
                    raise _forbidden(resource, name, _AGGREGATION_NEEDS)

        return admit

    def _binding_hook(self, resource: str, info: ResourceInfo) -> Any:
        def admit(obj: dict[str, Any], old: dict[str, Any] | None) -> None:
            validate_binding(info, obj)
            name = obj["metadata"]["name"]
            ref = obj.get("roleRef") or {}
            if old is not None and old.get("roleRef") != ref:
                cause = {
                    "reason": "FieldValueInvalid",
                    "message": f"Invalid value: {_go_struct(ref)}: cannot change roleRef",
                    "field": "roleRef",
                }
                raise invalid(info, name, [cause])
            user = _requester(obj, old, ("roleRef", "subjects"))
            if user is None:
                return
            namespace = obj["metadata"].get("namespace", "")
            kind = "roles" if ref.get("kind") == "Role" else "clusterroles"
            bind = _rbac_attributes(user, "bind", kind, namespace, ref.get("name", ""))
            if self._authorizer.authorize(bind).allowed:
                return
            try:
                rules = self._authorizer.role_rules(ref, namespace)
            except LookupError as exc:
                raise _forbidden(resource, name, str(exc)) from exc
            self._confirm(user, namespace, rules, resource, name)

        return admit

    def _confirm(
        self, user: UserInfo, namespace: str, rules: Sequence[Rule], resource: str, name: str
    ) -> None:
        held, errors = self._authorizer.rules_for(user, namespace)
        ok, missing = covers(held, rules)
        if ok:
            return
        lines = sorted({compact_string(rule) for rule in _compact(missing)})
        why = (
            f'user "{user.name}" (groups={go_quote(user.groups)}) is attempting to grant RBAC '
            "permissions not currently held:\n" + "\n".join(lines)
        )
        if errors:
            why += f"; resolution errors: [{' '.join(errors)}]"
        raise _forbidden(resource, name, why)


def _go_struct(ref: dict[str, Any]) -> str:
    """A RoleRef as Go's ``%v`` prints the struct: ``{rbac.authorization.k8s.io Role name}``."""
    return "{" + " ".join(str(ref.get(k, "")) for k in ("apiGroup", "kind", "name")) + "}"
