"""One API server, IOLimitPolicy controller and two node agents shared by a test module.

Each test uses its own namespace and policies, so tests stay independent while paying for
the server and the managers once. The controller and the agents run as the manager's and
the node agent's ServiceAccounts as config/rbac binds them, serving /metrics as
``--metrics-secure`` does; what they used goes to the session's RBAC usage check.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from reconcile.apiserver import APIServer
from reconcile.client import Client, RestConfig
from tests.conftest import Kubectl
from tests.integration.controller.conftest import RunningManager
from tests.integration.controllers.iolimit.harness import (
    install,
    mimic_root,
    start_agent,
    start_manager,
    write_config,
)
from tests.integration.controllers.rbac import Identities, Usage, deploy_rbac, server_options

DEVICES = ["8:0", "8:16"]
"""The disks the agents limit (explicit: a mimic tree has no device of its own)."""


@dataclass
class Cluster:
    client: Client
    kubeconfig: Path
    """The admin's (tests, kubectl)."""
    identities: Identities
    kubectl: Kubectl
    roots: dict[str, Path]
    manager: RunningManager
    agents: dict[str, RunningManager]
    server: APIServer


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, rbac_usage: Usage) -> Iterator[Cluster]:
    workdir = tmp_path_factory.mktemp("iolimit")
    server = APIServer(server_options())
    server.start()
    running: list[RunningManager] = []
    try:
        kubeconfig = server.write_kubeconfig(workdir / "kubeconfig")
        client = Client(RestConfig.from_kubeconfig(kubeconfig))
        install(client)
        deploy_rbac(client)
        identities = Identities(kubeconfig, workdir / "identities")
        config = write_config(
            workdir / "operators.yaml",
            samplingInterval=0.1,
            reportInterval=5,
            staleAfter=10,
            devices=DEVICES,
        )
        roots = {node: mimic_root(workdir / "cgroup" / node) for node in ("node-1", "node-2")}
        manager = start_manager(identities.manager, config, secure_metrics=True)
        running.append(manager)
        agents = {
            node: start_agent(identities.agent, node, root, config, secure_metrics=True)
            for node, root in roots.items()
        }
        running.extend(agents.values())
        yield Cluster(
            client,
            kubeconfig,
            identities,
            Kubectl(kubeconfig, workdir / "kubectl-cache"),
            roots,
            manager,
            agents,
            server,
        )
    finally:
        for runner in running:
            runner.shutdown()
        server.stop()
    for runner in running:
        assert runner.error is None, runner.error
    rbac_usage.collect("iolimit", server)
