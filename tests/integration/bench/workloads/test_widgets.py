"""The kreconcile half of the kopf comparison, run exactly as the benchmark runs it.

The API server and the operator are child processes started by the benchmark's own helpers
(the operator with its default settings); the driver's Tracker decides convergence. The
Tracker's own rules are checked against the in-process server (quicker to start). The
kopf half needs kopf from the package index, so only the benchmark itself exercises it.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.workloads import widgets
from bench.workloads.processes import Child, start_apiserver, usage
from bench.workloads.tracker import Tracker, parallel, server_revision, wait_quiet
from reconcile.client import Client, RestConfig
from tests.waiting import wait_for

OBJECTS = 12
NAMES = [f"w-{i}" for i in range(OBJECTS)]


def _populate(client: Client) -> None:
    widgets.install_crd(client)
    parallel(lambda name: client.create(widgets.widget(name, 1)), NAMES, threads=4)


@contextlib.contextmanager
def _tracking(client: Client) -> Iterator[Tracker]:
    follower = Tracker(client, NAMES)
    follower.start(timeout=30)
    try:
        yield follower
    finally:
        follower.stop()


@pytest.fixture
def server_process(tmp_path: Path) -> Iterator[tuple[Client, Path]]:
    """The API server in its own process, as the benchmark runs it."""
    process, kubeconfig = start_apiserver(tmp_path, watch_history=1000)
    try:
        client = Client(RestConfig.from_kubeconfig(kubeconfig, qps=0))
        _populate(client)
        yield client, kubeconfig
    finally:
        process.stop()


def test_operator_process_keeps_every_widget_in_step(
    server_process: tuple[Client, Path], tmp_path: Path
) -> None:
    client, kubeconfig = server_process
    with _tracking(client) as tracker:
        _converge_twice(client, kubeconfig, tracker, tmp_path)


def _converge_twice(client: Client, kubeconfig: Path, tracker: Tracker, tmp_path: Path) -> None:
    tracker.expect(1)
    assert tracker.done() == 0
    revision = server_revision(client)
    operator = Child(
        "kreconcile",
        [sys.executable, "-m", "bench.workloads.widgets", "--kubeconfig", str(kubeconfig)],
        tmp_path / "operator.log",
    )
    try:
        assert tracker.wait(60), f"converged {tracker.done()}/{OBJECTS}:\n{operator.tail()}"
        assert wait_quiet(client, quiet=0.5, timeout=30)
        # One ConfigMap create and one status patch per object: re-reconciles write nothing.
        assert server_revision(client) - revision == 2 * OBJECTS

        config = client.get(widgets.CONFIGMAP, "w-3", widgets.NAMESPACE)
        owner = config["metadata"]["ownerReferences"][0]
        assert (owner["kind"], owner["name"], owner["controller"]) == ("Widget", "w-3", True)
        status = client.get(widgets.WIDGET, "w-3", widgets.NAMESPACE)["status"]
        assert status == {"observedValue": 1, "observedGeneration": 1}

        tracker.expect(2)
        parallel(
            lambda name: client.patch(widgets.widget(name, 2), {"spec": {"value": 2}}),
            NAMES,
            threads=4,
        )
        assert tracker.wait(60), f"converged {tracker.done()}/{OBJECTS}:\n{operator.tail()}"
        assert sorted(tracker.landed()) == sorted(NAMES)
        assert client.get(widgets.CONFIGMAP, "w-3", widgets.NAMESPACE)["data"] == {"value": "2"}

        measured = usage(operator.pid)
        assert measured.cpu_s > 0
        assert measured.peak_rss_mb > 10
    finally:
        printed = operator.stop()
    assert operator.process.returncode == 0, operator.tail()
    assert json.loads(printed.strip().splitlines()[-1])["reconciles"] >= 2 * OBJECTS


def _configmap(name: str, value: int) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": widgets.NAMESPACE},
        "data": widgets.configmap_data(value),
    }


def test_tracker_counts_an_object_only_when_status_and_configmap_agree(client: Client) -> None:
    _populate(client)
    with _tracking(client) as tracker:
        _check_tracker(client, tracker)


def _check_tracker(client: Client, tracker: Tracker) -> None:
    tracker.expect(5)
    client.create(_configmap("w-1", 5))  # w-1: ConfigMap only
    client.create(_configmap("w-2", 4))  # w-2: status, but a stale ConfigMap
    for name in ("w-0", "w-2"):
        client.status().patch(widgets.widget(name, 5), {"status": {"observedValue": 5}})
    wait_for(lambda: sorted(tracker.landed()) == ["w-0", "w-2"], timeout=10)
    assert tracker.done() == 0
    client.create(_configmap("w-0", 5))  # w-0: both; seen after w-1's and w-2's
    wait_for(lambda: tracker.done() == 1, timeout=10)
    assert not tracker.wait(0)
