"""The webhook server's certificate rotates (a Secret volume swapped as the kubelet swaps
it) while the API server keeps calling it: no admission request fails, and new TLS
connections get the new certificate."""

from __future__ import annotations

import itertools
import socket
import ssl
import threading
from collections.abc import Iterator

import pytest
from cryptography import x509

from reconcile.webhook import AdmissionRequest, AdmissionResponse, Webhook, allowed
from tests.integration.webhook.cluster import WebhookCluster
from tests.waiting import wait_for


class Allow:
    def __init__(self) -> None:
        self.calls = itertools.count()

    def handle(self, request: AdmissionRequest) -> AdmissionResponse:
        next(self.calls)
        return allowed()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebhookCluster]:
    cluster = WebhookCluster(tmp_path_factory.mktemp("rotation"))
    cluster.server.register("/allow", Webhook(Allow()))
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


def _served_serial(port: int) -> int:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        context.wrap_socket(raw) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der).serial_number


class Load:
    """Creates ConfigMaps one after the other until stopped; counts what passed."""

    def __init__(self, cluster: WebhookCluster, namespace: str) -> None:
        self.cluster, self.namespace = cluster, namespace
        self.passed = 0
        self.failures: list[BaseException] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        for index in itertools.count():
            if self.stop.is_set():
                return
            try:
                self.cluster.client.create(
                    {
                        "apiVersion": "v1",
                        "kind": "ConfigMap",
                        "metadata": {"name": f"c{index}", "namespace": self.namespace},
                    }
                )
                self.passed += 1
            except Exception as error:  # every failure is the test's finding
                self.failures.append(error)


def test_rotation_drops_no_request(cluster: WebhookCluster) -> None:
    namespace = cluster.namespace("rotate")
    cluster.configure("Validating", "rotate", cluster.webhook("allow.example.com", "/allow",
                                                             scope=namespace))  # fmt: skip
    port = cluster.server.port
    assert port is not None
    first = _served_serial(port)
    assert first == cluster.serving.certificate.serial_number
    watcher = cluster.server.cert_watcher
    assert watcher is not None and watcher.wait_ready(10)

    load = Load(cluster, namespace)
    load.thread.start()
    try:
        wait_for(lambda: load.passed >= 20 or load.failures, timeout=30, what="requests before")
        rotated = cluster.issue()
        cluster.volume.update({"tls.crt": rotated.cert_pem, "tls.key": rotated.key_pem})
        wait_for(lambda: watcher.reloads >= 1, timeout=15, what="the certificate reload")
        before = load.passed
        wait_for(
            lambda: load.passed >= before + 20 or load.failures, timeout=30, what="requests after"
        )
    finally:
        load.stop.set()
        load.thread.join(30)
    assert load.failures == []
    assert _served_serial(port) == rotated.certificate.serial_number != first
