from __future__ import annotations

import threading

import pytest

from reconcile.workqueue import Queue
from tests.waiting import wait_for


def _get_now(queue: Queue[str]) -> str:
    item, shutdown = queue.get(timeout=5)
    assert not shutdown, "queue reported shutdown"
    assert item is not None, "nothing to get"
    return item


def test_fifo_order() -> None:
    queue: Queue[str] = Queue()
    for key in ("a", "b", "c"):
        queue.add(key)
    assert [_get_now(queue) for _ in range(3)] == ["a", "b", "c"]


def test_duplicates_collapse() -> None:
    queue: Queue[str] = Queue()
    for key in ("a", "b", "a", "a", "b"):
        queue.add(key)
    assert len(queue) == 2
    assert [_get_now(queue), _get_now(queue)] == ["a", "b"]


def test_key_being_processed_is_not_handed_out_again() -> None:
    queue: Queue[str] = Queue()
    queue.add("a")
    assert _get_now(queue) == "a"
    queue.add("a")
    assert len(queue) == 0, "a key in processing must wait for done"
    assert queue.get(timeout=0.05) == (None, False)


def test_readd_during_processing_runs_exactly_once_more_after_done() -> None:
    queue: Queue[str] = Queue()
    queue.add("a")
    item = _get_now(queue)
    queue.add("a")
    queue.add("a")
    queue.done(item)
    assert len(queue) == 1
    assert _get_now(queue) == "a"
    queue.done("a")
    assert len(queue) == 0


def test_done_without_readd_does_not_requeue() -> None:
    queue: Queue[str] = Queue()
    queue.add("a")
    queue.done(_get_now(queue))
    assert len(queue) == 0


def test_get_blocks_until_an_item_is_added() -> None:
    queue: Queue[str] = Queue()
    got: list[str | None] = []
    started = threading.Event()

    def worker() -> None:
        started.set()
        item, _ = queue.get()
        got.append(item)

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    started.wait(5)
    assert got == []
    queue.add("a")
    thread.join(5)
    assert got == ["a"]


def test_shutdown_wakes_every_blocked_get() -> None:
    queue: Queue[str] = Queue()
    results: list[tuple[str | None, bool]] = []
    lock = threading.Lock()

    def worker() -> None:
        result = queue.get()
        with lock:
            results.append(result)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(4)]
    for thread in threads:
        thread.start()
    queue.shut_down()
    for thread in threads:
        thread.join(5)
    assert results == [(None, True)] * 4


def test_shutdown_is_reported_only_after_queued_items_are_handed_out() -> None:
    queue: Queue[str] = Queue()
    queue.add("a")
    queue.add("b")
    queue.shut_down()
    assert queue.get() == ("a", False)
    assert queue.get() == ("b", False)
    assert queue.get() == (None, True)


def test_add_after_shutdown_is_ignored() -> None:
    queue: Queue[str] = Queue()
    queue.shut_down()
    queue.add("late")
    assert len(queue) == 0
    assert queue.get() == (None, True)


def test_shutdown_with_drain_waits_for_in_flight_items() -> None:
    queue: Queue[str] = Queue()
    queue.add("a")
    item = _get_now(queue)
    drained = threading.Event()

    def drain() -> None:
        queue.shut_down_with_drain()
        drained.set()

    threading.Thread(target=drain, daemon=True).start()
    wait_for(queue.shutting_down, what="shutdown to begin")
    assert not drained.wait(0.05), "drain returned while an item was in flight"
    queue.done(item)
    assert drained.wait(5)


def test_shutdown_with_drain_times_out_when_work_is_stuck() -> None:
    queue: Queue[str] = Queue()
    queue.add("a")
    _get_now(queue)
    assert queue.shut_down_with_drain(timeout=0.05) is False


def test_unhashable_key_is_a_clear_type_error() -> None:
    queue: Queue[object] = Queue()
    with pytest.raises(TypeError, match="keys must be hashable, got dict"):
        queue.add({"namespace": "a"})
    assert len(queue) == 0


def test_get_with_timeout_returns_nothing_when_empty() -> None:
    queue: Queue[str] = Queue()
    assert queue.get(timeout=0.01) == (None, False)
