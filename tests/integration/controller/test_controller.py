"""Controllers, builder and manager against the embedded API server."""

from __future__ import annotations

import threading
import urllib.request
from typing import Any

from examples.configmap_controller import CONFIGMAP, WIDGET, setup
from reconcile.builder import ControllerBuilder
from reconcile.client import Client
from reconcile.clock import FakeClock
from reconcile.errors import NotFound
from reconcile.manager import Manager
from reconcile.reconciler import Request, Result
from tests.conftest import Kubectl
from tests.integration.apiserver.manifests import WIDGET_CRD
from tests.integration.controller.conftest import RunningManager
from tests.waiting import wait_for


def _widget(name: str, size: int) -> dict[str, Any]:
    return {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"size": size},
    }


def _config(client: Client, name: str) -> dict[str, Any] | None:
    try:
        return client.get(CONFIGMAP, f"{name}-config", "default")
    except NotFound:
        return None


def _scrape(manager: Manager) -> str:
    with urllib.request.urlopen(
        f"http://{manager.metrics_server.address}/metrics", timeout=5
    ) as response:
        return str(response.read().decode())


def test_example_controller_keeps_configmap_in_step(
    kubectl: Kubectl, client: Client, manager: Manager, running: RunningManager
) -> None:
    kubectl("apply", "-f", "-", input=WIDGET_CRD)
    setup(manager)
    running.start()
    client.create(_widget("w1", 3))
    wait_for(
        lambda: (_config(client, "w1") or {}).get("data") == {"size": "3", "color": "red"},
        timeout=15,
    )
    owner = _config(client, "w1")["metadata"]["ownerReferences"][0]  # type: ignore[index]
    assert (owner["kind"], owner["name"], owner["controller"]) == ("Widget", "w1", True)

    widget = client.get(WIDGET, "w1", "default")
    widget["spec"]["size"] = 5
    client.update(widget)
    wait_for(lambda: (_config(client, "w1") or {}).get("data", {}).get("size") == "5", timeout=15)

    client.delete(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "w1-config", "namespace": "default"},
        }
    )
    wait_for(lambda: _config(client, "w1") is not None, timeout=15, what="owned object re-created")

    text = _scrape(manager)
    assert 'controller_runtime_reconcile_total{controller="widget",result="success"}' in text
    assert 'workqueue_adds_total{controller="widget",name="widget"}' in text
    assert 'controller_runtime_max_concurrent_reconciles{controller="widget"} 1.0' in text


class Gate:
    """A reconciler that records what it saw and can hold the first call."""

    def __init__(self, client: Client, hold_first: bool = False) -> None:
        self.client = client
        self.seen: list[str] = []
        self.entered = threading.Event()
        self.release = threading.Event()
        if not hold_first:
            self.release.set()
        self.lock = threading.Lock()

    def reconcile(self, request: Request) -> Result:
        self.entered.set()
        self.release.wait(30)
        obj = self.client.get(CONFIGMAP, request.name, request.namespace)
        with self.lock:
            self.seen.append(obj["data"]["v"])
        return Result()


def _cm(name: str, v: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "default"},
        "data": {"v": v},
    }


def test_change_during_reconcile_causes_exactly_one_more(
    client: Client, manager: Manager, running: RunningManager
) -> None:
    gate = Gate(manager.client, hold_first=True)  # type: ignore[arg-type]
    ControllerBuilder(manager).for_(CONFIGMAP).named("gate").complete(gate)
    client.create(_cm("level", "1"))
    running.start()
    assert gate.entered.wait(15)
    current = client.get(CONFIGMAP, "level", "default")
    for value in ("2", "3", "4"):
        current["data"]["v"] = value
        current = client.update(current)
    wait_for(lambda: manager.cache.get(CONFIGMAP, "level", "default")["data"]["v"] == "4")
    gate.release.set()
    wait_for(lambda: len(gate.seen) == 2, timeout=15)
    assert gate.seen[-1] == "4", "the extra run sees the final state"
    assert len(gate.seen) == 2


def test_burst_of_updates_collapses(
    client: Client, manager: Manager, running: RunningManager
) -> None:
    """100 updates while a reconcile is busy collapse into one more reconcile."""
    gate = Gate(manager.client, hold_first=True)  # type: ignore[arg-type]
    ControllerBuilder(manager).for_(CONFIGMAP).named("burst").complete(gate)
    running.start()
    current = client.create(_cm("hot", "0"))
    assert gate.entered.wait(15)
    for value in range(1, 101):
        current["data"]["v"] = str(value)
        current = client.update(current)
    wait_for(lambda: manager.cache.get(CONFIGMAP, "hot", "default")["data"]["v"] == "100")
    gate.release.set()
    wait_for(lambda: gate.seen and gate.seen[-1] == "100", timeout=20, what="the final state")
    assert len(gate.seen) == 2, f"{len(gate.seen)} reconciles for 101 writes"


def test_graceful_shutdown_finishes_in_flight_reconcile(
    client: Client, manager: Manager, running: RunningManager
) -> None:
    clock = FakeClock()
    gate = Gate(manager.client, hold_first=True)  # type: ignore[arg-type]
    controller = (
        ControllerBuilder(manager)
        .for_(CONFIGMAP)
        .named("slow")
        .with_options(clock=clock)
        .complete(gate)
    )
    client.create(_cm("inflight", "x"))
    running.start()
    assert gate.entered.wait(15)
    running.stop.set()
    # The controller is draining (its queue shut down) while the reconcile is held: the
    # manager must still be running, and nothing seen yet.
    wait_for(controller.queue.shutting_down, timeout=15, what="the controller to start draining")
    assert running.thread.is_alive(), "the manager returned with a reconcile in flight"
    assert gate.seen == []
    clock.step(4.0)  # the held reconcile "takes" four seconds of controller time
    gate.release.set()
    running.thread.join(15)
    assert gate.seen == ["x"], "the in-flight reconcile completed before the manager returned"
    assert running.error is None
    assert (
        manager.registry.get_sample_value(
            "controller_runtime_reconcile_time_seconds_sum", {"controller": "slow"}
        )
        == 4.0
    )


def test_probes(manager: Manager, running: RunningManager) -> None:
    assert manager.probe_server.address is None, "no port is bound before start"
    running.start()
    assert manager.probe_server.wait_bound(15)
    base = f"http://{manager.probe_server.address}"

    def ready() -> bool:
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=2) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    wait_for(ready, timeout=15)
    with urllib.request.urlopen(f"{base}/readyz?verbose", timeout=2) as response:
        body = response.read().decode()
    assert "[+]cache-synced ok" in body and "readyz check passed" in body
    with urllib.request.urlopen(f"{base}/healthz/ping", timeout=2) as response:
        assert response.read() == b"ok"
