"""Who the server thinks you are: admin token, ServiceAccount tokens, client certificates,
and nobody (401 except on the health and version endpoints)."""

from __future__ import annotations

import json
import urllib.error
from pathlib import Path

import pytest
import yaml

from reconcile.apiserver import APIServer
from reconcile.apiserver.auth import build_kubeconfig, write_kubeconfig
from reconcile.client import Client
from tests.conftest import Kubectl
from tests.integration.apiserver.auth.conftest import (
    WallClock,
    kubectl_with_token,
    namespace,
    service_account_token,
)
from tests.raw_http import client_context, urlopen


def test_kubectl_talks_tls_with_the_admin_kubeconfig(
    apiserver: APIServer, admin_kubeconfig: Path, kubectl: Kubectl
) -> None:
    assert apiserver.url.startswith("https://127.0.0.1:")
    cluster = yaml.safe_load(admin_kubeconfig.read_text())["clusters"][0]["cluster"]
    assert "certificate-authority-data" in cluster
    assert "insecure-skip-tls-verify" not in cluster
    review = json.loads(kubectl("auth", "whoami", "-o", "json"))
    assert review["status"]["userInfo"]["username"] == "kreconcile-admin"
    assert "system:masters" in review["status"]["userInfo"]["groups"]


def test_kubectl_with_an_unknown_token_must_log_in(apiserver: APIServer, tmp_path: Path) -> None:
    config = build_kubeconfig(apiserver.url, ca_pem=apiserver.ca_pem, user={"token": "guess"})
    stranger = Kubectl(write_kubeconfig(tmp_path / "stranger", config), tmp_path / "cache")
    result = stranger.run("get", "configmaps", check=False)
    assert result.returncode != 0
    assert "error: You must be logged in to the server" in result.stderr


@pytest.mark.parametrize("path", ["/healthz", "/livez", "/readyz", "/version"])
def test_health_and_version_are_open_to_anonymous(apiserver: APIServer, path: str) -> None:
    with urlopen(apiserver, apiserver.url + path, token="") as response:
        assert response.status == 200


@pytest.mark.parametrize(
    ("path", "token"),
    [
        pytest.param("/api", "", id="discovery-without-token"),
        pytest.param("/api/v1/namespaces", "", id="resources-without-token"),
        pytest.param("/healthz", "not-a-token", id="bad-token-even-where-anonymous-is-ok"),
    ],
)
def test_everything_else_needs_credentials(apiserver: APIServer, path: str, token: str) -> None:
    request = urllib.request.Request(apiserver.url + path)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10, context=client_context(apiserver))
    assert refused.value.code == 401
    body = json.loads(refused.value.read())
    assert (body["reason"], body["message"]) == ("Unauthorized", "Unauthorized")


def test_service_account_token_works_until_it_expires(
    apiserver: APIServer, admin: Client, kubectl: Kubectl, wall_clock: WallClock, tmp_path: Path
) -> None:
    ns = namespace(admin, "authn-expiry")
    kubectl("create", "serviceaccount", "robot", "-n", ns)
    token = kubectl("create", "token", "robot", "-n", ns, "--duration", "10m").strip()
    robot = kubectl_with_token(apiserver, tmp_path, token)
    review = json.loads(robot("auth", "whoami", "-o", "json"))["status"]["userInfo"]
    assert review["username"] == f"system:serviceaccount:{ns}:robot"
    assert review["groups"] == [
        "system:serviceaccounts",
        f"system:serviceaccounts:{ns}",
        "system:authenticated",
    ]
    wall_clock.offset = 601.0
    try:
        refused = robot.run("auth", "whoami", check=False)
        reviewed = admin.transport.request(
            "POST",
            "/apis/authentication.k8s.io/v1/tokenreviews",
            body={"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
                  "spec": {"token": token}},
        ).body["status"]  # fmt: skip
    finally:
        wall_clock.offset = 0.0
    assert "You must be logged in to the server (Unauthorized)" in refused.stderr
    assert not reviewed.get("authenticated")
    assert reviewed["error"] == "service account token has expired"


def test_token_review_names_the_user(admin: Client) -> None:
    ns = namespace(admin, "authn-review")
    token = service_account_token(admin, ns, "checked")
    body = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview"}
    good = admin.transport.request(
        "POST",
        "/apis/authentication.k8s.io/v1/tokenreviews",
        body={**body, "spec": {"token": token}},
    ).body["status"]
    assert good["authenticated"] is True
    assert good["user"]["username"] == f"system:serviceaccount:{ns}:checked"
    assert good["audiences"] == ["https://kubernetes.default.svc.cluster.local"]
    wrong_audience = admin.transport.request(
        "POST",
        "/apis/authentication.k8s.io/v1/tokenreviews",
        body={**body, "spec": {"token": token, "audiences": ["vault"]}},
    ).body["status"]
    assert "is invalid for the target audiences" in wrong_audience["error"]
    admin.delete({"apiVersion": "v1", "kind": "ServiceAccount",
                  "metadata": {"name": "checked", "namespace": ns}})  # fmt: skip
    revoked = admin.transport.request(
        "POST",
        "/apis/authentication.k8s.io/v1/tokenreviews",
        body={**body, "spec": {"token": token}},
    ).body["status"]
    assert revoked["error"] == 'serviceaccounts "checked" not found'


def test_token_request_refuses_lifetimes_under_ten_minutes(admin: Client, kubectl: Kubectl) -> None:
    ns = namespace(admin, "authn-short")
    kubectl("create", "serviceaccount", "brief", "-n", ns)
    result = kubectl.run("create", "token", "brief", "-n", ns, "--duration", "5m", check=False)
    assert result.returncode != 0
    assert (
        'TokenRequest.authentication.k8s.io "brief" is invalid: spec.expirationSeconds: '
        "Invalid value: 300: may not specify a duration less than 10 minutes"
    ) in result.stderr


def test_client_certificate_names_user_and_groups(apiserver: APIServer, tmp_path: Path) -> None:
    certificate = apiserver.issue_client_certificate("alice", ("dev", "oncall"))
    alice = Kubectl(
        apiserver.write_kubeconfig(tmp_path / "alice", certificate=certificate), tmp_path / "cache"
    )
    review = json.loads(alice("auth", "whoami", "-o", "json"))["status"]["userInfo"]
    assert review["username"] == "alice"
    assert review["groups"] == ["dev", "oncall", "system:authenticated"]
