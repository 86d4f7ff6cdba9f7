"""``kreconcile dev``'s admission webhooks: a self-signed certificate and the webhook
configurations that point the embedded API server at the in-process manager.

In a cluster, cert-manager issues the webhook Service's certificate and injects its CA
into the configurations of ``config/webhook`` (``config/certmanager``), and the API server
reaches the manager through that Service. In dev the manager serves on a free loopback
port, so ``write_certificate`` makes a CA and a serving certificate for the Service's DNS
names (and loopback) in the state directory (new on every start), and, once the server
has bound, ``register`` routes the Service to that port (the embedded API server's
``service_routes``) and server-side applies the configurations as cert-manager would leave
them: calling the Service, trusting that CA. The webhooks are the ones the operators
registered (``WebhookServer.endpoints``), named, matched and addressed as in
``config/default``, so ``kubectl apply -k config/default`` only adds its annotations, and
``kubectl apply`` of an object a webhook refuses fails with the webhook's message, exactly
as against a cluster.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from reconcile.apiserver.admission import ServiceRoutes
from reconcile.apiserver.auth.pki import CertificateAuthority
from reconcile.client import Client
from reconcile.gvk import GroupVersionKind
from reconcile.webhook import Endpoint, WebhookServer

__all__ = [
    "FIELD_MANAGER",
    "MUTATING_CONFIGURATION",
    "SERVICE",
    "SERVICE_NAMESPACE",
    "SERVICE_PORT",
    "VALIDATING_CONFIGURATION",
    "configurations",
    "register",
    "webhook_name",
    "write_certificate",
]

FIELD_MANAGER = "kreconcile-dev"
VALIDATING_CONFIGURATION = "kreconcile-validating-webhook-configuration"
MUTATING_CONFIGURATION = "kreconcile-mutating-webhook-configuration"
SERVICE_NAMESPACE = "kreconcile-system"
SERVICE = "kreconcile-webhook-service"
SERVICE_PORT = 443
"""The webhook Service of config/default, which the configurations call."""
_HOSTS = (
    f"{SERVICE}.{SERVICE_NAMESPACE}.svc",
    f"{SERVICE}.{SERVICE_NAMESPACE}.svc.cluster.local",
    "127.0.0.1",
    "localhost",
)
_ADMISSION = "admissionregistration.k8s.io/v1"


def write_certificate(directory: Path) -> bytes:
    """A fresh CA and serving certificate (``tls.crt``/``tls.key``) for the webhook
    Service's DNS names and loopback in ``directory``; returns the CA certificate (PEM)
    the configurations must trust."""
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


def _webhook(endpoint: Endpoint, ca_pem: bytes, plural: str) -> dict[str, Any]:
    assert endpoint.kind is not None
    return {
        "name": webhook_name(endpoint),
        "clientConfig": {
            "service": {
                "namespace": SERVICE_NAMESPACE,
                "name": SERVICE,
                "path": endpoint.path,
                "port": SERVICE_PORT,
            },
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
    ca_pem: bytes,
    plural: Callable[[GroupVersionKind], str],
) -> list[dict[str, Any]]:
    """The configurations calling ``endpoints`` through the webhook Service."""
    webhooks: dict[str, list[dict[str, Any]]] = {"validating": [], "mutating": []}
    for endpoint in endpoints:
        if endpoint.purpose in webhooks and endpoint.kind is not None:
            hook = _webhook(endpoint, ca_pem, plural(endpoint.kind))
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


def register(
    client: Client,
    server: WebhookServer,
    ca_pem: bytes,
    routes: ServiceRoutes,
    *,
    timeout: float,
) -> int:
    """Once ``server`` has bound, route the webhook Service to it and apply the
    configurations for its endpoints; returns how many configurations."""
    if not server.wait_bound(timeout) or server.port is None:
        raise RuntimeError(f"the webhook server did not bind within {timeout}s")
    routes.route(SERVICE_NAMESPACE, SERVICE, SERVICE_PORT, "127.0.0.1", server.port)
    found = configurations(server.endpoints, ca_pem, lambda kind: client.mapping(kind).resource)
    for configuration in found:
        client.apply(configuration, field_manager=FIELD_MANAGER, force=True)
    return len(found)
