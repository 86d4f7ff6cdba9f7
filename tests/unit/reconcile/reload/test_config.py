from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry

from reconcile.errors import ConfigError
from reconcile.reload import ConfigMetrics, ConfigWatcher
from tests.unit.reconcile.reload.volume import ConfigMapVolume
from tests.waiting import wait_for


def parse(raw: bytes) -> dict[str, Any]:
    data = yaml.safe_load(raw)
    if not isinstance(data, dict) or not isinstance(data.get("window"), int):
        raise ValueError("window must be an integer number of minutes")
    return data


@pytest.fixture
def stop() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()


def _metric(registry: CollectorRegistry, metric: str, **labels: str) -> float | None:
    return registry.get_sample_value(metric, labels)


def _start(watcher: ConfigWatcher[Any], stop: threading.Event) -> None:
    threading.Thread(target=watcher.start, args=(stop,), daemon=True).start()
    assert watcher.wait_ready(timeout=5)


def test_new_config_is_used_after_data_swap(tmp_path: Path, stop: threading.Event) -> None:
    volume = ConfigMapVolume(tmp_path / "vol", {"config.yaml": b"window: 30\n"})
    received: list[dict[str, Any]] = []
    watcher = ConfigWatcher("restarts", volume.path("config.yaml"), parse=parse)
    watcher.subscribe(received.append)
    _start(watcher, stop)
    volume.update({"config.yaml": b"window: 15\n"})
    wait_for(lambda: received, what="the subscriber to get the new config")
    assert watcher.current == {"window": 15}
    assert received == [{"window": 15}]


def test_garbage_keeps_last_good_config_and_reports(tmp_path: Path, stop: threading.Event) -> None:
    registry = CollectorRegistry()
    volume = ConfigMapVolume(tmp_path / "vol", {"config.yaml": b"window: 30\n"})
    errors: list[ConfigError] = []
    watcher = ConfigWatcher(
        "restarts",
        volume.path("config.yaml"),
        parse=parse,
        metrics=ConfigMetrics.for_registry(registry),
        on_error=errors.append,
    )
    _start(watcher, stop)
    volume.update({"config.yaml": b"window: [not, a, number\n"})
    wait_for(lambda: errors, what="the bad config to be reported")
    assert watcher.current == {"window": 30}
    assert "config.yaml" in str(errors[0])
    assert _metric(registry, "kreconcile_config_last_reload_successful", name="restarts") == 0
    failures = _metric(
        registry, "kreconcile_config_reloads_total", name="restarts", result="failure"
    )
    assert failures == 1

    volume.update({"config.yaml": b"window: 60\n"})
    wait_for(lambda: watcher.current == {"window": 60}, what="the fixed config to be taken")
    assert _metric(registry, "kreconcile_config_last_reload_successful", name="restarts") == 1


def test_invalid_config_at_start_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_bytes(b"window: soon\n")
    with pytest.raises(ConfigError, match=r"config\.yaml is invalid: window must be an integer"):
        ConfigWatcher("restarts", path, parse=parse)


def test_missing_config_at_start_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"cannot read config 'restarts'.*mounted"):
        ConfigWatcher("restarts", tmp_path / "absent.yaml", parse=parse)


def test_subscriber_failure_does_not_stop_watching(tmp_path: Path, stop: threading.Event) -> None:
    path = tmp_path / "config.yaml"
    path.write_bytes(b"window: 1\n")
    watcher = ConfigWatcher("restarts", path, parse=parse)
    calls: list[int] = []

    def flaky(config: dict[str, Any]) -> None:
        calls.append(config["window"])
        if len(calls) == 1:
            raise RuntimeError("subscriber broke")

    watcher.subscribe(flaky)
    _start(watcher, stop)
    path.write_bytes(b"window: 2\n")
    wait_for(lambda: calls == [2], what="the first (failing) delivery")
    path.write_bytes(b"window: 3\n")
    wait_for(lambda: calls == [2, 3], what="delivery after a failed subscriber")
