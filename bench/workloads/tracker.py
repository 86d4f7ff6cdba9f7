"""The driver's view of the Widget workload: which objects are in step, and since when.

Two informers (Widgets and ConfigMaps of one namespace) feed a ``Tracker``. After
``expect(value)``, an object counts as done once its status reports ``value`` and its
ConfigMap holds it; the first time each status shows the value is recorded, so latencies
are measured at the driver, from the moment it sent the change to the moment it saw the
result, whatever operator did the work.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from bench.workloads.widgets import CONFIGMAP, NAMESPACE, WIDGET, configmap_data
from reconcile.cache.informer import SharedInformer
from reconcile.client import Client

T = TypeVar("T")


class _Handler:
    def __init__(self, on_change: Callable[[dict[str, Any]], None]) -> None:
        self._on_change = on_change

    def on_add(self, obj: dict[str, Any], is_in_initial_list: bool) -> None:
        self._on_change(obj)

    def on_update(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        self._on_change(new)

    def on_delete(self, obj: dict[str, Any]) -> None:
        """Deletions play no part in the workload."""


class Tracker:
    """Knows, per Widget, whether its status and ConfigMap carry the expected value."""

    def __init__(self, client: Client, names: Iterable[str], namespace: str = NAMESPACE) -> None:
        self._names = frozenset(names)
        self._status: dict[str, Any] = {}
        self._config: dict[str, Any] = {}
        self._expected: int | None = None
        self._done: set[str] = set()
        self._landed: dict[str, float] = {}
        self._lock = threading.Lock()
        self._all_done = threading.Event()
        self._informers = [
            SharedInformer(client, WIDGET, namespace=namespace),
            SharedInformer(client, CONFIGMAP, namespace=namespace),
        ]
        self._informers[0].add_event_handler(_Handler(self._on_widget))
        self._informers[1].add_event_handler(_Handler(self._on_configmap))

    def start(self, timeout: float = 120.0) -> None:
        for informer in self._informers:
            informer.start()
        for informer in self._informers:
            if not informer.wait_for_sync(timeout):
                raise TimeoutError(f"the driver's {informer.gvk.kind} informer did not sync")

    def stop(self) -> None:
        for informer in self._informers:
            informer.stop()

    def expect(self, value: int) -> None:
        """From now on, an object is done when its status and ConfigMap carry ``value``."""
        with self._lock:
            self._expected = value
            self._landed.clear()
            self._done.clear()
            self._all_done.clear()
            for name in self._names:
                self._check(name)

    def wait(self, timeout: float) -> bool:
        """Block until every object is done; False after ``timeout`` seconds."""
        return self._all_done.wait(timeout)

    def done(self) -> int:
        with self._lock:
            return len(self._done)

    def landed(self) -> dict[str, float]:
        """perf_counter() time at which each status first showed the expected value."""
        with self._lock:
            return dict(self._landed)

    def _on_widget(self, obj: dict[str, Any]) -> None:
        name = obj["metadata"]["name"]
        if name not in self._names:
            return
        observed = (obj.get("status") or {}).get("observedValue")
        with self._lock:
            self._status[name] = observed
            if observed == self._expected and name not in self._landed:
                self._landed[name] = time.perf_counter()
            self._check(name)

    def _on_configmap(self, obj: dict[str, Any]) -> None:
        name = obj["metadata"]["name"]
        if name not in self._names:
            return
        with self._lock:
            self._config[name] = obj.get("data")
            self._check(name)

    def _check(self, name: str) -> None:
        expected = self._expected
        if (
            expected is not None
            and self._status.get(name) == expected
            and self._config.get(name) == configmap_data(expected)
        ):
            self._done.add(name)
            if len(self._done) == len(self._names):
                self._all_done.set()
        else:
            self._done.discard(name)


def parallel(action: Callable[[T], object], items: list[T], threads: int) -> float:
    """Run ``action`` on every item from ``threads`` threads; return the seconds it took."""
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for _ in pool.map(action, items):
            pass
    return time.perf_counter() - started


def server_revision(client: Client) -> int:
    """The API server's current global resourceVersion (one more per committed write)."""
    listed = client.list(CONFIGMAP, namespace="kube-system", limit=1)
    return int(listed["metadata"]["resourceVersion"])


def wait_quiet(client: Client, *, quiet: float = 1.0, timeout: float = 120.0) -> bool:
    """Wait until no write has reached the server for ``quiet`` seconds (False on timeout)."""
    deadline = time.monotonic() + timeout
    last, since = server_revision(client), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.1)
        current = server_revision(client)
        if current != last:
            last, since = current, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return True
    return False
