"""deep_copy: a copy of JSON-shaped data that shares no container with the original."""

from __future__ import annotations

import copy
from typing import Any

from reconcile._jsoncopy import deep_copy


def _containers(value: Any) -> list[int]:
    if isinstance(value, dict):
        return [id(value), *(i for v in value.values() for i in _containers(v))]
    if isinstance(value, list):
        return [id(value), *(i for v in value for i in _containers(v))]
    return []


def test_copy_equals_and_shares_no_container() -> None:
    pod: dict[str, Any] = {
        "metadata": {"name": "web", "labels": {"app": "web"}, "ownerReferences": [{"uid": "x"}]},
        "spec": {"containers": [{"name": "app", "ports": [{"containerPort": 80}]}]},
        "status": {"ready": True, "restartCount": 0, "message": None, "ratio": 0.5},
    }
    copied = deep_copy(pod)
    assert copied == pod == copy.deepcopy(pod)
    assert not set(_containers(copied)) & set(_containers(pod))
    copied["spec"]["containers"][0]["ports"].append({"containerPort": 443})
    copied["metadata"]["labels"]["tier"] = "front"
    assert pod["spec"]["containers"][0]["ports"] == [{"containerPort": 80}]
    assert pod["metadata"]["labels"] == {"app": "web"}


def test_values_that_are_not_json_are_deep_copied() -> None:
    """A cache transform may add a set or an object: a reader must not share it."""
    original: dict[str, Any] = {"tags": {"a"}, "pair": (1, [2])}
    copied = deep_copy(original)
    assert copied == original
    copied["tags"].add("b")
    copied["pair"][1].append(3)
    assert original == {"tags": {"a"}, "pair": (1, [2])}
