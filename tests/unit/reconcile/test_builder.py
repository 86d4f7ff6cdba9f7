"""ControllerBuilder: misuse reported at build time, event filters on every watch."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from reconcile.builder import ControllerBuilder
from reconcile.controller import Controller
from reconcile.gvk import GroupVersionKind
from reconcile.handler import EnqueueRequestForObject
from reconcile.manager.runnables import Runnable
from reconcile.predicate import Funcs
from reconcile.reconciler import ReconcilerFunc, Request, Result
from reconcile.source import Channel
from tests.waiting import wait_for

POD = GroupVersionKind("", "v1", "Pod")
NOOP = ReconcilerFunc(lambda request: Result())


class FakeManager:
    """Only what the builder needs: a cache (never read by these tests), a registry, add()."""

    def __init__(self) -> None:
        self.cache: Any = object()
        self.registry = CollectorRegistry()
        self.added: list[Runnable] = []

    def add(self, runnable: Runnable) -> None:
        self.added.append(runnable)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        pytest.param(lambda b: b, "call for_\\(kind\\) or named\\(name\\)", id="nothing-to-name"),
        pytest.param(
            lambda b: b.for_(POD).for_(POD), "for_\\(\\) was called twice", id="for-twice"
        ),
        pytest.param(
            lambda b: b.named("x").owns(POD), "owns\\(\\) needs for_\\(\\)", id="owns-alone"
        ),
        pytest.param(lambda b: b.named("x").watches(POD), "needs a handler", id="watch-no-handler"),
        pytest.param(
            lambda b: b.named("x").with_event_filter(Funcs()).watches(_Opaque()),
            "cannot apply event filters",
            id="filter-on-opaque-source",
        ),
    ],
)
def test_misuse_is_reported_at_build(build: Any, message: str) -> None:
    manager = FakeManager()
    with pytest.raises(ValueError, match=message):
        build(ControllerBuilder(manager)).complete(NOOP)
    assert manager.added == []


class _Opaque:
    """A Source with no way to add predicates."""

    def start(self, queue: Any) -> None: ...

    def wait_for_sync(self, timeout: float) -> bool:
        return True


def test_event_filter_applies_to_raw_sources() -> None:
    seen: list[str] = []
    manager = FakeManager()
    channel = Channel(EnqueueRequestForObject())

    def reconcile(request: Request) -> Result:
        seen.append(request.name)
        return Result()

    only_keep = Funcs(generic_fn=lambda obj: obj["metadata"]["name"].startswith("keep"))
    controller = (
        ControllerBuilder(manager)
        .named("filtered")
        .with_event_filter(only_keep)
        .watches(channel)
        .with_options(need_leader_election=False)
        .complete(ReconcilerFunc(reconcile))
    )
    assert manager.added == [controller] and isinstance(controller, Controller)
    stop = threading.Event()
    thread = threading.Thread(target=controller.start, args=(stop,), daemon=True)
    thread.start()
    for name in ("drop-1", "keep-1", "drop-2", "keep-2"):
        channel.send({"metadata": {"name": name, "namespace": "ns"}})
    wait_for(lambda: len(seen) == 2)
    stop.set()
    thread.join(10)
    assert sorted(seen) == ["keep-1", "keep-2"]
