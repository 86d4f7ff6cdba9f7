"""``async def`` reconcilers: same queue contract, cancelled at their timeout."""

from __future__ import annotations

import asyncio
import threading

from reconcile.reconciler import AsyncReconcilerFunc, Request, Result
from tests.unit.reconcile.controller.harness import Harness, obj
from tests.waiting import wait_for


def test_coroutines_run_concurrently_but_never_one_key_twice(harnesses: list[Harness]) -> None:
    active: dict[str, int] = {}
    overlaps: list[str] = []
    peak = [0]
    gate = threading.Event()
    lock = threading.Lock()

    async def reconcile(request: Request) -> Result:
        with lock:
            active[request.name] = active.get(request.name, 0) + 1
            if active[request.name] > 1:
                overlaps.append(request.name)
            peak[0] = max(peak[0], sum(active.values()))
        while not gate.is_set():
            await asyncio.sleep(0.005)  # yields to the loop; the gate is set by the test
        with lock:
            active[request.name] -= 1
        return Result()

    harness = Harness(AsyncReconcilerFunc(reconcile), max_concurrent_reconciles=3)
    harnesses.append(harness)
    assert harness.controller.is_async
    for name in ("a", "b", "c", "d", "a", "a"):
        harness.channel.send(obj(name))
    wait_for(lambda: peak[0] == 3, what="three coroutines in flight")
    gate.set()
    wait_for(lambda: harness.metric("controller_runtime_reconcile_total", result="success") >= 4)
    assert overlaps == []
    assert harness.controller.queue.num_requeues(Request("ns", "a")) == 0


def test_errors_back_off_and_requeue_after_runs_again(harnesses: list[Harness]) -> None:
    calls: list[str] = []

    async def reconcile(request: Request) -> Result:
        calls.append(request.name)
        if request.name == "flaky" and calls.count("flaky") < 3:
            raise RuntimeError("not yet")
        if request.name == "periodic" and calls.count("periodic") < 2:
            return Result(requeue_after=0.01)
        return Result()

    harness = Harness(AsyncReconcilerFunc(reconcile))
    harnesses.append(harness)
    harness.channel.send(obj("flaky"))
    harness.channel.send(obj("periodic"))
    wait_for(lambda: harness.metric("controller_runtime_reconcile_total", result="success") == 2)
    assert calls.count("flaky") == 3 and calls.count("periodic") == 2
    assert harness.metric("controller_runtime_reconcile_errors_total") == 2


def test_timeout_cancels_the_coroutine_and_retries(harnesses: list[Harness]) -> None:
    cancelled: list[str] = []
    attempts: list[int] = []

    async def reconcile(request: Request) -> Result:
        attempts.append(1)
        if len(attempts) == 1:
            try:
                await asyncio.Event().wait()  # never set: only the timeout ends it
            except asyncio.CancelledError:
                cancelled.append(request.name)
                raise
        return Result()

    harness = Harness(AsyncReconcilerFunc(reconcile), reconcile_timeout=0.05)
    harnesses.append(harness)
    harness.channel.send(obj("a"))
    wait_for(lambda: harness.metric("controller_runtime_reconcile_total", result="success") == 1)
    assert cancelled == ["a"]
    assert harness.metric("controller_runtime_reconcile_timeouts_total") == 1
    assert harness.metric("controller_runtime_reconcile_errors_total") == 1


def test_own_timeout_error_is_an_ordinary_error(harnesses: list[Harness]) -> None:
    """A TimeoutError raised by the reconciler itself is not a reconcile timeout."""
    attempts: list[int] = []

    async def reconcile(request: Request) -> Result:
        attempts.append(1)
        if len(attempts) == 1:
            raise TimeoutError("the cloud API timed out")
        return Result()

    harness = Harness(AsyncReconcilerFunc(reconcile), reconcile_timeout=30.0)
    harnesses.append(harness)
    harness.channel.send(obj("a"))
    wait_for(lambda: harness.metric("controller_runtime_reconcile_total", result="success") == 1)
    assert harness.metric("controller_runtime_reconcile_timeouts_total") == 0
    assert harness.metric("controller_runtime_reconcile_errors_total") == 1


def test_stop_drains_in_flight_coroutines_and_ends_the_loop_thread(
    harnesses: list[Harness],
) -> None:
    entered = threading.Event()
    finished: list[str] = []

    async def reconcile(request: Request) -> Result:
        entered.set()
        await asyncio.sleep(0.05)  # an in-flight reconcile when stop comes
        finished.append(request.name)
        return Result()

    harness = Harness(AsyncReconcilerFunc(reconcile))
    harness.channel.send(obj("a"))
    assert entered.wait(10)
    before = {t.name for t in threading.enumerate()}
    assert "test-loop" in before and "test-dispatcher" in before
    harness.close()
    assert not harness.thread.is_alive()
    assert finished == ["a"], "the in-flight reconcile finished before stop returned"
    after = {t.name for t in threading.enumerate()}
    assert "test-loop" not in after and "test-dispatcher" not in after
