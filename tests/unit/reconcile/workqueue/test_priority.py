"""The priority queue: urgent keys first, client-go's dedupe and processing rules intact."""

from __future__ import annotations

import pytest

from reconcile.clock import FakeClock
from reconcile.workqueue import LOW_PRIORITY, PriorityQueue, Queue, supports_priority
from tests.waiting import wait_for


def _take(queue: PriorityQueue[str]) -> tuple[str, int]:
    item, priority, shutdown = queue.get_with_priority(timeout=5)
    assert not shutdown and item is not None, "expected a key"
    return item, priority


def _drain(queue: PriorityQueue[str]) -> list[str]:
    order = []
    while len(queue):
        item, _ = _take(queue)
        queue.done(item)
        order.append(item)
    return order


def test_higher_priority_first_then_arrival_order() -> None:
    queue: PriorityQueue[str] = PriorityQueue()
    queue.add("low-1", priority=LOW_PRIORITY)
    queue.add("low-2", priority=LOW_PRIORITY)
    queue.add("normal-1")
    queue.add("urgent", priority=10)
    queue.add("normal-2")
    assert _drain(queue) == ["urgent", "normal-1", "normal-2", "low-1", "low-2"]


def test_readding_a_waiting_key_raises_its_priority_and_keeps_its_place() -> None:
    queue: PriorityQueue[str] = PriorityQueue()
    for key in ("a", "b", "c"):
        queue.add(key, priority=LOW_PRIORITY)
    queue.add("x")
    queue.add("c")  # a change to c arrives while its initial-list entry still waits
    queue.add("b")
    assert len(queue) == 4, "duplicates collapse"
    # b and c arrived before x, and keep that place among the priority-0 keys.
    assert _drain(queue) == ["b", "c", "x", "a"]


def test_lower_priority_readd_never_demotes() -> None:
    queue: PriorityQueue[str] = PriorityQueue()
    queue.add("a", priority=5)
    queue.add("b", priority=1)
    queue.add("a", priority=LOW_PRIORITY)
    assert _take(queue) == ("a", 5)


def test_key_in_processing_is_marked_dirty_and_requeued_at_its_new_priority() -> None:
    queue: PriorityQueue[str] = PriorityQueue()
    queue.add("a", priority=LOW_PRIORITY)
    item, priority = _take(queue)
    assert (item, priority) == ("a", LOW_PRIORITY)
    queue.add("a", priority=3)
    queue.add("b", priority=1)
    assert queue.get_with_priority(timeout=0.01)[0] == "b", "a waits for done"
    queue.done("b")
    queue.done("a")
    assert _take(queue) == ("a", 3)


def test_add_after_keeps_the_highest_priority_and_earliest_time() -> None:
    clock = FakeClock()
    queue: PriorityQueue[str] = PriorityQueue(clock=clock)
    queue.add_after("a", 10, priority=LOW_PRIORITY)
    queue.add_after("a", 20, priority=7)
    queue.add("b", priority=1)
    clock.step(10)
    wait_for(lambda: len(queue) == 2, what="a ready after 10 s")
    assert _take(queue) == ("a", 7)
    queue.shut_down()


def test_rate_limited_add_keeps_priority_and_counts_backoff() -> None:
    clock = FakeClock()
    queue: PriorityQueue[str] = PriorityQueue(clock=clock)
    queue.add_rate_limited("a", priority=LOW_PRIORITY)
    assert queue.num_requeues("a") == 1
    clock.step(1)
    wait_for(lambda: len(queue) == 1, what="a ready after its backoff")
    assert _take(queue) == ("a", LOW_PRIORITY)
    queue.shut_down()


def test_shutdown_hands_out_the_rest_then_reports_shutdown() -> None:
    queue: PriorityQueue[str] = PriorityQueue()
    queue.add("a", priority=LOW_PRIORITY)
    queue.shut_down()
    queue.add("b")
    assert _take(queue) == ("a", LOW_PRIORITY)
    assert queue.get_with_priority() == (None, 0, True)


@pytest.mark.parametrize(("queue", "expected"), [(PriorityQueue(), True), (Queue(), False)])
def test_supports_priority(queue: object, expected: bool) -> None:
    assert supports_priority(queue) is expected
