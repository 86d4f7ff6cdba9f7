"""RBAC decides: kube's 403 wording, bindings that take effect at once, ``kubectl auth
can-i`` (with subresources, resourceNames, ``--list`` and ``--as``), impersonation,
aggregated ClusterRoles and watches that end when their permission goes."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import yaml

from reconcile.apiserver import APIServer
from reconcile.client import Client, RestConfig
from reconcile.errors import Forbidden
from reconcile.gvk import GroupVersionKind
from tests.conftest import Kubectl
from tests.integration.apiserver.auth.conftest import (
    binding,
    kubectl_with_token,
    namespace,
    role,
    service_account,
    service_account_token,
    user,
)
from tests.waiting import wait_for

CONFIGMAP = GroupVersionKind("", "v1", "ConfigMap")
CAN_I_NS = "authz-can-i"


def test_forbidden_until_a_role_binding_is_applied(
    apiserver: APIServer, admin: Client, kubectl: Kubectl, tmp_path: Path
) -> None:
    ns = namespace(admin, "authz-bind")
    reader = kubectl_with_token(apiserver, tmp_path, service_account_token(admin, ns, "reader"))
    refused = reader.run("get", "pods", "-n", ns, check=False)
    assert refused.stderr.strip() == (
        f'Error from server (Forbidden): pods is forbidden: User "system:serviceaccount:{ns}:'
        f'reader" cannot list resource "pods" in API group "" in the namespace "{ns}"'
    )
    manifests = [
        role(ns, "pod-reader", [{"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}]),
        binding(ns, "reader-reads", "Role", "pod-reader", service_account(ns, "reader")),
    ]
    kubectl("create", "-f", "-", input=yaml.safe_dump_all(manifests))
    assert "No resources found" in reader.run("get", "pods", "-n", ns).stderr


@pytest.fixture(scope="module")
def carol(admin: Client) -> str:
    """User ``carol`` holds a Role in CAN_I_NS with one rule per case of the can-i table."""
    namespace(admin, CAN_I_NS)
    admin.create(
        role(
            CAN_I_NS,
            "carol",
            [
                {"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get"]},
                {"apiGroups": ["apps"], "resources": ["deployments/scale"], "verbs": ["update"]},
                {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "update"],
                 "resourceNames": ["settings"]},
                {"apiGroups": ["batch"], "resources": ["*"], "verbs": ["*"]},
            ],
        )
    )  # fmt: skip
    admin.create(binding(CAN_I_NS, "carol", "Role", "carol", user("carol")))
    return "carol"


@pytest.mark.parametrize(
    ("args", "answer"),
    [
        pytest.param(["get", "pods"], "yes", id="granted-verb"),
        pytest.param(["list", "pods"], "no", id="other-verb"),
        pytest.param(["get", "pods", "--subresource", "log"], "yes", id="granted-subresource"),
        pytest.param(["get", "pods", "--subresource", "exec"], "no", id="other-subresource"),
        pytest.param(["update", "deployments.apps", "--subresource", "scale"], "yes",
                     id="subresource-only"),
        pytest.param(["update", "deployments.apps"], "no", id="not-the-main-resource"),
        pytest.param(["get", "configmaps/settings"], "yes", id="named-resource"),
        pytest.param(["update", "configmaps/other"], "no", id="other-name"),
        pytest.param(["list", "configmaps"], "no", id="resource-names-never-list"),
        pytest.param(["delete", "jobs.batch"], "yes", id="wildcards"),
        pytest.param(["get", "pods", "-n", "default"], "no", id="other-namespace"),
        pytest.param(["create", "selfsubjectaccessreviews.authorization.k8s.io"], "yes",
                     id="basic-user-default"),
        pytest.param(["get", "/healthz"], "yes", id="non-resource-default"),
        pytest.param(["get", "/metrics"], "no", id="non-resource-not-granted"),
    ],
)  # fmt: skip
def test_can_i(kubectl: Kubectl, carol: str, args: list[str], answer: str) -> None:
    result = kubectl.run("auth", "can-i", "-n", CAN_I_NS, "--as", carol, *args, check=False)
    assert result.stdout.strip() == answer, result.stderr
    assert result.returncode == (0 if answer == "yes" else 1)


def test_can_i_list_shows_the_rules(kubectl: Kubectl, carol: str) -> None:
    rows = kubectl("auth", "can-i", "--list", "-n", CAN_I_NS, "--as", carol).splitlines()
    table = [row.split() for row in rows]
    assert ["pods/log", "[]", "[]", "[get]"] in table
    assert ["configmaps", "[]", "[settings]", "[get", "update]"] in table
    assert ["deployments.apps/scale", "[]", "[]", "[update]"] in table


def test_subject_access_review_says_which_binding_allowed(admin: Client, carol: str) -> None:
    def review(verb: str) -> dict[str, object]:
        body = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SubjectAccessReview",
            "spec": {
                "user": carol,
                "groups": ["system:authenticated"],
                "resourceAttributes": {"namespace": CAN_I_NS, "verb": verb, "resource": "pods"},
            },
        }
        path = "/apis/authorization.k8s.io/v1/subjectaccessreviews"
        status: dict[str, object] = admin.transport.request("POST", path, body=body).body["status"]
        return status

    assert review("get") == {
        "allowed": True,
        "reason": f'RBAC: allowed by RoleBinding "carol/{CAN_I_NS}" of Role "carol" to User '
        '"carol"',
    }
    assert review("delete") == {"allowed": False}


def test_impersonation_needs_the_impersonate_verb(
    apiserver: APIServer, admin: Client, tmp_path: Path
) -> None:
    ns = namespace(admin, "authz-impersonate")
    helper = kubectl_with_token(apiserver, tmp_path, service_account_token(admin, ns, "helper"))
    configmaps = f"/api/v1/namespaces/{ns}/configmaps"
    refused = helper.run("get", "--raw", configmaps, "--as", "bob", check=False)
    assert refused.stderr.strip() == (
        'Error from server (Forbidden): users "bob" is forbidden: User "system:serviceaccount:'
        f'{ns}:helper" cannot impersonate resource "users" in API group "" at the cluster scope'
    )
    admin.create(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "impersonate-bob"},
            "rules": [{"apiGroups": [""], "resources": ["users"], "verbs": ["impersonate"],
                       "resourceNames": ["bob"]}],
        }
    )  # fmt: skip
    admin.create(binding(None, "helper-is-bob", "ClusterRole", "impersonate-bob",
                         service_account(ns, "helper")))  # fmt: skip
    assert "bob" in helper("auth", "whoami", "--as", "bob")
    eve = helper.run("get", "--raw", configmaps, "--as", "eve", check=False).stderr
    assert 'users "eve" is forbidden' in eve
    grouped = helper.run("get", "--raw", configmaps, "--as", "bob", "--as-group", "ops",
                         check=False).stderr  # fmt: skip
    assert 'groups "ops" is forbidden' in grouped, "each impersonated group is checked too"


def test_aggregated_cluster_role_picks_up_labelled_rules(admin: Client, kubectl: Kubectl) -> None:
    ns = namespace(admin, "authz-aggregate")
    admin.create(binding(ns, "viewer", "ClusterRole", "view", user("victor")))
    assert kubectl.run("auth", "can-i", "get", "leases.coordination.k8s.io", "-n", ns,
                       "--as", "victor", check=False).stdout.strip() == "no"  # fmt: skip
    admin.create(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {
                "name": "lease-viewer",
                "labels": {"rbac.authorization.k8s.io/aggregate-to-view": "true"},
            },
            "rules": [{"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
                       "verbs": ["get"]}],
        }
    )  # fmt: skip
    clusterrole = GroupVersionKind("rbac.authorization.k8s.io", "v1", "ClusterRole")
    for aggregated in ("view", "edit", "admin"):
        wait_for(
            lambda name=aggregated: any(  # type: ignore[misc]
                "leases" in rule.get("resources", []) and rule.get("verbs") == ["get"]
                for rule in admin.get(clusterrole, name).get("rules") or []
            ),
            timeout=10,
            what=f"{aggregated} to aggregate the new rule",
        )
    assert kubectl("auth", "can-i", "get", "leases.coordination.k8s.io", "-n", ns,
                   "--as", "victor").strip() == "yes"  # fmt: skip


def test_watch_ends_when_its_permission_is_revoked(
    apiserver: APIServer, admin: Client, tmp_path: Path
) -> None:
    ns = namespace(admin, "authz-watch")
    token = service_account_token(admin, ns, "watcher")
    admin.create(role(ns, "cm-watch", [{"apiGroups": [""], "resources": ["configmaps"],
                                        "verbs": ["list", "watch"]}]))  # fmt: skip
    admin.create(binding(ns, "watcher", "Role", "cm-watch", service_account(ns, "watcher")))
    watcher = Client(RestConfig.from_kubeconfig(
        apiserver.write_kubeconfig(tmp_path / "watcher", token=token)))  # fmt: skip
    stream = watcher.watch(CONFIGMAP, namespace=ns, timeout_seconds=60)
    seen: list[str] = []
    ended = threading.Event()

    def follow() -> None:
        try:
            for event in stream:
                seen.append(event["object"]["metadata"]["name"])
        except Exception:  # a cut stream surfaces as StreamStalled; either way it ended
            pass
        ended.set()

    threading.Thread(target=follow, daemon=True).start()
    admin.create({"apiVersion": "v1", "kind": "ConfigMap",
                  "metadata": {"name": "before", "namespace": ns}})  # fmt: skip
    wait_for(lambda: "before" in seen, timeout=10, what="the watch to see a create")
    admin.delete(binding(ns, "watcher", "Role", "cm-watch", service_account(ns, "watcher")))
    assert ended.wait(10), "the watch kept streaming after its RoleBinding was deleted"
    admin.create({"apiVersion": "v1", "kind": "ConfigMap",
                  "metadata": {"name": "after", "namespace": ns}})  # fmt: skip
    assert "after" not in seen
    with pytest.raises(Forbidden, match='cannot watch resource "configmaps"'):
        next(iter(watcher.watch(CONFIGMAP, namespace=ns, timeout_seconds=5)))
