from __future__ import annotations

from typing import Any

import pytest

from reconcile.apiserver.auth.rbac import Attributes, RBACAuthorizer, rule_allows
from reconcile.apiserver.auth.user import UserInfo
from reconcile.apiserver.storage import Store

ALICE = UserInfo(name="alice", groups=("dev", "system:authenticated"))


def _pods(verb: str, **kw: Any) -> Attributes:
    return Attributes(user=ALICE, verb=verb, resource="pods", namespace="ns", **kw)


@pytest.mark.parametrize(
    ("rule", "attributes", "allowed"),
    [
        pytest.param({"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]},
                     _pods("get"), True, id="exact"),
        pytest.param({"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]},
                     _pods("list"), False, id="other-verb"),
        pytest.param({"verbs": ["*"], "apiGroups": [""], "resources": ["pods"]},
                     _pods("deletecollection"), True, id="any-verb"),
        pytest.param({"verbs": ["get"], "apiGroups": ["apps"], "resources": ["pods"]},
                     _pods("get"), False, id="other-group"),
        pytest.param({"verbs": ["get"], "apiGroups": ["*"], "resources": ["*"]},
                     _pods("get"), True, id="any-group-any-resource"),
        pytest.param({"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]},
                     _pods("get", subresource="status"), False, id="resource-is-not-subresource"),
        pytest.param({"verbs": ["get"], "apiGroups": [""], "resources": ["pods/status"]},
                     _pods("get", subresource="status"), True, id="subresource"),
        pytest.param({"verbs": ["get"], "apiGroups": [""], "resources": ["*/status"]},
                     _pods("get", subresource="status"), True, id="any-resource-subresource"),
        pytest.param({"verbs": ["get"], "apiGroups": [""], "resources": ["*/status"]},
                     _pods("get"), False, id="star-subresource-not-main"),
        pytest.param({"verbs": ["get"], "apiGroups": [""], "resources": ["pods"],
                      "resourceNames": ["web"]}, _pods("get", name="web"), True, id="named"),
        pytest.param({"verbs": ["get"], "apiGroups": [""], "resources": ["pods"],
                      "resourceNames": ["web"]}, _pods("get", name="db"), False, id="other-name"),
        pytest.param({"verbs": ["list"], "apiGroups": [""], "resources": ["pods"],
                      "resourceNames": ["web"]}, _pods("list"), False, id="named-never-lists"),
        pytest.param({"verbs": ["get"], "nonResourceURLs": ["/healthz"]},
                     Attributes(user=ALICE, verb="get", resource_request=False, path="/healthz"),
                     True, id="url"),
        pytest.param({"verbs": ["get"], "nonResourceURLs": ["/apis/*"]},
                     Attributes(user=ALICE, verb="get", resource_request=False,
                                path="/apis/apps/v1"), True, id="url-prefix"),
        pytest.param({"verbs": ["get"], "nonResourceURLs": ["/apis/*"]},
                     Attributes(user=ALICE, verb="get", resource_request=False, path="/api"),
                     False, id="url-other"),
        pytest.param({"verbs": ["get"], "apiGroups": ["*"], "resources": ["*"]},
                     Attributes(user=ALICE, verb="get", resource_request=False, path="/metrics"),
                     False, id="resource-rule-never-grants-urls"),
    ],
)  # fmt: skip
def test_rule_allows(rule: dict[str, Any], attributes: Attributes, allowed: bool) -> None:
    assert rule_allows(attributes, rule) is allowed


def _put(store: Store, resource: str, obj: dict[str, Any]) -> None:
    obj.setdefault("metadata", {})
    store.put(("rbac.authorization.k8s.io", resource), obj, created=True)


def _binding(
    name: str, role_kind: str, role: str, subject: dict[str, str], ns: str = ""
) -> dict[str, Any]:
    meta = {"name": name, **({"namespace": ns} if ns else {})}
    return {"metadata": meta, "roleRef": {"kind": role_kind, "name": role}, "subjects": [subject]}


def test_authorizer_follows_bindings_and_names_missing_roles() -> None:
    store = Store()
    authorizer = RBACAuthorizer(store)
    get_pods = _pods("get")
    assert not authorizer.authorize(get_pods).allowed
    _put(
        store,
        "rolebindings",
        _binding("b", "Role", "missing", {"kind": "Group", "name": "dev"}, "ns"),
    )
    refused = authorizer.authorize(get_pods)
    assert (refused.allowed, refused.reason) == (
        False, 'RBAC: role.rbac.authorization.k8s.io "missing" not found')  # fmt: skip
    _put(store, "roles", {"metadata": {"name": "missing", "namespace": "ns"},
                          "rules": [{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}]})  # fmt: skip
    allowed = authorizer.authorize(get_pods)
    assert allowed.allowed
    assert allowed.reason == 'RBAC: allowed by RoleBinding "b/ns" of Role "missing" to Group "dev"'
    assert not authorizer.authorize(_pods("get").__class__(
        user=ALICE, verb="get", resource="pods", namespace="other")).allowed  # fmt: skip


def test_service_account_subjects_default_to_the_binding_namespace() -> None:
    store = Store()
    authorizer = RBACAuthorizer(store)
    _put(store, "clusterroles", {"metadata": {"name": "reader"},
                                 "rules": [{"verbs": ["list"], "apiGroups": [""], "resources": ["pods"]}]})  # fmt: skip
    _put(store, "rolebindings", _binding("b", "ClusterRole", "reader",
                                         {"kind": "ServiceAccount", "name": "bot"}, "ns"))  # fmt: skip
    bot = UserInfo(name="system:serviceaccount:ns:bot", groups=("system:authenticated",))
    other = UserInfo(name="system:serviceaccount:other:bot", groups=("system:authenticated",))
    assert authorizer.authorize(
        Attributes(user=bot, verb="list", resource="pods", namespace="ns")
    ).allowed
    assert not authorizer.authorize(
        Attributes(user=other, verb="list", resource="pods", namespace="ns")
    ).allowed


def test_system_masters_may_do_anything_without_bindings() -> None:
    root = UserInfo(name="root", groups=("system:masters",))
    assert (
        RBACAuthorizer(Store())
        .authorize(Attributes(user=root, verb="escalate", resource="x"))
        .allowed
    )
