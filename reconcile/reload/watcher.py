"""Watch a few files for content changes, the way Kubernetes updates mounted volumes.

Kubernetes never edits a mounted ConfigMap or Secret file in place. The volume holds
``app.yaml -> ..data/app.yaml`` and ``..data -> ..2026_11_24_01_00_00.123``; an update writes a
new timestamped directory, points ``..data_tmp`` at it and renames that over ``..data``. Watching
the file itself would keep watching the old, deleted inode. So this watcher:

- watches each file's *parent directory* (non-recursive), where the rename happens;
- decides whether a file changed by its *content* (SHA-256 of what the path resolves to now),
  so a touch, a swap to identical content or a burst of events fires nothing;
- debounces: events are collected until the directory is quiet for ``debounce`` seconds, so a
  swap observed half-way (new ``..data``, old files still being removed) is read once, whole;
- polls every ``poll_interval`` seconds as a backstop, because inotify can miss events on some
  filesystems (network volumes, overlay quirks) and an event can be lost under load.

The callback runs on the watcher's own thread, one change set at a time, never concurrently.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

__all__ = ["FileWatcher", "FileWatcherOptions", "fingerprint"]

log = logging.getLogger(__name__)

DEFAULT_DEBOUNCE = 0.1
"""Seconds of quiet before reading: a ``..data`` swap emits several events within microseconds."""
DEFAULT_POLL_INTERVAL = 10.0
"""Seconds between backstop polls; controller-runtime's certwatcher polls at the same rate."""


def fingerprint(path: Path) -> str | None:
    """SHA-256 of the file the path resolves to now, or None if it cannot be read."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


@dataclass(frozen=True, kw_only=True, slots=True)
class FileWatcherOptions:
    """How a FileWatcher notices changes.

    Usage::

        FileWatcherOptions(debounce=0.1, poll_interval=10.0)
    """

    debounce: float = DEFAULT_DEBOUNCE
    """Seconds the directory must be quiet before files are read; raise it for slow writers."""
    poll_interval: float = DEFAULT_POLL_INTERVAL
    """Seconds between backstop polls; ``math.inf`` disables polling (then only events count)."""
    use_events: bool = True
    """Watch directories with watchdog; turn off where inotify is unavailable (polling only)."""

    def __post_init__(self) -> None:
        if not self.debounce >= 0:
            raise ValueError(f"debounce must be >= 0 seconds, got {self.debounce!r}")
        if not self.poll_interval > 0:
            raise ValueError(
                f"poll_interval must be > 0 seconds (math.inf disables polling), "
                f"got {self.poll_interval!r}"
            )
        if not self.use_events and math.isinf(self.poll_interval):
            raise ValueError(
                "with use_events=False the watcher only polls; give a finite poll_interval"
            )


class _Nudge(FileSystemEventHandler):
    """Turns any event in a watched directory into a wake-up of the watcher thread."""

    def __init__(self, wake: Callable[[], None]) -> None:
        self._wake = wake

    def on_any_event(self, event: FileSystemEvent) -> None:
        self._wake()


class FileWatcher:
    """Calls ``on_change(changed_paths)`` whenever the content of any watched file changes.

    ``start(stop)`` blocks until ``stop`` is set, so a FileWatcher is a manager Runnable; it
    needs no leader election (every replica must see its own mounted files).
    """

    def __init__(
        self,
        paths: Iterable[str | os.PathLike[str]],
        on_change: Callable[[list[Path]], None],
        *,
        options: FileWatcherOptions | None = None,
    ) -> None:
        self._paths = [Path(p) for p in paths]
        if not self._paths:
            raise ValueError("FileWatcher needs at least one path to watch")
        self._on_change = on_change
        self._options = options or FileWatcherOptions()
        self._wake = threading.Event()
        self._known = {path: fingerprint(path) for path in self._paths}
        self._checks = 0
        self._ready = threading.Event()

    @property
    def paths(self) -> list[Path]:
        """The watched paths, as given."""
        return list(self._paths)

    @property
    def checks(self) -> int:
        """How many times the files were read and compared (events and polls)."""
        return self._checks

    def need_leader_election(self) -> bool:
        """Every replica watches its own files."""
        return False

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Block until ``start`` watches the directories (changes from then on are seen)."""
        return self._ready.wait(timeout)

    def trigger(self) -> None:
        """Ask for a check now, as an event would (thread-safe)."""
        self._wake.set()

    def start(self, stop: threading.Event) -> None:
        """Watch until ``stop`` is set; the callback runs on this thread."""
        observer = self._start_observer() if self._options.use_events else None
        waker = threading.Thread(
            target=self._relay_stop, args=(stop,), name="filewatcher-stop", daemon=True
        )
        waker.start()
        self._ready.set()
        try:
            self._loop(stop)
        finally:
            if observer is not None:
                observer.stop()
                observer.join(timeout=5.0)

    def _relay_stop(self, stop: threading.Event) -> None:
        stop.wait()
        self._wake.set()

    def _start_observer(self) -> BaseObserver:
        observer = Observer()
        handler = _Nudge(self._wake.set)
        for directory in sorted({path.parent for path in self._paths}):
            if directory.is_dir():
                observer.schedule(handler, str(directory), recursive=False)
            else:
                log.warning(
                    "watched directory does not exist; relying on polling",
                    extra={"directory": str(directory)},
                )
        observer.daemon = True
        observer.start()
        return observer

    def _loop(self, stop: threading.Event) -> None:
        timeout = None if math.isinf(self._options.poll_interval) else self._options.poll_interval
        while not stop.is_set():
            woke = self._wake.wait(timeout)
            if stop.is_set():
                return
            if woke:
                self._settle(stop)
            self._check()

    def _settle(self, stop: threading.Event) -> None:
        """Wait until no event arrived for ``debounce`` seconds."""
        self._wake.clear()
        while self._wake.wait(self._options.debounce) and not stop.is_set():
            self._wake.clear()

    def _check(self) -> None:
        self._checks += 1
        changed: list[Path] = []
        for path in self._paths:
            current = fingerprint(path)
            if current != self._known[path]:
                self._known[path] = current
                changed.append(path)
        if not changed:
            return
        try:
            self._on_change(changed)
        except Exception:
            log.exception("file change callback failed", extra={"paths": [str(p) for p in changed]})
