"""The namespaced client, over the fake client (the embedded server's storage)."""

from __future__ import annotations

from typing import Any

import pytest

from reconcile.client import NamespacedClient
from reconcile.envtest import FakeClient
from reconcile.gvk import GroupVersionKind

CONFIG_MAP = GroupVersionKind("", "v1", "ConfigMap")
NODE = GroupVersionKind("", "v1", "Node")


def _config_map(name: str, namespace: str | None = None) -> dict[str, Any]:
    meta = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"k": "v"}}


def test_writes_and_reads_happen_in_the_bound_namespace() -> None:
    fake = FakeClient(objects=[_config_map("other", "team-b")])
    client = NamespacedClient(fake, "team-a")
    given = _config_map("settings")
    created = client.create(given)
    assert created["metadata"]["namespace"] == "team-a"
    assert "namespace" not in given["metadata"], "the caller's dict is left as it was"
    assert client.get(CONFIG_MAP, "settings")["data"] == {"k": "v"}
    names = [item["metadata"]["name"] for item in client.list(CONFIG_MAP)["items"]]
    assert names == ["settings"], "team-b's objects are not listed"
    client.patch(_config_map("settings"), {"data": {"k": "w"}})
    assert fake.get(CONFIG_MAP, "settings", "team-a")["data"] == {"k": "w"}
    client.delete(_config_map("settings"))
    assert fake.list(CONFIG_MAP, namespace="team-a")["items"] == []


def test_other_namespaces_are_refused() -> None:
    client = NamespacedClient(FakeClient(), "team-a")
    with pytest.raises(ValueError, match="bound to namespace 'team-a'"):
        client.create(_config_map("x", "team-b"))
    with pytest.raises(ValueError, match="cannot read namespace 'team-b'"):
        client.get(CONFIG_MAP, "x", "team-b")


def test_cluster_scoped_kinds_pass_through() -> None:
    client = NamespacedClient(FakeClient(), "team-a")
    node = client.create({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}})
    assert "namespace" not in node["metadata"]
    assert client.get(NODE, "n1")["metadata"]["name"] == "n1"
