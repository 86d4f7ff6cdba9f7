from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconcile.cache import CacheOptions, ReflectorOptions
from reconcile.client import RestConfig
from reconcile.manager import Manager, ManagerOptions


class RunningManager:
    def __init__(self, manager: Manager) -> None:
        self.manager = manager
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            self.manager.start(self.stop)
        except BaseException as error:
            self.error = error

    def start(self) -> RunningManager:
        self.thread.start()
        return self

    def shutdown(self, timeout: float = 15.0) -> None:
        self.stop.set()
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "manager did not stop"


def make_manager(kubeconfig: Path, **options: object) -> Manager:
    defaults: dict[str, object] = {
        "metrics_bind_address": "127.0.0.1:0",
        "health_probe_bind_address": "127.0.0.1:0",
        "graceful_shutdown_timeout": 10.0,
        "cache": CacheOptions(reflector=ReflectorOptions(initial_backoff=0.05, max_backoff=0.5)),
    }
    defaults.update(options)
    return Manager(RestConfig.from_kubeconfig(kubeconfig), ManagerOptions(**defaults))  # type: ignore[arg-type]


@pytest.fixture
def manager(kubeconfig: Path) -> Iterator[Manager]:
    yield make_manager(kubeconfig)


@pytest.fixture
def running(manager: Manager) -> Iterator[RunningManager]:
    runner = RunningManager(manager)
    yield runner
    if runner.thread.is_alive():
        runner.shutdown()
