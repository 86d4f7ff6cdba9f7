"""Controllers end to end: a map function over watches(), and an async reconciler."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from reconcile.builder import ControllerBuilder
from reconcile.cache import CacheOptions
from reconcile.envtest import Komega
from reconcile.gvk import GroupVersionKind
from reconcile.handler import EnqueueRequestsFromMapFunc
from reconcile.manager import Manager
from reconcile.reconciler import AsyncReconcilerFunc, ReconcilerFunc, Request, Result
from tests.integration.cache.running import FAST
from tests.integration.controller.conftest import RunningManager, make_manager
from tests.waiting import wait_for

SECRET = GroupVersionKind("", "v1", "Secret")
CONFIG_MAP = GroupVersionKind("", "v1", "ConfigMap")


def _manager(kubeconfig: Path, namespace: str) -> Manager:
    return make_manager(kubeconfig, cache=CacheOptions(namespace=namespace, reflector=FAST))


def _config_map(namespace: str, name: str, secret: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": namespace}, "data": {"secretName": secret}}  # fmt: skip


def test_a_secret_change_reconciles_the_config_maps_that_reference_it(
    shared_kubeconfig: Path, namespace: str
) -> None:
    manager = _manager(shared_kubeconfig, namespace)
    client = manager.api_reader
    manager.cache.index_field(
        CONFIG_MAP, "data.secretName", lambda cm: [(cm.get("data") or {}).get("secretName", "")]
    )
    reconciled: list[str] = []
    lock = threading.Lock()

    def reconcile(request: Request) -> Result:
        with lock:
            reconciled.append(request.name)
        return Result()

    def referencing(secret: dict[str, Any]) -> list[Request]:
        meta = secret["metadata"]
        users = manager.cache.list(
            CONFIG_MAP,
            namespace=meta["namespace"],
            field_selector=f"data.secretName={meta['name']}",
        )
        return [Request(meta["namespace"], cm["metadata"]["name"]) for cm in users["items"]]

    controller = (
        ControllerBuilder(manager)
        .named(f"mapfunc-{namespace}")
        .for_(CONFIG_MAP)
        .watches(SECRET, EnqueueRequestsFromMapFunc(referencing))
        .complete(ReconcilerFunc(reconcile))
    )
    for name, secret_name in (("uses-db", "db"), ("also-db", "db"), ("uses-api", "api")):
        client.create(_config_map(namespace, name, secret_name))
    secret = client.create({"apiVersion": "v1", "kind": "Secret",
                            "metadata": {"name": "db", "namespace": namespace},
                            "stringData": {"password": "one"}})  # fmt: skip
    runner = RunningManager(manager).start()
    try:
        wait_for(lambda: {"uses-db", "also-db", "uses-api"} <= set(reconciled))
        wait_for(lambda: len(controller.queue) == 0, what="the initial events to be processed")
        with lock:
            reconciled.clear()
        secret["stringData"] = {"password": "two"}
        client.update(secret)
        wait_for(lambda: {"also-db", "uses-db"} <= set(reconciled), what="db's users")
        assert "uses-api" not in reconciled, "the Secret maps only to the ConfigMaps using it"
    finally:
        runner.shutdown()


def test_async_reconciler_with_the_async_client(shared_kubeconfig: Path, namespace: str) -> None:
    manager = _manager(shared_kubeconfig, namespace)

    async def reconcile(request: Request) -> Result:
        client = manager.async_client
        config_map = await client.get(CONFIG_MAP, request.name, request.namespace)
        if (config_map["metadata"].get("annotations") or {}).get("seen") != "yes":
            await client.patch(config_map, {"metadata": {"annotations": {"seen": "yes"}}})
        return Result()

    (
        ControllerBuilder(manager)
        .named(f"async-{namespace}")
        .for_(CONFIG_MAP)
        .complete(AsyncReconcilerFunc(reconcile))
    )
    runner = RunningManager(manager).start()
    try:
        created = manager.api_reader.create(_config_map(namespace, "a", "none"))
        Komega(manager.api_reader).eventually(created).has(
            {"metadata": {"annotations": {"seen": "yes"}}}
        )
    finally:
        runner.shutdown()
    assert runner.error is None
    assert not any(t.name.startswith("async-client") for t in threading.enumerate())
