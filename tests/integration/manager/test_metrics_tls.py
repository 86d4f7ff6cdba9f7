"""The metrics endpoint serves HTTPS and picks up a rotated certificate without a restart."""

from __future__ import annotations

import socket
import ssl
import threading
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import NameOID

from reconcile.cache import CacheOptions
from reconcile.client import RestConfig
from reconcile.manager import Manager, ManagerOptions
from tests.unit.reconcile.reload.test_certwatcher import _pair
from tests.unit.reconcile.reload.volume import ConfigMapVolume
from tests.waiting import wait_for


def _served_name(address: str) -> str:
    host, port = address.rsplit(":", 1)
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with (
        socket.create_connection((host, int(port)), timeout=5) as raw,
        context.wrap_socket(raw) as tls,
    ):
        tls.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
        assert b"200 OK" in tls.recv(64)
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    cert = x509.load_der_x509_certificate(der)
    return str(cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)


def test_rotated_metrics_certificate_is_served(kubeconfig: Path, tmp_path: Path) -> None:
    cert, key = _pair("first")
    volume = ConfigMapVolume(tmp_path / "certs", {"tls.crt": cert, "tls.key": key})
    manager = Manager(
        RestConfig.from_kubeconfig(kubeconfig),
        ManagerOptions(
            metrics_bind_address="127.0.0.1:0",
            health_probe_bind_address="0",
            metrics_cert_file=str(volume.path("tls.crt")),
            metrics_key_file=str(volume.path("tls.key")),
            cache=CacheOptions(),
        ),
    )
    stop = threading.Event()
    thread = threading.Thread(target=manager.start, args=(stop,), daemon=True)
    thread.start()
    try:
        assert manager.metrics_server.wait_bound(15)
        address = manager.metrics_server.address
        assert address is not None
        wait_for(lambda: _served_name(address) == "first", timeout=15)
        assert manager.cert_watcher is not None and manager.cert_watcher.wait_ready(10)
        cert, key = _pair("second")
        volume.update({"tls.crt": cert, "tls.key": key})
        wait_for(
            lambda: _served_name(address) == "second", timeout=15, what="the rotated certificate"
        )
    finally:
        stop.set()
        thread.join(15)
