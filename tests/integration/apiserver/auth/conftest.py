"""One secure server per test module, an admin kubectl, and identities to test with.

The server runs with a settable wall clock so a test can age tokens past their expiry. Each
test works in namespaces and names of its own, so tests stay independent on a shared server.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconcile.apiserver import APIServer, ServerOptions
from reconcile.client import Client, RestConfig
from tests.conftest import Kubectl


class WallClock:
    """``time.time()`` plus an offset a test may move forward."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@pytest.fixture(scope="module")
def wall_clock() -> WallClock:
    return WallClock()


@pytest.fixture(scope="module")
def apiserver(wall_clock: WallClock) -> Iterator[APIServer]:
    """Shared by the module's tests (overrides the per-test server)."""
    server = APIServer(ServerOptions(wall_clock=wall_clock))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def admin_kubeconfig(apiserver: APIServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return apiserver.write_kubeconfig(tmp_path_factory.mktemp("admin") / "kubeconfig")


@pytest.fixture(scope="module")
def admin(admin_kubeconfig: Path) -> Client:
    """A client acting as the built-in admin, for setting the scene."""
    return Client(RestConfig.from_kubeconfig(admin_kubeconfig))


@pytest.fixture
def kubectl(admin_kubeconfig: Path, tmp_path: Path) -> Kubectl:
    """kubectl as the admin."""
    return Kubectl(admin_kubeconfig, tmp_path / "kubectl-cache")


def namespace(admin: Client, name: str) -> str:
    admin.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    return name


def service_account_token(admin: Client, ns: str, name: str, seconds: int = 3600) -> str:
    """Create ServiceAccount ``ns/name`` and return a token for it (as kubectl create token)."""
    admin.create(
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": ns}}
    )
    response = admin.transport.request(
        "POST",
        f"/api/v1/namespaces/{ns}/serviceaccounts/{name}/token",
        body={"spec": {"expirationSeconds": seconds}},
    )
    token: str = response.body["status"]["token"]
    return token


def kubectl_with_token(server: APIServer, tmp_path: Path, token: str) -> Kubectl:
    kubeconfig = server.write_kubeconfig(tmp_path / f"kc-{abs(hash(token))}", token=token)
    return Kubectl(kubeconfig, tmp_path / "kubectl-cache")


def role(ns: str, name: str, rules: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": name, "namespace": ns},
        "rules": rules,
    }


def binding(
    ns: str | None, name: str, role_kind: str, role_name: str, subject: dict[str, Any]
) -> dict[str, Any]:
    """A RoleBinding in ``ns``, or a ClusterRoleBinding when ``ns`` is None."""
    metadata: dict[str, Any] = {"name": name}
    if ns is not None:
        metadata["namespace"] = ns
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding" if ns is not None else "ClusterRoleBinding",
        "metadata": metadata,
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role_name},
        "subjects": [subject],
    }


def user(name: str) -> dict[str, Any]:
    return {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": name}


def service_account(ns: str, name: str) -> dict[str, Any]:
    return {"kind": "ServiceAccount", "name": name, "namespace": ns}
