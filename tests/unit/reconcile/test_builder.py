"""ControllerBuilder: misuse reported at build time, event filters on every watch."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from kubernetes import client as k8s_client
from prometheus_client import CollectorRegistry

from reconcile.builder import ControllerBuilder
from reconcile.client import RestConfig
from reconcile.controller import Controller, ControllerDefaults, ControllerOptions
from reconcile.gvk import GroupVersionKind, PartialObjectMetadata
from reconcile.handler import EnqueueRequestForObject
from reconcile.manager import Manager, ManagerOptions
from reconcile.manager.runnables import Runnable
from reconcile.predicate import Funcs
from reconcile.reconciler import ReconcilerFunc, Request, Result
from reconcile.source import Channel
from reconcile.workqueue import PriorityQueue
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


REPLICA_SET = GroupVersionKind("apps", "v1", "ReplicaSet")
SECRET = GroupVersionKind("", "v1", "Secret")


class RecordingCache:
    """Hands out informers that remember their handlers, keyed by what was asked for."""

    def __init__(self) -> None:
        self.asked: list[Any] = []
        self.handlers: dict[Any, list[Any]] = {}

    def get_informer(self, kind: Any) -> Any:
        self.asked.append(kind)
        cache = self

        class Informer:
            def add_event_handler(self, handler: Any) -> None:
                cache.handlers.setdefault(kind, []).append(handler)

            def wait_for_sync(self, timeout: float) -> bool:
                return True

        return Informer()


class DefaultsManager(FakeManager):
    def __init__(self, defaults: ControllerDefaults) -> None:
        super().__init__()
        self.cache = RecordingCache()
        self.controller_defaults = defaults


def test_manager_defaults_apply_and_builder_options_win() -> None:
    defaults = ControllerDefaults(
        group_kind_concurrency={"ReplicaSet.apps": 4, "Pod": 2},
        reconcile_timeout=60.0,
        recover_panic=False,
        use_priority_queue=False,
    )
    replica_sets = ControllerBuilder(DefaultsManager(defaults)).for_(REPLICA_SET).build(NOOP)
    assert replica_sets.options.max_concurrent_reconciles == 4
    assert replica_sets.options.reconcile_timeout == 60.0
    assert replica_sets.options.recover_panic is False
    assert not isinstance(replica_sets.queue, PriorityQueue)
    pods = (
        ControllerBuilder(DefaultsManager(defaults))
        .for_(POD)
        .with_options(max_concurrent_reconciles=8)
        .build(NOOP)
    )
    assert pods.options.max_concurrent_reconciles == 8, "with_options wins over the defaults"
    assert pods.options.reconcile_timeout == 60.0
    replaced = (
        ControllerBuilder(DefaultsManager(defaults))
        .for_(POD)
        .with_options(ControllerOptions())
        .build(NOOP)
    )
    assert replaced.options.max_concurrent_reconciles == 1, "a whole ControllerOptions replaces"


def test_only_metadata_and_watches_metadata_ask_for_partial_object_metadata() -> None:
    manager = DefaultsManager(ControllerDefaults())
    controller = (
        ControllerBuilder(manager)
        .for_(POD)
        .owns(REPLICA_SET, only_metadata=True)
        .watches_metadata(SECRET, EnqueueRequestForObject())
        .build(NOOP)
    )
    for source in controller.sources:
        source.start(controller.queue)
    assert manager.cache.asked == [
        POD,
        PartialObjectMetadata(REPLICA_SET),
        PartialObjectMetadata(SECRET),
    ]


def test_only_metadata_on_a_raw_source_is_misuse() -> None:
    with pytest.raises(ValueError, match="only kinds can be watched as metadata"):
        ControllerBuilder(FakeManager()).named("x").watches(
            _Opaque(), EnqueueRequestForObject(), only_metadata=True
        ).build(NOOP)


@pytest.mark.parametrize(("every_owner", "expected"), [(False, ["a"]), (True, ["a", "b"])])
def test_owns_match_every_owner(every_owner: bool, expected: list[str]) -> None:
    manager = DefaultsManager(ControllerDefaults())
    controller = (
        ControllerBuilder(manager)
        .for_(REPLICA_SET)
        .owns(POD, match_every_owner=every_owner)
        .build(NOOP)
    )
    for source in controller.sources:
        source.start(controller.queue)
    pod = {
        "metadata": {
            "name": "p",
            "namespace": "ns",
            "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "a", "controller": True},
                {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "b"},
            ],
        }
    }
    (handler,) = manager.cache.handlers[POD]
    handler.on_add(pod, False)
    names = []
    while len(controller.queue):
        request, _ = controller.queue.get(timeout=1)
        assert request is not None
        names.append(request.name)
    assert sorted(names) == expected


def test_a_real_manager_hands_its_controller_defaults_to_the_builder() -> None:
    configuration = k8s_client.Configuration()
    configuration.host = "http://127.0.0.1:1"  # never contacted: nothing starts
    manager = Manager(
        RestConfig(configuration=configuration),
        ManagerOptions(controller=ControllerDefaults(group_kind_concurrency={"Pod": 3})),
    )
    controller = ControllerBuilder(manager).for_(POD).build(NOOP)
    assert controller.options.max_concurrent_reconciles == 3
