from __future__ import annotations

import datetime as dt
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from reconcile.errors import ConfigError
from reconcile.reload import CertWatcher
from tests.unit.reconcile.reload.volume import ConfigMapVolume
from tests.waiting import wait_for


def _pair(common_name: str) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


class TLSServer:
    """Accepts TLS connections with the watcher's live context until closed."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.context = context
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            try:
                with self.context.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(1)
            except (OSError, ssl.SSLError):
                continue

    def served_common_name(self) -> str:
        client = ssl.create_default_context()
        client.check_hostname = False
        client.verify_mode = ssl.CERT_NONE
        with (
            socket.create_connection(("127.0.0.1", self.port), timeout=5) as raw,
            client.wrap_socket(raw) as tls,
        ):
            der = tls.getpeercert(binary_form=True)
            assert der is not None
            tls.sendall(b"x")
        cert = x509.load_der_x509_certificate(der)
        return str(cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def stop() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()


def test_rotated_certificate_is_served_without_restart(
    tmp_path: Path, stop: threading.Event
) -> None:
    cert, key = _pair("first")
    volume = ConfigMapVolume(tmp_path / "certs", {"tls.crt": cert, "tls.key": key})
    watcher = CertWatcher(volume.path("tls.crt"), volume.path("tls.key"))
    server = TLSServer(watcher.context)
    try:
        assert server.served_common_name() == "first"
        threading.Thread(target=watcher.start, args=(stop,), daemon=True).start()
        assert watcher.wait_ready(timeout=5)
        cert, key = _pair("second")
        volume.update({"tls.crt": cert, "tls.key": key})
        wait_for(lambda: watcher.reloads == 1, what="the rotation to be loaded")
        assert server.served_common_name() == "second"
    finally:
        server.close()


def test_half_rotated_pair_keeps_serving_the_old_one(tmp_path: Path) -> None:
    cert, key = _pair("first")
    (tmp_path / "tls.crt").write_bytes(cert)
    (tmp_path / "tls.key").write_bytes(key)
    watcher = CertWatcher(tmp_path / "tls.crt", tmp_path / "tls.key")
    server = TLSServer(watcher.context)
    try:
        new_cert, new_key = _pair("second")
        (tmp_path / "tls.crt").write_bytes(new_cert)
        assert watcher.reload() is False
        assert server.served_common_name() == "first"
        (tmp_path / "tls.key").write_bytes(new_key)
        assert watcher.reload() is True
        assert server.served_common_name() == "second"
    finally:
        server.close()


def test_unloadable_pair_at_start_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "tls.crt").write_bytes(b"not a certificate")
    (tmp_path / "tls.key").write_bytes(b"not a key")
    with pytest.raises(ConfigError, match="belong together"):
        CertWatcher(tmp_path / "tls.crt", tmp_path / "tls.key")
