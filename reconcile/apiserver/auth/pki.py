"""The server's secrets: a CA, the serving certificate, the token signing key, the admin token.

kube-apiserver's ``--cert-dir`` behaviour: a self-signed CA and a serving certificate are
made at first start and kept (``<data_dir>/pki``), so a kubeconfig written once keeps
working across restarts. Without a data dir everything lives in memory for one run. The CA
also signs client certificates (CN = user, O = groups), which the server accepts as
credentials, and the ServiceAccount token signing key sits beside it.

Keys are ECDSA P-256: generating one takes about a millisecond, so a test server starts as
fast with TLS as without it.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import secrets
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["SERVING_HOSTS", "CertificateAuthority", "CertificatePair", "ServerSecrets"]

SERVING_HOSTS: tuple[str, ...] = (
    "127.0.0.1",
    "::1",
    "localhost",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
)
"""Names the serving certificate is valid for (kube-apiserver's self-signed defaults)."""
_CA_DAYS = 3650
_LEAF_DAYS = 365
_RENEW_BEFORE = dt.timedelta(days=30)
"""A kept serving certificate this close to expiry is replaced at start."""


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _load_key(pem: bytes) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError("expected an ECDSA private key")
    return key


def _san(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


@dataclass(frozen=True, slots=True)
class CertificatePair:
    """A certificate and its private key, both PEM."""

    cert_pem: bytes
    key_pem: bytes

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.cert_pem)


class CertificateAuthority:
    """Signs the serving certificate and client certificates; clients trust its cert."""

    def __init__(self, pair: CertificatePair) -> None:
        self.pair = pair
        self._cert = pair.certificate
        self._key = _load_key(pair.key_pem)

    @classmethod
    def create(cls, common_name: str = "kreconcile-ca") -> CertificateAuthority:
        key = _new_key()
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        extensions: list[tuple[x509.ExtensionType, bool]] = [
            (x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        ]
        return cls(_sign(name, name, key, key, days=_CA_DAYS, ca=True, extensions=extensions))

    def issue(
        self,
        common_name: str,
        *,
        organizations: tuple[str, ...] = (),
        hosts: tuple[str, ...] = (),
        server: bool = False,
        days: int = _LEAF_DAYS,
    ) -> CertificatePair:
        """A leaf certificate: serving (``server=True``, valid for ``hosts``) or client."""
        attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in organizations]
        attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
        purpose = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        extensions: list[tuple[x509.ExtensionType, bool]] = [
            (x509.ExtendedKeyUsage([purpose]), False),
            (x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()), False),
        ]
        if hosts:
            extensions.append((x509.SubjectAlternativeName([_san(h) for h in hosts]), False))
        subject = x509.Name(attributes)
        return _sign(subject, self._cert.subject, _new_key(), self._key, days=days, ca=False,
                     extensions=extensions)  # fmt: skip

    def still_serves(self, pair: CertificatePair, hosts: tuple[str, ...]) -> bool:
        """Whether a kept serving certificate is ours, covers ``hosts`` and is not expiring."""
        cert = pair.certificate
        if cert.issuer != self._cert.subject:
            return False
        if cert.not_valid_after_utc - _RENEW_BEFORE < dt.datetime.now(dt.UTC):
            return False
        try:
            names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        except x509.ExtensionNotFound:
            return False
        return all(_san(h) in names for h in hosts)


def _sign(
    subject: x509.Name,
    issuer: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    signer: ec.EllipticCurvePrivateKey,
    *,
    days: int,
    ca: bool,
    extensions: list[tuple[x509.ExtensionType, bool]],
) -> CertificatePair:
    """A certificate for ``key`` signed by ``signer``, valid from five minutes ago."""
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(_usage(cert_sign=ca), critical=True)
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    cert = builder.sign(signer, hashes.SHA256())
    return CertificatePair(cert.public_bytes(serialization.Encoding.PEM), _key_pem(key))


def _usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=not cert_sign,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


@dataclass(frozen=True, kw_only=True)
class ServerSecrets:
    """Everything the secure server needs to prove who it is and to check who clients are."""

    authority: CertificateAuthority
    serving: CertificatePair
    signing_key: ec.EllipticCurvePrivateKey
    """Signs ServiceAccount tokens (ES256)."""
    admin_token: str
    """Bearer token of the built-in admin (group ``system:masters``)."""

    @classmethod
    def load_or_create(
        cls, directory: Path | None, *, hosts: tuple[str, ...], admin_token: str | None = None
    ) -> ServerSecrets:
        """Read ``directory`` (creating what is missing there), or make fresh in-memory ones."""
        files = _Files(directory)
        ca_pair = files.pair("ca")
        authority = (
            CertificateAuthority(ca_pair) if ca_pair is not None else CertificateAuthority.create()
        )
        if ca_pair is None:
            files.write_pair("ca", authority.pair)
        serving = files.pair("apiserver")
        if serving is None or ca_pair is None or not authority.still_serves(serving, hosts):
            serving = authority.issue("kube-apiserver", hosts=hosts, server=True)
            files.write_pair("apiserver", serving)
        signing = files.read("sa.key")
        signing_key = _load_key(signing) if signing is not None else _new_key()
        if signing is None:
            files.write("sa.key", _key_pem(signing_key))
        token = admin_token or (files.read("admin.token") or b"").decode().strip()
        if not token:
            token = secrets.token_urlsafe(32)
            files.write("admin.token", token.encode())
        return cls(authority=authority, serving=serving, signing_key=signing_key, admin_token=token)

    def ssl_context(self) -> ssl.SSLContext:
        """TLS 1.2+ with our serving certificate; client certificates are checked if sent."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        # load_cert_chain reads files only: hand it a private directory that is removed at once.
        with tempfile.TemporaryDirectory(prefix="kreconcile-tls-") as temporary:
            cert, key = Path(temporary, "tls.crt"), Path(temporary, "tls.key")
            cert.write_bytes(self.serving.cert_pem + self.authority.pair.cert_pem)
            key.write_bytes(self.serving.key_pem)
            context.load_cert_chain(cert, key)
        context.load_verify_locations(cadata=self.authority.pair.cert_pem.decode())
        context.verify_mode = ssl.CERT_OPTIONAL
        context.set_alpn_protocols(["http/1.1"])
        return context


class _Files:
    """PEM files under ``<directory>/pki``, written owner-only and atomically; or nothing."""

    def __init__(self, directory: Path | None) -> None:
        self._dir = directory / "pki" if directory is not None else None

    def read(self, name: str) -> bytes | None:
        if self._dir is None or not (self._dir / name).exists():
            return None
        return (self._dir / name).read_bytes()

    def write(self, name: str, data: bytes) -> None:
        if self._dir is None:
            return
        self._dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = self._dir / f".{name}.tmp"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, self._dir / name)

    def pair(self, name: str) -> CertificatePair | None:
        cert, key = self.read(f"{name}.crt"), self.read(f"{name}.key")
        return CertificatePair(cert, key) if cert is not None and key is not None else None

    def write_pair(self, name: str, pair: CertificatePair) -> None:
        self.write(f"{name}.key", pair.key_pem)
        self.write(f"{name}.crt", pair.cert_pem)
