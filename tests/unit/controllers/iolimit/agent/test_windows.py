"""Window averages from cumulative counters, and what an agent restart can rebuild."""

from __future__ import annotations

import pytest

from controllers.iolimit.agent.windows import WindowSeries

T0 = 1_000_000.0


def _feed(
    series: WindowSeries,
    start: float,
    seconds: float,
    step: float,
    wios_per_s: float,
    base: float = 0.0,
) -> None:
    at = start
    while at <= start + seconds:
        series.add(at, (0, int(base + (at - start) * wios_per_s), 0, 0))
        at += step


def test_young_container_window_is_exact_at_the_first_reading() -> None:
    series = WindowSeries(started_at=T0)
    series.add(T0 + 300, (0, 90_000, 0, 0))
    averages = series.averages()
    assert averages["15m"] == (0.0, 100.0, 0.0, 0.0)
    assert averages["30m"] == (0.0, 50.0, 0.0, 0.0)
    assert averages["60m"] == pytest.approx((0.0, 25.0, 0.0, 0.0))


def test_older_container_window_is_unknown_until_readings_cover_it() -> None:
    series = WindowSeries(started_at=T0 - 7200)
    series.add(T0, (0, 5_000_000, 0, 0))
    assert series.averages() == {}
    _feed(series, T0, 900, 10, 40, base=5_000_000)
    averages = series.averages()
    assert set(averages) == {"15m"}
    assert averages["15m"][1] == pytest.approx(40, rel=0.02)


def test_rate_change_shows_in_the_short_window_first() -> None:
    series = WindowSeries(started_at=T0)
    _feed(series, T0, 1800, 10, 10)
    _feed(series, T0 + 1810, 890, 10, 110, base=18_000)
    averages = series.averages()
    assert averages["15m"][1] == pytest.approx(110, rel=0.05)
    assert averages["60m"][1] < averages["30m"][1] < averages["15m"][1]


def test_checkpoints_are_spaced_and_pruned() -> None:
    series = WindowSeries(started_at=T0, spacing=30.0)
    _feed(series, T0, 7200, 10, 1)
    assert len(series) <= 3600 / 30 + 3
    assert series.last_time == T0 + 7200


def test_counter_going_down_restarts_the_series() -> None:
    series = WindowSeries(started_at=T0)
    series.add(T0 + 10, (0, 1000, 0, 0))
    series.add(T0 + 20, (0, 10, 0, 0))
    assert len(series) == 1
    assert series.started_at is None
    assert series.averages() == {}
