"""An embedded API server and a manager serving webhooks to it, for one test module.

The manager's webhook server listens on a free loopback port with a certificate signed by
a CA of the test's own; ``configuration`` builds webhook configurations that call it (or
any URL) trusting that CA, each scoped to the namespaces a test labels for itself, so the
tests of a module share one server without seeing each other's webhooks.
"""

from __future__ import annotations

import base64
import socket
import threading
from pathlib import Path
from typing import Any

from reconcile.apiserver import APIServer, ServerOptions
from reconcile.apiserver.auth.pki import CertificateAuthority, CertificatePair
from reconcile.client import Client, RestConfig
from reconcile.manager import Manager, ManagerOptions
from reconcile.webhook import WebhookServer, WebhookServerOptions
from tests.conftest import Kubectl
from tests.unit.reconcile.reload.volume import ConfigMapVolume

SCOPE_LABEL = "webhook-test"
SERVICE_HOST = "gate.webhooks.svc"
"""A Service DNS name the serving certificate also covers, for webhooks called by Service."""


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class WebhookCluster:
    """The server, the manager (not started until ``start``) and helpers."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.authority = CertificateAuthority.create("webhook-test-ca")
        self.serving = self.issue()
        self.volume = ConfigMapVolume(
            directory / "certs",
            {"tls.crt": self.serving.cert_pem, "tls.key": self.serving.key_pem},
        )
        self.apiserver = APIServer(ServerOptions())
        self.apiserver.start()
        self.kubeconfig = self.apiserver.write_kubeconfig(directory / "kubeconfig")
        self.kubectl = Kubectl(self.kubeconfig, directory / "kubectl-cache")
        self.client = Client(RestConfig.from_kubeconfig(self.kubeconfig))
        self.manager = Manager(
            RestConfig.from_kubeconfig(self.kubeconfig),
            ManagerOptions(
                metrics_bind_address="0",
                health_probe_bind_address="0",
                webhook_server=WebhookServerOptions(
                    host="127.0.0.1", port=0, cert_dir=str(self.volume.root)
                ),
            ),
        )
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def issue(self) -> CertificatePair:
        return self.authority.issue("webhook", hosts=("127.0.0.1", SERVICE_HOST), server=True)

    @property
    def server(self) -> WebhookServer:
        return self.manager.webhook_server

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.server.port}"

    @property
    def ca_bundle(self) -> str:
        return base64.b64encode(self.authority.pair.cert_pem).decode()

    def start(self) -> None:
        self._thread = threading.Thread(target=self.manager.start, args=(self._stop,), daemon=True)
        self._thread.start()
        assert self.server.wait_bound(15), "the webhook server did not bind"

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)
            assert not self._thread.is_alive(), "the manager did not stop"
        self.apiserver.stop()

    def namespace(self, name: str) -> str:
        """A namespace labelled so that only the webhooks scoped to ``name`` see it."""
        self.client.create(
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": name, "labels": {SCOPE_LABEL: name}},
            }
        )
        return name

    def webhook(
        self, name: str, path: str, *, scope: str, url: str | None = None, **fields: Any
    ) -> dict[str, Any]:
        """One webhook entry calling ``path`` on the manager (or ``url``) for ConfigMaps
        and Gadgets in the namespaces of ``scope``; ``fields`` override anything."""
        hook: dict[str, Any] = {
            "name": name,
            "clientConfig": {"url": url or f"{self.url}{path}", "caBundle": self.ca_bundle},
            "rules": [
                {
                    "operations": ["CREATE", "UPDATE"],
                    "apiGroups": ["", "example.com"],
                    "apiVersions": ["*"],
                    "resources": ["configmaps", "gadgets"],
                }
            ],
            "namespaceSelector": {"matchLabels": {SCOPE_LABEL: scope}},
            "sideEffects": "None",
            "admissionReviewVersions": ["v1"],
            "timeoutSeconds": 5,
        }
        hook.update(fields)
        return hook

    def configure(self, kind: str, name: str, *webhooks: dict[str, Any]) -> None:
        """Apply a Validating/MutatingWebhookConfiguration with ``webhooks``."""
        self.client.apply(
            {
                "apiVersion": "admissionregistration.k8s.io/v1",
                "kind": f"{kind}WebhookConfiguration",
                "metadata": {"name": name},
                "webhooks": list(webhooks),
            },
            field_manager="test",
            force=True,
        )
