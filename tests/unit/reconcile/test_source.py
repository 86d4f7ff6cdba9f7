"""Sources put the initial list and unchanged resyncs in at low priority."""

from __future__ import annotations

from typing import Any

from reconcile.cache.informer import ResourceEventHandler
from reconcile.handler import EnqueueRequestForObject
from reconcile.reconciler import Request
from reconcile.source import Kind
from reconcile.workqueue import LOW_PRIORITY, PriorityQueue, RateLimitingQueue


class FakeInformer:
    def __init__(self) -> None:
        self.handlers: list[ResourceEventHandler] = []

    def add_event_handler(self, handler: ResourceEventHandler) -> None:
        self.handlers.append(handler)

    def wait_for_sync(self, timeout: float) -> bool:
        return True


class Provider:
    def __init__(self) -> None:
        self.informer = FakeInformer()

    def get_informer(self, kind: Any) -> FakeInformer:
        return self.informer


def _obj(name: str, rv: str = "1") -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "ns", "resourceVersion": rv}}


def _drain(queue: PriorityQueue[Request]) -> list[tuple[str, int]]:
    out = []
    while len(queue):
        item, priority, _ = queue.get_with_priority(timeout=1)
        assert item is not None
        queue.done(item)
        out.append((item.name, priority))
    return out


def test_initial_list_and_unchanged_resync_are_low_priority_changes_are_not() -> None:
    provider = Provider()
    queue: PriorityQueue[Request] = PriorityQueue()
    Kind(provider, "any", EnqueueRequestForObject()).start(queue)
    (handler,) = provider.informer.handlers
    handler.on_add(_obj("listed-1"), True)
    handler.on_add(_obj("listed-2"), True)
    handler.on_update(_obj("resynced", "5"), _obj("resynced", "5"))
    handler.on_add(_obj("created"), False)
    handler.on_update(_obj("changed", "5"), _obj("changed", "6"))
    handler.on_delete(_obj("deleted"))
    assert _drain(queue) == [
        ("created", 0),
        ("changed", 0),
        ("deleted", 0),
        ("listed-1", LOW_PRIORITY),
        ("listed-2", LOW_PRIORITY),
        ("resynced", LOW_PRIORITY),
    ]


def test_a_change_raises_a_listed_key_still_waiting() -> None:
    provider = Provider()
    queue: PriorityQueue[Request] = PriorityQueue()
    Kind(provider, "any", EnqueueRequestForObject()).start(queue)
    (handler,) = provider.informer.handlers
    for i in range(3):
        handler.on_add(_obj(f"o{i}"), True)
    handler.on_update(_obj("o2", "1"), _obj("o2", "2"))
    assert _drain(queue)[0] == ("o2", 0)


def test_plain_queues_get_plain_adds() -> None:
    provider = Provider()
    queue: RateLimitingQueue[Request] = RateLimitingQueue()
    Kind(provider, "any", EnqueueRequestForObject()).start(queue)
    provider.informer.handlers[0].on_add(_obj("a"), True)
    assert queue.get(timeout=1) == (Request("ns", "a"), False)
