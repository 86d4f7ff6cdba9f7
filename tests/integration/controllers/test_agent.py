"""`kreconcile agent`: the node agent process, and an operator's node part plugged into it."""

from __future__ import annotations

import subprocess
from pathlib import Path

from controllers.agent import AgentRunOptions, build_agent
from controllers.operators import AgentOptions, Operator
from reconcile.client import Client, RestConfig
from reconcile.errors import CacheSyncTimeout
from reconcile.gvk import GroupVersionKind
from reconcile.manager import Manager
from tests.integration.controller.conftest import RunningManager
from tests.integration.controllers.processes import (
    command,
    environment,
    free_address,
    get,
    start,
    stop,
)
from tests.waiting import wait_for

LEASE = GroupVersionKind("coordination.k8s.io", "v1", "Lease")
POD = GroupVersionKind("", "v1", "Pod")


def test_agent_without_a_node_name_says_how_to_give_one(kubeconfig: Path) -> None:
    env = environment()
    env.pop("NODE_NAME", None)
    result = subprocess.run(
        command("agent", f"--kubeconfig={kubeconfig}"),
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "pass --node-name, or set NODE_NAME from the downward API" in result.stderr


def test_agent_takes_its_node_from_the_environment_and_never_elects(
    kubeconfig: Path, client: Client
) -> None:
    probes = free_address()
    process = start(
        "agent",
        f"--kubeconfig={kubeconfig}",
        "--metrics-bind-address=0",
        f"--health-probe-bind-address={probes}",
        env=environment(NODE_NAME="node-7"),
    )
    try:
        wait_for(lambda: get(probes, "/readyz")[0] == 200, timeout=30, what="agent /readyz")
        assert client.list(LEASE)["items"] == []
        code, output = stop(process)
    finally:
        if process.poll() is None:
            process.kill()
    assert code == 0, output
    assert "node=node-7" in output
    assert client.list(LEASE)["items"] == []


def _cached_pods(manager: Manager) -> list[str] | None:
    try:
        return [p["metadata"]["name"] for p in manager.cache.list(POD)["items"]]
    except CacheSyncTimeout:
        return None  # the manager's thread has not started the cache yet


def _pod(name: str, node: str) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"nodeName": node, "containers": [{"name": "c", "image": "busybox"}]},
    }


def test_agent_part_gets_its_node_and_a_cache_of_that_node_only(
    rest_config: RestConfig, client: Client, tmp_path: Path
) -> None:
    seen: list[AgentOptions] = []
    managers: list[Manager] = []

    def setup_agent(manager: Manager, options: AgentOptions) -> None:
        seen.append(options)
        managers.append(manager)
        manager.cache.get_informer(POD)  # the node part reads pods from the cache

    client.create(_pod("here", "node-1"))
    client.create(_pod("elsewhere", "node-2"))
    manager = build_agent(
        rest_config,
        AgentRunOptions(
            node_name="node-1",
            cgroup_root=tmp_path / "cgroup",
            metrics_bind_address="0",
            health_probe_bind_address="0",
        ),
        [Operator(name="io", setup_agent=setup_agent), Operator(name="other", setup=print)],
    )
    assert [(o.node_name, o.cgroup_root) for o in seen] == [("node-1", tmp_path / "cgroup")]
    assert seen[0].config.current == {}
    running = RunningManager(manager).start()
    try:
        names = wait_for(lambda: _cached_pods(manager), timeout=15, what="the cached pods")
        assert names == ["here"]
    finally:
        running.shutdown()
    assert running.error is None
    assert manager.options.election() is None
