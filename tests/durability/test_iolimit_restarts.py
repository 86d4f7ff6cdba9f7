"""Killing the IOLimitPolicy controller and node agent mid-window loses and repeats nothing.

Both run as real ``kreconcile run`` / ``kreconcile agent`` processes on one node whose cgroup
v2 tree is a directory that mimics cgroupfs. Three containers are throttled; both processes
are killed with SIGKILL; while they are down one container is recreated (new ID, new
cgroup) and one pod is deleted; both are started again.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconcile.client import Client
from tests.integration.controllers.iolimit.harness import (
    POD,
    container_id,
    create_namespace,
    create_policy,
    install,
    make_cgroup,
    mimic_root,
    node_report,
    policy_status,
    running_pod,
    set_containers,
    write_config,
)
from tests.integration.controllers.processes import free_address, get, start
from tests.waiting import wait_for

HOT = "8:0 rbytes=0 wbytes=0 rios=0 wios=200000 dbytes=0 dios=0\n"
LIMITED = ["8:0 rbps=max wbps=max riops=max wiops=50"]
KEPT = ("rule", "window", "reason", "since", "limits", "origin", "podUID")
"""What a restart must never change in a throttle."""


class Processes:
    """The controller and the agent as processes, started and killed on demand."""

    def __init__(self, kubeconfig: Path, config: Path, root: Path) -> None:
        self.kubeconfig, self.config, self.root = kubeconfig, config, root
        self.running: list[subprocess.Popen[str]] = []
        self.metrics = ""

    def start(self) -> None:
        self.metrics = free_address()
        common = (
            f"--kubeconfig={self.kubeconfig}",
            f"--config={self.config}",
            "--health-probe-bind-address=0",
        )
        self.running = [
            start("run", *common, "--leader-elect=false", "--metrics-bind-address=0"),
            start(
                "agent",
                *common,
                "--node-name=node-1",
                f"--cgroup-root={self.root}",
                f"--metrics-bind-address={self.metrics}",
            ),
        ]

    def kill(self) -> None:
        for process in self.running:
            process.kill()
            process.communicate(timeout=20)
        self.running = []

    def counter(self, result: str) -> float:
        status, body = get(self.metrics, "/metrics")
        if status != 200:
            return -1.0
        found = re.search(rf'kreconcile_io_throttle_apply_total{{result="{result}"}} (\S+)', body)
        return float(found.group(1)) if found else 0.0


@pytest.fixture
def processes(kubeconfig: Path, tmp_path: Path) -> Iterator[Processes]:
    config = write_config(
        tmp_path / "operators.yaml",
        samplingInterval=0.2,
        reportInterval=5,
        staleAfter=10,
        devices=["8:0"],
    )
    running = Processes(kubeconfig, config, mimic_root(tmp_path / "cgroup"))
    try:
        yield running
    finally:
        running.kill()


def _by_pod(client: Client) -> dict[str, dict[str, Any]]:
    return {t["pod"]: t for t in policy_status(client, "keep").get("throttles") or []}


def _ready(client: Client) -> bool:
    conditions = policy_status(client, "keep").get("conditions") or []
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def test_restarts_mid_window_drop_nothing_and_apply_nothing_twice(
    client: Client, processes: Processes
) -> None:
    install(client)
    create_namespace(client, "batch")
    create_policy(client, "keep", "batch", {"writeIOPS": 50})
    pods, cgroups = {}, {}
    for name in ("steady", "recreated", "doomed"):
        cid = container_id(name[0])
        pods[name] = running_pod(
            client, name, namespace="batch", node="node-1", containers={"app": cid}
        )
        cgroups[name] = make_cgroup(processes.root, pods[name], cid, HOT)
    processes.start()
    wait_for(
        lambda: len(_by_pod(client)) == 3 and _ready(client),
        timeout=60,
        what="three throttles in force",
    )
    before = _by_pod(client)
    steady = cgroups["steady"] / "io.max"
    assert steady.read_text().splitlines() == LIMITED
    written_at = steady.stat().st_mtime_ns

    processes.kill()
    new_id = container_id("n")
    set_containers(client, pods["recreated"], {"app": new_id})
    recreated = make_cgroup(processes.root, pods["recreated"], new_id)
    client.delete(client.get(POD, "doomed", "batch"))
    processes.start()

    wait_for(
        lambda: (recreated / "io.max").read_text().splitlines() == LIMITED,
        timeout=60,
        what="the throttle in the recreated container's new cgroup",
    )
    wait_for(
        lambda: set(_by_pod(client)) == {"steady", "recreated"},
        timeout=30,
        what="the deleted pod's throttle released",
    )
    wait_for(lambda: processes.counter("verified") >= 1, timeout=30, what="re-verification")
    wait_for(
        lambda: _by_pod(client)["recreated"]["containerID"] == new_id and _ready(client),
        timeout=30,
        what="the throttle to follow the new container",
    )
    after = _by_pod(client)
    for name in ("steady", "recreated"):
        assert {k: after[name][k] for k in KEPT} == {k: before[name][k] for k in KEPT}, name
    removed = policy_status(client, "keep")["removed"]
    assert [(r["pod"], r["removedReason"], r["since"]) for r in removed] == [
        ("doomed", "pod deleted", before["doomed"]["since"])
    ]
    assert steady.read_text().splitlines() == LIMITED, "not written again"
    assert steady.stat().st_mtime_ns == written_at
    assert processes.counter("applied") == 1.0, "only the new cgroup was written"
    applied = {a["containerID"] for a in node_report(client, "keep", "node-1")["applied"]}
    assert applied == {container_id("s"), new_id}
