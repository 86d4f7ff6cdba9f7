"""A controller fed by a Channel, running in a thread, with its own metrics registry."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry

from reconcile.controller import Controller, ControllerOptions
from reconcile.handler import EnqueueRequestForObject
from reconcile.reconciler import AsyncReconciler, Reconciler, ReconcilerFunc, Request, Result
from reconcile.source import Channel
from reconcile.workqueue import ItemExponentialFailureRateLimiter

FAST = ItemExponentialFailureRateLimiter(base_delay=0.001, max_delay=0.01)


def obj(name: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "ns"}}


class Harness:
    def __init__(
        self,
        fn: Callable[[Request], Result] | Reconciler | AsyncReconciler,
        *,
        start: bool = True,
        **options: Any,
    ) -> None:
        self.registry = CollectorRegistry()
        self.channel = Channel(EnqueueRequestForObject())
        reconciler = fn if hasattr(fn, "reconcile") else ReconcilerFunc(fn)
        self.controller = Controller(
            "test",
            reconciler,
            sources=[self.channel],
            options=ControllerOptions(
                **{"rate_limiter": FAST, "need_leader_election": False, **options}
            ),
            registry=self.registry,
        )
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        if start:
            self.thread.start()

    def _run(self) -> None:
        try:
            self.controller.start(self.stop)
        except BaseException as error:
            self.errors.append(error)

    def metric(self, name: str, **labels: str) -> float:
        value = self.registry.get_sample_value(name, {"controller": "test", **labels})
        return value or 0.0

    def close(self) -> None:
        self.stop.set()
        self.thread.join(10)
