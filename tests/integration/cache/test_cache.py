"""The informer cache against the embedded API server, with its fault injection."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from reconcile.apiserver import APIServer
from reconcile.cache import CacheOptions, InformerCache, KindOptions, ReflectorOptions
from reconcile.client import Client
from reconcile.errors import CacheSyncTimeout, NotFound
from reconcile.gvk import GroupVersionKind
from tests.waiting import wait_for

CONFIGMAP = GroupVersionKind("", "v1", "ConfigMap")
POD = GroupVersionKind("", "v1", "Pod")


def _cm(name: str, labels: dict[str, str] | None = None, **data: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": "default"}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data}


@pytest.fixture
def stop() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()


def _start(client: Client, stop: threading.Event, **options: Any) -> InformerCache:
    reflector = ReflectorOptions(
        stall_timeout=options.pop("stall_timeout", 30.0), initial_backoff=0.05, max_backoff=0.5
    )
    cache = InformerCache(
        client,
        CacheOptions(
            reflector=reflector, sync_timeout=options.pop("sync_timeout", 10.0), **options
        ),
    )
    threading.Thread(target=cache.start, args=(stop,), daemon=True).start()
    return cache


def _data(cache: InformerCache, name: str) -> dict[str, str] | None:
    try:
        return cache.get(CONFIGMAP, name, "default").get("data")
    except NotFound:
        return None


def test_list_then_watch(client: Client, stop: threading.Event) -> None:
    client.create(_cm("early", v="1"))
    cache = _start(client, stop)
    assert _data(cache, "early") == {"v": "1"}
    client.create(_cm("late", v="2"))
    wait_for(lambda: _data(cache, "late") == {"v": "2"}, what="the watched create")
    client.delete(_cm("early"))
    wait_for(lambda: _data(cache, "early") is None, what="the watched delete")


def test_cached_reads_are_copies(client: Client, stop: threading.Event) -> None:
    client.create(_cm("copied", v="1"))
    cache = _start(client, stop)
    first = cache.get(CONFIGMAP, "copied", "default")
    first["data"]["v"] = "mutated"
    assert cache.get(CONFIGMAP, "copied", "default")["data"] == {"v": "1"}
    assert "managedFields" not in first["metadata"]


def test_cut_watch_resumes_without_relist(
    client: Client, apiserver: APIServer, stop: threading.Event
) -> None:
    cache = _start(client, stop)
    informer = cache.get_informer(CONFIGMAP)
    cache.wait_for_cache_sync()
    wait_for(lambda: informer.stats.watches == 1)
    for round_ in range(3):
        apiserver.faults.cut_watches()
        client.create(_cm(f"during-{round_}"))
    client.create(_cm("final", v="last"))
    wait_for(lambda: _data(cache, "final") == {"v": "last"}, what="the final state")
    for name in ("during-0", "during-1", "during-2"):
        assert _data(cache, name) is not None, f"{name} created across a cut watch"
    assert informer.stats.lists == 1, "resumed from the last resourceVersion, no relist"
    assert informer.stats.watches >= 2


def test_relist_after_gone_never_misses_final_state(
    client: Client, apiserver: APIServer, stop: threading.Event
) -> None:
    client.create(_cm("doomed"))
    cache = _start(client, stop)
    informer = cache.get_informer(CONFIGMAP)
    cache.wait_for_cache_sync()
    apiserver.faults.stall_watches(True)
    client.delete(_cm("doomed"))
    for i in range(20):
        client.create(_cm(f"burst-{i}", v=str(i)))
    apiserver.compact()
    apiserver.faults.stall_watches(False)
    apiserver.faults.cut_watches()
    wait_for(lambda: informer.stats.relists_after_gone >= 1, what="a relist after 410")
    wait_for(lambda: _data(cache, "burst-19") == {"v": "19"}, what="the final state")
    assert _data(cache, "doomed") is None, "the delete missed by the watch arrives via relist"


def test_stalled_watch_is_restarted(
    client: Client, apiserver: APIServer, stop: threading.Event
) -> None:
    cache = _start(client, stop, stall_timeout=0.5)
    informer = cache.get_informer(CONFIGMAP)
    cache.wait_for_cache_sync()
    apiserver.faults.stall_watches(True)
    client.create(_cm("unseen", v="1"))
    wait_for(lambda: informer.stats.stalls >= 1, timeout=10, what="the stall to be detected")
    apiserver.faults.stall_watches(False)
    wait_for(
        lambda: _data(cache, "unseen") == {"v": "1"}, timeout=10, what="the event after restart"
    )


def test_field_index_lookup(client: Client, stop: threading.Event) -> None:
    for name, node in (("a", "n1"), ("b", "n2"), ("c", "n1")):
        client.create(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": name, "namespace": "default"},
                "spec": {"nodeName": node, "containers": [{"name": "c", "image": "x"}]},
            }
        )
    cache = _start(client, stop)
    cache.index_field(POD, "spec.nodeName", lambda pod: [pod.get("spec", {}).get("nodeName", "")])
    names = [
        p["metadata"]["name"] for p in cache.list(POD, field_selector="spec.nodeName=n1")["items"]
    ]
    assert sorted(names) == ["a", "c"]
    with pytest.raises(ValueError, match=r"no index for field 'status\.phase'"):
        cache.list(POD, field_selector="status.phase=Running")


def test_label_selector_restriction_per_kind(client: Client, stop: threading.Event) -> None:
    client.create(_cm("mine", labels={"owner": "me"}))
    client.create(_cm("theirs", labels={"owner": "them"}))
    cache = _start(client, stop, by_kind={CONFIGMAP: KindOptions(label_selector={"owner": "me"})})
    names = [c["metadata"]["name"] for c in cache.list(CONFIGMAP, namespace="default")["items"]]
    assert names == ["mine"]


def test_sync_timeout_names_missing_crd(client: Client, stop: threading.Event) -> None:
    cache = _start(client, stop, sync_timeout=1.0)
    with pytest.raises(CacheSyncTimeout, match="install its CustomResourceDefinition"):
        cache.get(GroupVersionKind("example.com", "v1", "Widget"), "w", "default")


def test_api_server_outage_backs_off_then_recovers(
    client: Client, apiserver: APIServer, stop: threading.Event
) -> None:
    cache = _start(client, stop)
    informer = cache.get_informer(CONFIGMAP)
    cache.wait_for_cache_sync()
    apiserver.faults.fail(code=503, verb="watch", resource="configmaps", count=3)
    apiserver.faults.cut_watches()
    client.create(_cm("after-outage", v="ok"))
    wait_for(lambda: _data(cache, "after-outage") == {"v": "ok"}, timeout=15)
    assert informer.stats.failures >= 3


def test_sync_timeout_names_rbac_when_list_is_forbidden(
    client: Client, apiserver: APIServer, stop: threading.Event
) -> None:
    apiserver.faults.fail(code=403, verb="list", resource="secrets", count=1000)
    cache = _start(client, stop, sync_timeout=1.0)
    with pytest.raises(
        CacheSyncTimeout,
        match=r"answered 403 to list/watch.*grant list and watch on Secret in config/rbac/role.yaml",
    ):
        cache.list(GroupVersionKind("", "v1", "Secret"))
