"""metav1.Time and MicroTime as Kubernetes writes them, to and from Unix seconds."""

from __future__ import annotations

import datetime as dt

import pytest

from reconcile.timestamps import micro_time, parse_time, rfc3339


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        pytest.param("2026-11-24T02:45:54Z", 1795488354.0, id="utc-z"),
        pytest.param("2026-11-24T03:45:54+01:00", 1795488354.0, id="offset"),
        pytest.param("2026-11-24T02:45:54.250000Z", 1795488354.25, id="micro-time"),
        pytest.param("2026-11-24T02:45:54", 1795488354.0, id="naive-is-utc"),
        pytest.param("", None, id="empty"),
        pytest.param(None, None, id="missing"),
        pytest.param("yesterday", None, id="unreadable"),
    ],
)
def test_parse(text: str | None, seconds: float | None) -> None:
    assert parse_time(text) == seconds


def test_format_drops_fractions_and_round_trips() -> None:
    assert rfc3339(1795488354.9) == "2026-11-24T02:45:54Z"
    assert parse_time(rfc3339(1795488354)) == 1795488354


def test_micro_time_keeps_six_digits_and_datetimes_are_taken_in_utc() -> None:
    assert micro_time(1795488354.25) == "2026-11-24T02:45:54.250000Z"
    plus_one = dt.datetime(2026, 11, 24, 3, 45, 54, 60, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert micro_time(plus_one) == "2026-11-24T02:45:54.000060Z"
    assert rfc3339(plus_one) == "2026-11-24T02:45:54Z"
    assert parse_time(rfc3339()) is not None
