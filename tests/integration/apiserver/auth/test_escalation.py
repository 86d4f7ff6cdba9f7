"""Nobody grants what they do not hold: binding and role writes are checked like kube's."""

from __future__ import annotations

import pytest
import yaml

from reconcile.client import Client
from tests.conftest import Kubectl
from tests.integration.apiserver.auth.conftest import binding, namespace, role, user

RBAC = "rbac.authorization.k8s.io"


@pytest.fixture
def dana(admin: Client, request: pytest.FixtureRequest) -> str:
    """User ``dana`` may read and write RoleBindings and Roles in her namespace, nothing else."""
    words = request.node.name.removeprefix("test_").split("_")[:4]
    ns = namespace(admin, "esc-" + "-".join(words))
    rbac_rule = {"apiGroups": [RBAC], "resources": ["rolebindings", "roles"],
                 "verbs": ["get", "list", "create", "update", "patch", "delete"]}  # fmt: skip
    admin.create(role(ns, "binder", [rbac_rule]))
    admin.create(binding(ns, "dana", "Role", "binder", user("dana")))
    return ns


def _create(kubectl: Kubectl, ns: str, manifest: dict[str, object]) -> str:
    result = kubectl.run("create", "-n", ns, "--as", "dana", "-f", "-",
                         input=yaml.safe_dump(manifest), check=False)  # fmt: skip
    return result.stdout + result.stderr


def test_binding_a_role_needs_its_permissions_or_bind(
    admin: Client, kubectl: Kubectl, dana: str
) -> None:
    grant = binding(dana, "grant-view", "ClusterRole", "view", user("erin"))
    refused = _create(kubectl, dana, grant)
    assert (
        'rolebindings.rbac.authorization.k8s.io "grant-view" is forbidden: user "dana" '
        '(groups=["system:authenticated"]) is attempting to grant RBAC permissions not '
        "currently held:\n"
    ) in refused
    assert '{APIGroups:[""], Resources:["configmaps"], Verbs:["get" "list" "watch"]}' in refused
    admin.create(
        {
            "apiVersion": f"{RBAC}/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "bind-view"},
            "rules": [{"apiGroups": [RBAC], "resources": ["clusterroles"], "verbs": ["bind"],
                       "resourceNames": ["view"]}],
        }
    )  # fmt: skip
    admin.create(binding(dana, "dana-binds-view", "ClusterRole", "bind-view", user("dana")))
    assert "rolebinding.rbac.authorization.k8s.io/grant-view created" in _create(
        kubectl, dana, grant
    )


def test_binding_permissions_already_held_is_allowed(kubectl: Kubectl, dana: str) -> None:
    mine = binding(dana, "share-binder", "Role", "binder", user("frank"))
    assert "rolebinding.rbac.authorization.k8s.io/share-binder created" in _create(
        kubectl, dana, mine
    )


def test_role_may_only_hold_what_its_author_holds(kubectl: Kubectl, dana: str) -> None:
    held = role(dana, "narrower", [{"apiGroups": [RBAC], "resources": ["roles"],
                                    "verbs": ["get"]}])  # fmt: skip
    assert "role.rbac.authorization.k8s.io/narrower created" in _create(kubectl, dana, held)
    wider = role(dana, "secrets", [{"apiGroups": [""], "resources": ["secrets"],
                                    "verbs": ["get"], "resourceNames": ["db"]}])  # fmt: skip
    assert (
        'roles.rbac.authorization.k8s.io "secrets" is forbidden: user "dana" '
        '(groups=["system:authenticated"]) is attempting to grant RBAC permissions not '
        'currently held:\n{APIGroups:[""], Resources:["secrets"], ResourceNames:["db"], '
        'Verbs:["get"]}'
    ) in _create(kubectl, dana, wider)


def test_aggregation_rule_needs_full_authority(admin: Client, kubectl: Kubectl) -> None:
    admin.create(
        {
            "apiVersion": f"{RBAC}/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "role-writer"},
            "rules": [{"apiGroups": [RBAC], "resources": ["clusterroles"], "verbs": ["create"]}],
        }
    )
    admin.create(binding(None, "gus-writes-roles", "ClusterRole", "role-writer", user("gus")))
    gatherer = {
        "apiVersion": f"{RBAC}/v1",
        "kind": "ClusterRole",
        "metadata": {"name": "gather-everything"},
        "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"any": "thing"}}]},
    }
    result = kubectl.run("create", "--as", "gus", "-f", "-", input=yaml.safe_dump(gatherer),
                         check=False)  # fmt: skip
    assert (
        'clusterroles.rbac.authorization.k8s.io "gather-everything" is forbidden: must have '
        "cluster-admin privileges to use the aggregationRule"
    ) in result.stderr
