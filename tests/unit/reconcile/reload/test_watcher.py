from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconcile.reload import FileWatcher, FileWatcherOptions
from tests.unit.reconcile.reload.volume import ConfigMapVolume
from tests.waiting import wait_for


class Recorder:
    def __init__(self) -> None:
        self.calls: list[list[Path]] = []
        self.lock = threading.Lock()

    def __call__(self, paths: list[Path]) -> None:
        with self.lock:
            self.calls.append(paths)

    def count(self) -> int:
        with self.lock:
            return len(self.calls)


@pytest.fixture
def stop() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()


def _run(watcher: FileWatcher, stop: threading.Event) -> threading.Thread:
    thread = threading.Thread(target=watcher.start, args=(stop,), daemon=True)
    thread.start()
    assert watcher.wait_ready(timeout=5)
    return thread


def test_data_symlink_swap_is_seen_as_a_change(tmp_path: Path, stop: threading.Event) -> None:
    volume = ConfigMapVolume(tmp_path / "vol", {"app.yaml": b"a: 1\n"})
    seen = Recorder()
    watcher = FileWatcher([volume.path("app.yaml")], seen, options=FileWatcherOptions())
    _run(watcher, stop)
    volume.update({"app.yaml": b"a: 2\n"})
    wait_for(seen.count, what="a callback after the ..data swap")
    assert seen.calls[0] == [volume.path("app.yaml")]
    assert volume.path("app.yaml").read_bytes() == b"a: 2\n"


def test_swap_to_identical_content_fires_nothing(tmp_path: Path, stop: threading.Event) -> None:
    volume = ConfigMapVolume(tmp_path / "vol", {"app.yaml": b"a: 1\n", "other": b"x"})
    seen = Recorder()
    watcher = FileWatcher([volume.path("app.yaml")], seen, options=FileWatcherOptions())
    _run(watcher, stop)
    volume.update({"app.yaml": b"a: 1\n", "other": b"x"})
    wait_for(lambda: watcher.checks >= 1, what="the watcher to look at the swap")
    volume.update({"app.yaml": b"a: 3\n", "other": b"x"})
    wait_for(seen.count, what="the real change")
    assert seen.count() == 1


def test_burst_of_writes_is_read_once_settled(tmp_path: Path, stop: threading.Event) -> None:
    target = tmp_path / "config.yaml"
    target.write_bytes(b"v0")
    seen = Recorder()
    contents: list[bytes] = []

    def record(paths: list[Path]) -> None:
        contents.append(target.read_bytes())
        seen(paths)

    watcher = FileWatcher([target], record, options=FileWatcherOptions(debounce=0.2))
    _run(watcher, stop)
    for i in range(1, 30):
        target.write_bytes(f"v{i}".encode())
    wait_for(seen.count, what="the settled change")
    wait_for(lambda: contents[-1] == b"v29", what="the final content to be read")
    assert seen.count() < 29


def test_polling_backstop_without_events(tmp_path: Path, stop: threading.Event) -> None:
    target = tmp_path / "config.yaml"
    target.write_bytes(b"old")
    seen = Recorder()
    options = FileWatcherOptions(use_events=False, poll_interval=0.05)
    watcher = FileWatcher([target], seen, options=options)
    _run(watcher, stop)
    target.write_bytes(b"new")
    wait_for(seen.count, what="a poll to notice the change")
    assert watcher.checks >= 1


def test_stop_ends_start(tmp_path: Path) -> None:
    target = tmp_path / "config.yaml"
    target.write_bytes(b"x")
    stop = threading.Event()
    thread = _run(FileWatcher([target], Recorder()), stop)
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"debounce": -1.0}, "debounce", id="negative-debounce"),
        pytest.param({"poll_interval": 0.0}, "poll_interval", id="zero-poll"),
        pytest.param(
            {"use_events": False, "poll_interval": float("inf")}, "finite", id="no-way-to-notice"
        ),
    ],
)
def test_invalid_options_say_what_to_change(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FileWatcherOptions(**kwargs)  # type: ignore[arg-type]
