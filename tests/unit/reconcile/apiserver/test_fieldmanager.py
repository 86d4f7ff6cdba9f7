from __future__ import annotations

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
