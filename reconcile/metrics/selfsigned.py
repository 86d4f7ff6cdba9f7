"""A self-signed serving certificate for /metrics over HTTPS when none is mounted.

controller-runtime's metrics server, with ``SecureServing`` and no certificate directory,
generates a self-signed certificate at start: the traffic (and the scraper's bearer token)
is encrypted, and scrapers skip verification (a ServiceMonitor's
``tlsConfig.insecureSkipVerify``), since nobody can verify a certificate nobody signed.
Mount a real one (``metrics_cert_file``, e.g. from cert-manager) to have it verified.

The key is an ECDSA P-256 key made in memory (milliseconds); ``ssl`` only loads PEM files,
so the pair passes through a private temporary directory that is removed at once.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import tempfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

__all__ = ["self_signed_context"]

VALIDITY = dt.timedelta(days=365)
"""How long the generated certificate is valid; a process restarted within a year gets a
new one anyway."""


def _names(hosts: tuple[str, ...]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return names


def self_signed_context(hosts: tuple[str, ...] = ()) -> ssl.SSLContext:
    """A TLS server context with a fresh self-signed certificate for ``hosts``.

    Default hosts: this machine's hostname, ``localhost`` and ``127.0.0.1``.
    """
    hosts = hosts or (socket.gethostname(), "localhost", "127.0.0.1")
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{hosts[0]}@metrics")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.SubjectAlternativeName(_names(hosts)), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    with tempfile.TemporaryDirectory(prefix="kreconcile-metrics-") as directory:
        cert_path, key_path = Path(directory) / "tls.crt", Path(directory) / "tls.key"
        cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        context.load_cert_chain(certfile=str(cert_path), keyfile=str(key_path))
    return context
