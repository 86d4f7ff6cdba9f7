"""The webhook server: binds only when started, serves registered paths over TLS on
kept-alive connections, instruments them, and closes every connection and thread on stop."""

from __future__ import annotations

import http.client
import json
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from reconcile.apiserver.auth.pki import CertificateAuthority
from reconcile.errors import ConfigError
from reconcile.webhook import (
    AdmissionRequest,
    AdmissionResponse,
    Webhook,
    WebhookServer,
    WebhookServerOptions,
    allowed,
)

REVIEW = json.dumps(
    {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {"uid": "u", "operation": "CREATE", "object": {"metadata": {"name": "x"}}},
    }
).encode()


class Allow:
    def handle(self, request: AdmissionRequest) -> AdmissionResponse:
        return allowed()


@pytest.fixture
def certs(tmp_path: Path) -> tuple[Path, bytes]:
    authority = CertificateAuthority.create("test")
    pair = authority.issue("webhook", hosts=("127.0.0.1",), server=True)
    (tmp_path / "tls.crt").write_bytes(pair.cert_pem)
    (tmp_path / "tls.key").write_bytes(pair.key_pem)
    return tmp_path, authority.pair.cert_pem


@pytest.fixture
def running(
    certs: tuple[Path, bytes],
) -> Iterator[tuple[WebhookServer, ssl.SSLContext, CollectorRegistry]]:
    directory, ca = certs
    registry = CollectorRegistry()
    server = WebhookServer(
        WebhookServerOptions(host="127.0.0.1", port=0, cert_dir=str(directory)), registry=registry
    )
    server.register("/allow", Webhook(Allow()))
    assert server.address is None  # nothing bound before start
    stop = threading.Event()
    thread = threading.Thread(target=server.start, args=(stop,))
    thread.start()
    assert server.wait_bound(5)
    try:
        yield server, ssl.create_default_context(cadata=ca.decode()), registry
    finally:
        stop.set()
        thread.join(10)
        assert not thread.is_alive()


def test_serves_reviews_on_one_kept_alive_connection(running) -> None:
    server, context, registry = running
    assert server.port is not None
    connection = http.client.HTTPSConnection("127.0.0.1", server.port, context=context)
    for _ in range(3):
        connection.request("POST", "/allow", REVIEW, {"Content-Type": "application/json"})
        response = connection.getresponse()
        assert response.status == 200
        assert json.loads(response.read())["response"]["allowed"] is True
    connection.request("POST", "/missing", b"{}", {"Content-Type": "application/json"})
    missing = connection.getresponse()
    assert missing.status == 404
    missing.read()
    connection.request("GET", "/allow")
    wrong = connection.getresponse()
    assert wrong.status == 405
    wrong.read()
    connection.close()
    assert (
        registry.get_sample_value(
            "controller_runtime_webhook_requests_total", {"webhook": "/allow", "code": "200"}
        )
        == 3
    )
    assert server.started_checker()() is None


def test_stop_closes_open_connections_and_joins_every_thread(certs: tuple[Path, bytes]) -> None:
    directory, ca = certs
    server = WebhookServer(WebhookServerOptions(host="127.0.0.1", port=0, cert_dir=str(directory)))
    server.register("/allow", Webhook(Allow()))
    before = set(threading.enumerate())
    stop = threading.Event()
    thread = threading.Thread(target=server.start, args=(stop,))
    thread.start()
    assert server.wait_bound(5) and server.port is not None
    idle = http.client.HTTPSConnection(
        "127.0.0.1", server.port, context=ssl.create_default_context(cadata=ca.decode())
    )
    idle.request("POST", "/allow", REVIEW, {"Content-Type": "application/json"})
    idle.getresponse().read()  # the connection stays open, its thread waits for more
    stop.set()
    thread.join(10)
    assert not thread.is_alive()
    assert set(threading.enumerate()) <= before
    assert server.started_checker()() == "webhook server has not been started yet"
    idle.close()


def test_missing_certificate_fails_start_naming_the_file(tmp_path: Path) -> None:
    server = WebhookServer(WebhookServerOptions(host="127.0.0.1", port=0, cert_dir=str(tmp_path)))
    with pytest.raises(ConfigError, match=r"tls\.crt"):
        server.start(threading.Event())


def test_registration_after_start_and_bad_paths_are_refused() -> None:
    server = WebhookServer()
    with pytest.raises(ValueError, match="start with '/'"):
        server.register("validate", Webhook(Allow()))
    server.register("/a", Webhook(Allow()))
    with pytest.raises(ValueError, match="already registered"):
        server.register("/a", Webhook(Allow()))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        pytest.param({"port": 70000}, "port must be in 0..65535", id="port"),
        pytest.param({"cert_name": ""}, "cert_name and key_name", id="names"),
        pytest.param({"idle_timeout": 0}, "idle_timeout must be > 0", id="idle"),
    ],
)
def test_options_are_checked(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        WebhookServerOptions(**fields)  # type: ignore[arg-type]
