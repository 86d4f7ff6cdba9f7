from __future__ import annotations

import math
from collections.abc import Iterator

import pytest

from reconcile.clock import FakeClock
from reconcile.workqueue import DelayingQueue
from tests.waiting import wait_for


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def queue(clock: FakeClock) -> Iterator[DelayingQueue[str]]:
    q: DelayingQueue[str] = DelayingQueue(name="test", clock=clock)
    yield q
    q.shut_down()


def _ready(queue: DelayingQueue[str], count: int) -> None:
    wait_for(lambda: len(queue) == count, timeout=5, what=f"{count} ready item(s)")


def test_item_becomes_ready_after_its_delay(queue: DelayingQueue[str], clock: FakeClock) -> None:
    queue.add_after("a", 1.0)
    wait_for(clock.has_waiters, what="the delay loop to wait on the clock")
    assert len(queue) == 0
    clock.step(0.999)
    assert len(queue) == 0
    clock.step(0.001)
    _ready(queue, 1)
    assert queue.get() == ("a", False)


def test_later_add_after_does_not_postpone(queue: DelayingQueue[str], clock: FakeClock) -> None:
    queue.add_after("a", 1.0)
    queue.add_after("a", 5.0)
    wait_for(clock.has_waiters)
    clock.step(1.0)
    _ready(queue, 1)
    assert queue.waiting() == 0


def test_earlier_add_after_moves_ready_time(queue: DelayingQueue[str], clock: FakeClock) -> None:
    queue.add_after("a", 5.0)
    queue.add_after("a", 1.0)
    wait_for(clock.has_waiters)
    clock.step(1.0)
    _ready(queue, 1)
    assert queue.get() == ("a", False)
    queue.done("a")
    clock.step(10.0)
    assert queue.waiting() == 0
    assert len(queue) == 0, "the superseded 5 s entry must not fire again"


@pytest.mark.parametrize("delay", [0.0, -3.0], ids=["zero", "negative"])
def test_non_positive_delay_adds_now(queue: DelayingQueue[str], delay: float) -> None:
    queue.add_after("a", delay)
    assert len(queue) == 1


def test_nan_delay_is_rejected(queue: DelayingQueue[str]) -> None:
    with pytest.raises(ValueError, match="NaN"):
        queue.add_after("a", math.nan)
    assert len(queue) == 0 and queue.waiting() == 0


def test_items_fire_in_ready_order(queue: DelayingQueue[str], clock: FakeClock) -> None:
    queue.add_after("c", 3.0)
    queue.add_after("a", 1.0)
    queue.add_after("b", 2.0)
    wait_for(clock.has_waiters)
    clock.step(3.0)
    _ready(queue, 3)
    assert [queue.get()[0] for _ in range(3)] == ["a", "b", "c"]


def test_add_after_after_shutdown_is_ignored(queue: DelayingQueue[str]) -> None:
    queue.shut_down()
    queue.add_after("a", 1.0)
    assert queue.waiting() == 0


def test_real_clock_delay_fires() -> None:
    queue: DelayingQueue[str] = DelayingQueue()
    queue.add_after("a", 0.02)
    item, shutdown = queue.get(timeout=5)
    assert (item, shutdown) == ("a", False)
    queue.shut_down()
