"""The manager takes no port before start, stops every thread it starts, and fails loudly."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path

import pytest

from reconcile.builder import ControllerBuilder
from reconcile.gvk import GroupVersionKind
from reconcile.handler import EnqueueRequestForObject
from reconcile.manager import Manager
from reconcile.reconciler import ReconcilerFunc, Request, Result
from reconcile.source import Channel
from tests.integration.controller.conftest import RunningManager, make_manager

CONFIGMAP = GroupVersionKind("", "v1", "ConfigMap")


def _metrics_address(manager: Manager) -> str | None:
    return manager.metrics_server.address


def test_every_thread_the_manager_starts_has_ended_when_it_returns(kubeconfig: Path) -> None:
    before = set(threading.enumerate())
    manager = make_manager(
        kubeconfig,
        leader_election=True,
        leader_election_id="lifecycle",
        leader_election_namespace="default",
    )
    assert set(threading.enumerate()) == before, "building a manager starts no thread"
    assert _metrics_address(manager) is None, "and binds no port"
    reconciled = threading.Event()

    def reconcile(request: Request) -> Result:
        manager.get_event_recorder("lifecycle").event(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": request.name, "namespace": request.namespace, "uid": "u"},
            },
            "Normal",
            "Seen",
            "reconciled",
        )
        reconciled.set()
        return Result()

    ControllerBuilder(manager).for_(CONFIGMAP).complete(ReconcilerFunc(reconcile))
    running = RunningManager(manager).start()
    manager.api_reader.create(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "default"}}
    )
    assert reconciled.wait(30)
    assert manager.metrics_server.wait_bound(10) and _metrics_address(manager) is not None
    running.shutdown()
    assert running.error is None
    left = [t.name for t in set(threading.enumerate()) - before if t.is_alive()]
    assert left == []


def test_a_dead_worker_fails_the_manager_with_exit_code_1(
    kubeconfig: Path, caplog: pytest.LogCaptureFixture
) -> None:
    manager = make_manager(kubeconfig, metrics_bind_address="0", health_probe_bind_address="0")
    channel = Channel(EnqueueRequestForObject())

    def buggy(request: Request) -> Result:
        raise TypeError("a bug in the reconciler")

    (
        ControllerBuilder(manager)
        .named("fatal")
        .watches(channel)
        .with_options(recover_panic=False)
        .complete(ReconcilerFunc(buggy))
    )
    channel.send({"metadata": {"name": "x", "namespace": "default"}})
    handlers = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    result: list[int] = []
    try:
        with caplog.at_level(logging.ERROR):
            # run() installs signal handlers, so it must run on the main thread.
            result.append(manager.run())
    finally:
        signal.signal(signal.SIGTERM, handlers[0])
        signal.signal(signal.SIGINT, handlers[1])
    assert result == [1]
    messages = [r.getMessage() for r in caplog.records]
    assert "worker died on an unrecovered reconciler error, stopping the controller" in messages
    assert "manager failed" in messages
