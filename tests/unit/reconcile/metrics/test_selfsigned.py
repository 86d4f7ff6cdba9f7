"""The self-signed certificate /metrics is served with under --metrics-secure."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import threading

from cryptography import x509

from reconcile.metrics.selfsigned import self_signed_context


def _handshake(server_context: ssl.SSLContext) -> x509.Certificate:
    """Serve one TLS handshake on loopback; the certificate a client received."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]

        def accept() -> None:
            connection, _ = listener.accept()
            with server_context.wrap_socket(connection, server_side=True) as tls:
                tls.recv(1)

        thread = threading.Thread(target=accept, daemon=True)
        thread.start()
        client = ssl.create_default_context()
        client.check_hostname = False
        client.verify_mode = ssl.CERT_NONE
        with (
            socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
            client.wrap_socket(raw) as tls,
        ):
            der = tls.getpeercert(binary_form=True)
            tls.sendall(b"x")
        thread.join(5)
    assert der is not None
    return x509.load_der_x509_certificate(der)


def test_serves_a_fresh_certificate_for_the_given_hosts() -> None:
    certificate = _handshake(self_signed_context(("metrics.example", "127.0.0.1")))
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["metrics.example"]
    assert names.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    assert certificate.issuer == certificate.subject
    assert certificate.not_valid_after_utc - dt.datetime.now(dt.UTC) > dt.timedelta(days=300)


def test_each_context_has_its_own_certificate() -> None:
    first, second = _handshake(self_signed_context()), _handshake(self_signed_context())
    assert first.serial_number != second.serial_number
    names = first.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in names.get_values_for_type(x509.DNSName)
