"""Controller semantics with a Channel source and a real work queue (no API server needed)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from reconcile.clock import FakeClock
from reconcile.controller import Controller, ControllerOptions, reconcile_deadline
from reconcile.controller.controller import WorkerDied
from reconcile.errors import TerminalError
from reconcile.handler import EnqueueRequestForObject
from reconcile.reconciler import ReconcilerFunc, Request, Result
from reconcile.source import Channel
from reconcile.workqueue import ItemExponentialFailureRateLimiter
from tests.waiting import wait_for

FAST = ItemExponentialFailureRateLimiter(base_delay=0.001, max_delay=0.01)


def _obj(name: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "ns"}}


class Harness:
    def __init__(self, fn: Callable[[Request], Result], **options: Any) -> None:
        self.registry = CollectorRegistry()
        self.channel = Channel(EnqueueRequestForObject())
        self.controller = Controller(
            "test",
            ReconcilerFunc(fn),
            sources=[self.channel],
            options=ControllerOptions(rate_limiter=FAST, need_leader_election=False, **options),
            registry=self.registry,
        )
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.controller.start, args=(self.stop,), daemon=True)
        self.thread.start()

    def metric(self, name: str, **labels: str) -> float:
        value = self.registry.get_sample_value(name, {"controller": "test", **labels})
        return value or 0.0

    def close(self) -> None:
        self.stop.set()
        self.thread.join(10)


@pytest.fixture
def harnesses() -> Iterator[list[Harness]]:
    created: list[Harness] = []
    yield created
    for harness in created:
        harness.close()


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


class NeverSynced:
    """A source whose kind never lists (its CRD is not installed)."""

    def start(self, queue: Any) -> None:
        pass

    def wait_for_sync(self, timeout: float) -> bool:
        threading.Event().wait(timeout)
        return False


def test_stop_during_the_initial_sync_ends_the_controller_at_once() -> None:
    controller = Controller(
        "unsynced",
        ReconcilerFunc(lambda request: Result()),
        sources=[NeverSynced()],
        options=ControllerOptions(cache_sync_timeout=120.0),
    )
    stop = threading.Event()
    thread = threading.Thread(target=controller.start, args=(stop,), daemon=True)
    thread.start()
    stop.set()
    thread.join(5)
    assert not thread.is_alive(), "still waiting for a sync after stop"
