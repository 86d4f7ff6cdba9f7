"""The operators' RBAC as config/default deploys it, and the permissions they were seen to use.

The integration tests of each operator run the manager, the node agent and the slot
claimers with the credentials of the ServiceAccounts config/rbac binds (``deploy_rbac``,
then ``Identities``), on a server that enforces RBAC with OwnerReferencesPermissionEnforcement
on and logs every authorization decision (``server_options``). A missing verb fails the test
that needed it. When a module's server is done, its log goes to the session's ``Usage``
(``tests/integration/controllers/conftest.py``), and ``test_rbac_usage.py`` compares what was
used with what the roles grant.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconcile.apiserver import APIServer, ServerOptions
from reconcile.apiserver.auth import LoggedDecision
from reconcile.client import Client
from reconcile.envtest import service_account_kubeconfig, service_account_token
from reconcile.errors import AlreadyExists
from tests.integration.config.manifests import rendered

NAMESPACE = "kreconcile-system"
"""Where config/default deploys the operators and their ServiceAccounts."""
MANAGER = "kreconcile-controller-manager"
AGENT = "kreconcile-node-agent"
CLAIMER = ("default", "slot-claimer")
"""A workload that claims slots, bound to the claimer role in each pool's namespace."""
CLAIMER_ROLE = "kreconcile-agentpool-claimer-role"
METRICS_READER_ROLE = "kreconcile-metrics-reader"
LOG_CAPACITY = 50_000
"""Distinct decisions kept per server: far more than a module makes, so none is dropped."""
RBAC_KINDS = frozenset(
    {"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}
)
RBAC_API = "rbac.authorization.k8s.io/v1"


def server_options(**overrides: Any) -> ServerOptions:
    """A server that logs authorization decisions and checks owner reference permissions."""
    return ServerOptions(
        authorization_log=LOG_CAPACITY,
        owner_references_permission_enforcement=True,
        **overrides,
    )


def rbac_objects() -> list[dict[str, Any]]:
    """The namespace, ServiceAccounts, roles and bindings ``kubectl apply -k config/default``
    creates, as rendered (names prefixed, namespace kreconcile-system)."""
    return [obj for obj in rendered() if obj["kind"] in RBAC_KINDS or obj["kind"] == "Namespace"]


def _create(client: Client, obj: dict[str, Any]) -> None:
    with contextlib.suppress(AlreadyExists):
        client.create(obj)


def deploy_rbac(client: Client) -> None:
    """Create what ``rbac_objects`` lists, with an admin client."""
    for obj in rbac_objects():
        _create(client, obj)


def bind_cluster_role(
    client: Client, role: str, account: tuple[str, str], namespace: str | None = None
) -> None:
    """Bind ``role`` to ServiceAccount ``account``: in ``namespace`` (a RoleBinding), or
    cluster-wide (a ClusterRoleBinding) when None."""
    metadata: dict[str, Any] = {"name": f"{role}-{account[0]}-{account[1]}"}
    if namespace is not None:
        metadata["namespace"] = namespace
    _create(
        client,
        {
            "apiVersion": RBAC_API,
            "kind": "RoleBinding" if namespace is not None else "ClusterRoleBinding",
            "metadata": metadata,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                        "name": role},
            "subjects": [{"kind": "ServiceAccount", "namespace": account[0], "name": account[1]}],
        },
    )  # fmt: skip


class Identities:
    """Kubeconfigs of ServiceAccounts, from the admin's kubeconfig (TokenRequest)."""

    def __init__(self, admin_kubeconfig: Path, directory: Path) -> None:
        self._admin = admin_kubeconfig
        self._directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def kubeconfig(self, namespace: str, name: str) -> Path:
        path = self._directory / f"{namespace}.{name}.kubeconfig"
        return service_account_kubeconfig(self._admin, namespace, name, path)

    def token(self, namespace: str, name: str) -> str:
        return service_account_token(self._admin, namespace, name)

    @property
    def manager(self) -> Path:
        return self.kubeconfig(NAMESPACE, MANAGER)

    @property
    def agent(self) -> Path:
        return self.kubeconfig(NAMESPACE, AGENT)


def username(namespace: str, name: str) -> str:
    return f"system:serviceaccount:{namespace}:{name}"


MANAGER_USER = username(NAMESPACE, MANAGER)
"""Who the manager's requests come from (e.g. to aim ``APIServer.faults`` at them)."""


def requested(server: APIServer, user: str, verb: str, resource: str, name: str) -> bool:
    """Whether ``user`` was allowed to ``verb`` the ``resource`` named ``name`` on ``server``."""
    assert server.security is not None and server.security.decisions is not None
    return any(
        (d.attributes.verb, d.attributes.resource, d.attributes.name) == (verb, resource, name)
        and d.allowed
        for d in server.security.decisions.decisions(user)
    )


@dataclass
class Usage:
    """Authorization decisions collected from the servers of the session's operator tests."""

    decisions: list[LoggedDecision] = field(default_factory=list)
    sources: set[str] = field(default_factory=set)
    """Which tests handed their server's log in (see ``test_rbac_usage.SOURCES``)."""

    def collect(self, source: str, server: APIServer) -> None:
        """Take ``server``'s log; call once its clients have stopped."""
        assert server.security is not None and server.security.decisions is not None, (
            "start the server with tests.integration.controllers.rbac.server_options()"
        )
        log = server.security.decisions
        assert log.dropped == 0, f"{source}: {log.dropped} decisions dropped; raise LOG_CAPACITY"
        self.decisions.extend(log.decisions())
        self.sources.add(source)
