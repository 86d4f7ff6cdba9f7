"""The outage that lost a person's task, replayed against the operator as a real process.

The server it replaces re-initialised every pod's slots as idle after a restart, and its
autoscaler ran before its state was synced, deleting agents that held reserved work. Here
the operator (``kreconcile run``) is killed with SIGKILL while pods hold reserved and
running slots and the pool is allowed to shrink; it is restarted, once normally and once
while the API server answers every request with 503 for 10 s. Each time the restarted
operator must remove the one idle pod (so it did act) and leave every busy pod and the
whole busy ledger exactly as they were.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from controllers.agentpool.slots import Slots
from controllers.inprocess import install_crds
from crds import AgentPool
from reconcile.apiserver import APIServer
from reconcile.client import Client, RestConfig
from tests.integration.controllers.agentpool.conftest import start_kubelet
from tests.integration.controllers.agentpool.pools import (
    PodDeletions,
    busy,
    pod_uids,
    pool_manifest,
    status,
    wait_ready,
)
from tests.integration.controllers.processes import command, environment
from tests.waiting import wait_for

NAMESPACE = "default"
POOL = "agents"
OUTAGE = 10.0
"""Seconds the API server fails every request while the operator restarts."""


@pytest.fixture
def operator_kubeconfig(kubeconfig: Path) -> Path:
    """The manager's identity: the admin's today; the manager ServiceAccount's (as bound by
    config/rbac) once the embedded server enforces RBAC."""
    return kubeconfig


class Operator:
    """``kreconcile run`` as a process, its output kept in a file."""

    def __init__(self, kubeconfig: Path, log: Path) -> None:
        self.kubeconfig = kubeconfig
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                command(
                    "run",
                    f"--kubeconfig={self.kubeconfig}",
                    "--leader-elect=false",
                    "--metrics-bind-address=0",
                    "--health-probe-bind-address=0",
                ),
                stdout=out,
                stderr=subprocess.STDOUT,
                env=environment(),
            )

    def kill(self) -> None:
        """SIGKILL: no graceful shutdown, exactly like a node or OOM kill."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(10)


@pytest.fixture
def operator(operator_kubeconfig: Path, tmp_path: Path) -> Iterator[Operator]:
    running = Operator(operator_kubeconfig, tmp_path / "operator.log")
    yield running
    if running.process is not None and running.process.poll() is None:
        running.kill()


def _restart_and_check(
    client: Client,
    operator: Operator,
    deletions: PodDeletions,
    *,
    during_restart: Callable[[], None] = lambda: None,
) -> None:
    """Restart the operator; it must remove only the idle pod and keep the busy ledger."""
    before = status(client, NAMESPACE, POOL)
    busy_pods = set(busy(before["pods"]))
    uids = pod_uids(client, NAMESPACE, POOL)
    idle = sorted(set(uids) - busy_pods)
    assert idle == [f"{POOL}-2"], before
    deletions.deleted.clear()
    during_restart()
    operator.start()
    wait_for(
        lambda: all(name in deletions.deleted for name in idle),
        timeout=60,
        what="the restarted operator to remove the idle pod",
    )
    after = status(client, NAMESPACE, POOL)
    assert busy(after["pods"]) == busy(before["pods"])
    assert [e for e in after["pods"] if e["name"] in busy_pods] == [
        e for e in before["pods"] if e["name"] in busy_pods
    ]
    assert after.get("pending") == before.get("pending")
    assert not busy_pods & set(deletions.deleted), f"busy pods deleted: {deletions.deleted}"
    assert {n: u for n, u in pod_uids(client, NAMESPACE, POOL).items() if n in busy_pods} == {
        n: uids[n] for n in busy_pods
    }


class Outage:
    """Every request answered 503 for ``OUTAGE`` seconds from ``begin``."""

    def __init__(self, server: APIServer) -> None:
        self.server = server
        self.operator_requests_failed = 0
        self._timer = threading.Timer(OUTAGE, self.end)
        self._lists = 0

    def _operator_lists(self) -> int:
        # only the operator lists AgentPools (its informer); the test and kubelet never do
        return self.server.faults.count("list", "agentpools")

    def begin(self) -> None:
        self._lists = self._operator_lists()
        self.server.faults.fail(code=503, count=1_000_000)
        self._timer.start()

    def end(self) -> None:
        """Stop failing requests (at the timer, or at the latest when the test ends)."""
        self._timer.cancel()
        if not self.operator_requests_failed:  # everything asked during the outage failed
            self.operator_requests_failed = self._operator_lists() - self._lists
        self.server.faults.clear()


def _set_min_replicas(client: Client, replicas: int) -> None:
    pool = client.get(AgentPool, POOL, NAMESPACE)
    client.patch(pool, {"spec": {"minReplicas": replicas}})


def test_restarts_never_delete_busy_pods_nor_touch_their_slots(
    apiserver: APIServer, kubeconfig: Path, operator: Operator
) -> None:
    client = Client(RestConfig.from_kubeconfig(kubeconfig))
    install_crds(client)
    stop = threading.Event()
    kubelet = start_kubelet(client, stop)
    deletions = PodDeletions(client, NAMESPACE)
    try:
        operator.start()
        manifest = pool_manifest(
            NAMESPACE, POOL, minReplicas=3, slotsPerAgent=2, scaleDownStabilizationSeconds=1
        )
        client.create(manifest)
        wait_ready(client, NAMESPACE, POOL, 3)
        slots = Slots(client)
        # "apply" waits for a person to confirm: reserved for hours; "build" runs
        for task in ("apply-1", "apply-2", "build-1"):
            slots.claim(NAMESPACE, POOL, task)
        slots.start(NAMESPACE, POOL, "build-1")
        wait_for(lambda: status(client, NAMESPACE, POOL).get("busySlots") == 3, timeout=10)

        # 1. killed, then allowed to shrink while down, then restarted
        operator.kill()
        _set_min_replicas(client, 1)
        _restart_and_check(client, operator, deletions)

        # 2. the pool grows back; killed again; restarted while the API server fails
        _set_min_replicas(client, 3)
        wait_ready(client, NAMESPACE, POOL, 3)
        operator.kill()
        _set_min_replicas(client, 1)
        outage = Outage(apiserver)
        try:
            _restart_and_check(client, operator, deletions, during_restart=outage.begin)
        finally:
            outage.end()
        assert outage.operator_requests_failed > 0, "the operator never met the outage"
    finally:
        deletions.close()
        stop.set()
        kubelet.join(5)
