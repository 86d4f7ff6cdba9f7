"""Config reloads re-enqueue waiting work, on the leading replica only."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from controllers.restarts.reload import Leading, RecheckRetention
from reconcile.cache.store import Store
from reconcile.handler import EnqueueRequestForObject
from reconcile.reconciler import Request
from reconcile.source import Channel
from tests.waiting import wait_for


class Queue:
    def __init__(self) -> None:
        self.added: list[Request] = []

    def add(self, item: Request) -> None:
        self.added.append(item)


def _record(name: str, **status: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": "ns"},
        "spec": {"podName": name},
        "status": status,
    }


@contextmanager
def leading_runs(leading: Leading) -> Iterator[None]:
    """Run ``leading`` as the manager's leader group would, until the block ends."""
    stop = threading.Event()
    thread = threading.Thread(target=leading.start, args=(stop,))
    thread.start()
    try:
        wait_for(leading.is_set, timeout=5, what="the runnable to start")
        yield
    finally:
        stop.set()
        thread.join(5)


def test_leading_is_set_only_while_its_runnable_runs() -> None:
    leading = Leading()
    assert not leading.is_set()
    with leading_runs(leading):
        assert leading.is_set()
    assert not leading.is_set()


def test_retention_recheck_sends_records_of_gone_pods_when_leading() -> None:
    store = Store()
    store.upsert(_record("gone", podDeletedAt="2026-11-24T00:00:00Z"))
    store.upsert(_record("alive"))
    channel, queue = Channel(EnqueueRequestForObject()), Queue()
    channel.start(queue)
    leading = Leading()
    recheck = RecheckRetention(store, channel, leading)
    recheck(object())
    assert queue.added == [], "a standby sends nothing (nothing would drain it)"
    with leading_runs(leading):
        recheck(object())
    assert queue.added == [Request("ns", "gone")]
