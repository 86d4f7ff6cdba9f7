"""RFC 3339 times as Kubernetes writes them, to and from Unix seconds."""

from __future__ import annotations

import pytest

from controllers.restarts.timestamps import format_time, parse_time


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
    assert format_time(1795488354.9) == "2026-11-24T02:45:54Z"
    assert parse_time(format_time(1795488354)) == 1795488354
