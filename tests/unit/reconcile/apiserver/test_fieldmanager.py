from __future__ import annotations

import copy
from typing import Any

import pytest

from reconcile.apiserver.fieldmanager import (
    ApplyConflict,
    apply,
    changed_fields,
    fields_of,
    from_fieldsv1,
    record_update,
    to_fieldsv1,
)

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "ports": {
                    "type": "array",
                    "x-kubernetes-list-type": "map",
                    "x-kubernetes-list-map-keys": ["name"],
                    "items": {
                        "type": "object",
                        "properties": {"name": {"type": "string"}, "port": {"type": "integer"}},
                    },
                },
                "tags": {
                    "type": "array",
                    "x-kubernetes-list-type": "set",
                    "items": {"type": "string"},
                },
                "args": {"type": "array", "items": {"type": "string"}},
            },
        }
    },
}


def _obj(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "example.com/v1",
        "kind": "Thing",
        "metadata": {"name": "t"},
        "spec": spec,
    }


def test_fields_v1_round_trip_with_keys_and_values() -> None:
    paths = fields_of(
        _obj(ports=[{"name": "http", "port": 80}], tags=["a"], args=["x", "y"]), SCHEMA
    )
    encoded = to_fieldsv1(paths)
    assert encoded["f:spec"]["f:ports"]['k:{"name":"http"}'] == {
        ".": {},
        "f:name": {},
        "f:port": {},
    }
    assert encoded["f:spec"]["f:tags"] == {'v:"a"': {}}
    assert encoded["f:spec"]["f:args"] == {}, "atomic lists are one leaf"
    assert from_fieldsv1(encoded) == paths


def test_two_managers_merge_list_map_items() -> None:
    first = apply(
        None, _obj(ports=[{"name": "http", "port": 80}]), manager="a", force=False, schema=SCHEMA
    )
    both = apply(
        first,
        _obj(ports=[{"name": "metrics", "port": 9090}]),
        manager="b",
        force=False,
        schema=SCHEMA,
    )
    assert [p["name"] for p in both["spec"]["ports"]] == ["http", "metrics"]
    managers = {e["manager"] for e in both["metadata"]["managedFields"]}
    assert managers == {"a", "b"}
    dropped = apply(both, _obj(ports=[]), manager="a", force=False, schema=SCHEMA)
    assert [p["name"] for p in dropped["spec"]["ports"]] == ["metrics"], (
        "a's item removed, b's kept"
    )


def test_conflict_message_names_manager_and_field() -> None:
    first = apply(
        None, _obj(ports=[{"name": "http", "port": 80}]), manager="a", force=False, schema=SCHEMA
    )
    with pytest.raises(ApplyConflict) as raised:
        apply(
            first,
            _obj(ports=[{"name": "http", "port": 81}]),
            manager="b",
            force=False,
            schema=SCHEMA,
        )
    assert (
        raised.value.message
        == 'Apply failed with 1 conflict: conflict with "a" using example.com/v1: .spec.ports[{"name":"http"}].port'
    )


def test_reapply_keeps_timestamps() -> None:
    first = apply(None, _obj(args=["x"]), manager="a", force=False, schema=SCHEMA)
    again = apply(first, _obj(args=["x"]), manager="a", force=False, schema=SCHEMA)
    assert again == first


def test_an_update_owns_only_the_list_map_items_it_changed() -> None:
    from reconcile.apiserver.fieldmanager import record_update

    ports = [{"name": f"p{i}", "port": i} for i in range(200)]
    old = _obj(ports=ports)
    record_update(None, old, "creator", SCHEMA)
    new = _obj(ports=[*ports[:150], {"name": "p150", "port": 9999}, *ports[151:]])
    new["metadata"]["managedFields"] = old["metadata"]["managedFields"]
    record_update(old, new, "editor", SCHEMA)
    owners = {e["manager"]: from_fieldsv1(e["fieldsV1"]) for e in new["metadata"]["managedFields"]}
    item = ("f:spec", "f:ports", 'k:{"name":"p150"}')
    assert owners["editor"] == {(*item, "."), (*item, "f:port")}
    assert ("f:spec", "f:ports", 'k:{"name":"p150"}', "f:port") not in owners["creator"]
    assert ("f:spec", "f:ports", 'k:{"name":"p151"}', "f:port") in owners["creator"]


def test_list_applied_empty_then_with_items_keeps_the_items() -> None:
    empty = apply(None, _obj(ports=[]), manager="a", force=False, schema=SCHEMA)
    filled = apply(
        empty, _obj(ports=[{"name": "http", "port": 80}]), manager="a", force=False, schema=SCHEMA
    )
    assert filled["spec"]["ports"] == [{"name": "http", "port": 80}]
    emptied = apply(filled, _obj(ports=[]), manager="a", force=False, schema=SCHEMA)
    assert emptied["spec"]["ports"] == []


def _owned(obj: dict[str, Any], manager: str) -> set[tuple[str, ...]]:
    entry = next(e for e in obj["metadata"]["managedFields"] if e["manager"] == manager)
    return from_fieldsv1(entry["fieldsV1"])


def test_update_of_one_item_in_a_long_list_map_moves_only_that_field() -> None:
    old = _obj(ports=[{"name": f"p{i}", "port": i} for i in range(200)])
    record_update(None, old, "creator", SCHEMA)
    new = copy.deepcopy(old)
    new["spec"]["ports"][137]["port"] = 8080
    record_update(old, new, "editor", SCHEMA)
    item = ("f:spec", "f:ports", 'k:{"name":"p137"}')
    moved = _owned(new, "editor")
    assert moved == {(*item, "f:port"), (*item, ".")}, "the field and the item's value"
    assert moved.isdisjoint(_owned(new, "creator"))
    assert _owned(new, "creator") == _owned(old, "creator") - moved


def test_update_with_unhashable_list_map_keys_still_compares_items() -> None:
    schema = {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {
                    "rules": {
                        "type": "array",
                        "x-kubernetes-list-type": "map",
                        "x-kubernetes-list-map-keys": ["match"],
                        "items": {"type": "object"},
                    }
                },
            }
        },
    }
    old = _obj(rules=[{"match": {"a": 1}, "v": 1}, {"match": {"b": 2}, "v": 2}])
    record_update(None, old, "creator", schema)
    new = copy.deepcopy(old)
    new["spec"]["rules"][1]["v"] = 3
    record_update(old, new, "editor", schema)
    assert {p[-1] for p in _owned(new, "editor")} == {"f:v", "."}
    assert all('{"b":2}' in p[2] for p in _owned(new, "editor")), "the second item only"


def test_fields_a_webhook_changed_move_to_the_webhook() -> None:
    obj: dict[str, Any] = {"metadata": {"name": "a"}, "spec": {"a": 1}}
    record_update(None, obj, "kubectl", None)
    before = {**obj, "spec": {"a": 1}}
    obj["spec"] = {"a": 2, "b": 3}  # a webhook changed a and added b
    changed = changed_fields(before, obj, None)
    assert changed == {("f:spec", "f:a"), ("f:spec", "f:b")}
    record_update(None, obj, "mutator", None, changed=changed)
    owners = {e["manager"]: from_fieldsv1(e["fieldsV1"]) for e in obj["metadata"]["managedFields"]}
    assert owners == {"mutator": {("f:spec", "f:a"), ("f:spec", "f:b")}}
