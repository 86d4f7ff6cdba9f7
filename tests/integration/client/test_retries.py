"""Which failures the client retries, per verb, against the embedded server and a bad proxy."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from kubernetes import client as k8s_client

from reconcile.apiserver import APIServer
from reconcile.client import Client, RestConfig
from reconcile.client.restmapper import RESTMapping
from reconcile.errors import ApiError, NotFound, ServerUnreachable
from reconcile.gvk import GroupVersionKind

CONFIGMAP = GroupVersionKind("", "v1", "ConfigMap")


def _cm(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "default"},
    }


def test_default_config_has_no_client_side_limiter(client: Client) -> None:
    assert client.transport.config.qps is None
    assert client.transport._bucket is None


def test_write_honours_retry_after_and_logs_throttling_once(
    client: Client, apiserver: APIServer, caplog: pytest.LogCaptureFixture
) -> None:
    apiserver.faults.fail(code=429, verb="create", resource="configmaps", retry_after=1)
    apiserver.faults.fail(code=429, verb="create", resource="configmaps", retry_after=0)
    before = apiserver.faults.count("create", "configmaps")
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="reconcile.client.transport"):
        created = client.create(_cm("throttled"))
    assert time.monotonic() - started >= 1.0, "the first Retry-After: 1 was waited out"
    assert created["metadata"]["name"] == "throttled"
    assert apiserver.faults.count("create", "configmaps") - before == 3
    throttled = [r for r in caplog.records if r.getMessage().startswith("server is throttling")]
    assert len(throttled) == 1, "two throttled attempts within the interval log once"


@pytest.mark.parametrize("code", [500, 503, 504])
def test_write_is_not_repeated_when_the_server_may_have_applied_it(
    client: Client, apiserver: APIServer, code: int
) -> None:
    apiserver.faults.fail(code=code, verb="create", resource="configmaps")
    before = apiserver.faults.count("create", "configmaps")
    with pytest.raises(ApiError) as raised:
        client.create(_cm(f"once-{code}"))
    assert raised.value.code == code
    assert apiserver.faults.count("create", "configmaps") - before == 1


def test_refused_connection_is_unreachable_and_retried_until_the_deadline() -> None:
    probe = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = probe.server_address[1]
    probe.server_close()  # nothing listens on the port any more
    configuration = k8s_client.Configuration()
    configuration.host = f"http://127.0.0.1:{port}"
    client = Client(RestConfig(configuration=configuration), write_retry_deadline=0.3)
    # Known mapping: the create itself is the first request, not discovery.
    client.mapper._mappings[CONFIGMAP] = RESTMapping(CONFIGMAP, "configmaps", True)
    with pytest.raises(ServerUnreachable, match="nothing was sent"):
        client.create(_cm("never-sent"))


class _Proxy(BaseHTTPRequestHandler):
    """A proxy in front of the API server that answers with HTML or plain text."""

    answers: list[tuple[int, str, bytes]] = []
    seen: list[str] = []

    def do_GET(self) -> None:
        self.seen.append(self.path)
        status, content_type, body = self.answers[min(len(self.seen), len(self.answers)) - 1]
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def proxy() -> Iterator[tuple[Client, type[_Proxy]]]:
    handler = type("Handler", (_Proxy,), {"answers": [], "seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    configuration = k8s_client.Configuration()
    configuration.host = f"http://127.0.0.1:{server.server_address[1]}"
    client = Client(RestConfig(configuration=configuration), read_retry_deadline=5.0)
    try:
        yield client, handler
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_non_json_error_bodies_map_to_the_typed_error_and_reads_retry(
    proxy: tuple[Client, type[_Proxy]],
) -> None:
    client, handler = proxy
    handler.answers = [
        (502, "text/html", b"<html><body>502 Bad Gateway</body></html>"),
        (503, "text/plain", b"upstream connect error"),
        (404, "text/html", b"<html>not here</html>"),
    ]
    with pytest.raises(NotFound, match="not here") as raised:
        client._read("/api/v1/namespaces/default/configmaps/x")
    assert raised.value.code == 404
    assert len(handler.seen) == 3, "the 502 and the 503 were retried as transient"


def test_non_json_success_body_is_a_typed_error(proxy: tuple[Client, type[_Proxy]]) -> None:
    client, handler = proxy
    handler.answers = [(200, "text/html", b"<html>login page</html>")]
    with pytest.raises(ApiError, match="not JSON") as raised:
        client._read("/api/v1/namespaces/default/configmaps/x")
    assert raised.value.code == 200
    assert len(handler.seen) == 1
