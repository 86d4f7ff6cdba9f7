"""Cache reads: limit honoured, continue refused, and the GC untouched unless asked."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from reconcile.cache import CacheOptions, InformerCache, ReflectorOptions
from reconcile.client import Client, DelegatingClient
from reconcile.gvk import GroupVersionKind

CONFIGMAP = GroupVersionKind("", "v1", "ConfigMap")


@pytest.fixture
def stop() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()


def _start(client: Client, stop: threading.Event, options: CacheOptions) -> InformerCache:
    cache = InformerCache(client, options)
    thread = threading.Thread(target=cache.start, args=(stop,), daemon=True)
    thread.start()
    return cache


def _seed(client: Client, count: int) -> None:
    for i in range(count):
        client.create(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": f"cm-{i}", "namespace": "default"},
            }
        )


def test_limit_is_honoured_and_continue_is_refused(client: Client, stop: threading.Event) -> None:
    _seed(client, 5)
    cache = _start(client, stop, CacheOptions())
    reader = DelegatingClient(client, cache)
    limited = reader.list(CONFIGMAP, namespace="default", limit=2)
    assert [o["metadata"]["name"] for o in limited["items"]] == ["cm-0", "cm-1"]
    assert len(reader.list(CONFIGMAP, namespace="default", limit=0)["items"]) == 5
    with pytest.raises(ValueError, match="cannot continue a paginated list"):
        reader.list(CONFIGMAP, namespace="default", continue_token="abc")
    uncached = DelegatingClient(client, cache, uncached=[CONFIGMAP])
    page = uncached.list(CONFIGMAP, namespace="default", limit=2)
    assert len(page["items"]) == 2 and page["metadata"]["continue"]
    rest = uncached.list(
        CONFIGMAP, namespace="default", continue_token=page["metadata"]["continue"]
    )
    assert len(rest["items"]) == 3


@pytest.mark.parametrize("tune_gc", [False, True])
def test_gc_is_paused_during_lists_only_when_asked(
    client: Client, stop: threading.Event, tune_gc: bool
) -> None:
    _seed(client, 2)
    during: list[bool] = []

    def record(obj: dict[str, Any]) -> dict[str, Any]:
        during.append(gc.isenabled())
        return obj

    options = CacheOptions(default_transform=record, reflector=ReflectorOptions(tune_gc=tune_gc))
    cache = _start(client, stop, options)
    assert cache.get_informer(CONFIGMAP).wait_for_sync(30)
    assert during and set(during) == {not tune_gc}
    assert gc.isenabled()
