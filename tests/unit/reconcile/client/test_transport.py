"""The watch stream's line splitting, the throttling log, and where requests are sent."""

from __future__ import annotations

import http.server
import logging
import threading
from collections.abc import Iterator

import pytest
from kubernetes import client as k8s_client

from reconcile.client import RestConfig
from reconcile.client.transport import ThrottleLog, Transport, split_lines
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


class _Recorder(http.server.BaseHTTPRequestHandler):
    """Answers every GET with ``{}`` and remembers the request target it was sent."""

    targets: list[str] = []

    def do_GET(self) -> None:
        type(self).targets.append(self.path)
        body = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[str]]]:
    targets: list[str] = []
    handler = type("Handler", (_Recorder,), {"targets": targets})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}", targets
    server.shutdown()
    thread.join(5)


def _transport(host: str, proxy: str | None = None) -> Transport:
    configuration = k8s_client.Configuration(host=host)
    configuration.proxy = proxy
    return Transport(RestConfig(configuration=configuration))


def test_requests_keep_the_host_urls_path_prefix(recorder: tuple[str, list[str]]) -> None:
    address, targets = recorder
    transport = _transport(f"http://{address}/clusters/c-1")
    assert transport.request("GET", "/api/v1/namespaces", query={"limit": 1}).body == {}
    assert targets == ["/clusters/c-1/api/v1/namespaces?limit=1"]


def test_requests_go_through_a_configured_proxy(recorder: tuple[str, list[str]]) -> None:
    address, targets = recorder
    transport = _transport("http://kube.invalid:6443", proxy=f"http://{address}")
    transport.request("GET", "/version")
    assert targets == ["http://kube.invalid:6443/version"], "absolute form: the proxy forwards"
