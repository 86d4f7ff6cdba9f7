"""The JSON patch a defaulter's changes become: minimal, escaped, and it reproduces them."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from reconcile.apiserver.patch import json_patch
from reconcile.webhook.jsonpatch import create_patch

CASES = [
    pytest.param({"a": 1}, {"a": 1}, [], id="equal-is-empty"),
    pytest.param({}, {"spec": {"tier": "x"}}, [{"op": "add", "path": "/spec", "value": {"tier": "x"}}],
                 id="add-subtree"),
    pytest.param({"spec": {"a": 1, "b": 2}}, {"spec": {"a": 1}},
                 [{"op": "remove", "path": "/spec/b"}], id="remove"),
    pytest.param({"spec": {"a": 1}}, {"spec": {"a": 2}},
                 [{"op": "replace", "path": "/spec/a", "value": 2}], id="replace-leaf"),
    pytest.param({"m": {"a/b": 1, "c~d": 1}}, {"m": {"a/b": 2, "c~d": 1, "e": 3}},
                 [{"op": "replace", "path": "/m/a~1b", "value": 2},
                  {"op": "add", "path": "/m/e", "value": 3}], id="pointer-escaping"),
    pytest.param({"c": [{"n": "a"}, {"n": "b"}]}, {"c": [{"n": "a"}, {"n": "b", "x": 1}]},
                 [{"op": "add", "path": "/c/1/x", "value": 1}], id="same-length-list-by-index"),
    pytest.param({"c": [1, 2]}, {"c": [1, 2, 3]}, [{"op": "replace", "path": "/c", "value": [1, 2, 3]}],
                 id="resized-list-replaced"),
    pytest.param({"v": 1}, {"v": True}, [{"op": "replace", "path": "/v", "value": True}],
                 id="one-is-not-true"),
]  # fmt: skip


@pytest.mark.parametrize(("original", "current", "expected"), CASES)
def test_create_patch(original: Any, current: Any, expected: list[dict[str, Any]]) -> None:
    patch = create_patch(original, current)
    assert patch == expected
    assert json_patch(copy.deepcopy(original), patch) == current
