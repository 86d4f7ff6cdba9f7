"""Manager features: warm-up before the Lease is won, endpoint names, profiling, events v1."""

from __future__ import annotations

import threading
import urllib.request
from pathlib import Path

import pytest

from reconcile.builder import ControllerBuilder
from reconcile.cache import CacheOptions
from reconcile.client import Client
from reconcile.gvk import GroupVersionKind
from reconcile.manager import Manager
from reconcile.reconciler import ReconcilerFunc, Request, Result
from tests.integration.cache.running import FAST
from tests.integration.controller.conftest import RunningManager, make_manager
from tests.waiting import wait_for

CONFIG_MAP = GroupVersionKind("", "v1", "ConfigMap")
LEASE = GroupVersionKind("coordination.k8s.io", "v1", "Lease")
EVENT = GroupVersionKind("events.k8s.io", "v1", "Event")


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _hold_lease(client: Client, namespace: str, name: str) -> dict[str, object]:
    return client.create(
        {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
         "metadata": {"name": name, "namespace": namespace},
         "spec": {"holderIdentity": "other-replica", "leaseDurationSeconds": 3600,
                  "acquireTime": "2026-01-01T00:00:00.000000Z",
                  "renewTime": "2026-01-01T00:00:00.000000Z", "leaseTransitions": 0}}
    )  # fmt: skip


@pytest.mark.parametrize("warmup", [True, False], ids=["warm", "cold"])
def test_warmup_fills_the_cache_and_queue_before_the_lease_is_won(
    shared_kubeconfig: Path, shared_client: Client, namespace: str, warmup: bool
) -> None:
    for i in range(5):
        shared_client.create({"apiVersion": "v1", "kind": "ConfigMap",
                              "metadata": {"name": f"c{i}", "namespace": namespace}})  # fmt: skip
    lease = _hold_lease(shared_client, namespace, "warmup")
    manager = make_manager(
        shared_kubeconfig,
        cache=CacheOptions(namespace=namespace, reflector=FAST),
        leader_election=True,
        leader_election_id="warmup",
        leader_election_namespace=namespace,
        retry_period=0.2,
        renew_deadline=1.0,
        lease_duration=2.0,
    )
    reconciled: list[str] = []

    def reconcile(request: Request) -> Result:
        reconciled.append(request.name)
        return Result()

    controller = (
        ControllerBuilder(manager)
        .for_(CONFIG_MAP)
        .with_options(enable_warmup=warmup)
        .complete(ReconcilerFunc(reconcile))
    )
    runner = RunningManager(manager).start()
    try:
        wait_for(
            lambda: manager.elector is not None and manager.elector.leader == "other-replica",
            what="the standby to observe the other leader",
        )
        if warmup:
            wait_for(lambda: len(controller.queue) == 5, what="the queue primed while standby")
        else:
            assert len(controller.queue) == 0, "a cold standby has not listed anything"
        assert reconciled == [], "nothing is reconciled before the Lease is won"
        shared_client.delete(lease)
        wait_for(lambda: len(set(reconciled)) == 5, timeout=20, what="reconciles after winning")
    finally:
        runner.shutdown()


def test_probe_names_profiling_endpoint_and_events_v1(
    shared_kubeconfig: Path, shared_client: Client, namespace: str
) -> None:
    manager: Manager = make_manager(
        shared_kubeconfig,
        cache=CacheOptions(namespace=namespace, reflector=FAST),
        liveness_endpoint_name="/livez",
        readiness_endpoint_name="/ready",
        pprof_bind_address="127.0.0.1:0",
    )
    parent = shared_client.create({"apiVersion": "v1", "kind": "ConfigMap",
                                   "metadata": {"name": "parent", "namespace": namespace}})  # fmt: skip
    runner = RunningManager(manager).start()
    try:
        assert manager.probe_server.wait_bound(10) and manager.pprof_server.wait_bound(10)
        probes = f"http://{manager.probe_server.address}"
        assert _get(f"{probes}/livez") == (200, "ok")
        wait_for(lambda: _get(f"{probes}/ready")[0] == 200, what="readiness after cache sync")
        assert _get(f"{probes}/healthz")[0] == 404, "the default names are not served"
        status, stacks = _get(f"http://{manager.pprof_server.address}/debug/pprof/threads")
        assert status == 200 and "thread cache" in stacks and "thread pprof" in stacks

        recorder = manager.get_events_recorder("parity-controller")
        related = {"apiVersion": "v1", "kind": "Pod", "name": "p", "namespace": namespace}
        for _ in range(2):
            recorder.eventf(
                parent, {"metadata": related, **related}, "Normal", "Synced", "Sync", "ok"
            )
        assert recorder.flush(10)

        def recorded() -> list[dict[str, object]]:
            items = shared_client.list(EVENT, namespace=namespace)["items"]
            return [e for e in items if e.get("reportingController") == "parity-controller"]

        wait_for(lambda: len(recorded()) == 1 and recorded()[0].get("series"), what="a series")
        (event,) = recorded()
        assert event["regarding"]["name"] == "parent"  # type: ignore[index]
        assert event["related"]["kind"] == "Pod"  # type: ignore[index]
        assert event["series"]["count"] == 2  # type: ignore[index]
        assert (event["action"], event["reason"], event["note"]) == ("Sync", "Synced", "ok")
    finally:
        runner.shutdown()
    assert not any(t.name.startswith("events-v1") for t in threading.enumerate())
