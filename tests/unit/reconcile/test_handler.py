"""Event handlers: which requests an event enqueues (owner mapping in particular)."""

from __future__ import annotations

from typing import Any

import pytest

from reconcile.gvk import GroupVersionKind
from reconcile.handler import (
    EnqueueRequestForObject,
    EnqueueRequestForOwner,
    EnqueueRequestsFromMapFunc,
    Funcs,
)
from reconcile.reconciler import Request

POOL = GroupVersionKind("kreconcile.io", "v1alpha1", "AgentPool")
NODE_POOL = GroupVersionKind("kreconcile.io", "v1alpha1", "NodePool")


class Recorder:
    def __init__(self) -> None:
        self.added: list[Request] = []

    def add(self, item: Request) -> None:
        self.added.append(item)


def _ref(
    kind: str, name: str, *, api_version: str = "kreconcile.io/v1alpha1", controller: bool = False
) -> dict[str, Any]:
    return {
        "apiVersion": api_version,
        "kind": kind,
        "name": name,
        "uid": f"uid-{name}",
        "controller": controller,
    }


def _pod(*refs: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": {"name": "p", "namespace": "ns", "ownerReferences": list(refs)}}


@pytest.mark.parametrize(
    ("refs", "only_controller", "expected"),
    [
        pytest.param([_ref("AgentPool", "a", controller=True)], True, ["a"], id="controller"),
        pytest.param([_ref("AgentPool", "a")], True, [], id="non-controller-skipped"),
        pytest.param([_ref("AgentPool", "a")], False, ["a"], id="any-owner"),
        pytest.param([_ref("Deployment", "a", controller=True)], True, [], id="other-kind"),
        pytest.param(
            [_ref("AgentPool", "a", api_version="other.io/v1", controller=True)],
            True,
            [],
            id="other-group",
        ),
        pytest.param(
            [_ref("AgentPool", "a", api_version="kreconcile.io/v2", controller=True)],
            True,
            ["a"],
            id="any-version-of-the-group",
        ),
        pytest.param(
            [_ref("AgentPool", "a"), _ref("AgentPool", "b", controller=True)],
            False,
            ["a", "b"],
            id="several-owners",
        ),
    ],
)
def test_owner_mapping(
    refs: list[dict[str, Any]], only_controller: bool, expected: list[str]
) -> None:
    queue = Recorder()
    EnqueueRequestForOwner(POOL, only_controller=only_controller).create(_pod(*refs), queue)
    assert queue.added == [Request("ns", name) for name in expected]


def test_cluster_scoped_owner_has_no_namespace() -> None:
    queue = Recorder()
    handler = EnqueueRequestForOwner(NODE_POOL, owner_namespaced=False)
    handler.delete(_pod(_ref("NodePool", "big", controller=True)), queue)
    assert queue.added == [Request("", "big")]


def test_update_wakes_both_the_former_and_the_new_owner_once() -> None:
    queue = Recorder()
    handler = EnqueueRequestForOwner(POOL)
    old = _pod(_ref("AgentPool", "old", controller=True))
    new = _pod(_ref("AgentPool", "new", controller=True))
    handler.update(old, new, queue)
    assert sorted(r.name for r in queue.added) == ["new", "old"]
    queue.added.clear()
    handler.update(new, new, queue)
    assert queue.added == [Request("ns", "new")]


def test_object_and_map_func_handlers() -> None:
    queue = Recorder()
    EnqueueRequestForObject().generic(_pod(), queue)
    EnqueueRequestsFromMapFunc(lambda obj: [Request("x", "y"), Request("x", "z")]).create(
        _pod(), queue
    )
    assert queue.added == [Request("ns", "p"), Request("x", "y"), Request("x", "z")]


def test_funcs_call_the_function_of_each_event_type_and_ignore_the_others() -> None:
    seen: list[str] = []
    handler = Funcs(
        create_fn=lambda obj, queue: queue.add(Request("created", obj["metadata"]["name"])),
        update_fn=lambda old, new, queue: seen.append(f"{old['v']}->{new['v']}"),
    )
    queue = Recorder()
    obj = {"metadata": {"name": "a"}, "v": 1}
    handler.create(obj, queue)
    handler.update(obj, {**obj, "v": 2}, queue)
    handler.delete(obj, queue)
    handler.generic(obj, queue)
    assert queue.added == [Request("created", "a")]
    assert seen == ["1->2"]
