"""kubectl's imperative RBAC commands and review requests, which it sends as protobuf.

``kubectl create role|clusterrole|rolebinding|clusterrolebinding`` and ``kubectl auth
reconcile`` post RBAC objects, and ``auth can-i``, ``auth whoami`` and ``create token`` post
review and TokenRequest bodies, all as ``application/vnd.kubernetes.protobuf``: each is
decoded with the table generated from Kubernetes' protos and stored (or answered) exactly
as the same object sent as YAML would be.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import yaml

from reconcile.apiserver import APIServer
from reconcile.client import Client
from tests.conftest import Kubectl
from tests.integration.apiserver.auth.conftest import (
    kubectl_with_token,
    namespace,
    service_account_token,
)

RBAC = "rbac.authorization.k8s.io"


def _get(kubectl: Kubectl, *args: str) -> dict[str, Any]:
    obj: dict[str, Any] = json.loads(kubectl("get", *args, "-o", "json"))
    return obj


def test_create_role_and_clusterrole_store_every_rule(admin: Client, kubectl: Kubectl) -> None:
    ns = namespace(admin, "kubectl-roles")
    out = kubectl(
        "create", "role", "reader", "-n", ns, "--verb=get,list",
        "--resource=pods,deployments.apps,pods/log", "--resource-name=web",
    )  # fmt: skip
    assert out.strip() == f"role.{RBAC}/reader created"
    assert _get(kubectl, "role", "reader", "-n", ns)["rules"] == [
        {"apiGroups": [""], "resources": ["pods", "pods/log"], "resourceNames": ["web"],
         "verbs": ["get", "list"]},
        {"apiGroups": ["apps"], "resources": ["deployments"], "resourceNames": ["web"],
         "verbs": ["get", "list"]},
    ]  # fmt: skip
    kubectl("create", "clusterrole", "scraper", "--verb=get", "--non-resource-url=/metrics")
    assert _get(kubectl, "clusterrole", "scraper")["rules"] == [
        {"nonResourceURLs": ["/metrics"], "verbs": ["get"]}
    ]
    kubectl("create", "clusterrole", "monitoring", "--aggregation-rule=rbac.example.com/agg=true")
    assert _get(kubectl, "clusterrole", "monitoring")["aggregationRule"] == {
        "clusterRoleSelectors": [{"matchLabels": {"rbac.example.com/agg": "true"}}]
    }


def test_bindings_created_by_kubectl_grant_at_once(
    apiserver: APIServer, admin: Client, kubectl: Kubectl, tmp_path: Path
) -> None:
    ns = namespace(admin, "kubectl-bindings")
    bot = kubectl_with_token(apiserver, tmp_path, service_account_token(admin, ns, "bot"))
    assert bot.run("auth", "can-i", "list", "secrets", "-n", ns, check=False).stdout == "no\n"
    kubectl("create", "role", "secrets", "-n", ns, "--verb=list", "--resource=secrets")
    kubectl(
        "create", "rolebinding", "bot-secrets", "-n", ns, "--role=secrets", "--user=jane",
        "--group=auditors", f"--serviceaccount={ns}:bot",
    )  # fmt: skip
    rolebinding = _get(kubectl, "rolebinding", "bot-secrets", "-n", ns)
    assert rolebinding["roleRef"] == {"apiGroup": RBAC, "kind": "Role", "name": "secrets"}
    assert rolebinding["subjects"] == [
        {"apiGroup": RBAC, "kind": "User", "name": "jane"},
        {"apiGroup": RBAC, "kind": "Group", "name": "auditors"},
        {"kind": "ServiceAccount", "name": "bot", "namespace": ns},
    ]
    assert bot("auth", "can-i", "list", "secrets", "-n", ns) == "yes\n"
    kubectl("create", "clusterrole", f"{ns}-nodes", "--verb=get", "--resource=nodes")
    kubectl("create", "clusterrolebinding", f"{ns}-nodes", f"--clusterrole={ns}-nodes",
            f"--serviceaccount={ns}:bot")  # fmt: skip
    assert _get(kubectl, "clusterrolebinding", f"{ns}-nodes")["roleRef"]["kind"] == "ClusterRole"
    assert bot("auth", "can-i", "get", "nodes") == "yes\n"
    assert bot.run("auth", "can-i", "list", "nodes", check=False).stdout == "no\n"


def test_auth_reconcile_creates_then_adds_only_what_is_missing(
    admin: Client, kubectl: Kubectl, tmp_path: Path
) -> None:
    ns = namespace(admin, "kubectl-reconcile")
    rules = [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get"]}]
    role = {
        "apiVersion": f"{RBAC}/v1",
        "kind": "Role",
        "metadata": {"name": "deployer", "namespace": ns},
        "rules": rules,
    }
    rolebinding = {
        "apiVersion": f"{RBAC}/v1",
        "kind": "RoleBinding",
        "metadata": {"name": "deployer", "namespace": ns},
        "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": "deployer"},
        "subjects": [{"apiGroup": RBAC, "kind": "User", "name": "dev"}],
    }
    manifest = tmp_path / "rbac.yaml"
    manifest.write_text(yaml.safe_dump_all([role, rolebinding]))
    first = kubectl.run("auth", "reconcile", "-f", str(manifest))
    assert f"role.{RBAC}/deployer reconciled" in first.stdout
    assert "missing rules added" in first.stderr and "missing subjects added" in first.stderr
    again = kubectl.run("auth", "reconcile", "-f", str(manifest))
    assert "missing" not in again.stderr, "a second reconcile changes nothing"
    rules.append({"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["patch"]})
    manifest.write_text(yaml.safe_dump_all([role, rolebinding]))
    kubectl("auth", "reconcile", "-f", str(manifest))
    assert [r["verbs"] for r in _get(kubectl, "role", "deployer", "-n", ns)["rules"]] == [
        ["get"],
        ["patch"],
    ]
    assert kubectl("auth", "can-i", "patch", "deployments.apps", "-n", ns, "--as=dev") == "yes\n"


def test_review_and_token_requests_sent_as_protobuf(
    apiserver: APIServer, admin: Client, kubectl: Kubectl, tmp_path: Path
) -> None:
    ns = namespace(admin, "kubectl-reviews")
    kubectl("create", "serviceaccount", "ci", "-n", ns)
    token = kubectl(
        "create", "token", "ci", "-n", ns, "--audience=ci.example.com", "--duration=15m"
    ).strip()  # fmt: skip
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert claims["aud"] == ["ci.example.com"]
    assert claims["sub"] == f"system:serviceaccount:{ns}:ci"
    assert 14 * 60 <= claims["exp"] - claims["iat"] <= 15 * 60
    whoami = kubectl("auth", "whoami", "--as=jane", "--as-group=devs", "-o", "json")
    assert json.loads(whoami)["status"]["userInfo"] == {
        "username": "jane",
        "groups": ["devs", "system:authenticated"],
    }
    ci = kubectl_with_token(apiserver, tmp_path, service_account_token(admin, ns, "ci-runner"))
    assert ci("auth", "can-i", "create", "selfsubjectaccessreviews.authorization.k8s.io") == (
        "yes\n"
    )
    assert ci.run("auth", "can-i", "get", "pods", "--subresource=log", "-n", ns,
                  check=False).stdout == "no\n"  # fmt: skip
