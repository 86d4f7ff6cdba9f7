"""Enforced timeouts of sync reconciles: counted, and the hung worker is replaced."""

from __future__ import annotations

import threading

from reconcile.clock import FakeClock
from reconcile.reconciler import Request, Result
from tests.unit.reconcile.controller.harness import Harness, obj
from tests.waiting import wait_for


def test_overrun_is_counted_and_a_new_worker_takes_the_other_keys(
    harnesses: list[Harness],
) -> None:
    clock = FakeClock()
    hung, release = threading.Event(), threading.Event()
    done: list[str] = []

    def reconcile(request: Request) -> Result:
        if request.name == "stuck":
            hung.set()
            release.wait(30)
        done.append(request.name)
        return Result()

    harness = Harness(reconcile, clock=clock, reconcile_timeout=10.0)
    harnesses.append(harness)
    harness.channel.send(obj("stuck"))
    assert hung.wait(10)
    harness.channel.send(obj("next"))
    clock.step(11)
    wait_for(
        lambda: harness.metric("controller_runtime_reconcile_timeouts_total") == 1,
        what="the overrun to be reported",
    )
    wait_for(lambda: "next" in done, what="the replacement worker to reconcile the next key")
    assert "stuck" not in done, "the hung call is still running"

    # The hung key stays in processing: a new event waits for the call to return.
    harness.channel.send(obj("stuck"))
    release.set()
    wait_for(lambda: done.count("stuck") == 2, what="the stuck key to run once more")
    assert harness.metric("controller_runtime_reconcile_timeouts_total") == 1
    assert harness.metric("controller_runtime_reconcile_total", result="success") == 3


def test_without_a_timeout_a_slow_reconcile_keeps_its_worker(harnesses: list[Harness]) -> None:
    clock = FakeClock()
    entered, release = threading.Event(), threading.Event()
    done: list[str] = []

    def slow(request: Request) -> Result:
        if request.name == "a":
            entered.set()
            release.wait(30)
        done.append(request.name)
        return Result()

    harness = Harness(slow, clock=clock)
    harnesses.append(harness)
    harness.channel.send(obj("a"))
    assert entered.wait(10)
    harness.channel.send(obj("b"))
    clock.step(10_000)
    release.set()
    wait_for(lambda: len(done) == 2)
    assert done == ["a", "b"], "no second worker was started for b"
    assert harness.metric("controller_runtime_reconcile_timeouts_total") == 0
