"""Controller semantics with a Channel source and a real work queue (no API server needed)."""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest

from reconcile import log as logctx
from reconcile.clock import FakeClock
from reconcile.controller import Controller, ControllerOptions, reconcile_deadline
from reconcile.controller.controller import WorkerDied
from reconcile.errors import CacheSyncTimeout, TerminalError
from reconcile.handler import EnqueueRequestForObject
from reconcile.reconciler import ReconcilerFunc, Request, Result
from reconcile.source import Channel
from reconcile.workqueue import LOW_PRIORITY, PriorityQueue
from tests.unit.reconcile.controller.harness import FAST, Harness
from tests.unit.reconcile.controller.harness import obj as _obj
from tests.waiting import wait_for


def test_error_is_retried_with_backoff_until_success(harnesses: list[Harness]) -> None:
    calls: list[int] = []

    def flaky(request: Request) -> Result:
        calls.append(1)
        if len(calls) < 3:
            raise RuntimeError("not yet")
        return Result()

    harness = Harness(flaky)
    harnesses.append(harness)
    harness.channel.send(_obj("a"))
    wait_for(lambda: harness.metric("controller_runtime_reconcile_total", result="success") == 1)
    assert len(calls) == 3
    assert harness.metric("controller_runtime_reconcile_errors_total") == 2
    assert harness.metric("controller_runtime_reconcile_total", result="error") == 2


def test_terminal_error_is_not_requeued(harnesses: list[Harness]) -> None:
    calls: list[int] = []

    def terminal(request: Request) -> Result:
        calls.append(1)
        raise TerminalError("spec is impossible")

    harness = Harness(terminal)
    harnesses.append(harness)
    harness.channel.send(_obj("a"))
    wait_for(lambda: harness.metric("controller_runtime_terminal_reconcile_errors_total") == 1)
    harness.channel.send(_obj("b"))
    wait_for(lambda: len(calls) == 2)
    assert harness.controller.queue.num_requeues(Request("ns", "a")) == 0
    assert harness.controller.queue.waiting() == 0


def test_bug_in_reconciler_counts_as_panic_and_worker_survives(harnesses: list[Harness]) -> None:
    calls: list[str] = []

    def buggy(request: Request) -> Result:
        calls.append(request.name)
        if request.name == "bad" and calls.count("bad") == 1:
            empty: dict[str, Result] = {}
            return empty["missing"]
        return Result()

    harness = Harness(buggy)
    harnesses.append(harness)
    harness.channel.send(_obj("bad"))
    wait_for(lambda: harness.metric("controller_runtime_reconcile_panics_total") == 1)
    harness.channel.send(_obj("good"))
    wait_for(lambda: "good" in calls)
    wait_for(lambda: calls.count("bad") == 2, what="the panicked key retried")


def test_requeue_after_runs_again(harnesses: list[Harness]) -> None:
    calls: list[int] = []

    def periodic(request: Request) -> Result:
        calls.append(1)
        return Result(requeue_after=0.05) if len(calls) < 3 else Result()

    harness = Harness(periodic)
    harnesses.append(harness)
    harness.channel.send(_obj("a"))
    wait_for(lambda: len(calls) == 3)
    assert harness.metric("controller_runtime_reconcile_total", result="requeue_after") == 2


def test_max_concurrent_reconciles_runs_keys_in_parallel_but_never_one_key_twice(
    harnesses: list[Harness],
) -> None:
    active: dict[str, int] = {}
    peak = [0]
    overlaps: list[str] = []
    lock = threading.Lock()
    release = threading.Event()

    def slow(request: Request) -> Result:
        with lock:
            active[request.name] = active.get(request.name, 0) + 1
            if active[request.name] > 1:
                overlaps.append(request.name)
            peak[0] = max(peak[0], sum(active.values()))
        release.wait(10)
        with lock:
            active[request.name] -= 1
        return Result()

    harness = Harness(slow, max_concurrent_reconciles=3)
    harnesses.append(harness)
    for name in ("a", "b", "c", "d", "a", "a"):
        harness.channel.send(_obj(name))
    wait_for(lambda: peak[0] == 3, what="three keys in parallel")
    release.set()
    wait_for(lambda: harness.metric("controller_runtime_reconcile_total", result="success") >= 4)
    assert overlaps == []
    assert harness.metric("controller_runtime_max_concurrent_reconciles") == 3


def test_options_validation() -> None:
    with pytest.raises(ValueError, match="max_concurrent_reconciles must be >= 1"):
        ControllerOptions(max_concurrent_reconciles=0)


def test_result_rejects_negative_requeue_after() -> None:
    with pytest.raises(ValueError, match="requeue_after must be >= 0"):
        Result(requeue_after=-1)


def test_dead_worker_stops_the_controller_with_an_error(caplog: pytest.LogCaptureFixture) -> None:
    """recover_panic=False: a bug kills the worker, and the controller says so and stops."""

    def buggy(request: Request) -> Result:
        raise KeyError("spec")

    channel = Channel(EnqueueRequestForObject())
    controller = Controller(
        "fatal",
        ReconcilerFunc(buggy),
        sources=[channel],
        options=ControllerOptions(rate_limiter=FAST, recover_panic=False),
    )
    errors: list[BaseException] = []

    def run() -> None:
        try:
            controller.start(threading.Event())
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    channel.send(_obj("a"))
    thread.join(10)
    assert not thread.is_alive(), "the controller returned although nobody set stop"
    assert len(errors) == 1 and isinstance(errors[0], WorkerDied)
    assert "KeyError" in str(errors[0]) and isinstance(errors[0].__cause__, KeyError)
    assert any("worker died" in r.getMessage() for r in caplog.records)


def test_reconcile_time_and_deadline_follow_the_injected_clock(
    harnesses: list[Harness],
) -> None:
    clock = FakeClock()
    entered, release = threading.Event(), threading.Event()
    deadlines: list[float | None] = []

    def slow(request: Request) -> Result:
        deadlines.append(reconcile_deadline())
        entered.set()
        release.wait(10)
        return Result()

    harness = Harness(slow, clock=clock, reconcile_timeout=30.0)
    harnesses.append(harness)
    harness.channel.send(_obj("a"))
    assert entered.wait(10)
    assert deadlines == [clock.now() + 30.0]
    clock.step(2.5)
    release.set()
    wait_for(lambda: harness.metric("controller_runtime_reconcile_total", result="success") == 1)
    assert harness.metric("controller_runtime_reconcile_time_seconds_sum") == 2.5


class _NeverSynced:
    """A source whose cache never syncs (its kind is not installed, say)."""

    def start(self, queue: Any) -> None:
        pass

    def wait_for_sync(self, timeout: float) -> bool:
        threading.Event().wait(timeout)
        return False


def _unsynced(cache_sync_timeout: float) -> Controller:
    return Controller(
        "unsynced",
        ReconcilerFunc(lambda request: Result()),
        sources=[_NeverSynced()],
        options=ControllerOptions(cache_sync_timeout=cache_sync_timeout),
    )


def test_stop_ends_a_controller_still_waiting_for_its_caches() -> None:
    controller = _unsynced(120.0)
    stop = threading.Event()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            controller.start(stop)
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    stop.set()
    thread.join(5)
    assert not thread.is_alive(), "stop did not end the wait for the caches"
    assert errors == []


def test_caches_that_never_sync_fail_the_controller_after_the_timeout() -> None:
    controller = _unsynced(0.3)
    with pytest.raises(CacheSyncTimeout, match=r"did not sync within 0\.3s"):
        controller.start(threading.Event())


def test_result_priority_moves_a_requeue_ahead_of_the_backlog(harnesses: list[Harness]) -> None:
    clock = FakeClock()
    order: list[str] = []
    blocking, release = threading.Event(), threading.Event()

    def reconcile(request: Request) -> Result:
        order.append(request.name)
        if request.name == "first" and order.count("first") == 1:
            return Result(requeue_after=5.0, priority=10)
        if request.name == "blocker":
            blocking.set()
            release.wait(10)
        return Result()

    harness = Harness(reconcile, clock=clock)
    harnesses.append(harness)
    queue = harness.controller.queue
    assert isinstance(queue, PriorityQueue), "the priority queue is the default"
    harness.channel.send(_obj("first"))
    wait_for(lambda: queue.waiting() == 1, what="first to be requeued after 5 s")
    harness.channel.send(_obj("blocker"))
    assert blocking.wait(10)
    for name in ("b1", "b2"):
        queue.add(Request("ns", name), priority=LOW_PRIORITY)
    clock.step(5.0)
    wait_for(lambda: len(queue) == 3, what="first ready again")
    release.set()
    wait_for(lambda: len(order) == 5)
    assert order == ["first", "blocker", "first", "b1", "b2"]


def test_fifo_queue_when_the_priority_queue_is_off(harnesses: list[Harness]) -> None:
    harness = Harness(lambda request: Result(), use_priority_queue=False)
    harnesses.append(harness)
    assert not isinstance(harness.controller.queue, PriorityQueue)


def test_log_constructor_builds_the_logger_of_each_reconcile(
    harnesses: list[Harness], caplog: pytest.LogCaptureFixture
) -> None:
    requests: list[Request | None] = []

    def constructor(request: Request | None) -> logging.LoggerAdapter[logging.Logger]:
        requests.append(request)
        return logging.LoggerAdapter(logging.getLogger("team-a"), {"team": "a"})

    def reconcile(request: Request) -> Result:
        logctx.from_context().info("reconciling")
        return Result()

    caplog.set_level(logging.INFO, logger="team-a")
    harness = Harness(reconcile, log_constructor=constructor)
    harnesses.append(harness)
    harness.channel.send(_obj("a"))
    wait_for(lambda: harness.metric("controller_runtime_reconcile_total", result="success") == 1)
    assert requests[0] is None, "called once for the controller's own logger"
    assert Request("ns", "a") in requests
    record = next(r for r in caplog.records if r.getMessage() == "reconciling")
    assert record.name == "team-a" and getattr(record, "team", None) == "a"
    assert any(r.getMessage() == "starting workers" and r.name == "team-a" for r in caplog.records)


@pytest.mark.parametrize("enabled", [True, False])
def test_warmup_starts_sources_before_the_workers(harnesses: list[Harness], enabled: bool) -> None:
    calls: list[str] = []

    def reconcile(request: Request) -> Result:
        calls.append(request.name)
        return Result()

    harness = Harness(reconcile, start=False, enable_warmup=enabled)
    harnesses.append(harness)
    for name in ("a", "b"):
        harness.channel.send(_obj(name))
    harness.controller.warmup()
    assert len(harness.controller.queue) == (2 if enabled else 0)
    assert calls == [], "warm-up runs no reconcile"
    harness.thread.start()
    wait_for(lambda: sorted(calls) == ["a", "b"])
