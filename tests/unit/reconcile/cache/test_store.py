"""The informer store: keys, indexes and wholesale replacement."""

from __future__ import annotations

from typing import Any

import pytest

from reconcile.cache.store import NAMESPACE_INDEX, Store, object_key


def _obj(name: str, namespace: str = "", rv: str = "1", node: str = "") -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "resourceVersion": rv}
    if namespace:
        meta["namespace"] = namespace
    return {"metadata": meta, "spec": {"nodeName": node}}


def _node(obj: dict[str, Any]) -> list[str]:
    node = obj["spec"]["nodeName"]
    return [node] if node else []


@pytest.mark.parametrize(
    ("obj", "key"),
    [
        pytest.param(_obj("a", "ns"), "ns/a", id="namespaced"),
        pytest.param(_obj("n1"), "n1", id="cluster-scoped"),
    ],
)
def test_object_key(obj: dict[str, Any], key: str) -> None:
    assert object_key(obj) == key


def test_upsert_returns_the_replaced_object_and_reindexes() -> None:
    store = Store()
    store.add_indexer("node", _node)
    assert store.upsert(_obj("p", "ns", node="n1")) is None
    old = store.upsert(_obj("p", "ns", rv="2", node="n2"))
    assert old is not None and old["spec"]["nodeName"] == "n1"
    assert store.by_index("node", "n1") == []
    assert [o["metadata"]["resourceVersion"] for o in store.by_index("node", "n2")] == ["2"]


def test_delete_unindexes_and_returns_what_was_stored() -> None:
    store = Store()
    store.upsert(_obj("p", "ns"))
    assert store.delete(_obj("p", "ns")) is not None
    assert store.delete(_obj("p", "ns")) is None
    assert store.by_index(NAMESPACE_INDEX, "ns") == []
    assert len(store) == 0


def test_indexer_added_late_indexes_existing_objects_and_names_are_unique() -> None:
    store = Store()
    store.upsert(_obj("a", "ns", node="n1"))
    store.upsert(_obj("b", "other", node="n1"))
    store.add_indexer("node", _node)
    assert [object_key(o) for o in store.by_index("node", "n1")] == ["ns/a", "other/b"]
    with pytest.raises(ValueError, match="already exists"):
        store.add_indexer("node", _node)
    with pytest.raises(KeyError):
        store.by_index("missing", "x")


def test_replace_reports_added_updated_and_deleted() -> None:
    store = Store()
    store.upsert(_obj("same", "ns", rv="1"))
    store.upsert(_obj("changed", "ns", rv="1"))
    store.upsert(_obj("gone", "ns", rv="1"))
    added, updated, deleted = store.replace(
        [_obj("same", "ns", rv="1"), _obj("changed", "ns", rv="2"), _obj("new", "ns", rv="3")]
    )
    assert [object_key(o) for o in added] == ["ns/new"]
    assert [(object_key(old), new["metadata"]["resourceVersion"]) for old, new in updated] == [
        ("ns/changed", "2")
    ]
    assert [object_key(o) for o in deleted] == ["ns/gone"]
    assert sorted(object_key(o) for o in store.items()) == ["ns/changed", "ns/new", "ns/same"]
    assert store.get("ns/gone") is None


def test_replace_within_a_scope_leaves_other_scopes_alone() -> None:
    store = Store()
    for namespace, name in (("a", "x"), ("a", "y"), ("b", "z")):
        store.upsert({"metadata": {"namespace": namespace, "name": name, "resourceVersion": "1"}})
    added, updated, deleted = store.replace(
        [{"metadata": {"namespace": "a", "name": "x", "resourceVersion": "1"}}],
        within=lambda obj: obj["metadata"]["namespace"] == "a",
    )
    assert (added, updated) == ([], [])
    assert [o["metadata"]["name"] for o in deleted] == ["y"]
    assert sorted(o["metadata"]["name"] for o in store.items()) == ["x", "z"]
