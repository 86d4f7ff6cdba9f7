"""Hot-reloaded configuration files that never fall back to a broken config.

A ``ConfigWatcher`` owns one file and one parser. The parser turns bytes into a validated
config object or raises; on success the new config replaces the old one and subscribers are
told; on failure the last good config stays in force, the error is logged with the path and
the reason, counted in metrics and handed to ``on_error`` (the operators turn it into a
Warning Event). Prometheus reports reloads the same way (``..._last_reload_successful``), so
an alert can fire on a config that was edited but not taken.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge

from reconcile.errors import ConfigError
from reconcile.metrics.per_registry import PerRegistryMetrics
from reconcile.reload.watcher import FileWatcher, FileWatcherOptions

__all__ = ["ConfigMetrics", "ConfigWatcher"]

log = logging.getLogger(__name__)

T = TypeVar("T")


class ConfigMetrics(PerRegistryMetrics):
    """Reload metrics, labelled by config ``name``; get them with ``for_registry``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.reloads = Counter(
            "kreconcile_config_reloads_total",
            "Configuration reload attempts by result (success or failure).",
            ["name", "result"],
            registry=registry,
        )
        self.last_successful = Gauge(
            "kreconcile_config_last_reload_successful",
            "Whether the last configuration reload attempt succeeded (1) or failed (0).",
            ["name"],
            registry=registry,
        )
        self.last_success_time = Gauge(
            "kreconcile_config_last_reload_success_timestamp_seconds",
            "Unix time of the last successful configuration reload.",
            ["name"],
            registry=registry,
        )


class ConfigWatcher(Generic[T]):
    """Keeps ``current`` equal to the last file content that parsed and validated.

    Usage::

        watcher = ConfigWatcher("restarts", "/etc/kreconcile/restarts.yaml", parse=load_options)
        watcher.subscribe(controller.apply_config)
        manager.add(watcher)            # a Runnable; no leader election needed
        options = watcher.current       # always a valid config
    """

    def __init__(
        self,
        name: str,
        path: str | Path,
        *,
        parse: Callable[[bytes], T],
        metrics: ConfigMetrics | None = None,
        on_error: Callable[[ConfigError], None] | None = None,
        options: FileWatcherOptions | None = None,
    ) -> None:
        """Reads and parses the file once; raises ConfigError if it is unreadable or invalid.

        There is no last good config to fall back to at start, so a bad file is fatal here,
        with a message that says which file and why.
        """
        self._name = name
        self._path = Path(path)
        self._parse = parse
        self._metrics = metrics
        self._on_error = on_error
        self._lock = threading.Lock()
        self._subscribers: list[Callable[[T], None]] = []
        self._current = self._load()
        self._record(success=True)
        self._watcher = FileWatcher([self._path], self._changed, options=options)

    @property
    def current(self) -> T:
        """The config in force: the last one that parsed and validated."""
        with self._lock:
            return self._current

    @property
    def path(self) -> Path:
        """The watched file."""
        return self._path

    def subscribe(self, callback: Callable[[T], None]) -> None:
        """Call ``callback(new_config)`` after each successful reload, on the watcher thread."""
        with self._lock:
            self._subscribers.append(callback)

    def need_leader_election(self) -> bool:
        """Every replica reads its own mounted file."""
        return False

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Block until ``start`` watches the file (changes from then on are seen)."""
        return self._watcher.wait_ready(timeout)

    def start(self, stop: threading.Event) -> None:
        """Watch until ``stop`` is set (a manager Runnable)."""
        self._watcher.start(stop)

    def reload(self) -> bool:
        """Re-read the file now; returns whether the new content was taken."""
        try:
            config = self._load()
        except ConfigError as error:
            self._record(success=False)
            log.error(
                "config rejected, keeping the last good config",
                extra={"config": self._name, "path": str(self._path), "error": str(error)},
            )
            if self._on_error is not None:
                self._on_error(error)
            return False
        with self._lock:
            self._current = config
            subscribers = list(self._subscribers)
        self._record(success=True)
        log.info("config reloaded", extra={"config": self._name, "path": str(self._path)})
        for callback in subscribers:
            callback(config)
        return True

    def _changed(self, _paths: list[Path]) -> None:
        self.reload()

    def _load(self) -> T:
        try:
            raw = self._path.read_bytes()
        except OSError as exc:
            raise ConfigError(
                f"cannot read config {self._name!r} from {self._path}: {exc.strerror}; "
                "check that the ConfigMap is mounted at that path"
            ) from exc
        try:
            return self._parse(raw)
        except ConfigError:
            raise
        except Exception as exc:
            raise ConfigError(
                f"config {self._name!r} in {self._path} is invalid: {exc}; "
                "fix the file (the last good config stays in force meanwhile)"
            ) from exc

    def _record(self, *, success: bool) -> None:
        if self._metrics is None:
            return
        self._metrics.reloads.labels(self._name, "success" if success else "failure").inc()
        self._metrics.last_successful.labels(self._name).set(1 if success else 0)
        if success:
            self._metrics.last_success_time.labels(self._name).set(time.time())
