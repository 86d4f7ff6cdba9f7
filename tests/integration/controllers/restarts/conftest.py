"""One embedded API server, simulated kubelet and restarts operator for this package.

Each test works in namespaces of its own. The operator runs exactly as ``kreconcile run``
builds it (``build_manager`` with the restarts operator and a watched config file), with
the client config of ``manager_config``: the manager's ServiceAccount as config/rbac binds
it, so a verb missing from config/rbac/role.yaml fails these tests. What it used goes to
the session's RBAC usage check (``tests/integration/controllers/rbac.py``).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from controllers.inprocess import install_crds
from controllers.operators import Operator
from controllers.run import RunOptions, build_manager
from crds import RestartRecord
from reconcile.apiserver import APIServer
from reconcile.client import Client, RestConfig
from reconcile.envtest.kubelet import ContainerFailure, SimulatedKubelet, restart_container
from reconcile.errors import NotFound
from reconcile.gvk import GroupVersionKind
from reconcile.manager import Manager, ManagerOptions
from tests.conftest import Kubectl
from tests.integration.controllers.rbac import Identities, Usage, deploy_rbac, server_options
from tests.waiting import wait_for

POD = GroupVersionKind("", "v1", "Pod")
NAMESPACE = GroupVersionKind("", "v1", "Namespace")
EVENT = GroupVersionKind("", "v1", "Event")

CONFIG = """\
restarts:
  historyLimit: 4
  retention: 1h
  inspection:
    targets:
    - {cluster_name: test, namespace: "inspect-*"}
    window: 4s
    interval: 0.3s
    ratioThreshold: 0.5
    riseFactor: 2
    minRestartedPods: 3
    silence: 1h
"""
"""The anomaly test restarts three of four pods one after the other: with fewer than three
required, an inspection between two restarts could fire on a partial picture."""


class Cluster:
    """The API server, an admin client, kubectl, and the simulated kubelet."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.server = APIServer(server_options())
        self.server.start()
        self.kubeconfig = self.server.write_kubeconfig(root / "kubeconfig")
        self.config = RestConfig.from_kubeconfig(self.kubeconfig)
        self.client = Client(self.config)
        self.kubectl = Kubectl(self.kubeconfig, root / "kubectl-cache")
        install_crds(self.client)
        deploy_rbac(self.client)
        self.identities = Identities(self.kubeconfig, root / "identities")
        self._stop = threading.Event()
        self.kubelet = SimulatedKubelet(self.client, nodes=["node-a"], resync=0.1)
        self._thread = threading.Thread(target=self.kubelet.start, args=(self._stop,), daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(10)
        self.server.stop()

    def namespace(self, prefix: str = "t") -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:8]}"
        self.client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
        return name

    def run_pod(
        self, namespace: str, name: str, containers: list[str] | None = None, **spec: Any
    ) -> dict[str, Any]:
        """Create a pod and wait until the kubelet runs it."""
        body = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, **spec.pop("metadata", {})},
            "spec": {
                "containers": [{"name": c, "image": "busybox:1.36"} for c in containers or ["app"]],
                **spec,
            },
        }
        self.client.create(body)
        pod = wait_for(
            lambda: self._running(namespace, name), timeout=20, what=f"pod {name} running"
        )
        assert pod is not None
        return pod

    def _running(self, namespace: str, name: str) -> dict[str, Any] | None:
        pod = self.client.get(POD, name, namespace)
        return pod if (pod.get("status") or {}).get("phase") == "Running" else None

    def restart(
        self, namespace: str, pod: str, container: str, reason: str = "Error", code: int = 1
    ) -> int:
        """Restart a container through the kubelet; its new restartCount."""
        updated = restart_container(
            self.client, namespace, pod, container, ContainerFailure(reason, code, f"{reason}!")
        )
        return int(
            next(
                s["restartCount"]
                for key in (
                    "containerStatuses",
                    "initContainerStatuses",
                    "ephemeralContainerStatuses",
                )
                for s in updated["status"].get(key) or []
                if s["name"] == container
            )
        )

    def record(self, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            return self.client.get(RestartRecord, name, namespace)
        except NotFound:
            return None

    def record_where(
        self,
        namespace: str,
        name: str,
        check: Callable[[dict[str, Any]], bool],
        what: str,
        timeout: float = 20,
    ) -> dict[str, Any]:
        def ready() -> dict[str, Any] | None:
            record = self.record(namespace, name)
            return record if record is not None and check(record) else None

        record = wait_for(ready, timeout=timeout, what=what)
        assert record is not None
        return record

    def events(self, reason: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.client.list(EVENT, namespace="default")["items"]
        return [e for e in items if e.get("reason") == reason]


def restarts_of(record: dict[str, Any], container: str) -> dict[str, Any]:
    return next(c for c in record["status"]["containers"] if c["name"] == container)


def total(expected: int) -> Callable[[dict[str, Any]], bool]:
    return lambda record: (record.get("status") or {}).get("restarts") == expected


class Operators:
    """The restarts operator in managers built like ``kreconcile run`` builds them."""

    def __init__(self, config: RestConfig, config_path: Path) -> None:
        self.config = config
        self.config_path = config_path
        self.running: list[tuple[Manager, threading.Event, threading.Thread]] = []

    def start(self) -> Manager:
        manager = build_manager(
            self.config,
            RunOptions(
                manager=ManagerOptions(
                    metrics_bind_address="0",
                    health_probe_bind_address="0",
                    graceful_shutdown_timeout=10.0,
                ),
                config_path=self.config_path,
            ),
            [Operator.from_package("restarts", "controllers.restarts")],
        )
        stop = threading.Event()
        thread = threading.Thread(target=manager.start, args=(stop,), daemon=True)
        thread.start()
        wait_for(lambda: manager.readyz.route()("/readyz", {})[0] == 200, timeout=30)
        self.running.append((manager, stop, thread))
        return manager

    def stop(self, manager: Manager) -> None:
        for entry in list(self.running):
            if entry[0] is manager:
                entry[1].set()
                entry[2].join(15)
                assert not entry[2].is_alive(), "manager did not stop"
                self.running.remove(entry)

    def stop_all(self) -> None:
        for manager, _, _ in list(self.running):
            self.stop(manager)

    @property
    def main(self) -> Manager:
        return self.running[0][0]


def scrape(manager: Manager) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every pod_monitor_* sample of the manager's registry."""
    samples = {}
    for family in text_string_to_metric_families(generate_latest(manager.registry).decode()):
        for sample in family.samples:
            if sample.name.startswith("pod_monitor"):
                samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


@pytest.fixture(scope="package")
def cluster(tmp_path_factory: pytest.TempPathFactory, rbac_usage: Usage) -> Iterator[Cluster]:
    running = Cluster(tmp_path_factory.mktemp("restarts"))
    try:
        yield running
    finally:
        running.close()
    rbac_usage.collect("restarts", running.server)


@pytest.fixture(scope="package")
def manager_config(cluster: Cluster) -> RestConfig:
    """The client config the manager runs with (see the module docstring)."""
    return RestConfig.from_kubeconfig(cluster.identities.manager)


@pytest.fixture(scope="package")
def config_file(cluster: Cluster) -> Path:
    path = cluster.root / "operators.yaml"
    path.write_text(CONFIG)
    return path


@pytest.fixture(scope="package")
def operators(manager_config: RestConfig, config_file: Path) -> Iterator[Operators]:
    running = Operators(manager_config, config_file)
    running.start()
    try:
        yield running
    finally:
        running.stop_all()
