from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from reconcile.clock import FakeClock
from reconcile.workqueue import Queue, RateLimitingQueue, WorkqueueMetrics

LABELS = {"name": "pods", "controller": "pods"}


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


def _value(registry: CollectorRegistry, metric: str, **extra: str) -> float | None:
    return registry.get_sample_value(metric, {**LABELS, **extra})


def test_depth_adds_and_durations(registry: CollectorRegistry) -> None:
    clock = FakeClock()
    queue: Queue[str] = Queue(name="pods", metrics=WorkqueueMetrics(registry), clock=clock)
    queue.add("a")
    queue.add("b")
    queue.add("a")
    assert _value(registry, "workqueue_depth") == 2
    assert _value(registry, "workqueue_adds_total") == 2

    clock.step(2.0)
    item, _ = queue.get()
    assert _value(registry, "workqueue_depth") == 1
    assert _value(registry, "workqueue_queue_duration_seconds_count") == 1
    assert _value(registry, "workqueue_queue_duration_seconds_sum") == pytest.approx(2.0)
    assert _value(registry, "workqueue_queue_duration_seconds_bucket", le="1.0") == 0
    assert _value(registry, "workqueue_queue_duration_seconds_bucket", le="10.0") == 1

    clock.step(3.0)
    assert _value(registry, "workqueue_unfinished_work_seconds") == pytest.approx(3.0)
    assert _value(registry, "workqueue_longest_running_processor_seconds") == pytest.approx(3.0)

    assert item is not None
    queue.done(item)
    assert _value(registry, "workqueue_work_duration_seconds_sum") == pytest.approx(3.0)
    assert _value(registry, "workqueue_unfinished_work_seconds") == 0
    assert _value(registry, "workqueue_longest_running_processor_seconds") == 0


def test_retries_counted_by_rate_limited_adds(registry: CollectorRegistry) -> None:
    queue: RateLimitingQueue[str] = RateLimitingQueue(
        name="pods", metrics=WorkqueueMetrics(registry), clock=FakeClock()
    )
    queue.add_rate_limited("a")
    queue.add_rate_limited("b")
    assert _value(registry, "workqueue_retries_total") == 2
    queue.shut_down()


def test_many_queues_share_one_registry(registry: CollectorRegistry) -> None:
    metrics = WorkqueueMetrics(registry)
    first: Queue[str] = Queue(name="one", metrics=metrics)
    second: Queue[str] = Queue(name="two", controller="two", metrics=metrics)
    first.add("x")
    second.add("x")
    second.add("y")
    depth = {"one": 1.0, "two": 2.0}
    for name, expected in depth.items():
        labels = {"name": name, "controller": name}
        assert registry.get_sample_value("workqueue_depth", labels) == expected


def test_exposition_has_client_go_names(registry: CollectorRegistry) -> None:
    queue: Queue[str] = Queue(name="pods", metrics=WorkqueueMetrics(registry))
    queue.add("a")
    samples = {
        sample.name
        for family in text_string_to_metric_families(generate_latest(registry).decode())
        for sample in family.samples
        if sample.labels.get("name") == "pods" and sample.labels.get("controller") == "pods"
    }
    assert {
        "workqueue_depth",
        "workqueue_adds_total",
        "workqueue_retries_total",
        "workqueue_queue_duration_seconds_bucket",
        "workqueue_work_duration_seconds_bucket",
        "workqueue_unfinished_work_seconds",
        "workqueue_longest_running_processor_seconds",
    } <= samples


def test_queue_without_metrics_reports_nothing(registry: CollectorRegistry) -> None:
    WorkqueueMetrics(registry)
    queue: Queue[str] = Queue(name="quiet")
    queue.add("a")
    labels = {"name": "quiet", "controller": "quiet"}
    assert registry.get_sample_value("workqueue_depth", labels) is None
