"""Cache scope against the embedded server: namespaces, selectors, resync, hooks, removal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconcile.cache import ALL_NAMESPACES, CacheOptions, NamespaceConfig
from reconcile.client import Client, NoKindMatch
from reconcile.errors import NotCached
from reconcile.gvk import GroupVersionKind
from tests.integration.cache.running import running_cache
from tests.waiting import wait_for

CONFIG_MAP = GroupVersionKind("", "v1", "ConfigMap")
SECRET = GroupVersionKind("", "v1", "Secret")
WIDGET = GroupVersionKind("example.com", "v1", "Widget")


def _namespace(client: Client, name: str) -> str:
    client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    return name


def _config_map(client: Client, namespace: str, name: str, **labels: str) -> dict[str, Any]:
    return client.create(
        {"apiVersion": "v1", "kind": "ConfigMap",
         "metadata": {"name": name, "namespace": namespace, "labels": labels}}
    )  # fmt: skip


def _names(listing: dict[str, Any]) -> list[str]:
    return sorted(f"{o['metadata']['namespace']}/{o['metadata']['name']}" for o in listing["items"])


class Handler:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, bool]] = []

    def on_add(self, obj: dict[str, Any], is_in_initial_list: bool) -> None:
        self.events.append(("add", obj["metadata"]["name"], is_in_initial_list))

    def on_update(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        self.events.append(("update", new["metadata"]["name"], old is new))

    def on_delete(self, obj: dict[str, Any]) -> None:
        self.events.append(("delete", obj["metadata"]["name"], False))


def test_several_namespaces_each_with_its_selector(
    shared_client: Client, shared_kubeconfig: Path, namespace: str
) -> None:
    a, b, c = (_namespace(shared_client, f"{namespace}-{x}") for x in "abc")
    _config_map(shared_client, a, "any")
    _config_map(shared_client, b, "web", app="web")
    _config_map(shared_client, b, "db", app="db")
    _config_map(shared_client, c, "elsewhere")
    options = CacheOptions(
        default_namespaces={a: NamespaceConfig(), b: NamespaceConfig(label_selector="app=web")}
    )
    with running_cache(shared_kubeconfig, options) as cache:
        assert _names(cache.list(CONFIG_MAP)) == [f"{a}/any", f"{b}/web"]
        assert _names(cache.list(CONFIG_MAP, namespace=b)) == [f"{b}/web"]
        with pytest.raises(NotCached, match=f"not in '{c}'"):
            cache.get(CONFIG_MAP, "elsewhere", c)
        _config_map(shared_client, b, "web-2", app="web")
        wait_for(lambda: f"{b}/web-2" in _names(cache.list(CONFIG_MAP)), what="watch in scope b")
        informer = cache.get_informer(CONFIG_MAP)
        assert [scope.namespace for scope in informer.scopes] == [a, b]


def test_all_other_namespaces_with_an_exception(
    shared_client: Client, shared_kubeconfig: Path, namespace: str
) -> None:
    special, other = (_namespace(shared_client, f"{namespace}-{x}") for x in ("s", "o"))
    _config_map(shared_client, special, "kept", keep="yes")
    _config_map(shared_client, special, "dropped")
    _config_map(shared_client, other, "anything")
    options = CacheOptions(
        default_namespaces={
            ALL_NAMESPACES: NamespaceConfig(),
            special: NamespaceConfig(label_selector="keep=yes"),
        }
    )
    with running_cache(shared_kubeconfig, options) as cache:
        names = _names(cache.list(CONFIG_MAP))
        assert f"{special}/kept" in names and f"{other}/anything" in names
        assert f"{special}/dropped" not in names
        assert cache.get(CONFIG_MAP, "anything", other)["metadata"]["name"] == "anything"


def test_default_label_selector_applies_to_every_kind(
    shared_client: Client, shared_kubeconfig: Path, namespace: str
) -> None:
    _config_map(shared_client, namespace, "mine", owner="me")
    _config_map(shared_client, namespace, "theirs", owner="them")
    options = CacheOptions(default_label_selector={"owner": "me"})
    with running_cache(shared_kubeconfig, options) as cache:
        assert _names(cache.list(CONFIG_MAP, namespace=namespace)) == [f"{namespace}/mine"]


def test_reads_of_uncached_kinds_fail_when_asked_to(
    shared_client: Client, shared_kubeconfig: Path, namespace: str
) -> None:
    _config_map(shared_client, namespace, "c")
    options = CacheOptions(reader_fail_on_missing_informer=True)
    with running_cache(shared_kubeconfig, options) as cache:
        with pytest.raises(NotCached, match=r"no informer for .*ConfigMap"):
            cache.list(CONFIG_MAP, namespace=namespace)
        cache.get_informer(CONFIG_MAP)
        assert cache.get(CONFIG_MAP, "c", namespace)["metadata"]["name"] == "c"


def test_watch_error_hook_sees_list_failures(shared_kubeconfig: Path) -> None:
    seen: list[tuple[GroupVersionKind, BaseException]] = []
    options = CacheOptions(watch_error_handler=lambda gvk, error: seen.append((gvk, error)))
    with running_cache(shared_kubeconfig, options) as cache:
        cache.get_informer(WIDGET)  # no CRD installed: every list fails
        wait_for(lambda: len(seen) >= 2, what="two failed lists reported")
    assert all(gvk == WIDGET and isinstance(error, NoKindMatch) for gvk, error in seen)


def test_remove_informer_stops_its_events(
    shared_client: Client, shared_kubeconfig: Path, namespace: str
) -> None:
    with running_cache(shared_kubeconfig) as cache:
        handler = Handler()
        informer = cache.get_informer(CONFIG_MAP)
        informer.add_event_handler(handler)
        assert informer.wait_for_sync(15)
        _config_map(shared_client, namespace, "before")
        wait_for(lambda: ("add", "before", False) in handler.events)
        assert cache.remove_informer(CONFIG_MAP)
        assert not cache.remove_informer(CONFIG_MAP), "already removed"
        _config_map(shared_client, namespace, "after")
        fresh = cache.get_informer(CONFIG_MAP)
        assert fresh is not informer
        assert fresh.wait_for_sync(15)
        assert "after" in [o["metadata"]["name"] for o in fresh.store.items()]
        assert ("add", "after", False) not in handler.events, "the removed informer is stopped"


def test_sync_period_redelivers_unchanged_objects(
    shared_client: Client, shared_kubeconfig: Path, namespace: str
) -> None:
    _config_map(shared_client, namespace, "steady")
    with running_cache(
        shared_kubeconfig, CacheOptions(namespace=namespace, sync_period=0.5)
    ) as cache:
        handler = Handler()
        cache.get_informer(CONFIG_MAP).add_event_handler(handler)
        wait_for(
            lambda: handler.events.count(("update", "steady", True)) >= 2,
            timeout=15,
            what="two resyncs of an object nobody changed",
        )
