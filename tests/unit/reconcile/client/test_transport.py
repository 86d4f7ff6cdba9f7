"""The watch stream's line splitting and the throttling log."""

from __future__ import annotations

import logging

import pytest

from reconcile.client.transport import ThrottleLog, split_lines
from reconcile.errors import TooManyRequests


@pytest.mark.parametrize(
    ("chunks", "lines"),
    [
        pytest.param([b'{"a":1}\n'], [b'{"a":1}'], id="one-line"),
        pytest.param([b'{"a":', b"1}\n"], [b'{"a":1}'], id="split-across-chunks"),
        pytest.param([b"1\n2\n3\n"], [b"1", b"2", b"3"], id="many-in-one-chunk"),
        pytest.param([b"1\n2", b"", b"3\n4\n"], [b"1", b"23", b"4"], id="mixed-and-empty-chunk"),
        pytest.param([b"\n\n1\n  \n"], [b"1"], id="blank-lines-skipped"),
        pytest.param([b"1\n", b"2"], [b"1", b"2"], id="last-line-without-newline"),
        pytest.param([b"a", b"b", b"c"], [b"abc"], id="no-newline-at-all"),
        pytest.param([], [], id="nothing"),
    ],
)
def test_split_lines(chunks: list[bytes], lines: list[bytes]) -> None:
    assert list(split_lines(iter(chunks))) == lines


def test_throttle_log_writes_at_most_once_per_interval(caplog: pytest.LogCaptureFixture) -> None:
    now = [100.0]
    throttle = ThrottleLog(interval=10.0, clock=lambda: now[0])
    error = TooManyRequests("Too many requests")
    with caplog.at_level(logging.INFO, logger="reconcile.client.transport"):
        throttle.server_side(error, 1.0)
        throttle.server_side(error, 1.0)
        throttle.client_side(0.2, "GET", "/api/v1/pods")
        throttle.client_side(0.01, "GET", "/api/v1/pods")  # too short to mention
        now[0] += 10.0
        throttle.server_side(error, 1.0)
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [
        "server is throttling, retrying after Retry-After",
        "waited due to client-side throttling, not priority and fairness",
        "server is throttling, retrying after Retry-After",
    ]
