"""`kreconcile run`: the manager process, and operators plugged into it."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

from controllers.inprocess import install_crds
from controllers.operators import OPERATORS, Operator, OperatorOptions
from controllers.run import DEFAULT_LEADER_ELECTION_ID, RunOptions, build_manager
from reconcile import ControllerBuilder, GroupVersionKind, ReconcilerFunc, Request, Result
from reconcile.apiserver import APIServer, ServerOptions
from reconcile.client import Client, RestConfig
from reconcile.manager import Manager, ManagerOptions
from tests.integration.controller.conftest import RunningManager
from tests.integration.controllers.processes import (
    command,
    free_address,
    get,
    get_metrics,
    start,
    stop,
)
from tests.integration.controllers.rbac import (
    METRICS_READER_ROLE,
    NAMESPACE,
    Identities,
    Usage,
    bind_cluster_role,
    deploy_rbac,
    server_options,
)
from tests.waiting import wait_for

LEASE = GroupVersionKind("coordination.k8s.io", "v1", "Lease")
CONFIGMAP = GroupVersionKind("", "v1", "ConfigMap")


def _holder(client: Client) -> str | None:
    try:
        lease = client.get(LEASE, DEFAULT_LEADER_ELECTION_ID, NAMESPACE)
    except Exception:
        return None
    return str(lease["spec"].get("holderIdentity") or "")


@pytest.fixture
def apiserver_options() -> ServerOptions:
    """Log authorization decisions: ``kreconcile run`` runs as its ServiceAccount here."""
    return server_options()


def test_run_as_its_service_account_leads_guards_metrics_and_stops_on_sigterm(
    apiserver: APIServer, kubeconfig: Path, client: Client, tmp_path: Path, rbac_usage: Usage
) -> None:
    install_crds(client)  # as a deployment has them: every operator's informers sync
    deploy_rbac(client)
    identities = Identities(kubeconfig, tmp_path / "identities")
    client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "monitoring"}})
    bind_cluster_role(client, METRICS_READER_ROLE, ("monitoring", "prometheus"))
    prometheus = identities.token("monitoring", "prometheus")
    metrics, probes = free_address(), free_address()
    config = tmp_path / "operators.yaml"
    config.write_text("{}\n")
    process = start(
        "run",
        f"--kubeconfig={identities.manager}",
        f"--leader-election-namespace={NAMESPACE}",
        f"--metrics-bind-address={metrics}",
        "--metrics-secure",
        f"--health-probe-bind-address={probes}",
        f"--config={config}",
    )
    try:
        wait_for(lambda: _holder(client), timeout=30, what="the manager to take the Lease")
        wait_for(lambda: get(probes, "/readyz")[0] == 200, timeout=10, what="/readyz")
        assert get(probes, "/healthz")[0] == 200
        status, body = get_metrics(metrics, prometheus)
        assert status == 200
        assert 'leader_election_master_status{name="kreconcile-manager"} 1.0' in body
        assert 'kreconcile_config_last_reload_successful{name="operators"} 1.0' in body
        assert get_metrics(metrics, None) == (401, "Unauthorized\n")
        assert get_metrics(metrics, identities.token("monitoring", "stranger"))[0] == 403
        code, output = stop(process)
    finally:
        if process.poll() is None:
            process.kill()
    assert code == 0, output
    installed = ",".join(name for name, _ in OPERATORS) or "none"
    assert f"operators={installed}" in output and "leader_elect=True" in output
    assert _holder(client) == ""  # released on the way out, so a standby takes over at once
    rbac_usage.collect("run", apiserver)


def test_run_refuses_a_bad_config_file(kubeconfig: Path, tmp_path: Path) -> None:
    config = tmp_path / "operators.yaml"
    config.write_text("restart: {retention: 1h}\n")
    result = subprocess.run(
        command("run", f"--kubeconfig={kubeconfig}", "--leader-elect=false", f"--config={config}"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "manager setup failed" in result.stderr
    assert "unknown section(s) restart" in result.stderr
    assert str(config) in result.stderr


class _ConfigMapNames:
    """A stand-in operator: reconciles ConfigMaps and follows its config section."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.configs: list[Any] = []
        self.options: OperatorOptions | None = None
        self.changed = threading.Event()

    def parse_config(self, section: Any) -> Any:
        return dict(section)

    def setup(self, manager: Manager, options: OperatorOptions) -> None:
        self.options = options
        options.config.subscribe(self._reloaded)

        def reconcile(request: Request) -> Result:
            self.seen.add(request.name)
            return Result()

        builder = ControllerBuilder(manager).named("configmap-names").for_(CONFIGMAP)
        builder.complete(ReconcilerFunc(reconcile))

    def _reloaded(self, section: Any) -> None:
        self.configs.append(section)
        self.changed.set()


def test_operators_run_in_the_manager_and_follow_config_edits(
    rest_config: RestConfig, client: Client, tmp_path: Path
) -> None:
    config = tmp_path / "operators.yaml"
    config.write_text("names: {greeting: hello}\n")
    fake = _ConfigMapNames()
    operator = Operator(name="names", setup=fake.setup, parse_config=fake.parse_config)
    manager = build_manager(
        rest_config,
        RunOptions(
            manager=ManagerOptions(
                metrics_bind_address="0", health_probe_bind_address="0", leader_election=False
            ),
            watch_namespaces=("default",),
            config_path=config,
        ),
        [operator],
    )
    assert fake.options is not None
    assert fake.options.watch_namespaces == ("default",)
    assert fake.options.config.current == {"greeting": "hello"}
    running = RunningManager(manager).start()
    try:
        client.create(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "one", "namespace": "default"},
            }
        )
        wait_for(lambda: "one" in fake.seen, timeout=15, what="the operator's reconcile")
        config.write_text("names: {greeting: bonjour}\n")
        assert fake.changed.wait(15), "the config edit was not delivered"
        assert fake.configs == [{"greeting": "bonjour"}]
        assert fake.options.config.current == {"greeting": "bonjour"}
    finally:
        running.shutdown()
    assert running.error is None
