"""The comparison's arithmetic: percentiles, ratios against the goals, what operators print."""

from __future__ import annotations

import argparse
from typing import Any

import pytest

from bench.compare_kopf import compare, percentile, reported_calls, sizes


@pytest.mark.parametrize(
    ("values", "share", "expected"),
    [
        pytest.param([3.0], 0.99, 3.0, id="single-value"),
        pytest.param([float(v) for v in range(1, 101)], 0.99, 99.0, id="nearest-rank-p99"),
        pytest.param([float(v) for v in range(1, 101)], 0.5, 50.0, id="median"),
        pytest.param([5.0, 1.0, 4.0, 2.0, 3.0], 1.0, 5.0, id="unsorted-max"),
    ],
)
def test_percentile(values: list[float], share: float, expected: float) -> None:
    assert percentile(values, share) == expected


def _run(**overrides: Any) -> dict[str, Any]:
    figures: dict[str, Any] = {
        "objects": 1000,
        "converged_change": True,
        "start_objects_per_s": 100.0,
        "change_objects_per_s": 100.0,
        "server_cpu_utilisation_start": 0.3,
        "server_cpu_utilisation_change": 0.3,
        "machine_busy_start": 0.5,
        "machine_busy_change": 0.5,
        "cpu_ms_per_reconcile": 4.0,
        "peak_rss_mb": 100.0,
        "change_latency_p99_ms": 500.0,
    }
    return figures | overrides


def test_ratios_meet_goals_when_faster_leaner_and_not_server_bound() -> None:
    ours = _run(start_objects_per_s=400.0, change_objects_per_s=300.0, cpu_ms_per_reconcile=1.0)
    ratios = compare(ours, _run())
    assert ratios["throughput_start_x"] == 4.0
    assert ratios["throughput_start_goal_met"] is True
    assert ratios["throughput_change_goal_met"] is True
    assert ratios["cpu_per_reconcile_x"] == 0.25
    assert ratios["cpu_per_reconcile_goal_met"] is True


def test_throughput_goal_is_not_judged_when_the_server_was_the_limit() -> None:
    ours = _run(change_objects_per_s=150.0, server_cpu_utilisation_change=0.95)
    ratios = compare(ours, _run())
    assert ratios["server_bound_change"] is True
    assert ratios["machine_saturated_change"] is False
    assert ratios["throughput_change_goal_met"] is None
    assert ratios["throughput_start_goal_met"] is False


@pytest.mark.parametrize(
    ("objects", "met"),
    [pytest.param(1000, None, id="not-judged-below-10k"), pytest.param(10_000, True, id="10k")],
)
def test_rss_goal_applies_at_10k_objects(objects: int, met: bool | None) -> None:
    ratios = compare(_run(objects=objects, peak_rss_mb=40.0), _run(objects=objects))
    assert ratios["peak_rss_x"] == 0.4
    assert ratios["peak_rss_goal_met"] is met


def test_no_ratios_when_either_run_did_not_converge() -> None:
    assert compare(_run(converged_change=False), _run()) == {"complete": False}
    assert compare(_run(), {"objects": 1000, "converged_start": False}) == {"complete": False}


@pytest.mark.parametrize(
    ("printed", "calls"),
    [
        pytest.param('serving\n{"reconciles": 42}\n', 42, id="last-json-line"),
        pytest.param('{"reconciles": 1}\nnot json\n', 1, id="skips-trailing-noise"),
        pytest.param("", None, id="nothing-printed"),
    ],
)
def test_reported_calls(printed: str, calls: int | None) -> None:
    assert reported_calls(printed) == calls


def test_sizes_parse_comma_separated_counts() -> None:
    assert sizes("1000,10000") == [1000, 10_000]
    assert sizes("200,") == [200]


@pytest.mark.parametrize("text", ["", "1k", "0", "100,-5"])
def test_bad_sizes_are_rejected_with_an_example(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=r"e\.g\. 1000,10000"):
        sizes(text)
