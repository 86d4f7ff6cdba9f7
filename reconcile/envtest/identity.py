"""Kubeconfigs for ServiceAccounts: run code with exactly the permissions RBAC gives them.

A test applies a controller's RBAC manifests with the admin kubeconfig, then asks for a
kubeconfig of the controller's ServiceAccount: the account is created if missing and a
token is requested for it (TokenRequest, as ``kubectl create token``). The kubeconfig keeps
the admin's cluster entry (server, CA), so it works against any API server that serves
TokenRequest: the embedded one, real binaries or an existing cluster.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import yaml

from reconcile.apiserver.auth import build_kubeconfig, write_kubeconfig
from reconcile.client import Client, RestConfig
from reconcile.errors import AlreadyExists

__all__ = ["service_account_kubeconfig", "service_account_token"]


def service_account_token(
    admin_kubeconfig: Path, namespace: str, name: str, *, expiration_seconds: int = 3600
) -> str:
    """A bearer token of ServiceAccount ``namespace/name`` (created if missing).

    ``admin_kubeconfig`` must be allowed to create the account and request its token.
    """
    admin = Client(RestConfig.from_kubeconfig(admin_kubeconfig))
    account = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": name, "namespace": namespace},
    }
    with contextlib.suppress(AlreadyExists):
        admin.create(account)
    request = {
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "TokenRequest",
        "spec": {"expirationSeconds": expiration_seconds},
    }
    response = admin.transport.request(
        "POST", f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token", body=request
    )
    return str(response.body["status"]["token"])


def service_account_kubeconfig(
    admin_kubeconfig: Path,
    namespace: str,
    name: str,
    path: Path,
    *,
    expiration_seconds: int = 3600,
) -> Path:
    """Write to ``path`` a kubeconfig that authenticates as ServiceAccount ``namespace/name``
    (with a token from ``service_account_token``) and trusts what the admin's trusts."""
    token = service_account_token(
        admin_kubeconfig, namespace, name, expiration_seconds=expiration_seconds
    )
    cluster = _current_cluster(admin_kubeconfig)
    config = build_kubeconfig(
        cluster.pop("server"), user={"token": token}, user_name=name, namespace=namespace
    )
    config["clusters"][0]["cluster"].update(cluster)
    return write_kubeconfig(path, config)


def _current_cluster(kubeconfig: Path) -> dict[str, Any]:
    """The cluster entry (server, CA, TLS options) of a kubeconfig's current context."""
    config = yaml.safe_load(kubeconfig.read_text()) or {}
    context_name = config.get("current-context")
    context = next(c for c in config.get("contexts") or [] if c.get("name") == context_name)
    cluster_name = (context.get("context") or {}).get("cluster")
    cluster = next(c for c in config.get("clusters") or [] if c.get("name") == cluster_name)
    return dict(cluster.get("cluster") or {})
