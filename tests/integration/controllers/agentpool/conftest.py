"""One embedded API server per module with the CRDs, a simulated kubelet and the operator.

The manager runs with the client configuration of ``operator_kubeconfig`` and claimers with
``claimer_kubeconfig``: the credentials of the manager's ServiceAccount as config/rbac binds
it (config/rbac/role.yaml) and of a ServiceAccount bound to agentpool-claimer-role in each
test's namespace, on a server that enforces RBAC and OwnerReferencesPermissionEnforcement,
so every test here proves those grants are enough. What they used goes to the session's
RBAC usage check (``tests/integration/controllers/rbac.py``).
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from controllers.inprocess import install_crds
from controllers.operators import Operator
from controllers.run import RunOptions, build_manager
from reconcile.apiserver import APIServer
from reconcile.cache import CacheOptions, ReflectorOptions
from reconcile.client import Client, RestConfig
from reconcile.envtest.kubelet import SimulatedKubelet
from reconcile.manager import Manager, ManagerOptions
from tests.conftest import Kubectl
from tests.integration.controller.conftest import RunningManager
from tests.integration.controllers.rbac import (
    CLAIMER,
    CLAIMER_ROLE,
    Identities,
    Usage,
    bind_cluster_role,
    deploy_rbac,
    server_options,
)


@dataclass
class Cluster:
    server: APIServer
    kubeconfig: Path
    """The admin's kubeconfig (tests, kubectl)."""
    claimer_kubeconfig: Path
    client: Client
    manager: Manager
    kubectl: Kubectl


def start_kubelet(client: Client, stop: threading.Event) -> threading.Thread:
    kubelet = SimulatedKubelet(client, nodes=["node-1", "node-2"], resync=0.1)
    thread = threading.Thread(target=kubelet.start, args=(stop,), name="kubelet", daemon=True)
    thread.start()
    return thread


def operator_manager(config: RestConfig) -> Manager:
    """The manager ``kreconcile run`` builds, with only the AgentPool operator."""
    return build_manager(
        config,
        RunOptions(
            manager=ManagerOptions(
                metrics_bind_address="0",
                health_probe_bind_address="0",
                leader_election=False,
                graceful_shutdown_timeout=10.0,
                cache=CacheOptions(
                    reflector=ReflectorOptions(initial_backoff=0.05, max_backoff=0.5)
                ),
            )
        ),
        [Operator.from_package("agentpool", "controllers.agentpool")],
    )


@pytest.fixture(scope="module")
def agentpool_server(request: pytest.FixtureRequest, rbac_usage: Usage) -> Iterator[APIServer]:
    server = APIServer(server_options())
    server.start()
    try:
        yield server
    finally:
        server.stop()
    rbac_usage.collect(request.module.__name__.rsplit(".", 1)[-1], server)


@pytest.fixture(scope="module")
def admin_kubeconfig(agentpool_server: APIServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    kubeconfig = agentpool_server.write_kubeconfig(tmp_path_factory.mktemp("admin") / "kubeconfig")
    deploy_rbac(Client(RestConfig.from_kubeconfig(kubeconfig)))
    return kubeconfig


@pytest.fixture(scope="module")
def identities(admin_kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> Identities:
    return Identities(admin_kubeconfig, tmp_path_factory.mktemp("identities"))


@pytest.fixture(scope="module")
def operator_kubeconfig(identities: Identities) -> Path:
    """The manager's identity (see the module docstring)."""
    return identities.manager


@pytest.fixture(scope="module")
def claimer_kubeconfig(identities: Identities) -> Path:
    """A claimer's identity (see the module docstring)."""
    return identities.kubeconfig(*CLAIMER)


@pytest.fixture(scope="module")
def cluster(
    agentpool_server: APIServer,
    admin_kubeconfig: Path,
    operator_kubeconfig: Path,
    claimer_kubeconfig: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Cluster]:
    client = Client(RestConfig.from_kubeconfig(admin_kubeconfig))
    install_crds(client)
    stop = threading.Event()
    kubelet = start_kubelet(client, stop)
    running = RunningManager(
        operator_manager(RestConfig.from_kubeconfig(operator_kubeconfig))
    ).start()
    try:
        yield Cluster(
            server=agentpool_server,
            kubeconfig=admin_kubeconfig,
            claimer_kubeconfig=claimer_kubeconfig,
            client=client,
            manager=running.manager,
            kubectl=Kubectl(admin_kubeconfig, tmp_path_factory.mktemp("kubectl-cache")),
        )
    finally:
        running.shutdown()
        stop.set()
        kubelet.join(5)
    assert running.error is None, running.error


_NAMESPACES = itertools.count()


@pytest.fixture
def namespace(cluster: Cluster, request: pytest.FixtureRequest) -> str:
    """A fresh namespace for each test, named after it, where the claimer may claim."""
    base = re.sub(r"[^a-z0-9-]+", "-", request.node.name.replace("_", "-").lower())
    name = f"{base[5:45].strip('-')}-{next(_NAMESPACES)}"
    cluster.client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    bind_cluster_role(cluster.client, CLAIMER_ROLE, CLAIMER, namespace=name)
    return name
