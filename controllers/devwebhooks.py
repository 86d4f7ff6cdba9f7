"""``kreconcile dev``'s admission webhooks: a self-signed certificate and the webhook
configurations that point the embedded API server at the in-process manager.

In a cluster, cert-manager issues the webhook Service's certificate and injects its CA
into the configurations of ``config/webhook`` (``config/certmanager``). In dev the manager
serves on a free loopback port, so ``write_certificate`` makes a CA and a serving
certificate for ``127.0.0.1`` in the state directory (new on every start), and, once the
server has bound, ``register`` server-side applies one Validating- and one
MutatingWebhookConfiguration naming that port and trusting that CA. The webhooks are the
ones the operators registered (``WebhookServer.endpoints``), named and matched as in
``config/webhook/manifests.yaml``; ``kubectl apply`` of an object a webhook refuses then
fails with the webhook's message, exactly as against a cluster.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from reconcile.apiserver.auth.pki import CertificateAuthority
from reconcile.client import Client
from reconcile.gvk import GroupVersionKind
from reconcile.webhook import Endpoint, WebhookServer

__all__ = [
    "FIELD_MANAGER",
    "MUTATING_CONFIGURATION",
    "VALIDATING_CONFIGURATION",
    "configurations",
    "register",
    "webhook_name",
    "write_certificate",
]

FIELD_MANAGER = "kreconcile-dev"
VALIDATING_CONFIGURATION = "kreconcile-validating-webhook-configuration"
MUTATING_CONFIGURATION = "kreconcile-mutating-webhook-configuration"
_HOSTS = ("127.0.0.1", "localhost")
_ADMISSION = "admissionregistration.k8s.io/v1"


def write_certificate(directory: Path) -> bytes:
    """A fresh CA and serving certificate (``tls.crt``/``tls.key``) for loopback in
    ``directory``; returns the CA certificate (PEM) the configurations must trust."""
    directory.mkdir(parents=True, exist_ok=True)
    authority = CertificateAuthority.create("kreconcile-dev-webhook-ca")
    pair = authority.issue("kreconcile-webhook", hosts=_HOSTS, server=True)
    key = directory / "tls.key"
    key.write_bytes(pair.key_pem)
    os.chmod(key, 0o600)
    (directory / "tls.crt").write_bytes(pair.cert_pem)
    return authority.pair.cert_pem


def webhook_name(endpoint: Endpoint) -> str:
    """``vagentpool.kreconcile.io`` (validating) or ``m...`` (mutating), as in config/."""
    assert endpoint.kind is not None
    prefix = "v" if endpoint.purpose == "validating" else "m"
    return f"{prefix}{endpoint.kind.kind.lower()}.{endpoint.kind.group}"


def _webhook(endpoint: Endpoint, url: str, ca_pem: bytes, plural: str) -> dict[str, Any]:
    assert endpoint.kind is not None
    return {
        "name": webhook_name(endpoint),
        "clientConfig": {
            "url": f"{url}{endpoint.path}",
            "caBundle": base64.b64encode(ca_pem).decode(),
        },
        "rules": [
            {
                "operations": ["CREATE", "UPDATE"],
                "apiGroups": [endpoint.kind.group],
                "apiVersions": [endpoint.kind.version],
                "resources": [plural],
            }
        ],
        "failurePolicy": "Fail",
        "sideEffects": "None",
        "admissionReviewVersions": ["v1"],
    }


def configurations(
    endpoints: Iterable[Endpoint],
    url: str,
    ca_pem: bytes,
    plural: Callable[[GroupVersionKind], str],
) -> list[dict[str, Any]]:
    """The configurations calling ``endpoints`` at ``url`` (``https://host:port``)."""
    webhooks: dict[str, list[dict[str, Any]]] = {"validating": [], "mutating": []}
    for endpoint in endpoints:
        if endpoint.purpose in webhooks and endpoint.kind is not None:
            hook = _webhook(endpoint, url, ca_pem, plural(endpoint.kind))
            webhooks[endpoint.purpose].append(hook)
    out = []
    for purpose, kind, name in (
        ("validating", "ValidatingWebhookConfiguration", VALIDATING_CONFIGURATION),
        ("mutating", "MutatingWebhookConfiguration", MUTATING_CONFIGURATION),
    ):
        if webhooks[purpose]:
            out.append(
                {
                    "apiVersion": _ADMISSION,
                    "kind": kind,
                    "metadata": {"name": name},
                    "webhooks": webhooks[purpose],
                }
            )
    return out


def register(client: Client, server: WebhookServer, ca_pem: bytes, *, timeout: float) -> int:
    """Apply the configurations for ``server`` once it has bound; returns how many."""
    if not server.wait_bound(timeout) or server.port is None:
        raise RuntimeError(f"the webhook server did not bind within {timeout}s")
    url = f"https://127.0.0.1:{server.port}"
    found = configurations(
        server.endpoints, url, ca_pem, lambda kind: client.mapping(kind).resource
    )
    for configuration in found:
        client.apply(configuration, field_manager=FIELD_MANAGER, force=True)
    return len(found)
