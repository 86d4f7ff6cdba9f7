"""Metadata-only reads and watches: the client, the cache and an owns(only_metadata) controller."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reconcile.builder import ControllerBuilder
from reconcile.client import Client, MetadataClient
from reconcile.controllerutil import set_controller_reference
from reconcile.gvk import GroupVersionKind, PartialObjectMetadata
from reconcile.predicate import new_predicate_funcs
from reconcile.reconciler import ReconcilerFunc, Request, Result
from tests.integration.cache.running import running_cache
from tests.integration.controller.conftest import RunningManager, make_manager
from tests.waiting import wait_for

SECRET = GroupVersionKind("", "v1", "Secret")
CONFIG_MAP = GroupVersionKind("", "v1", "ConfigMap")


def _secret(namespace: str, name: str, **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "data": {"key": "c2VjcmV0" * 64},
    }


def test_client_reads_and_watches_metadata_only(shared_client: Client, namespace: str) -> None:
    shared_client.create(_secret(namespace, "s1", app="web"))
    metadata = MetadataClient(shared_client)
    got = metadata.get(SECRET, "s1", namespace)
    assert set(got) == {"apiVersion", "kind", "metadata"}
    assert (got["apiVersion"], got["kind"]) == ("v1", "Secret")
    assert got["metadata"]["labels"] == {"app": "web"}
    listed = metadata.list(SECRET, namespace=namespace)
    assert listed["kind"] == "SecretList"
    assert [set(item) for item in listed["items"]] == [{"apiVersion", "kind", "metadata"}]
    stream = metadata.watch(
        SECRET, namespace=namespace, resource_version=listed["metadata"]["resourceVersion"]
    )
    try:
        shared_client.create(_secret(namespace, "s2"))
        event = next(e for e in stream if e["type"] == "ADDED")
    finally:
        stream.close()
    assert event["object"]["metadata"]["name"] == "s2"
    assert "data" not in event["object"]


def test_cache_keeps_a_metadata_informer_apart_from_the_full_one(
    shared_client: Client, shared_kubeconfig: Path, namespace: str
) -> None:
    shared_client.create(_secret(namespace, "s1"))
    with running_cache(shared_kubeconfig) as cache:
        partial = cache.get(PartialObjectMetadata(SECRET), "s1", namespace)
        assert "data" not in partial and partial["metadata"]["name"] == "s1"
        informer = cache.get_informer(PartialObjectMetadata(SECRET))
        assert all("data" not in obj for obj in informer.store.items())
        assert cache.get_informer(SECRET) is not informer, "full objects have their own informer"
        full = cache.get(SECRET, "s1", namespace)
        assert full["data"]["key"].startswith("c2Vj")


def test_owns_only_metadata_wakes_the_owner(shared_kubeconfig: Path, namespace: str) -> None:
    manager = make_manager(shared_kubeconfig)
    client = manager.api_reader
    seen: list[str] = []

    def reconcile(request: Request) -> Result:
        seen.append(request.name)
        return Result()

    (
        ControllerBuilder(manager)
        .named(f"meta-{namespace}")
        .for_(CONFIG_MAP)
        .owns(SECRET, only_metadata=True)
        .with_event_filter(
            new_predicate_funcs(lambda obj: obj["metadata"].get("namespace") == namespace)
        )
        .complete(ReconcilerFunc(reconcile))
    )
    owner = client.create(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "owner", "namespace": namespace},
        }
    )
    runner = RunningManager(manager).start()
    try:
        wait_for(lambda: "owner" in seen, what="the owner's first reconcile")
        before = len(seen)
        owned = _secret(namespace, "owned")
        set_controller_reference(owner, owned)
        client.create(owned)
        wait_for(lambda: len(seen) > before, what="the owned Secret to wake its owner")
        cached = manager.cache.get_informer(PartialObjectMetadata(SECRET)).store.items()
        assert [
            o["metadata"]["name"] for o in cached if o["metadata"]["namespace"] == namespace
        ] == ["owned"]
        assert all("data" not in o for o in cached), "the cache holds Secrets' metadata only"
    finally:
        runner.shutdown()
