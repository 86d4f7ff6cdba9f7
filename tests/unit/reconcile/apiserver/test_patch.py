from __future__ import annotations

from typing import Any

import pytest

from reconcile.apiserver.patch import (
    PatchError,
    json_merge_patch,
    json_patch,
    strategic_merge_patch,
)


@pytest.mark.parametrize(
    ("target", "patch", "expected"),
    [
        pytest.param({"a": "b"}, {"a": "c"}, {"a": "c"}, id="replace-value"),
        pytest.param({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}, id="add-key"),
        pytest.param({"a": "b"}, {"a": None}, {}, id="null-deletes"),
        pytest.param(
            {"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}, id="nested"
        ),
        pytest.param({"a": ["b"]}, {"a": ["c"]}, {"a": ["c"]}, id="lists-replace"),
        pytest.param({"a": "b"}, {"a": {"c": None}}, {"a": {}}, id="scalar-to-object"),
    ],
)
def test_json_merge_patch(target: Any, patch: Any, expected: Any) -> None:
    assert json_merge_patch(target, patch) == expected


@pytest.mark.parametrize(
    ("operations", "expected"),
    [
        pytest.param([{"op": "add", "path": "/b", "value": 2}], {"a": [1, 2], "b": 2}, id="add"),
        pytest.param([{"op": "add", "path": "/a/-", "value": 3}], {"a": [1, 2, 3]}, id="append"),
        pytest.param([{"op": "add", "path": "/a/0", "value": 0}], {"a": [0, 1, 2]}, id="insert"),
        pytest.param([{"op": "remove", "path": "/a/1"}], {"a": [1]}, id="remove-item"),
        pytest.param([{"op": "replace", "path": "/a", "value": "x"}], {"a": "x"}, id="replace"),
        pytest.param([{"op": "move", "from": "/a", "path": "/c"}], {"c": [1, 2]}, id="move"),
        pytest.param(
            [{"op": "copy", "from": "/a/0", "path": "/d"}], {"a": [1, 2], "d": 1}, id="copy"
        ),
        pytest.param([{"op": "test", "path": "/a/1", "value": 2}], {"a": [1, 2]}, id="test-passes"),
    ],
)
def test_json_patch(operations: list[dict[str, Any]], expected: Any) -> None:
    assert json_patch({"a": [1, 2]}, operations) == expected


@pytest.mark.parametrize(
    "operations",
    [
        pytest.param([{"op": "test", "path": "/a", "value": 3}], id="failed-test"),
        pytest.param([{"op": "remove", "path": "/missing"}], id="missing-path"),
        pytest.param([{"op": "add", "path": "/a/9", "value": 1}], id="index-out-of-range"),
    ],
)
def test_json_patch_failures_are_unprocessable(operations: list[dict[str, Any]]) -> None:
    with pytest.raises(PatchError) as raised:
        json_patch({"a": [1, 2]}, operations)
    assert raised.value.code == 422


POD: dict[str, Any] = {
    "metadata": {"finalizers": ["a"]},
    "spec": {
        "containers": [
            {"name": "web", "image": "nginx", "env": [{"name": "A", "value": "1"}]},
            {"name": "side", "image": "busybox"},
        ]
    },
}


@pytest.mark.parametrize(
    ("patch", "check"),
    [
        pytest.param(
            {"spec": {"containers": [{"name": "web", "image": "nginx:2"}]}},
            lambda r: (
                [c.get("image") for c in r["spec"]["containers"]] == ["nginx:2", "busybox"]
                and r["spec"]["containers"][0]["env"] == [{"name": "A", "value": "1"}]
            ),
            id="merge-by-name-keeps-others",
        ),
        pytest.param(
            {"spec": {"containers": [{"name": "side", "$patch": "delete"}]}},
            lambda r: [c["name"] for c in r["spec"]["containers"]] == ["web"],
            id="delete-directive",
        ),
        pytest.param(
            {"spec": {"containers": [{"name": "only", "image": "x"}, {"$patch": "replace"}]}},
            lambda r: r["spec"]["containers"] == [{"name": "only", "image": "x"}],
            id="replace-directive",
        ),
        pytest.param(
            {"metadata": {"finalizers": ["b"]}},
            lambda r: r["metadata"]["finalizers"] == ["a", "b"],
            id="finalizers-union",
        ),
        pytest.param(
            {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}},
            lambda r: r["metadata"]["finalizers"] == [],
            id="delete-from-primitive-list",
        ),
        pytest.param(
            {
                "$setElementOrder/x": [],
                "spec": {"$setElementOrder/containers": [{"name": "side"}, {"name": "web"}]},
            },
            lambda r: [c["name"] for c in r["spec"]["containers"]] == ["side", "web"],
            id="set-element-order",
        ),
        pytest.param(
            {"spec": {"containers": None}},
            lambda r: "containers" not in r["spec"],
            id="null-deletes",
        ),
    ],
)
def test_strategic_merge_patch(patch: dict[str, Any], check: Any) -> None:
    result = strategic_merge_patch(POD, patch)
    assert check(result), result
    assert POD["spec"]["containers"][0]["image"] == "nginx", "original untouched"
